//! A [`Diagnostic`] as the JSON and SARIF reports carry it: its places
//! resolved against the sources (file relative to the project, line,
//! column), so it serialises without the source table.

use serde::Serialize;

use super::location::{serialize_parts, Location};
use crate::diag::{Code, Diagnostic, Label, Level, Sources};

/// One warning or error of the project, with its places resolved.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct DiagnosticView {
    /// The stable code, e.g. `W0001` (`docs/errors.md` explains each).
    pub code: Code,
    /// `error`, `warning` or `note`.
    pub severity: Level,
    /// The one-line message.
    pub message: String,
    /// Where the primary label points, as `{file, line, column}`; absent
    /// for a diagnostic about the whole project.
    #[serde(serialize_with = "serialize_parts", skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Every label, the primary one first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelView>,
    /// Notes that explain the problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A label of a diagnostic: a message at a place.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct LabelView {
    /// Where it points, as `{file, line, column}`.
    #[serde(serialize_with = "serialize_parts")]
    pub location: Option<Location>,
    /// What it says there.
    pub message: String,
}

impl DiagnosticView {
    /// The view of a diagnostic whose files are in `sources`.
    pub fn new(diagnostic: &Diagnostic, sources: &Sources) -> DiagnosticView {
        // A label into a file the table does not hold (it cannot happen for
        // a loaded project) is kept without its place rather than panicking.
        let place =
            |label: &Label| ((label.at.file.0 as usize) < sources.len()).then(|| Location::of(sources, label.at));
        let labels: Vec<LabelView> = diagnostic
            .primary
            .iter()
            .chain(&diagnostic.secondary)
            .map(|label| LabelView { location: place(label), message: label.message.clone() })
            .collect();
        DiagnosticView {
            code: diagnostic.code,
            severity: diagnostic.level,
            message: diagnostic.message.clone(),
            location: diagnostic.primary.as_ref().and_then(place),
            labels,
            notes: diagnostic.notes.clone(),
            help: diagnostic.help.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::syntax::ast::Span;

    #[test]
    fn a_diagnostic_serialises_with_its_places_resolved() {
        let mut sources = Sources::new();
        let file = sources.add_in_project("x/policy/a.aims", Arc::from("policy/a.aims"), "risk r {\n}\n");
        let diagnostic = Diagnostic::warning(Code::NoAppetite, "no risk appetite")
            .at_file(file, Span::new(5, 6), "this risk")
            .note("a note")
            .help("declare one");
        let json = serde_json::to_value(DiagnosticView::new(&diagnostic, &sources)).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "W0001",
                "severity": "warning",
                "message": "no risk appetite",
                "location": { "file": "policy/a.aims", "line": 1, "column": 6 },
                "labels": [{ "location": { "file": "policy/a.aims", "line": 1, "column": 6 }, "message": "this risk" }],
                "notes": ["a note"],
                "help": "declare one",
            })
        );
    }

    #[test]
    fn a_diagnostic_without_a_place_has_no_location() {
        let diagnostic = Diagnostic::error(Code::EmptyProject, "nothing to evaluate");
        let json = serde_json::to_value(DiagnosticView::new(&diagnostic, &Sources::new())).unwrap_or_default();
        assert_eq!(json, serde_json::json!({ "code": "E0403", "severity": "error", "message": "nothing to evaluate" }));
    }
}
