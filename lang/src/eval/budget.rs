//! The evaluation budget: how many elements quantifiers and aggregates may
//! visit while evaluating one outcome (one rule for one entity, one risk
//! entry, one objective). A rule that ranges over a large cross product
//! (`exists` inside `count` inside a rule over every entity) stops with an
//! unknown value naming the limit instead of running for hours; `aims
//! check` reports it as an error naming the rule.
//!
//! A second budget bounds a whole evaluation (every outcome together), so
//! that many outcomes each just within the first cannot run for hours: once
//! it is spent, every outcome still running stops with an unknown naming
//! `eval_total_steps`, and `aims check` reports E0501 for the evaluation.
//!
//! The limits are options of each engine (part of its salsa inputs, so
//! changing them re-evaluates): they bound work, never change a result that
//! stays within them. `aims.toml` sets them with `[limits] eval_steps = N`
//! and `eval_total_steps = N`. The steps an evaluation has spent are
//! counted in a [`Spent`] that the engine owns and resets when an
//! evaluation starts; nothing here is process-wide.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::interrupt::Interrupt;

/// The default: about a second or two of evaluation for one outcome.
pub const DEFAULT_EVAL_STEPS: u64 = 50_000_000;
/// The default for a whole evaluation: a few minutes at most.
pub const DEFAULT_EVAL_TOTAL_STEPS: u64 = 2_000_000_000;
/// Steps an evaluator counts locally before it charges the shared total
/// (one atomic add per batch, not per step).
pub const CHARGE_BATCH: u64 = 1024;

/// The limits of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Budget {
    /// Most elements quantifiers and aggregates visit for one outcome.
    pub steps: u64,
    /// Most steps of a whole evaluation, every outcome together.
    pub total_steps: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { steps: DEFAULT_EVAL_STEPS, total_steps: DEFAULT_EVAL_TOTAL_STEPS }
    }
}

impl Budget {
    /// A budget of these limits (each at least 1: a limit of zero would
    /// stop every quantifier before its first element).
    pub fn new(steps: u64, total_steps: u64) -> Budget {
        Budget { steps: steps.max(1), total_steps: total_steps.max(1) }
    }
}

/// The steps an evaluation has spent, shared by the threads and the queries
/// that take part in it (clones count into the same total), and the
/// [`Interrupt`] that can stop it.
#[derive(Clone, Debug, Default)]
pub struct Spent {
    steps: Arc<AtomicU64>,
    interrupt: Interrupt,
}

impl Spent {
    /// A count of its own that `interrupt` stops.
    pub fn with_interrupt(interrupt: Interrupt) -> Spent {
        Spent { steps: Arc::default(), interrupt }
    }

    /// Starts the count of a new evaluation (or what-if).
    pub fn reset(&self) {
        self.steps.store(0, Ordering::Relaxed);
    }

    /// Charges `steps`; false once more than `total` are spent.
    pub fn charge(&self, steps: u64, total: u64) -> bool {
        self.steps.fetch_add(steps, Ordering::Relaxed).saturating_add(steps) <= total
    }

    /// The steps spent since the last [`Spent::reset`].
    pub fn steps(&self) -> u64 {
        self.steps.load(Ordering::Relaxed)
    }

    /// The handle that interrupts the evaluations counted here.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }
}

/// One error per rule the limit stopped, naming the rule and its entities.
pub fn exceeded(
    program: &crate::ir::Program,
    evaluation: &super::Evaluation,
    budget: Budget,
) -> Vec<crate::diag::Diagnostic> {
    use crate::diag::{Code, Diagnostic};
    use crate::ir::Unknown;
    let mut out = Vec::new();
    // Which outcomes the spent total stopped depends on the order the
    // threads reached them: the error names the limit, not a rule, so the
    // output stays the same from run to run.
    let total = |u: &Unknown| matches!(u, Unknown::TotalBudgetExceeded(_));
    let spent = |u: &Unknown| matches!(u, Unknown::BudgetExceeded(_));
    // Each rule's failures read once for both limits: nearly always
    // neither stopped anything, and the outcomes are read only for a rule
    // the per-outcome limit stopped.
    let mut total_stopped = false;
    let mut spent_rules = Vec::new();
    for result in &evaluation.rules {
        let mut rule_spent = false;
        for failure in result.outcomes.failures() {
            total_stopped |= reason_is(failure, total);
            rule_spent |= reason_is(failure, spent);
        }
        if rule_spent {
            spent_rules.push(result);
        }
    }
    let total_stopped = total_stopped
        || evaluation.risks.iter().any(|r| r.entries.iter().any(|e| e.missing.iter().any(total)))
        || evaluation.objectives.iter().any(|o| o.unknown.as_ref().is_some_and(total));
    if total_stopped {
        out.push(
            Diagnostic::error(
                Code::EvalBudget,
                format!(
                    "the whole evaluation needs more than {} evaluation steps (the `eval_total_steps` limit)",
                    budget.total_steps
                ),
            )
            .note("every outcome stays within `eval_steps`, but all of them together do not")
            .help("narrow the `where` filters, or raise `eval_total_steps` in the `[limits]` table of aims.toml"),
        );
        return out;
    }
    for result in spent_rules {
        let rule = program.rule(result.rule);
        let stopped: Vec<&str> = result
            .outcomes
            .failing()
            .filter(|o| o.undecided().any(|f| reason_is(f, spent)))
            .map(|o| o.key.as_str())
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
                format!("`{}`{who} needs more than {} evaluation steps", rule.decl.name, budget.steps),
            )
            .at_file(rule.decl.name_span.file, rule.decl.name_span.span, "this rule")
            .note("its quantifiers, aggregates and function calls range over too many combinations of facts")
            .help("narrow the `where` filters, or raise `eval_steps` in the `[limits]` table of aims.toml"),
        );
    }
    // A risk's axis or an objective's measure the budget stopped is an
    // error too, never a level or a status computed from a guess.
    let mut refuse = |decl: &crate::ir::Decl, what: &str| {
        out.push(
            Diagnostic::error(
                Code::EvalBudget,
                format!("{what} `{}` needs more than {} evaluation steps", decl.name, budget.steps),
            )
            .at_file(decl.name_span.file, decl.name_span.span, format!("this {what}"))
            .help("narrow the `where` filters, or raise `eval_steps` in the `[limits]` table of aims.toml"),
        );
    };
    for result in &evaluation.risks {
        if result.entries.iter().any(|e| e.missing.iter().any(spent)) {
            refuse(&program.risks[result.risk.index()].decl, "risk");
        }
    }
    for result in &evaluation.objectives {
        if result.unknown.as_ref().is_some_and(spent) {
            refuse(&program.objectives[result.objective.index()].decl, "objective");
        }
    }
    out
}

/// Whether a failure was left undecided by an unknown `is` accepts.
fn reason_is(failure: &super::Failure, is: impl Fn(&crate::ir::Unknown) -> bool) -> bool {
    matches!(&failure.reason, super::FailReason::NoEvidence(why) if is(why))
}
