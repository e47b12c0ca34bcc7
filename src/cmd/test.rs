//! `aims test`: run the `test` blocks, and report what they cover.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use aims_lang::engine::testing::run_tests_with_coverage;
use aims_lang::project::LoadOptions;
use aims_lang::report::Location;
use aims_lang::Date;

use super::{load, parse_as_of, usage_error, EXIT_FINDINGS};

#[derive(clap::Args)]
pub struct TestArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The date for tests without `as of` (default: aims.toml's `as_of`, else today in UTC).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Report which controls, audit rules, `require`s, risks and objectives no test covers.
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when coverage is below this percentage; implies --coverage.
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<f64>,
}

pub fn run(args: TestArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
        Err(code) => return code,
    };
    if let Some(min) = args.min_coverage {
        if !(0.0..=100.0).contains(&min) {
            return usage_error(&format!("`--min-coverage {min}` is not a percentage between 0 and 100"));
        }
    }
    let engine = match load(&args.path, &LoadOptions::default()) {
        Ok(engine) => engine,
        Err(code) => return code,
    };
    let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(Date::today_utc);
    // Coverage is of the project's own declarations: the stdlib's are
    // tested where they are written (stdlib/tests).
    let project_files = engine.policy_files().to_vec();
    let (results, coverage) =
        run_tests_with_coverage(engine.program(), as_of, engine.budget(), &|f| project_files.contains(&f));
    let mut out = String::new();
    for result in &results {
        out.push_str(&format!("test {} ... {}\n", result.name, if result.passed() { "ok" } else { "FAILED" }));
        for failure in &result.failures {
            out.push_str(&format!("    {failure}\n"));
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    out.push_str(&format!("\n{} passed, {failed} failed\n", results.len() - failed));
    let mut below = false;
    if args.coverage || args.min_coverage.is_some() {
        let percent = coverage.percent();
        let covered = coverage.items.iter().filter(|i| i.covered).count();
        out.push_str(&format!("\ncoverage: {percent:.1}% ({covered} of {} items)\n", coverage.items.len()));
        let sources = engine.sources();
        for item in coverage.uncovered() {
            // Named relative to the project, as in the reports.
            let at = Location::of(sources, item.location);
            out.push_str(&format!("  not covered: {} {} ({at})\n", item.kind.as_str(), item.name));
        }
        if let Some(min) = args.min_coverage {
            below = percent + 1e-9 < min;
            if below {
                out.push_str(&format!("coverage {percent:.1}% is below the minimum of {min}%\n"));
            }
        }
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    ExitCode::from(if failed > 0 || below { EXIT_FINDINGS } else { 0 })
}
