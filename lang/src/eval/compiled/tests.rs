//! The compiled evaluation equals the interpreter's, outcome for outcome:
//! on generated programs (every kind of expression, `let`s, functions,
//! quantifiers, aggregates, dangling references, absent facts, a small
//! budget) and generated facts that span several blocks.

use proptest::prelude::*;

use crate::eval::budget::Budget;
use crate::eval::Evaluator;
use crate::facts::{Format, Mapping};
use crate::{Date, Engine};

const SCHEMA: &str = r#"
enum Tier { low, mid, high }
record Evidence { kind: Text, date: Date?, ok: Bool }
entity Person {
  id: Text key
  name: Text?
  active: Bool = true
}
entity System {
  id: Text key
  tier: Tier = low
  score: Number?
  count: Int = 0
  share: Percent?
  reviewed: Date?
  audited: Bool?
  notes: [Text]?
  owner: Person?
  evidence: [Evidence] = []
  tags: [Text] = []
}
fn stale(d: Date?, days: Int) = d is none or days_since(d) > days
fn risky(s: System) = s.tier == high or (s.score ?? 0.0) > 0.5
fn weight(s: System) = if s.tier == high then 3 else if s.tier == mid then 2 else 1
fn twice(n: Int) = n + n
"#;

/// Conditions that are never unknown: a `where` must be definite.
const DEFINITE: &[&str] = &[
    "s.tier == high",
    "s.tier != low",
    "s.tier in [low, mid]",
    "s.score is some",
    "s.owner is none",
    "(s.score ?? 0.3) > 0.5",
    "s.count + 1 > 2",
    "abs(s.count - 2) <= 1",
    "min(s.count, 3) == 3",
    "-s.count < 0",
    "twice(s.count) >= 4",
    "risky(s)",
    "weight(s) > 1",
    "len(s.tags) > 1",
    "\"t1\" in s.tags",
    "\"t2\" not in s.tags",
    "exists e in s.evidence where e.kind == \"k1\"",
    "all e in s.evidence: e.ok",
    "exists e in s.evidence where e.date is some",
    "all e in s.evidence: e.date is none or e.ok",
    "exists t in s.tags where t == \"t1\"",
    "exists e in s.evidence where all f in s.evidence: f.ok or e.ok",
    "count(x for x: System where x.tier == high) > 2",
    "s.count > 2",
    "s.count != 3",
    "2 <= s.count",
    "s.tier < mid",
    "s.tier not in [high]",
    "s.audited is some",
    "s.notes is some",
    "s.reviewed is none",
    "true",
    "false",
];

/// Conditions that may be unknown (absent facts, dangling references,
/// division by zero, an aggregate over nothing).
const MAYBE_UNKNOWN: &[&str] = &[
    "s.score > 0.4",
    "stale(s.reviewed, 200)",
    "s.score * 2 >= 1",
    "s.share > 5%",
    "s.reviewed within 90 days",
    "days_since(s.reviewed) > 100",
    "s.reviewed + 30 days < today",
    "s.owner.active",
    "s.owner.name == \"Ann\"",
    "10 / s.count > 2",
    "exists e in s.evidence where e.date within 200 days",
    "all e in s.evidence: e.date > s.reviewed",
    "avg(x.score ?? 0.0 for x: System where x.tier == mid) < 0.5",
    "max(x.count for x: System where x.owner == s.owner) > s.count",
    "(if s.score > 0.2 then s.count else 0) > 1",
    "[s.count, 1] == [1, 1]",
    "0.4 < s.score",
    "today > s.reviewed + 10 days",
    "\"Ann\" != s.owner.name",
    "s.count < 10 / s.count",
    "s.owner == s.owner",
    "-(s.score ?? 0.1) < -0.5",
    "abs(s.share) > 5%",
    "max(s.share, 3%) > 4%",
    "s.score == 1",
    "s.score != 0.5",
    "s.share >= 10%",
    "s.share < 0.1",
    "s.reviewed > 2026-04-02",
    "s.reviewed != 2026-01-01",
    "s.audited",
    "s.audited == false",
    "not s.audited",
    "s.count * 4611686018427387904 > 0",
    "9223372036854775807 + s.count > 0",
    "days_since(s.reviewed) - s.count > 100",
    "max(twice(s.count), 3) - min(s.count, 2) >= 3",
    "len(s.notes) > 1",
    "exists n in s.notes where n == \"n1\"",
];

fn leaf(definite: bool) -> BoxedStrategy<String> {
    let definite_leaf = prop::sample::select(DEFINITE).prop_map(str::to_string);
    if definite {
        definite_leaf.boxed()
    } else {
        prop_oneof![definite_leaf, prop::sample::select(MAYBE_UNKNOWN).prop_map(str::to_string)].boxed()
    }
}

fn condition(definite: bool) -> impl Strategy<Value = String> {
    leaf(definite).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| format!("not ({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            (inner.clone(), inner.clone(), inner).prop_map(|(a, b, c)| format!("if {a} then {b} else {c}")),
        ]
    })
}

/// A control: a definite `where`, an optional `let`, one or two `require`s.
fn control(i: usize) -> impl Strategy<Value = String> {
    (condition(true), condition(false), prop::option::of(condition(false)), any::<bool>()).prop_map(
        move |(filter, first, second, with_let)| {
            let mut body = String::new();
            let mut first = first;
            if with_let {
                body.push_str(&format!("  let x = {first}\n"));
                first = "x".into();
            }
            body.push_str(&format!("  require {first} because \"r{i}\"\n"));
            if let Some(second) = second {
                body.push_str(&format!("  require {second}\n"));
            }
            format!("control c{i} for s: System where {filter} {{\n{body}}}\n")
        },
    )
}

fn program() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<()>(), 1..=3).prop_flat_map(|n| {
        let controls: Vec<_> = (0..n.len()).map(control).collect();
        controls.prop_map(|cs| format!("{SCHEMA}{}", cs.concat()))
    })
}

fn system() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(&["low", "mid", "high"][..])),
        prop::option::of(0u32..100),
        0i64..5,
        prop::option::of(0u32..20),
        prop::option::of((1u32..=12, 1u32..=28)),
        prop::option::of(0u32..4),
        prop::collection::vec((0u32..3, any::<bool>(), prop::option::of(1u32..=12)), 0..3),
        (
            prop::collection::vec(0u32..3, 0..3),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::collection::vec(0u32..3, 0..3)),
        ),
    )
        .prop_map(|(tier, score, count, share, reviewed, owner, evidence, (tags, audited, notes))| {
            let mut fields = vec![format!("\"count\": {count}")];
            if let Some(notes) = notes {
                let notes: Vec<String> = notes.iter().map(|n| format!("\"n{n}\"")).collect();
                fields.push(format!("\"notes\": [{}]", notes.join(", ")));
            }
            if let Some(audited) = audited {
                fields.push(format!("\"audited\": {audited}"));
            }
            if let Some(tier) = tier {
                fields.push(format!("\"tier\": \"{tier}\""));
            }
            if let Some(score) = score {
                fields.push(format!("\"score\": {}", f64::from(score) / 100.0));
            }
            if let Some(share) = share {
                fields.push(format!("\"share\": \"{share}%\""));
            }
            if let Some((m, d)) = reviewed {
                fields.push(format!("\"reviewed\": \"2026-{m:02}-{d:02}\""));
            }
            if let Some(owner) = owner {
                // p3 is removed after loading: a dangling reference.
                fields.push(format!("\"owner\": \"p{owner}\""));
            }
            let evidence: Vec<String> = evidence
                .iter()
                .map(|(k, ok, month)| match month {
                    Some(m) => format!("{{\"kind\": \"k{k}\", \"ok\": {ok}, \"date\": \"2026-{m:02}-01\"}}"),
                    None => format!("{{\"kind\": \"k{k}\", \"ok\": {ok}}}"),
                })
                .collect();
            fields.push(format!("\"evidence\": [{}]", evidence.join(", ")));
            let tags: Vec<String> = tags.iter().map(|t| format!("\"t{t}\"")).collect();
            fields.push(format!("\"tags\": [{}]", tags.join(", ")));
            fields.join(", ")
        })
}

fn facts() -> impl Strategy<Value = String> {
    // Up to 140 systems: three blocks, the last one partial.
    prop::collection::vec(system(), 0..140).prop_map(|systems| {
        let systems: Vec<String> =
            systems.iter().enumerate().map(|(i, fields)| format!("{{\"id\": \"s{i}\", {fields}}}")).collect();
        format!(
            "{{\"Person\": [{{\"id\": \"p0\", \"name\": \"Ann\"}}, {{\"id\": \"p1\", \"active\": false}}, {{\"id\": \"p2\"}}, {{\"id\": \"p3\"}}], \"System\": [{}]}}",
            systems.join(", ")
        )
    })
}

fn evaluate(policy: &str, facts: &str, evaluator: Evaluator, steps: u64) -> std::sync::Arc<crate::eval::Evaluation> {
    let mut engine =
        Engine::from_texts("generated.aims", policy, &[("facts.json", Format::Json, Mapping::default(), facts)])
            .unwrap_or_else(|f| panic!("a generated program checks: {:?}\n{policy}", f.diagnostics));
    // A reference to a fact that is gone (a what-if) reads as unknown.
    engine.remove_fact("Person", "p3").expect("p3 is in the facts");
    engine.set_evaluator(evaluator);
    engine.set_budget(Budget::new(steps, u64::MAX));
    engine.evaluate(Date::parse("2026-06-01").expect("a date"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn compiled_evaluation_equals_the_interpreter(
        policy in program(),
        facts in facts(),
        steps in prop_oneof![Just(u64::MAX), 1u64..8],
    ) {
        let compiled = evaluate(&policy, &facts, Evaluator::Compiled, steps);
        let interpreted = evaluate(&policy, &facts, Evaluator::Interpreted, steps);
        prop_assert_eq!(&*compiled, &*interpreted, "{}", policy);
    }
}

/// The generator reaches what it is meant to: failures of both kinds,
/// outcomes the budget stopped, and rows past the first block.
#[test]
fn the_generated_cases_reach_unknowns_budget_stops_and_later_blocks() {
    let policy = format!(
        "{SCHEMA}control c for s: System where s.count >= 0 {{\n  require s.owner.active\n  require exists e in s.evidence where e.ok\n}}\n"
    );
    let systems: Vec<String> = (0..100)
        .map(|i| {
            let owner = if i % 4 == 0 { String::new() } else { format!(", \"owner\": \"p{}\"", i % 4) };
            let evidence =
                if i % 3 == 0 { "{\"kind\": \"k\", \"ok\": false}, {\"kind\": \"k\", \"ok\": true}" } else { "" };
            format!("{{\"id\": \"s{i}\", \"count\": {}{owner}, \"evidence\": [{evidence}]}}", i % 5)
        })
        .collect();
    let facts = format!(
        "{{\"Person\": [{{\"id\": \"p1\"}}, {{\"id\": \"p2\", \"active\": false}}, {{\"id\": \"p3\"}}], \"System\": [{}]}}",
        systems.join(", ")
    );
    for steps in [u64::MAX, 1] {
        let compiled = evaluate(&policy, &facts, Evaluator::Compiled, steps);
        let interpreted = evaluate(&policy, &facts, Evaluator::Interpreted, steps);
        assert_eq!(*compiled, *interpreted);
        let outcomes: Vec<_> = compiled.rules[0].outcomes.iter().collect();
        assert_eq!(outcomes.len(), 100);
        let reasons: Vec<String> =
            outcomes.iter().flat_map(|o| o.failures.iter().map(|f| format!("{:?}", f.reason))).collect();
        assert!(reasons.iter().any(|r| r.contains("NotRecorded")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("MissingEntity")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r == "Violated"), "{reasons:?}");
        if steps == 1 {
            assert!(reasons.iter().any(|r| r.contains("BudgetExceeded")), "{reasons:?}");
        }
        // Rows of the second block fail as the first block's do.
        assert!(outcomes[64..].iter().any(|o| o.kind == crate::ir::OutcomeKind::Fail));
    }
}
