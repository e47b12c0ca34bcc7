//! The subcommands of `aims`, one module each, and what they share:
//! exit codes, diagnostics on stderr, dates, and atomic writes.

pub mod check;
pub mod explain;
pub mod fmt;
pub mod gap;
pub mod init;
pub mod soa;
pub mod test;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use aims_lang::diag::{render, Code, Diagnostic, RenderOptions, Sources};
use aims_lang::project::LoadOptions;
use aims_lang::time::Date;
use aims_lang::Engine;

/// Findings at or above `--fail-on`, failing tests, unformatted files.
pub const EXIT_FINDINGS: u8 = 1;
/// Errors in the policy or the facts.
pub const EXIT_INVALID: u8 = 2;
/// Usage or I/O errors.
pub const EXIT_USAGE: u8 = 3;

/// Prints diagnostics to stderr (in colour on a terminal, unless `NO_COLOR`).
pub fn print_diagnostics(sources: &Sources, diagnostics: &[Diagnostic]) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut text = render(diagnostics, sources, RenderOptions { color });
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        text.push_str(&format!("aims: {errors} error{} found\n", if errors == 1 { "" } else { "s" }));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// How many "Annex A control neither implemented nor excluded" warnings
/// are shown in full; the rest are counted (`aims soa` lists them all).
const UNADDRESSED_SHOWN: usize = 3;

/// Prints warnings, the W0002 ones of a new project summarised (`listed`
/// says where to see them all).
fn print_warnings(sources: &Sources, warnings: &[Diagnostic], listed: &str) {
    let (unaddressed, others): (Vec<Diagnostic>, Vec<Diagnostic>) =
        warnings.iter().cloned().partition(|w| w.code == Code::UnaddressedControl);
    let mut shown = others;
    shown.extend(unaddressed.iter().take(UNADDRESSED_SHOWN).cloned());
    if !shown.is_empty() {
        print_diagnostics(sources, &shown);
    }
    if unaddressed.len() > UNADDRESSED_SHOWN {
        eprintln!(
            "aims: {} more Annex A controls are neither implemented nor excluded (W0002); {listed}",
            unaddressed.len() - UNADDRESSED_SHOWN
        );
    }
}

/// Reports a usage or I/O error.
pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("aims: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// `--as-of` as a date, and the project path checked to exist.
pub fn parse_as_of(text: Option<&str>, path: &Path) -> Result<Option<Date>, ExitCode> {
    let as_of = match text {
        Some(text) => match Date::parse(text) {
            Some(d) => Some(d),
            None => return Err(usage_error(&format!("`--as-of {text}` is not a date (YYYY-MM-DD)"))),
        },
        None => None,
    };
    if !path.exists() {
        return Err(usage_error(&format!("`{}` does not exist", path.display())));
    }
    Ok(as_of)
}

/// Loads a project, printing its diagnostics on failure (exit 2, or 3
/// when only files could not be read) and its warnings on success.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Engine, ExitCode> {
    load_listing(path, options, "`aims soa` lists them all")
}

/// [`load`], saying where the unaddressed Annex A controls are listed.
pub fn load_listing(path: &Path, options: &LoadOptions, listed: &str) -> Result<Engine, ExitCode> {
    match Engine::load(path, options) {
        Ok(engine) => {
            print_warnings(engine.sources(), engine.warnings(), listed);
            Ok(engine)
        }
        Err(failure) => {
            print_diagnostics(&failure.sources, &failure.diagnostics);
            let io_only = failure.diagnostics.iter().all(|d| d.code == Code::Io);
            Err(ExitCode::from(if io_only { EXIT_USAGE } else { EXIT_INVALID }))
        }
    }
}

/// Where `--output` may write: inside the current folder or the project
/// folder, after resolving `..` and symbolic links (the file itself must
/// not be a symbolic link). Returns the checked path, or why not.
pub fn confined_output(output: &Path, project: &Path) -> Result<std::path::PathBuf, String> {
    let shown = output.display();
    let name = output.file_name().ok_or_else(|| format!("`{shown}` is not a file name"))?;
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let folder = std::fs::canonicalize(parent).map_err(|e| format!("cannot write `{shown}`: {e}"))?;
    let target = folder.join(name);
    if target.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!("`{shown}` is a symbolic link; write the report to a plain file"));
    }
    let project_folder = if project.is_dir() { project } else { project.parent().unwrap_or(Path::new("")) };
    let project_folder = if project_folder.as_os_str().is_empty() { Path::new(".") } else { project_folder };
    let roots: Vec<std::path::PathBuf> =
        [Path::new("."), project_folder].iter().filter_map(|r| std::fs::canonicalize(r).ok()).collect();
    if roots.iter().any(|r| target.starts_with(r)) {
        Ok(target)
    } else {
        Err(format!("`{shown}` is outside the current folder and the project folder; aims writes only inside them"))
    }
}

/// Writes the output of a command to `--output` (confined, atomic) or to
/// standard output.
pub fn emit(output: Option<&Path>, project: &Path, text: &str) -> Result<(), ExitCode> {
    emit_with(output, project, |w| w.write_all(text.as_bytes()))
}

/// [`emit`] for output written piece by piece (a large report is streamed,
/// never held whole in memory).
pub fn emit_with(
    output: Option<&Path>,
    project: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ExitCode> {
    let Some(output) = output else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        return write(&mut out).and_then(|()| out.flush()).map_err(|e| usage_error(&format!("cannot write: {e}")));
    };
    let target = confined_output(output, project).map_err(|why| usage_error(&why))?;
    write_atomically_with(&target, write).map_err(|e| usage_error(&format!("cannot write `{}`: {e}", output.display())))
}

/// Writes through a temporary file in the same folder and a rename, so an
/// interrupted run never leaves half a file.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    write_atomically_with(path, |w| w.write_all(text.as_bytes()))
}

/// [`write_atomically`] for output written piece by piece.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".aims-").suffix(".tmp").tempfile_in(dir)?;
    {
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        write(&mut out)?;
        out.flush()?;
    }
    temp.as_file().sync_all()?;
    // A temporary file is private (0600); the result keeps the permissions
    // of the file it replaces, or gets the usual ones.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = match std::fs::metadata(path) {
            Ok(meta) => meta.permissions(),
            Err(_) => std::fs::Permissions::from_mode(0o644),
        };
        temp.as_file().set_permissions(permissions)?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Today's date on this machine.
pub fn today() -> Date {
    use chrono::Datelike;
    let now = chrono::Local::now().date_naive();
    Date::from_ymd(now.year(), now.month(), now.day()).unwrap_or(Date::UNIX_EPOCH)
}
