//! Answers as the session gives them: a diff cut after `:limit` lines of
//! each kind, written in full to a file (`:save FILE`, `:diff > FILE`), and
//! where the time of a command went (`:timing on`).
//!
//! Files are written as the command line's `--output` writes them: to a
//! temporary file beside the target, renamed over it, so the target is
//! either whole and new or untouched; a symbolic link at the target is
//! replaced, never written through; a device (`/dev/null`) is written in place.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use aims_lang::diag::{Code, Diagnostic};

use super::{span, Session};
use crate::diff::Diff;
use crate::parse::Spanned;

/// Where the time of one command went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// Reading the typed line.
    pub parse: Duration,
    /// Evaluations, edits and checks in the engine.
    pub engine: Duration,
    /// Comparing, formatting and everything else the session did.
    pub render: Duration,
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

impl Timing {
    /// The time line: `total`, from Enter to the answer printed, when the
    /// front end measured it (with `print`, the printing itself), else the
    /// session's own parts added up.
    pub fn line(&self, measured: Option<(Duration, Duration)>) -> String {
        let parts = format!("parse {}, engine {}, render {}", ms(self.parse), ms(self.engine), ms(self.render));
        match measured {
            Some((total, print)) => {
                format!("time: {} from Enter to the answer printed ({parts}, print {})\n", ms(total), ms(print))
            }
            None => format!("time: {} ({parts})\n", ms(self.parse + self.engine + self.render)),
        }
    }
}

impl Session {
    /// The diff as the answer to a command (after `head`), cut to the
    /// session's limit; kept in full for `:save`.
    pub(super) fn answer(&mut self, head: String, diff: Diff) -> String {
        let text = format!("{head}{}", diff.render_within(self.limit));
        self.last = Some((head, diff));
        text
    }

    /// The last diff answered, taken (for tests that check it).
    #[cfg(test)]
    pub(crate) fn take_last_diff(&mut self) -> Option<Diff> {
        self.last.take().map(|(_, diff)| diff)
    }

    pub(super) fn set_limit(&mut self, limit: Option<Option<usize>>) -> String {
        if let Some(limit) = limit {
            self.limit = limit;
        }
        match self.limit {
            Some(n) => format!("answers show the first {n} changes of each kind\n"),
            None => "answers are shown in full\n".into(),
        }
    }

    pub(super) fn save(&mut self, input: &str, path: &Spanned<String>) -> String {
        match &self.last {
            None => "nothing to save yet: no command has answered with changes\n".into(),
            Some((head, diff)) => {
                let text = format!("{head}{}", diff.render());
                self.write_answer(input, path, &text)
            }
        }
    }

    /// Writes `text` to the file typed at `path`, or says why not.
    pub(super) fn write_answer(&self, input: &str, path: &Spanned<String>, text: &str) -> String {
        match write_atomically(Path::new(&path.value), text) {
            Ok(()) => format!("wrote {} ({} lines)\n", path.value, text.lines().count()),
            Err(why) => {
                let d = Diagnostic::error(Code::Io, format!("cannot write `{}`", path.value))
                    .at_file(self.repl_file(), span(&path.span), why)
                    .help("give a file in a folder that exists and can be written");
                self.error_at(input, d)
            }
        }
    }
}

/// Writes `text` to `target` through a temporary file and a rename.
fn write_atomically(target: &Path, text: &str) -> Result<(), String> {
    let Some(name) = target.file_name() else { return Err("not a file name".into()) };
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(format!("`{}` is not a folder", folder.display())),
        Err(e) => return Err(format!("the folder `{}`: {e}", folder.display())),
    }
    let target = folder.join(name);
    if let Ok(meta) = std::fs::metadata(&target) {
        if meta.is_dir() {
            return Err("it is a folder".into());
        }
        if !meta.is_file() {
            // A device or a pipe is not a file to replace.
            let mut out = std::fs::OpenOptions::new().write(true).open(&target).map_err(|e| e.to_string())?;
            return out.write_all(text.as_bytes()).map_err(|e| e.to_string());
        }
    }
    let mut temp =
        tempfile::Builder::new().prefix(".aims-").suffix(".tmp").tempfile_in(folder).map_err(|e| e.to_string())?;
    temp.write_all(text.as_bytes()).and_then(|()| temp.as_file().sync_all()).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_file() => meta.permissions(),
            _ => std::fs::Permissions::from_mode(0o644),
        };
        temp.as_file().set_permissions(permissions).map_err(|e| e.to_string())?;
    }
    temp.persist(&target).map(drop).map_err(|e| e.error.to_string())
}
