//! The subcommands of `aims`, one module each, and what they share:
//! exit codes, diagnostics on stderr, dates, and the output file.

pub mod check;
pub mod explain;
pub mod fmt;
pub mod gap;
pub mod init;
pub mod output;
pub mod soa;
pub mod soa_xlsx;
pub mod test;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use aims_lang::diag::{render, Code, Diagnostic, RenderOptions, Sources};
use aims_lang::project::LoadOptions;
use aims_lang::Date;
use aims_lang::Engine;

/// Findings at or above `--fail-on`, failing tests, unformatted files.
pub const EXIT_FINDINGS: u8 = 1;
/// Errors in the policy or the facts.
pub const EXIT_INVALID: u8 = 2;
/// Usage or I/O errors.
pub const EXIT_USAGE: u8 = 3;

/// What every command loads a project with: the process's environment
/// (for PostgreSQL sources) and DataFusion to compute measures over logs.
pub fn load_options() -> LoadOptions {
    LoadOptions {
        eval_threads: eval_threads(),
        environment: Some(aims_lang::project::process_environment),
        measure_runner: Some(aims_lang::project::RunnerHandle(std::sync::Arc::new(
            aims_monitor::DataFusionRunner::default(),
        ))),
        ..LoadOptions::default()
    }
}

/// Sets the evaluation date, which computes the project's measures as of
/// it over its logs; a log that cannot be read is printed (exit 2) and
/// handed back for a report that carries the errors. A project without
/// measures reads no log.
pub fn measure(engine: &mut Engine, as_of: Date) -> Result<(), (ExitCode, Vec<Diagnostic>)> {
    engine.set_as_of(as_of);
    let errors = engine.measure_errors();
    if errors.is_empty() {
        return Ok(());
    }
    print_diagnostics(engine.sources(), errors);
    Err((ExitCode::from(EXIT_INVALID), errors.to_vec()))
}

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

/// The thread count of an evaluation, if `AIMS_EVAL_THREADS` sets one
/// (for measuring; the library reads no environment variable).
fn eval_threads() -> Option<usize> {
    std::env::var("AIMS_EVAL_THREADS").ok().and_then(|t| t.trim().parse().ok())
}

/// Loads a project, printing its diagnostics on failure (exit 2, or 3
/// when only files could not be read) and its warnings on success.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Engine, ExitCode> {
    load_listing(path, options, SOA_LISTS_THEM)
}

/// Where the W0002 warnings the terminal summarises are listed in full.
pub const SOA_LISTS_THEM: &str = "`aims soa` lists them all";

/// [`load`], saying where the unaddressed Annex A controls are listed.
pub fn load_listing(path: &Path, options: &LoadOptions, listed: &str) -> Result<Engine, ExitCode> {
    load_keeping_failure(path, options, listed).map_err(|(code, _)| code)
}

/// [`load_listing`], handing back the failure it printed with the exit
/// code, for a report that carries the diagnostics (`aims check --format json`).
pub fn load_keeping_failure(
    path: &Path,
    options: &LoadOptions,
    listed: &str,
) -> Result<Engine, (ExitCode, aims_lang::LoadFailure)> {
    let defaults = load_options();
    let options = LoadOptions {
        eval_threads: options.eval_threads.or(defaults.eval_threads),
        environment: options.environment.or(defaults.environment),
        measure_runner: options.measure_runner.clone().or(defaults.measure_runner),
        ..options.clone()
    };
    match Engine::load(path, &options) {
        Ok(engine) => {
            print_warnings(engine.sources(), engine.warnings(), listed);
            Ok(engine)
        }
        Err(failure) => {
            print_diagnostics(&failure.sources, &failure.diagnostics);
            let io_only = failure.diagnostics.iter().all(|d| d.code == Code::Io);
            Err((ExitCode::from(if io_only { EXIT_USAGE } else { EXIT_INVALID }), failure))
        }
    }
}

/// Checks `--output` before any work (its folder exists and can be
/// written) and makes its temporary file; `None` for standard output.
/// The path is the operator's choice: it may point anywhere.
pub fn prepare_output(output: Option<&Path>) -> Result<Option<output::Pending>, ExitCode> {
    output.map(output::prepare).transpose().map_err(|why| usage_error(&why))
}

/// Writes the output of a command to the prepared `--output` file
/// (atomically) or to standard output.
pub fn emit(output: Option<output::Pending>, text: &str) -> Result<(), ExitCode> {
    emit_with(output, |w| w.write_all(text.as_bytes()))
}

/// [`emit`] for output written piece by piece (a large report is streamed,
/// never held whole in memory).
pub fn emit_with(
    output: Option<output::Pending>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ExitCode> {
    let Some(output) = output else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        return write(&mut out).and_then(|()| out.flush()).map_err(|e| usage_error(&format!("cannot write: {e}")));
    };
    output.write(write).map_err(|why| usage_error(&why))
}
