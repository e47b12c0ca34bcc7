//! `:help`: every form the prompt answers to.

use std::fmt::Write as _;

use crate::parse::COMMANDS;

/// The text of `:help`.
pub(super) fn help() -> String {
    const WIDTH: usize = 30;
    let mut out = String::new();
    let mut row = |form: &str, what: &str| {
        if form.chars().count() > WIDTH {
            let _ = writeln!(out, "  {form}\n  {:WIDTH$}  {what}", "");
        } else {
            let _ = writeln!(out, "  {form:<WIDTH$}  {what}");
        }
    };
    row("EXPRESSION", "evaluate it: count(s for s: AISystem where s.risk_tier == high)");
    row("RULE", "the outcomes of a control or audit per entity, with the failures");
    row("RULE on \"KEY\"", "one outcome, with its failures and the values they saw");
    row("RISK [on \"KEY\"]", "a risk's inherent and residual levels per entity");
    row("OBJECTIVE", "where an objective stands");
    row("control NAME ... { ... }", "a declaration (control, audit, fn, risk, exception, ...) joins the session");
    row("fact ENTITY { ... }", "the same as :add");
    for (command, args, what) in COMMANDS {
        let form = if args.is_empty() { command.to_string() } else { format!("{command} {args}") };
        row(&form, what);
    }
    out.push_str("Every edit answers with what it changed: outcomes, residual risks, objectives and findings.\n");
    out
}
