//! `aims`: an ISO/IEC 42001 AI management system as code, from the command line.
//!
//! Exit codes: 0 no finding at or above `--fail-on` (and, for `test` and
//! `fmt --check`, nothing failing); 1 findings at or above it, failing
//! tests, or unformatted files; 2 errors in the policy or the facts; 3
//! usage or I/O errors.

mod allocator;
mod cmd;

use std::process::ExitCode;

use aims_lang::Date;
use clap::{Parser, Subcommand};

use cmd::{usage_error, EXIT_USAGE};

#[derive(Parser)]
#[command(name = "aims", version, about = "An ISO/IEC 42001 AI management system as code")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a project's controls, risks, objectives and audit rules against its facts.
    Check(cmd::check::CheckArgs),
    /// Run the `test` blocks of a project's policies, with coverage.
    Test(cmd::test::TestArgs),
    /// Format `.aims` files (canonical layout, comments kept).
    Fmt(cmd::fmt::FmtArgs),
    /// Show the evaluation trace of a control, audit rule, risk or objective.
    Explain(cmd::explain::ExplainArgs),
    /// List the Statement of Applicability (Annex A, or a crosswalked framework).
    Soa(cmd::soa::SoaArgs),
    /// Gap analysis against ISO/IEC 42001: readiness per clause and Annex A control, what is due.
    Gap(cmd::gap::GapArgs),
    /// Create a new project that passes `aims check` and `aims test`.
    Init(cmd::init::InitArgs),
    /// Explore a project interactively: query outcomes, try what-if edits, compare scenarios.
    Repl(ReplArgs),
    /// Serve the Language Server Protocol on stdin/stdout (for editors).
    Lsp,
}

#[derive(clap::Args)]
struct ReplArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    path: std::path::PathBuf,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today in UTC.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Test(args) => cmd::test::run(args),
        Command::Fmt(args) => cmd::fmt::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Soa(args) => cmd::soa::run(args),
        Command::Gap(args) => cmd::gap::run(args),
        Command::Init(args) => cmd::init::run(args),
        Command::Lsp => aims_lsp::serve_stdio(),
        Command::Repl(args) => match args.as_of.as_deref().map(|text| Date::parse(text).ok_or(text)).transpose() {
            Ok(as_of) => aims_repl::run(&args.path, as_of, cmd::load_options()),
            Err(text) => usage_error(&format!("`--as-of {text}` is not a date (YYYY-MM-DD)")),
        },
    }
}
