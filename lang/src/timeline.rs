//! What falls due: the outcomes that pass today and will fail within a
//! window (evidence ageing out of a `within`, a surveillance audit or a
//! management review coming due, an exception expiring, a corrective
//! action passing its date), each with the first day it fails, and the
//! objectives whose target date falls in the window while not met.
//!
//! Nothing is special-cased: the engine is evaluated at the end of the
//! window, and every outcome that turned from passing to failing is
//! bisected to the day it turns (evaluations are cached by date, and the
//! database re-runs only what the date reaches).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::eval::Evaluation;
use crate::ir::{ObjectiveStatus, OutcomeKind, RuleKind};
use crate::syntax::ast::Severity;
use crate::time::Date;
use crate::Engine;

/// One thing that falls due.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Due {
    /// The first day it fails (for an objective: its target date).
    pub date: String,
    /// `control`, `audit` or `objective`.
    pub kind: &'static str,
    /// The rule or objective.
    pub name: String,
    /// The entity's key; absent for organisation-level rules and objectives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The severity of the finding it will raise.
    pub severity: Severity,
    /// The clauses and requirements it gives evidence for.
    pub cites: Vec<String>,
    /// Why it will fail (the first failing `require`), or the objective's target.
    pub reason: String,
}

struct Evaluations<'e> {
    engine: &'e mut Engine,
    cache: HashMap<Date, Arc<Evaluation>>,
}

impl Evaluations<'_> {
    fn at(&mut self, date: Date) -> Arc<Evaluation> {
        if let Some(e) = self.cache.get(&date) {
            return e.clone();
        }
        let e = self.engine.evaluate(date);
        self.cache.insert(date, e.clone());
        e
    }
}

fn fails(e: &Evaluation, rule: usize, key: &str) -> bool {
    e.rules
        .get(rule)
        .and_then(|r| r.outcomes.iter().find(|o| &*o.key == key))
        .is_some_and(|o| o.kind == OutcomeKind::Fail)
}

/// Everything due in the `days` after `from`, by date, then name, then
/// entity. The engine is left evaluated as of `from`.
pub fn due(engine: &mut Engine, from: Date, days: u32) -> Vec<Due> {
    let end = from.add_days(i64::from(days));
    let mut evals = Evaluations { engine, cache: HashMap::new() };
    let start = evals.at(from);
    let last = evals.at(end);
    let mut out = Vec::new();
    for (rule, result) in start.rules.iter().enumerate() {
        for outcome in result.outcomes.iter() {
            if outcome.kind == OutcomeKind::Fail || !fails(&last, rule, &outcome.key) {
                continue;
            }
            // Bisect: passing at `good`, failing at `bad`.
            let (mut good, mut bad) = (0i64, i64::from(days));
            while bad - good > 1 {
                let mid = good + (bad - good) / 2;
                if fails(&evals.at(from.add_days(mid)), rule, &outcome.key) {
                    bad = mid;
                } else {
                    good = mid;
                }
            }
            let day = from.add_days(bad);
            let at_day = evals.at(day);
            let program = evals.engine.program();
            let def = program.rule(crate::ir::RuleId(rule as u32));
            let requirements = def.requirements();
            let reason = at_day.rules[rule]
                .outcomes
                .iter()
                .find(|o| o.key == outcome.key)
                .and_then(|o| o.failures.first())
                .map(|f| crate::eval::failure_message(requirements.get(f.index).copied(), f))
                .unwrap_or_default();
            out.push(Due {
                date: day.to_string(),
                kind: match def.kind {
                    RuleKind::Control => "control",
                    RuleKind::Audit => "audit",
                },
                name: def.decl.name.clone(),
                entity: (def.subject.is_some()).then(|| outcome.key.to_string()),
                severity: def.severity,
                cites: def.clauses.iter().chain(&def.implements).cloned().collect(),
                reason,
            });
        }
    }
    let program = evals.engine.program();
    for (i, objective) in program.objectives.iter().enumerate() {
        let (op, target, by) = objective.target;
        let status = start.objectives.get(i).map(|o| o.status);
        if by > from && by <= end && status != Some(ObjectiveStatus::Met) {
            out.push(Due {
                date: by.to_string(),
                kind: "objective",
                name: objective.decl.name.clone(),
                entity: None,
                severity: objective.severity,
                cites: objective.clauses.clone(),
                reason: format!(
                    "target {} {} by {by}; {}",
                    op.as_str(),
                    crate::num::format(target),
                    status.map_or("unknown", ObjectiveStatus::as_str)
                ),
            });
        }
    }
    evals.engine.evaluate(from);
    out.sort_by(|a, b| (&a.date, &a.name, &a.entity).cmp(&(&b.date, &b.name, &b.entity)));
    out
}

/// The timeline as text.
pub fn to_text(items: &[Due], from: Date, days: u32) -> String {
    use std::fmt::Write as _;
    let mut out =
        format!("Due in the {} after {from}: {}\n", crate::report::count(days as usize, "day", "days"), items.len());
    for d in items {
        let who = d.entity.as_deref().map(|e| format!(" {}", crate::diag::terminal_safe_line(e))).unwrap_or_default();
        let cites = if d.cites.is_empty() { String::new() } else { format!(" [{}]", d.cites.join(", ")) };
        let _ = writeln!(out, "  {}  {:<11} {} {}{who}{cites}", d.date, d.severity.as_str(), d.kind, d.name);
        let _ = writeln!(out, "              {}", crate::report::one_line(&d.reason, 150));
    }
    crate::diag::terminal_safe_owned(out)
}

/// The timeline as a Markdown section.
pub fn to_markdown(items: &[Due], days: u32) -> String {
    use std::fmt::Write as _;
    let cell = crate::report::markdown_cell;
    let mut out = format!("### Due in the next {}\n\n", crate::report::count(days as usize, "day", "days"));
    out.push_str("| date | severity | kind | name | entity | why |\n|---|---|---|---|---|---|\n");
    for d in items {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            d.date,
            d.severity.as_str(),
            d.kind,
            cell(&d.name),
            cell(d.entity.as_deref().unwrap_or("")),
            cell(&d.reason)
        );
    }
    out
}
