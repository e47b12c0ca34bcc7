//! The evaluation budget is an option of each engine, never process-wide:
//! two engines in one process each keep their own limits, and changing an
//! engine's limits re-evaluates what ran within the old ones.

use aims_lang::diag::Sources;
use aims_lang::eval::budget::{self, Budget};
use aims_lang::eval::{Evaluation, FailReason};
use aims_lang::facts::{FactInput, Format, Mapping};
use aims_lang::ir::{OutcomeKind, Unknown};
use aims_lang::project::{Limits, ProjectFiles};
use aims_lang::Date;
use aims_lang::Engine;

/// A rule over a cross product of its facts: about 40 × 40 steps for each
/// of them, well within the default budget, far beyond a limit of 100.
const POLICY: &str = r#"
entity S { id: Text key, v: Int }
control pairs for s: S where true {
  require count(x for x: S where exists y: S where y.v == x.v + s.v + 1000) == 0
}
"#;

fn facts() -> String {
    let items: Vec<String> = (0..40).map(|i| format!(r#"{{ "id": "s{i}", "v": {i} }}"#)).collect();
    format!(r#"{{ "S": [ {} ] }}"#, items.join(", "))
}

/// An engine whose project sets `eval_steps`.
fn engine(eval_steps: u64) -> Engine {
    let mut sources = Sources::new();
    let policy = sources.add("policy.aims", POLICY);
    let facts =
        FactInput { file: sources.add("facts.json", facts()), format: Format::Json, mapping: Mapping::default() };
    let files = ProjectFiles {
        name: "budget".into(),
        sources,
        policy: vec![policy],
        facts: vec![facts],
        limits: Limits { eval_steps, ..Limits::default() },
        ..ProjectFiles::default()
    };
    match Engine::from_project(files) {
        Ok(engine) => engine,
        Err(failure) => panic!("{:?}", failure.diagnostics),
    }
}

fn date() -> Date {
    Date::parse("2026-11-01").expect("a date")
}

/// How many outcomes passed, and how many the per-outcome budget stopped.
fn tally(evaluation: &Evaluation) -> (usize, usize) {
    let outcomes = || evaluation.rules[0].outcomes.iter();
    let passed = outcomes().filter(|o| o.kind == OutcomeKind::Pass).count();
    let stopped = outcomes()
        .filter(|o| {
            o.failures
                .iter()
                .any(|f| matches!(&f.reason, FailReason::NoEvidence(u) if matches!(**u, Unknown::BudgetExceeded(_))))
        })
        .count();
    (passed, stopped)
}

#[test]
fn two_engines_in_one_process_each_keep_their_own_limit() {
    let mut small = engine(100);
    let mut large = engine(budget::DEFAULT_EVAL_STEPS);
    // Loaded after the small one, the large one used to set the limit of
    // both; evaluated in either order, each now honours its own.
    assert_eq!(tally(&small.evaluate(date())), (0, 40));
    assert_eq!(tally(&large.evaluate(date())), (40, 0));
    assert_eq!(tally(&small.fresh_copy().evaluate(date())), (0, 40));
    assert_eq!(small.budget().steps, 100);
    assert_eq!(large.budget(), Budget::default());
    let stopped = budget::exceeded(small.program(), &small.evaluation(), small.budget());
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].message, "`pairs` for 40 entities (the first is `s0`) needs more than 100 evaluation steps");
}

#[test]
fn changing_the_limit_evaluates_again_within_the_new_one() {
    let mut engine = engine(budget::DEFAULT_EVAL_STEPS);
    assert_eq!(tally(&engine.evaluate(date())), (40, 0));
    engine.set_budget(Budget::new(100, budget::DEFAULT_EVAL_TOTAL_STEPS));
    assert_eq!(tally(&engine.evaluate(date())), (0, 40));
    engine.set_budget(Budget::default());
    assert_eq!(tally(&engine.evaluate(date())), (40, 0));
}

#[test]
fn the_total_limit_is_counted_per_engine_and_per_evaluation() {
    // 40 outcomes of about 1,600 steps each: a total of 10,000 stops some.
    let mut first = engine(budget::DEFAULT_EVAL_STEPS);
    first.set_budget(Budget::new(budget::DEFAULT_EVAL_STEPS, 10_000));
    let total_stopped = |evaluation: &Evaluation| {
        evaluation.rules[0].outcomes.iter().any(|o| {
            o.failures
                .iter()
                .any(|f| matches!(&f.reason, FailReason::NoEvidence(u) if **u == Unknown::TotalBudgetExceeded(10_000)))
        })
    };
    assert!(total_stopped(&first.evaluate(date())));
    // Another engine's evaluation spends nothing of this one's total.
    let mut other = engine(budget::DEFAULT_EVAL_STEPS);
    assert_eq!(tally(&other.evaluate(date())), (40, 0));
    // Each evaluation starts its count afresh: a fresh copy stops the same way.
    assert!(total_stopped(&first.fresh_copy().evaluate(date())));
    assert!(total_stopped(&first.evaluate(date().add_days(1))));
}

#[test]
fn the_thread_count_is_an_option_that_never_changes_a_result() {
    let mut one = engine(budget::DEFAULT_EVAL_STEPS);
    one.set_eval_threads(Some(1));
    let mut several = engine(budget::DEFAULT_EVAL_STEPS);
    several.set_eval_threads(Some(4));
    assert_eq!(one.evaluate(date()).findings, several.evaluate(date()).findings);
}

/// An engine over [`facts`] with `policy` and these limits.
fn engine_with(policy: &str, eval_steps: u64, eval_total_steps: u64) -> Engine {
    let mut sources = Sources::new();
    let policy = sources.add("policy.aims", policy);
    let facts =
        FactInput { file: sources.add("facts.json", facts()), format: Format::Json, mapping: Mapping::default() };
    let files = ProjectFiles {
        name: "budget".into(),
        sources,
        policy: vec![policy],
        facts: vec![facts],
        limits: Limits { eval_steps, eval_total_steps, ..Limits::default() },
        ..ProjectFiles::default()
    };
    match Engine::from_project(files) {
        Ok(engine) => engine,
        Err(failure) => panic!("{:?}", failure.diagnostics),
    }
}

/// Every place an expression is evaluated stops with E0501 when the
/// budget runs out there: a `where` (of a control or a risk), an absence
/// test or a default, a measurement's filter. None of them may read a
/// value the budget stopped as "absent", "not applicable" or "applicable".
#[test]
fn a_spent_budget_is_an_error_wherever_it_is_spent() {
    const SCALES: &str = "scale Likelihood { rare: 1, likely: 2 }\nscale Impact { minor: 1, major: 2 }\n\
                          matrix Level = Likelihood * Impact { low: 1..2  high: 3..4 }\nappetite low\n";
    const HEAVY: &str = "count(x for x: S where exists y: S where y.v == x.v + 1000)";
    let cases = [
        ("control c for s: S where HEAVY == 0 { require true }", "`c`"),
        ("control c for s: S where HEAVY > 0 { require true }", "`c`"),
        ("risk r for s: S where HEAVY == 0 { likelihood: rare impact: minor }", "risk `r`"),
        ("risk r for s: S where HEAVY > 0 { likelihood: likely impact: major }", "risk `r`"),
        ("audit a { require (avg(1 for x: S where HEAVY > 0) ?? 5) == 5 }", "`a`"),
        ("audit a { require avg(1 for x: S where HEAVY > 0) is none }", "`a`"),
        ("audit a { require not (avg(1 for x: S where HEAVY > 0) is some) }", "`a`"),
        (
            "objective o { measure 1 baseline 0 on 2026-01-01 target >= 2 by 2026-12-31 \
             history 1 at 2026-02-01 for m: S where HEAVY == 0 }",
            "objective `o`",
        ),
    ];
    for (policy, named) in cases {
        let policy = format!("entity S {{ id: Text key, v: Int }}\n{SCALES}{}", policy.replace("HEAVY", HEAVY));
        let mut engine = engine_with(&policy, 100, budget::DEFAULT_EVAL_TOTAL_STEPS);
        let evaluation = engine.evaluate(date());
        let errors = budget::exceeded(engine.program(), &evaluation, engine.budget());
        assert!(
            errors.iter().any(|e| e.message.starts_with(named) && e.message.contains("100 evaluation steps")),
            "{policy}: {:?}",
            errors.iter().map(|e| &e.message).collect::<Vec<_>>()
        );
    }
}

/// A risk or an objective the whole evaluation's budget stopped names that
/// limit, not the per-outcome one.
#[test]
fn the_total_limit_is_named_whatever_it_stopped() {
    const HEAVY: &str = "count(x for x: S where exists y: S where y.v == x.v + 1000)";
    for policy in [
        format!(
            "scale Likelihood {{ rare: 1, likely: 2 }}\nscale Impact {{ minor: 1, major: 2 }}\n\
             matrix Level = Likelihood * Impact {{ low: 1..2  high: 3..4 }}\n\
             risk r for s: S where true {{ likelihood: if {HEAVY} == 0 then rare else likely impact: minor }}"
        ),
        format!("objective o {{ measure {HEAVY} target >= 2 by 2026-12-31 }}"),
    ] {
        let policy = format!("entity S {{ id: Text key, v: Int }}\n{policy}");
        let mut engine = engine_with(&policy, budget::DEFAULT_EVAL_STEPS, 1_000);
        let evaluation = engine.evaluate(date());
        let errors: Vec<String> =
            budget::exceeded(engine.program(), &evaluation, engine.budget()).into_iter().map(|e| e.message).collect();
        assert!(errors.iter().any(|e| e.contains("`eval_total_steps`")), "{policy}: {errors:?}");
    }
}

/// An outcome whose `where` the budget stopped is a failure of the `where`,
/// not of a `require`, and its trace says so: it never claims the filter
/// held, nor that a `require` failed.
#[test]
fn a_where_the_budget_stopped_is_explained_as_undecided() {
    let policy = "entity S { id: Text key, v: Int }\n\
                  control c for s: S where count(x for x: S where exists y: S where y.v == x.v + 1000) == 0 \
                  { require true }";
    let mut engine = engine_with(policy, 100, budget::DEFAULT_EVAL_TOTAL_STEPS);
    let evaluation = engine.evaluate(date());
    let outcome = &evaluation.rules[0].outcomes.at(0);
    assert_eq!(outcome.kind, OutcomeKind::Fail);
    assert_eq!(outcome.failures[0].index, aims_lang::eval::Failure::OF_WHERE);
    let view = aims_lang::report::explain::View {
        program: engine.program(),
        sources: engine.sources(),
        evaluation: &evaluation,
        measurements: engine.measurements(),
    };
    let trace = view.why(evaluation.rules[0].rule, *outcome);
    assert!(trace.contains("cannot be decided: evaluation stopped"), "{trace}");
    assert!(!trace.contains("the filter holds") && !trace.contains("require 1"), "{trace}");
}
