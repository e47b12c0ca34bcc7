//! Diagnostics as the session prints them: rendered like errors in files,
//! with the typed line as a source file named `<repl>`, and every other
//! text made safe for a terminal.

use aims_lang::diag::{self, terminal_safe, Code, Diagnostic, FileId, FileSpan, RenderOptions, Sources};

use super::{span, Session};
use crate::parse::ParseError;

impl Session {
    /// The id the typed line gets as the file `<repl>` when rendering.
    pub(super) fn repl_file(&self) -> FileId {
        FileId(self.engine.sources().len() as u32)
    }

    /// Renders diagnostics; `<repl>` is the typed line, `extra` a file that
    /// a refused declaration may point into.
    pub(super) fn render(&self, input: &str, diagnostics: &[Diagnostic], extra: Option<(&str, &str)>) -> String {
        let mut sources: Sources = self.engine.sources().clone();
        if let Some((name, text)) = extra {
            // The engine keeps the text of a refused declaration today; if
            // it ever stops, the diagnostics point at the next free id.
            if !sources.iter().any(|(_, f)| f.name == name) {
                sources.add(name, text);
            }
        }
        sources.add("<repl>", input);
        // Never index a file the table does not have.
        let known = |at: &FileSpan| (at.file.0 as usize) < sources.len();
        let shown: Vec<Diagnostic> = diagnostics
            .iter()
            .cloned()
            .map(|mut d| {
                if d.primary.as_ref().is_some_and(|p| !known(&p.at)) {
                    d.primary = None;
                }
                d.secondary.retain(|l| known(&l.at));
                if d.fix.as_ref().is_some_and(|f| !known(&f.at)) {
                    d.fix = None;
                }
                d
            })
            .collect();
        let shown: Vec<Diagnostic> = shown.into_iter().map(printable_diagnostic).collect();
        let text = diag::render(&shown, &sources, RenderOptions { color: self.color });
        format!("{RENDERED_START}{text}{RENDERED_END}")
    }

    pub(super) fn error_at(&self, input: &str, diagnostic: Diagnostic) -> String {
        self.render(input, &[diagnostic], None)
    }

    pub(super) fn parse_error(&self, input: &str, e: ParseError) -> String {
        let mut d = Diagnostic::error(Code::Syntax, e.message).at_file(self.repl_file(), span(&e.span), e.label);
        d.help = e.help;
        self.error_at(input, d)
    }
}

/// Marks the text of rendered diagnostics inside a reply: the renderer
/// already made the sources printable and may colour them, so
/// [`printable_reply`] leaves it alone.
pub(super) const RENDERED_START: char = '\u{E000}';
pub(super) const RENDERED_END: char = '\u{E001}';

/// Text made [`terminal_safe`]: control characters (which could drive the
/// terminal) become visible escapes such as `\u{1b}`.
fn printable(text: &str) -> String {
    terminal_safe(text).into_owned()
}

pub(super) fn printable_diagnostic(mut d: Diagnostic) -> Diagnostic {
    d.message = printable(&d.message);
    if let Some(p) = &mut d.primary {
        p.message = printable(&p.message);
    }
    for l in &mut d.secondary {
        l.message = printable(&l.message);
    }
    d.notes = d.notes.iter().map(|n| printable(n)).collect();
    d.help = d.help.as_deref().map(printable);
    d
}

/// The reply as it may reach a terminal: text outside rendered diagnostics
/// made [`terminal_safe`], and the markers gone.
pub(super) fn printable_reply(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let (plain, after) = rest.split_once(RENDERED_START).unwrap_or((rest, ""));
        out.push_str(&terminal_safe(plain));
        let (rendered, after) = after.split_once(RENDERED_END).unwrap_or((after, ""));
        out.push_str(rendered);
        rest = after;
    }
    out
}
