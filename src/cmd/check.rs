//! `aims check`: evaluate a project and write its report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use aims_lang::project::LoadOptions;
use aims_lang::report::{Report, Sections, ShownOutcomes};
use aims_lang::syntax::Severity;
use aims_lang::Date;
use clap::ValueEnum;

use super::{
    emit, emit_with, load_keeping_failure, parse_as_of, prepare_output, print_diagnostics, usage_error, EXIT_FINDINGS,
    EXIT_INVALID,
};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Fact files or folders to use instead of those in aims.toml.
    #[arg(long, value_name = "PATH")]
    pub facts: Vec<PathBuf>,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today in UTC.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Minor)]
    pub fail_on: FailOn,
    /// Write the report to a file instead of standard output (atomically).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Which outcomes the JSON and JUnit reports list (every one is the evidence trail).
    #[arg(long, value_enum, default_value_t = Outcomes::All)]
    pub outcomes: Outcomes,
}

/// Which outcomes a report lists.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Outcomes {
    /// Every outcome: pass, fail, waived, not applicable.
    All,
    /// Only the failing ones (the counts still count every outcome).
    Failing,
}

impl Outcomes {
    fn shown(self) -> ShownOutcomes {
        match self {
            Outcomes::All => ShownOutcomes::All,
            Outcomes::Failing => ShownOutcomes::Failing,
        }
    }
}

/// The report formats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: counts, then findings by rule.
    Text,
    /// The `aims-report/1` JSON document (docs/report.schema.json).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML: one test case per rule and entity.
    Junit,
    /// Markdown for pull-request comments.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// OSCAL 1.0.6 assessment results (docs/soa.md).
    Oscal,
}

impl Format {
    /// The report sections this format shows: the gap analysis only in the
    /// JSON and HTML reports, so no other format pays for building it.
    fn sections(self) -> Sections {
        Sections { gap: matches!(self, Format::Json | Format::Html) }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOn {
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

/// A spinner on stderr while the engine works, only when stderr is a terminal.
fn progress() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// The project folder as seen from the current folder (where code scanning
/// resolves SARIF paths): the display prefix when it is relative, the part
/// under the current folder when it is absolute.
fn sarif_base(prefix: &str) -> String {
    if !prefix.starts_with('/') {
        return prefix.trim_start_matches("./").to_string();
    }
    let cwd = std::env::current_dir().map(|d| format!("{}/", d.to_string_lossy())).unwrap_or_default();
    prefix.strip_prefix(cwd.as_str()).map_or_else(|| prefix.to_string(), str::to_string)
}

/// The name of a project that could not be read: its folder's name.
fn project_name(path: &std::path::Path) -> String {
    let folder = if path.is_dir() { path } else { path.parent().unwrap_or(path) };
    let folder = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
    folder.file_name().map_or_else(|| "project".to_string(), |n| n.to_string_lossy().into_owned())
}

/// Writes the report of a project that could not be evaluated when the
/// format is one that carries diagnostics (JSON, SARIF); the other formats
/// write nothing, the diagnostics are on standard error. `Some` only when
/// the report could not be written (the exit code of that).
fn write_failed(args: &CheckArgs, output: Option<super::output::Pending>, report: &Report) -> Option<ExitCode> {
    let text = match args.format {
        Format::Json => return emit_with(output, |w| report.write_json(w)).err(),
        Format::Sarif => report.to_sarif(&sarif_base(&aims_lang::project::display_prefix(&args.path))),
        Format::Text | Format::Junit | Format::Markdown | Format::Html | Format::Oscal => return None,
    };
    emit(output, &text).err()
}

/// The options that contradict each other, refused before any work.
fn conflicting(args: &CheckArgs) -> Option<String> {
    if args.outcomes == Outcomes::Failing && !matches!(args.format, Format::Json | Format::Junit) {
        return Some(
            "`--outcomes failing` applies to `--format json` and `--format junit` (the other formats list findings, not outcomes)"
                .into(),
        );
    }
    let output = args.output.as_deref()?;
    let same = |input: &std::path::Path| {
        let (Ok(a), Ok(b)) = (output.canonicalize(), input.canonicalize()) else { return false };
        a == b
    };
    let input = args.facts.iter().chain(std::iter::once(&args.path)).find(|input| input.is_file() && same(input))?;
    Some(format!("`--output {}` would replace the input `{}`", output.display(), input.display()))
}

/// The time each phase of `aims check` took, on standard error when
/// `AIMS_PHASE_TIMING` is set (for measuring; docs/cli.md).
struct Phases {
    on: bool,
    start: std::time::Instant,
    last: std::time::Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn new() -> Phases {
        let now = std::time::Instant::now();
        let on = std::env::var_os("AIMS_PHASE_TIMING").is_some_and(|v| !v.is_empty() && v != "0");
        Phases { on, start: now, last: now, done: Vec::new() }
    }

    /// Ends the phase under way.
    fn end(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((phase, now - self.last));
        self.last = now;
    }

    /// Prints one line: each phase and the whole, in milliseconds.
    fn print(&self) {
        if !self.on {
            return;
        }
        let mut line = String::from("aims: phases:");
        for (phase, took) in &self.done {
            line.push_str(&format!(" {phase} {:.1} ms,", took.as_secs_f64() * 1000.0));
        }
        line.push_str(&format!(" total {:.1} ms", self.start.elapsed().as_secs_f64() * 1000.0));
        eprintln!("{line}");
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
        Err(code) => return code,
    };
    for facts in &args.facts {
        if !facts.exists() {
            return usage_error(&format!("fact path `{}` does not exist", facts.display()));
        }
    }
    // Everything that can be refused is, before the facts are loaded.
    if let Some(why) = conflicting(&args) {
        return usage_error(&why);
    }
    let output = match prepare_output(args.output.as_deref()) {
        Ok(output) => output,
        Err(code) => return code,
    };
    let mut phases = Phases::new();
    let bar = progress();
    bar.set_message("loading the policies and facts");
    let options = LoadOptions { facts: args.facts.clone(), ..LoadOptions::default() };
    let mut engine = match load_keeping_failure(&args.path, &options, super::SOA_LISTS_THEM) {
        Ok(engine) => engine,
        Err((code, failure)) => {
            bar.finish_and_clear();
            // The JSON and SARIF reports carry the errors too.
            let name = project_name(&args.path);
            let as_of = as_of.unwrap_or_else(Date::today_utc);
            let report = Report::failed(&name, as_of, &failure.sources, &failure.diagnostics);
            return write_failed(&args, output, &report).unwrap_or(code);
        }
    };
    // The facts are loaded and checked: their text is not read again.
    engine.release_fact_texts();
    let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(Date::today_utc);
    phases.end("load");
    if !engine.program().measures.is_empty() {
        bar.set_message(format!("measuring over the logs as of {as_of}"));
        if let Err((code, diagnostics)) = super::measure(&mut engine, as_of) {
            bar.finish_and_clear();
            let report = Report::failed(engine.name(), as_of, engine.sources(), &diagnostics);
            return write_failed(&args, output, &report).unwrap_or(code);
        }
        phases.end("measure");
    }
    bar.set_message(format!("evaluating as of {as_of}"));
    let evaluation = engine.evaluate(as_of);
    phases.end("evaluate");
    let stopped = aims_lang::eval::budget::exceeded(engine.program(), &evaluation, engine.budget());
    if !stopped.is_empty() {
        bar.finish_and_clear();
        print_diagnostics(engine.sources(), &stopped);
        // The evaluation is incomplete: the report holds only why.
        let mut diagnostics = engine.warnings().to_vec();
        diagnostics.extend(stopped);
        let report = Report::failed(engine.name(), as_of, engine.sources(), &diagnostics);
        return write_failed(&args, output, &report).unwrap_or(ExitCode::from(EXIT_INVALID));
    }
    bar.set_message("writing the report");
    // The report carries the warnings printed when the project was read.
    let sections = args.format.sections();
    let report =
        Report::build_with(engine.name(), engine.program(), &engine.facts(), engine.sources(), &evaluation, sections)
            .with_diagnostics(engine.sources(), engine.warnings())
            .with_data_quality(engine.data_quality())
            .with_measurements(engine.measurements());
    phases.end("build report");
    let prefix = aims_lang::project::display_prefix(&args.path);
    let shown = args.outcomes.shown();
    let text = match args.format {
        // Streamed below: the JSON of 100,000 systems runs to hundreds of megabytes.
        Format::Json | Format::Text => None,
        Format::Sarif => Some(report.to_sarif(&sarif_base(&prefix))),
        Format::Junit => Some(report.to_junit_with(shown)),
        Format::Markdown => Some(report.to_markdown()),
        Format::Html => Some(report.to_html()),
        Format::Oscal => {
            let statement = aims_lang::report::soa_detail::build(
                engine.program(),
                engine.sources(),
                &engine.facts(),
                &report,
                aims_lang::report::soa::Framework::Iso42001,
            );
            let document = aims_lang::report::oscal::assessment_results(&report, &statement);
            Some(serde_json::to_string_pretty(&document).unwrap_or_default() + "\n")
        }
    };
    bar.finish_and_clear();
    let written = match (text, args.format) {
        (Some(text), _) => emit(output, &text),
        (None, Format::Text) => emit_with(output, |w| report.write_text(w)),
        (None, _) => emit_with(output, |w| report.write_json_with(w, shown)),
    };
    phases.end("write");
    phases.print();
    let failing = evaluation.findings.iter().any(|f| args.fail_on.includes(f.severity));
    // The process ends here: freeing millions of outcomes one by one would
    // only delay the exit (the operating system takes the memory back whole).
    std::mem::forget(report);
    std::mem::forget(evaluation);
    std::mem::forget(engine);
    if let Err(code) = written {
        return code;
    }
    ExitCode::from(if failing { EXIT_FINDINGS } else { 0 })
}
