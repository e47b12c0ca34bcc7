//! The evaluation budget: how many elements quantifiers and aggregates may
//! visit while evaluating one outcome (one rule for one entity, one risk
//! entry, one objective). A rule that ranges over a large cross product
//! (`exists` inside `count` inside a rule over every entity) stops with an
//! unknown value naming the limit instead of running for hours; `aims
//! check` reports it as an error naming the rule.
//!
//! The limit is process-wide: it bounds work, never changes a result that
//! stays within it. `aims.toml` sets it with `[limits] eval_steps = N`.

use std::sync::atomic::{AtomicU64, Ordering};

/// The default: about a second or two of evaluation for one outcome.
pub const DEFAULT_EVAL_STEPS: u64 = 50_000_000;

static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_EVAL_STEPS);

/// The current limit.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Sets the limit (at least 1).
pub fn set_limit(steps: u64) {
    LIMIT.store(steps.max(1), Ordering::Relaxed);
}

/// One error per rule the limit stopped, naming the rule and its entities.
pub fn exceeded(program: &crate::ir::Program, evaluation: &super::Evaluation) -> Vec<crate::diag::Diagnostic> {
    use crate::diag::{Code, Diagnostic};
    use crate::ir::Unknown;
    let mut out = Vec::new();
    for result in &evaluation.rules {
        let rule = program.rule(result.rule);
        let stopped: Vec<&str> = result
            .outcomes
            .iter()
            .filter(|o| {
                o.failures
                    .iter()
                    .any(|f| matches!(&f.reason, super::FailReason::NoEvidence(Unknown::BudgetExceeded(_))))
            })
            .map(|o| &*o.key)
            .collect();
        let Some(first) = stopped.first() else { continue };
        let who = match (rule.subject.is_some(), stopped.len()) {
            (false, _) => String::new(),
            (true, 1) => format!(" for `{first}`"),
            (true, n) => format!(" for {n} entities (the first is `{first}`)"),
        };
        out.push(
            Diagnostic::error(
                Code::EvalBudget,
                format!("`{}`{who} needs more than {} evaluation steps", rule.decl.name, limit()),
            )
            .at(rule.decl.name_span.file, rule.decl.name_span.span, "this rule")
            .note("its quantifiers, aggregates and function calls range over too many combinations of facts")
            .help("narrow the `where` filters, or raise `eval_steps` in the `[limits]` table of aims.toml"),
        );
    }
    // A risk's axis or an objective's measure the budget stopped is an
    // error too, never a level or a status computed from a guess.
    let stopped = Unknown::BudgetExceeded(limit()).to_string();
    let mut refuse = |decl: &crate::ir::Decl, what: &str| {
        out.push(
            Diagnostic::error(
                Code::EvalBudget,
                format!("{what} `{}` needs more than {} evaluation steps", decl.name, limit()),
            )
            .at(decl.name_span.file, decl.name_span.span, format!("this {what}"))
            .help("narrow the `where` filters, or raise `eval_steps` in the `[limits]` table of aims.toml"),
        );
    };
    for result in &evaluation.risks {
        if result.entries.iter().any(|e| e.missing.contains(&stopped)) {
            refuse(&program.risks[result.risk.index()].decl, "risk");
        }
    }
    for result in &evaluation.objectives {
        if result.unknown.as_deref() == Some(stopped.as_str()) {
            refuse(&program.objectives[result.objective.index()].decl, "objective");
        }
    }
    out
}
