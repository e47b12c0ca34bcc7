//! `aims soa`: the Statement of Applicability of a project.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use aims_lang::project::LoadOptions;
use aims_lang::report::soa::{self, Framework};
use aims_lang::report::Report;
use aims_lang::report::{soa_detail, soa_views};
use aims_lang::Date;
use clap::ValueEnum;

use super::{emit, emit_with, load_listing, parse_as_of, prepare_output, print_diagnostics, usage_error, EXIT_INVALID};

#[derive(clap::Args)]
pub struct SoaArgs {
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The catalogue to list: ISO/IEC 42001 Annex A, or another framework
    /// reached through the crosswalks.
    #[arg(long, value_enum, default_value_t = FrameworkArg::Iso42001)]
    pub framework: FrameworkArg,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today in UTC.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SoaFormat::Text)]
    pub format: SoaFormat,
    /// Write to a file instead of standard output (atomically).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FrameworkArg {
    Iso42001,
    NistAiRmf,
    EuAiAct,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SoaFormat {
    Text,
    Json,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// A spreadsheet for auditors to annotate (binary: needs `--output` or a pipe).
    Xlsx,
    /// An OSCAL 1.0.6 component definition.
    Oscal,
}

pub fn run(args: SoaArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
        Err(code) => return code,
    };
    if matches!(args.format, SoaFormat::Xlsx) && args.output.is_none() && std::io::stdout().is_terminal() {
        return usage_error("a spreadsheet is not written to a terminal: add `--output FILE.xlsx` (or redirect it)");
    }
    let output = match prepare_output(args.output.as_deref()) {
        Ok(output) => output,
        Err(code) => return code,
    };
    let framework = match args.framework {
        FrameworkArg::Iso42001 => Framework::Iso42001,
        FrameworkArg::NistAiRmf => Framework::NistAiRmf,
        FrameworkArg::EuAiAct => Framework::EuAiAct,
    };
    let mut engine = match load_listing(&args.path, &LoadOptions::default(), "the statement lists them") {
        Ok(engine) => engine,
        Err(code) => return code,
    };
    // Another framework's catalogue and crosswalk are loaded for the
    // statement if the policies do not load them.
    if framework != Framework::Iso42001 && soa::statement(engine.program(), engine.sources(), &[], framework).is_empty()
    {
        if let Err(diagnostics) = engine.add_policy("<soa>", &format!("use {}", framework.module())) {
            print_diagnostics(engine.sources(), &diagnostics);
            return ExitCode::from(EXIT_INVALID);
        }
    }
    let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(Date::today_utc);
    if let Err((code, _)) = super::measure(&mut engine, as_of) {
        return code;
    }
    let evaluation = engine.evaluate(as_of);
    let report = Report::build(engine.name(), engine.program(), &engine.facts(), engine.sources(), &evaluation);
    let statement = soa_detail::build(engine.program(), engine.sources(), &engine.facts(), &report, framework);
    if statement.rows.is_empty() {
        eprintln!(
            "aims: the policies do not load the {} catalogue; add `use {}` to a policy file",
            framework.name(),
            framework.module()
        );
        return ExitCode::from(EXIT_INVALID);
    }
    let text = match args.format {
        SoaFormat::Text => soa::to_text(engine.name(), framework, &statement),
        SoaFormat::Markdown => soa_views::to_markdown(engine.name(), framework, &statement),
        SoaFormat::Html => soa_views::to_html(engine.name(), framework, &statement),
        SoaFormat::Xlsx => {
            let bytes = match super::soa_xlsx::workbook(engine.name(), framework, &statement, as_of) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("aims: cannot write the spreadsheet: {e}");
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            if let Err(code) = emit_with(output, |w| w.write_all(&bytes)) {
                return code;
            }
            return ExitCode::SUCCESS;
        }
        SoaFormat::Oscal => {
            let document = aims_lang::report::oscal::component_definition(engine.name(), framework, &statement);
            serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
        }
        SoaFormat::Json => {
            let mut json = serde_json::to_string_pretty(&serde_json::json!({
                "schema": "aims-soa/2",
                "project": engine.name(),
                "as_of": as_of.to_string(),
                "framework": framework.name(),
                "document": statement.document,
                "rows": statement.rows,
                "organisation_controls": statement.organisation_controls,
            }))
            .unwrap_or_default();
            json.push('\n');
            json
        }
    };
    if let Err(code) = emit(output, &text) {
        return code;
    }
    ExitCode::SUCCESS
}
