//! `aims gap`: the gap analysis against ISO/IEC 42001, and what falls due.

use std::path::PathBuf;
use std::process::ExitCode;

use aims_lang::project::LoadOptions;
use aims_lang::report::gap_verdict::{self, Baseline};
use aims_lang::report::Report;
use aims_lang::Date;
use clap::ValueEnum;

use super::{emit, load, parse_as_of, prepare_output, usage_error, EXIT_INVALID};

#[derive(clap::Args)]
pub struct GapArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today in UTC.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Also list what falls due in the window after the date.
    #[arg(long)]
    pub timeline: bool,
    /// The timeline's window in days.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub window: u32,
    /// A previous `aims gap --format json` output: also show what changed since.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GapFormat::Text)]
    pub format: GapFormat,
    /// Write to a file instead of standard output (atomically).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GapFormat {
    Text,
    Json,
    Markdown,
}

pub fn run(args: GapArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
        Err(code) => return code,
    };
    if args.window == 0 || args.window > 3660 {
        return usage_error("`--window` is a number of days from 1 to 3660");
    }
    // The baseline is read and checked before any fact is loaded.
    let baseline = match &args.baseline {
        None => None,
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => return usage_error(&format!("`--baseline {}`: cannot read it: {e}", path.display())),
            };
            match Baseline::parse(&text) {
                Ok(b) => Some(b),
                Err(why) => return usage_error(&format!("`--baseline {}` is refused: {why}", path.display())),
            }
        }
    };
    let output = match prepare_output(args.output.as_deref()) {
        Ok(output) => output,
        Err(code) => return code,
    };
    let mut engine = match load(&args.path, &LoadOptions::default()) {
        Ok(engine) => engine,
        Err(code) => return code,
    };
    let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(Date::today_utc);
    if let Err((code, _)) = super::measure(&mut engine, as_of) {
        return code;
    }
    let evaluation = engine.evaluate(as_of);
    let mut report = Report::build(engine.name(), engine.program(), &engine.facts(), engine.sources(), &evaluation);
    let Some(gap) = report.gap.take() else {
        eprintln!("aims: the policies do not load the ISO/IEC 42001 catalogue; add `use iso42001` (or `use aims`)");
        return ExitCode::from(EXIT_INVALID);
    };
    let change = baseline.as_ref().map(|b| gap_verdict::compare(b, &gap));
    let due = args.timeline.then(|| aims_lang::report::timeline::due(&mut engine, as_of, args.window));
    let name = engine.name().to_string();
    let date = as_of.to_string();
    let text = match args.format {
        GapFormat::Text => {
            let mut text = gap.to_text(&name, &date);
            if let Some(due) = &due {
                text.push('\n');
                text.push_str(&aims_lang::report::timeline::to_text(due, as_of, args.window));
            }
            if let Some(change) = &change {
                text.push('\n');
                text.push_str(&gap_verdict::change_text(change));
            }
            text
        }
        GapFormat::Markdown => {
            let mut text = gap.to_markdown(&name, &date);
            if let Some(due) = &due {
                text.push('\n');
                text.push_str(&aims_lang::report::timeline::to_markdown(due, args.window));
            }
            if let Some(change) = &change {
                text.push_str("\n```\n");
                text.push_str(&gap_verdict::change_text(change));
                text.push_str("```\n");
            }
            text
        }
        GapFormat::Json => {
            let mut value = serde_json::json!({
                "schema": gap_verdict::SCHEMA,
                "project": name,
                "as_of": date,
                "gap": gap,
            });
            if let Some(change) = &change {
                value["change"] = serde_json::json!(change);
            }
            if let Some(due) = &due {
                value["timeline"] = serde_json::json!({ "window_days": args.window, "due": due });
            }
            let mut json = serde_json::to_string_pretty(&value).unwrap_or_default();
            json.push('\n');
            json
        }
    };
    if let Err(code) = emit(output, &text) {
        return code;
    }
    ExitCode::SUCCESS
}
