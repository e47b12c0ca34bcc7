//! `aims`: an ISO/IEC 42001 AI management system as code, from the command line.
//!
//! Exit codes: 0 no finding at or above `--fail-on`; 1 findings at or above
//! it; 2 errors in the policy or the facts; 3 usage or I/O errors.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use aims_lang::diag::{render, Code, Diagnostic, RenderOptions, Sources};
use aims_lang::project::LoadOptions;
use aims_lang::report::Report;
use aims_lang::syntax::ast::Severity;
use aims_lang::time::Date;
use aims_lang::Engine;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "aims", version, about = "An ISO/IEC 42001 AI management system as code")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a project's controls, risks, objectives and audit rules against its facts.
    Check(CheckArgs),
    /// Run the `test` blocks of a project's policies.
    Test(TestArgs),
    /// Explore a project interactively: query outcomes, try what-if edits, compare scenarios.
    Repl(ReplArgs),
}

#[derive(clap::Args)]
struct ReplArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
}

#[derive(clap::Args)]
struct TestArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The date for tests without `as of` (default: aims.toml's `as_of`, else today).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Fact files or folders to use instead of those in aims.toml.
    #[arg(long, value_name = "PATH")]
    facts: Vec<PathBuf>,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Minor)]
    fail_on: FailOn,
    /// Write the report to a file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Major,
    Minor,
    Observation,
}

impl FailOn {
    fn includes(self, severity: Severity) -> bool {
        let limit = match self {
            FailOn::Major => Severity::Major,
            FailOn::Minor => Severity::Minor,
            FailOn::Observation => Severity::Observation,
        };
        severity <= limit
    }
}

const EXIT_FINDINGS: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_USAGE: u8 = 3;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Test(args) => test(args),
        Command::Repl(args) => match args.as_of.as_deref().map(|text| Date::parse(text).ok_or(text)).transpose() {
            Ok(as_of) => aims_repl::run(&args.path, as_of),
            Err(text) => usage_error(&format!("`--as-of {text}` is not a date (YYYY-MM-DD)")),
        },
    }
}

fn print_diagnostics(sources: &Sources, diagnostics: &[Diagnostic]) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut text = render(diagnostics, sources, RenderOptions { color });
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        text.push_str(&format!("aims: {errors} error{} found\n", if errors == 1 { "" } else { "s" }));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("aims: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// `--as-of` as a date, and the project path checked to exist.
fn parse_as_of(text: Option<&str>, path: &std::path::Path) -> Result<Option<Date>, ExitCode> {
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

fn check(args: CheckArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
        Err(code) => return code,
    };
    for facts in &args.facts {
        if !facts.exists() {
            return usage_error(&format!("fact path `{}` does not exist", facts.display()));
        }
    }
    let options = LoadOptions { facts: args.facts.clone() };
    let mut engine = match Engine::load(&args.path, &options) {
        Ok(engine) => engine,
        Err(failure) => {
            print_diagnostics(&failure.sources, &failure.diagnostics);
            let io_only = failure.diagnostics.iter().all(|d| d.code == Code::Io);
            return ExitCode::from(if io_only { EXIT_USAGE } else { EXIT_INVALID });
        }
    };
    if !engine.warnings().is_empty() {
        print_diagnostics(engine.sources(), engine.warnings());
    }
    let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(today);
    let evaluation = engine.evaluate(as_of);
    let report = Report::build(engine.name(), engine.program(), &engine.facts(), engine.sources(), &evaluation);
    let text = match args.format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
    };
    let written = match &args.output {
        Some(path) => write_atomically(path, &text),
        None => std::io::stdout().write_all(text.as_bytes()),
    };
    if let Err(e) = written {
        return usage_error(&format!("cannot write the report: {e}"));
    }
    let failing = evaluation.findings.iter().any(|f| args.fail_on.includes(f.severity));
    ExitCode::from(if failing { EXIT_FINDINGS } else { 0 })
}

fn test(args: TestArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
        Err(code) => return code,
    };
    let engine = match Engine::load(&args.path, &LoadOptions::default()) {
        Ok(engine) => engine,
        Err(failure) => {
            print_diagnostics(&failure.sources, &failure.diagnostics);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(today);
    let results = aims_lang::testing::run_tests(engine.program(), as_of);
    let mut out = String::new();
    for result in &results {
        out.push_str(&format!("test {} ... {}\n", result.name, if result.passed() { "ok" } else { "FAILED" }));
        for failure in &result.failures {
            out.push_str(&format!("    {failure}\n"));
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    out.push_str(&format!("\n{} passed, {failed} failed\n", results.len() - failed));
    let _ = std::io::stdout().write_all(out.as_bytes());
    ExitCode::from(if failed > 0 { EXIT_FINDINGS } else { 0 })
}

/// Writes through a temporary file and a rename, so an interrupted run
/// never leaves half a report.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let temp = dir.join(format!(".{name}.aims-tmp"));
    std::fs::write(&temp, text)?;
    std::fs::rename(&temp, path)
}

fn today() -> Date {
    use chrono::Datelike;
    let now = chrono::Local::now().date_naive();
    Date::from_ymd(now.year(), now.month(), now.day()).unwrap_or(Date::UNIX_EPOCH)
}
