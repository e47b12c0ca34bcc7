//! The engine's diagnostics as LSP diagnostics: the same codes as the CLI,
//! secondary labels as related information, notes and help in the message.

use std::collections::HashMap;

use aims_lang::diag::{Diagnostic, FileId, Level, Sources};
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};

use crate::line_index::{Encoding, LineIndex};

/// What every diagnostic of the server says it comes from.
pub const SOURCE: &str = "aims";

/// Line indexes of the files of a `Sources` table, built once each.
pub struct Lines<'s> {
    sources: &'s Sources,
    encoding: Encoding,
    built: HashMap<FileId, LineIndex<'s>>,
}

impl<'s> Lines<'s> {
    pub fn new(sources: &'s Sources, encoding: Encoding) -> Lines<'s> {
        Lines { sources, encoding, built: HashMap::new() }
    }

    pub fn of(&mut self, file: FileId) -> Option<&LineIndex<'s>> {
        if (file.0 as usize) >= self.sources.len() {
            return None;
        }
        let (sources, encoding) = (self.sources, self.encoding);
        Some(self.built.entry(file).or_insert_with(|| LineIndex::new(sources.text(file), encoding)))
    }
}

/// Converts a diagnostic; `None` when it points nowhere a document is
/// (a stdlib module, or no location at all).
pub fn diagnostic(
    d: &Diagnostic,
    lines: &mut Lines,
    uri_of: &dyn Fn(FileId) -> Option<Uri>,
) -> Option<(Uri, lsp::Diagnostic)> {
    let primary = d.primary.as_ref()?;
    let uri = uri_of(primary.at.file)?;
    let range = lines.of(primary.at.file)?.range(primary.at.span);
    Some((uri, convert(d, range, lines, uri_of)))
}

/// Converts a diagnostic that points nowhere (a path refused before any
/// file was read, E0404; an empty project), shown at the start of the
/// project's `aims.toml`; `None` for one that has a location.
pub fn unplaced(
    d: &Diagnostic,
    manifest: &Uri,
    lines: &mut Lines,
    uri_of: &dyn Fn(FileId) -> Option<Uri>,
) -> Option<(Uri, lsp::Diagnostic)> {
    if d.primary.is_some() {
        return None;
    }
    Some((manifest.clone(), convert(d, lsp::Range::default(), lines, uri_of)))
}

fn convert(
    d: &Diagnostic,
    range: lsp::Range,
    lines: &mut Lines,
    uri_of: &dyn Fn(FileId) -> Option<Uri>,
) -> lsp::Diagnostic {
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|label| {
            let uri = uri_of(label.at.file)?;
            let range = lines.of(label.at.file)?.range(label.at.span);
            Some(DiagnosticRelatedInformation { location: Location { uri, range }, message: label.message.clone() })
        })
        .collect();
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let severity = match d.level {
        Level::Error => DiagnosticSeverity::ERROR,
        Level::Warning => DiagnosticSeverity::WARNING,
        Level::Note => DiagnosticSeverity::INFORMATION,
    };
    lsp::Diagnostic {
        range,
        severity: Some(severity),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aims_lang::diag::Code;
    use aims_lang::syntax::Span;
    use std::str::FromStr;

    #[test]
    fn codes_labels_notes_and_help_are_kept() {
        let mut sources = Sources::new();
        let a = sources.add("a.aims", "é x\ny");
        let b = sources.add("<stdlib>/m.aims", "z");
        let d = Diagnostic::error(Code::UnknownName, "unknown name `x`")
            .at_file(a, Span::new(3, 4), "here")
            .also_file(a, Span::new(5, 6), "declared here")
            .also_file(b, Span::new(0, 1), "not shown: no document")
            .note("a note")
            .help("did you mean `y`?");
        let uri = Uri::from_str("file:///a.aims").expect("uri");
        let uri_of = |f: FileId| (f == a).then(|| uri.clone());
        let mut lines = Lines::new(&sources, Encoding::Utf16);
        let (at, converted) = diagnostic(&d, &mut lines, &uri_of).expect("converted");
        assert_eq!(at, uri);
        assert_eq!(converted.code, Some(NumberOrString::String("E0101".into())));
        assert_eq!((converted.range.start.character, converted.range.end.character), (2, 3), "é is one UTF-16 unit");
        assert_eq!(converted.message, "unknown name `x`\nnote: a note\nhelp: did you mean `y`?");
        let related = converted.related_information.expect("related");
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].location.range.start.line, 1);

        let elsewhere = Diagnostic::error(Code::Syntax, "in the library").at_file(b, Span::new(0, 1), "");
        assert!(diagnostic(&elsewhere, &mut lines, &uri_of).is_none());
    }
}
