//! Where something is in a project: a file relative to the project folder,
//! a line and a column.
//!
//! Reports hold [`Location`]s, not strings: formats that want one string
//! (the JSON report, JUnit, Markdown, HTML, text) write `file:line:column`,
//! SARIF writes the parts. The file is the name given when the file was
//! read ([`Sources::relative`]), so no format rewrites paths afterwards.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::diag::{FileSpan, Sources};

/// A place in a project file: 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Location {
    /// The file, relative to the project folder (a file outside it keeps
    /// its own path; the stdlib's files start with `<stdlib>/`).
    pub file: Arc<str>,
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl Location {
    /// Where a span starts.
    pub fn of(sources: &Sources, at: FileSpan) -> Location {
        let (line, column) = sources.line_col(at.file, at.span.start);
        Location { file: sources.relative(at.file).clone(), line, column }
    }

    /// The location as separate fields (`{"file", "line", "column"}`), for
    /// the formats that want the parts rather than one string.
    pub fn parts(&self) -> LocationParts<'_> {
        LocationParts { file: &self.file, line: self.line, column: self.column }
    }
}

impl fmt::Display for Location {
    /// `file:line:column`, as compilers print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

impl Serialize for Location {
    /// One string, `file:line:column`: the shape `aims-report/1` has always had.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A [`Location`] serialised as an object of its parts.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocationParts<'a> {
    /// The file, relative to the project folder.
    pub file: &'a str,
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

/// An optional location as one string, empty when unknown.
pub(super) fn text(location: &Option<Location>) -> String {
    location.as_ref().map(Location::to_string).unwrap_or_default()
}

/// Serialises an optional location as one string, empty when unknown (for
/// `serialize_with`: `aims-report/1` has a string there).
pub(super) fn serialize_or_empty<S: Serializer>(location: &Option<Location>, serializer: S) -> Result<S::Ok, S::Error> {
    match location {
        Some(at) => at.serialize(serializer),
        None => serializer.serialize_str(""),
    }
}

/// Serialises an optional location as its parts (for `serialize_with`).
pub(super) fn serialize_parts<S: Serializer>(location: &Option<Location>, serializer: S) -> Result<S::Ok, S::Error> {
    location.as_ref().map(Location::parts).serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_written_as_file_line_column() {
        let at = Location { file: Arc::from("policy/a.aims"), line: 12, column: 3 };
        assert_eq!(at.to_string(), "policy/a.aims:12:3");
        assert_eq!(serde_json::to_string(&at).ok().as_deref(), Some("\"policy/a.aims:12:3\""));
        assert_eq!(
            serde_json::to_string(&at.parts()).ok().as_deref(),
            Some(r#"{"file":"policy/a.aims","line":12,"column":3}"#)
        );
    }

    #[test]
    fn a_location_names_the_file_relative_to_the_project() {
        let mut sources = Sources::new();
        let file = sources.add_in_project("examples/x/policy/a.aims", Arc::from("policy/a.aims"), "a\nbc\n");
        let at = Location::of(&sources, FileSpan { file, span: crate::syntax::ast::Span::new(3, 4) });
        assert_eq!(at.to_string(), "policy/a.aims:2:2");
    }
}
