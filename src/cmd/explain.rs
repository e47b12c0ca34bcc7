//! `aims explain NAME [ENTITY]`: the evaluation trace of a control or audit
//! rule (every `require`, whether it held, the values it saw), or the
//! entries of a risk, or an objective's measure.

use std::path::PathBuf;
use std::process::ExitCode;

use aims_lang::diag::{did_you_mean, Quote};
use aims_lang::project::LoadOptions;
use aims_lang::report::explain::View;
use aims_lang::Date;

use super::{load, parse_as_of, usage_error};

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The control, audit rule, risk or objective.
    pub name: String,
    /// The entity key (all entities when left out).
    pub entity: Option<String>,
    /// The project folder (with aims.toml) or a single .aims file.
    #[arg(long, default_value = ".")]
    pub path: PathBuf,
    /// The evaluation date (YYYY-MM-DD); default: aims.toml's `as_of`, else today in UTC.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

pub fn run(args: ExplainArgs) -> ExitCode {
    let as_of = match parse_as_of(args.as_of.as_deref(), &args.path) {
        Ok(as_of) => as_of,
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
    let program = engine.program();
    let view =
        View { program, sources: engine.sources(), evaluation: &evaluation, measurements: engine.measurements() };
    let text = if let Some(id) = program.rule_by_name(&args.name) {
        match &args.entity {
            Some(key) => match view.find(id, key) {
                Some(outcome) => view.why(id, outcome),
                None => {
                    let keys = view.keys(id);
                    let hint = did_you_mean(key, keys.iter().map(String::as_str), Quote::Code)
                        .map(|suggestion| format!("; {suggestion}"))
                        .unwrap_or_default();
                    return usage_error(&format!("`{}` has no outcome for `{key}`{hint}", args.name));
                }
            },
            None => {
                let mut text = view.rule(id);
                for key in view.keys(id) {
                    if let Some(outcome) = view.find(id, &key).filter(|o| !o.failures.is_empty()) {
                        text.push('\n');
                        text.push_str(&view.why(id, outcome));
                    }
                }
                text
            }
        }
    } else if let Some(i) = program.risks.iter().position(|r| r.decl.name == args.name) {
        view.risk(aims_lang::ir::RiskId(i as u32), args.entity.as_deref())
    } else if let Some(i) = program.objectives.iter().position(|o| o.decl.name == args.name) {
        view.objective(aims_lang::ir::ObjectiveId(i as u32))
    } else {
        let names = program
            .rules
            .iter()
            .map(|r| r.decl.name.as_str())
            .chain(program.risks.iter().map(|r| r.decl.name.as_str()))
            .chain(program.objectives.iter().map(|o| o.decl.name.as_str()));
        let hint = did_you_mean(&args.name, names, Quote::Code)
            .map(|suggestion| format!("; {suggestion}"))
            .unwrap_or_default();
        return usage_error(&format!("no control, audit rule, risk or objective is named `{}`{hint}", args.name));
    };
    print!("{}", aims_lang::diag::terminal_safe(&text));
    ExitCode::SUCCESS
}
