//! Answers that can be trusted: decimals compare as written, overflow is
//! never a plausible wrong value, and an absent fact never silently
//! decides what a rule applies to (issue 14's wrong results).

use aims_lang::eval::{Evaluation, FailReason};
use aims_lang::facts::{Format, Mapping};
use aims_lang::ir::{ObjectiveStatus, OutcomeKind, Unknown};
use aims_lang::Date;
use aims_lang::Engine;

const SCHEMA: &str = r#"
entity S {
  id: Text key
  x: Number?
  rate: Percent?
  n: Int = 0
}
"#;

fn load(policy: &str, facts: &[(&str, Format, &str)]) -> Result<Engine, Vec<String>> {
    let text = format!("{SCHEMA}\n{policy}");
    let mapping = |format: Format| match format {
        Format::Csv => Mapping { entity: Some("S".into()), ..Mapping::default() },
        _ => Mapping::default(),
    };
    let facts: Vec<(&str, Format, Mapping, &str)> =
        facts.iter().map(|(name, format, text)| (*name, *format, mapping(*format), *text)).collect();
    Engine::from_texts("policy.aims", &text, &facts)
        .map_err(|failure| failure.diagnostics.iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect())
}

fn engine(policy: &str, facts: &str) -> Engine {
    match load(policy, &[("facts.json", Format::Json, facts)]) {
        Ok(engine) => engine,
        Err(diagnostics) => panic!("{diagnostics:?}"),
    }
}

fn date(s: &str) -> Date {
    Date::parse(s).expect("a date")
}

fn outcomes(evaluation: &Evaluation, rule: usize) -> Vec<(String, OutcomeKind)> {
    evaluation.rules[rule].outcomes.iter().map(|o| (o.key.to_string(), o.kind)).collect()
}

/// Every audit rule of the policy, by name, with its outcome.
fn audits(policy: &str) -> Vec<(String, OutcomeKind, Option<FailReason>)> {
    let mut e = engine(policy, r#"{"S": []}"#);
    let result = e.evaluate(date("2026-06-30"));
    let program = e.program().clone();
    result
        .rules
        .iter()
        .map(|r| {
            let o = &r.outcomes.at(0);
            (program.rules[r.rule.index()].decl.name.clone(), o.kind, o.failures.first().map(|f| f.reason.clone()))
        })
        .collect()
}

#[test]
fn decimals_and_percents_compare_as_written() {
    let results = audits(
        r#"audit p { require 10% + 20% <= 30% }
           audit q { require 0.7 + 0.2 + 0.1 == 1 }
           audit r { require 0.07 * 100 == 7 }
           audit s { require 0.1 + 0.2 == 0.3 }
           audit t { require 33.3% * 3 == 99.9% * 1 }"#,
    );
    for (name, kind, _) in &results {
        assert_eq!(*kind, OutcomeKind::Pass, "{name}");
    }
}

#[test]
fn facts_in_decimal_compare_as_written() {
    let mut e = engine(
        "control c for s: S where true { require s.x * 100 == 7 and s.rate + 20% == 30% }",
        r#"{"S": [{"id": "a", "x": 0.07, "rate": 0.1}]}"#,
    );
    assert_eq!(outcomes(&e.evaluate(date("2026-06-30")), 0), vec![("a".into(), OutcomeKind::Pass)]);
    let csv = load(
        "control c for s: S where true { require s.x * 100 == 7 and s.rate + 20% == 30% }",
        &[("s.csv", Format::Csv, "id,x,rate\na,0.07,10%\n")],
    );
    let mut e = csv.expect("loads");
    assert_eq!(outcomes(&e.evaluate(date("2026-06-30")), 0), vec![("a".into(), OutcomeKind::Pass)]);
}

#[test]
fn overflow_is_unknown_with_a_reason_never_a_wrong_value() {
    let results = audits(
        r#"audit int_add { require 9223372036854775807 + 1 - 1 == 9223372036854775807 }
           audit int_mul { require 9223372036854775807 * 2 > 0 }
           audit int_neg { require -(0 - 9223372036854775807 - 1) > 0 }
           audit date_days { require 2026-01-01 + 9223372036854775807 days > 2026-01-01 }
           audit date_months { require 2026-01-01 - 9223372036854775807 months < 2026-01-01 }
           audit number { require 79228162514264337593543950335.0 * 10 > 0 }"#,
    );
    for (name, kind, reason) in &results {
        assert_eq!(*kind, OutcomeKind::Fail, "{name}");
        assert!(
            matches!(reason, Some(FailReason::NoEvidence(u)) if matches!(**u, Unknown::OutOfRange(_))),
            "{name}: {reason:?}"
        );
    }
}

#[test]
fn sums_of_nothing_are_zero() {
    let results = audits(
        r#"audit empty { require sum(x for x in []) == 0 }
           audit plus { require sum(x for x in []) + 1 == 1 }
           audit nothing { require sum(s.n for s: S) == 0 and count(s for s: S) == 0 }"#,
    );
    for (name, kind, reason) in &results {
        assert_eq!(*kind, OutcomeKind::Pass, "{name}: {reason:?}");
    }
}

#[test]
fn a_huge_literal_is_a_compile_error_not_infinity() {
    let huge = "9".repeat(320);
    let Err(errors) = load(&format!("audit a {{ require {huge}.5 > 0 }}"), &[]) else {
        panic!("a 320-digit literal was accepted");
    };
    assert!(errors.iter().any(|e| e.contains("out of range")), "{errors:?}");
}

#[test]
fn an_if_in_a_where_may_not_decide_on_an_absent_value() {
    for policy in [
        "control c for s: S where if s.x > 0.1 then true else false { require true }",
        "fn big(s: S) = if s.x > 0.1 then true else false\ncontrol c for s: S where big(s) { require true }",
        "fn big(s: S) = if s.x > 0.1 then true else false\nfn bigger(s: S) = big(s) and true\ncontrol c for s: S where bigger(s) { require true }",
        "audit a { require exists s: S where if s.x > 0.5 then true else false }",
        "audit a { require count(s for s: S where if s.x > 0.5 then true else false) > 0 }",
        "audit a { require all s: S where if s.x > 0.5 then true else false: s.n > 0 }",
    ] {
        let errors = load(policy, &[("facts.json", Format::Json, r#"{"S": []}"#)]).err();
        let errors = errors.unwrap_or_else(|| panic!("accepted: {policy}"));
        assert!(errors.iter().any(|e| e.starts_with("E0202") && e.contains("s.x")), "{policy}: {errors:?}");
    }
    // Handled explicitly, the same conditions are fine.
    for policy in [
        "control c for s: S where if s.x is some and s.x > 0.1 then true else false { require true }",
        "control c for s: S where if (s.x ?? 0) > 0.1 then true else false { require true }",
        "control c for s: S where true { require if s.x > 0.1 then true else false }",
    ] {
        assert!(load(policy, &[("facts.json", Format::Json, r#"{"S": []}"#)]).is_ok(), "{policy}");
    }
}

#[test]
fn not_a_number_and_infinity_are_refused_in_facts() {
    let policy = "control c for s: S where true { require s.rate > 5% }";
    let cases: &[(&str, Format, &str)] = &[
        ("s.csv", Format::Csv, "id,rate\na,NaN\n"),
        ("s.csv", Format::Csv, "id,rate\na,NaN%\n"),
        ("s.csv", Format::Csv, "id,rate\na,inf\n"),
        ("s.csv", Format::Csv, "id,rate\na,1e400%\n"),
        ("s.yaml", Format::Yaml, "S:\n  - id: a\n    rate: .nan\n"),
        ("s.yaml", Format::Yaml, "S:\n  - id: a\n    rate: .inf\n"),
        ("s.toml", Format::Toml, "[[S]]\nid = \"a\"\nrate = nan\n"),
        ("s.toml", Format::Toml, "[[S]]\nid = \"a\"\nrate = -inf\n"),
        ("s.json", Format::Json, r#"{"S": [{"id": "a", "rate": 1e400}]}"#),
    ];
    for (name, format, text) in cases {
        let result = load(policy, &[(name, *format, text)]);
        assert!(result.is_err(), "{name}: {text:?} was accepted");
    }
}

#[test]
fn a_projection_that_reaches_the_target_exactly_is_on_track() {
    // 0.15 on day 0, 0.14 on day 100: the line reaches 0.12 on day 300.
    let policy = r#"
        entity M { id: Text key, value: Number, date: Date }
        objective o {
          measure avg(s.x for s: S)
          baseline 0.15 on 2026-01-01
          target <= 0.12 by 2026-10-28
          history m.value at m.date for m: M
        }"#;
    let facts = r#"{"S": [{"id": "a", "x": 0.14}], "M": [{"id": "m1", "value": 0.14, "date": "2026-04-11"}]}"#;
    let mut e = engine(policy, facts);
    let result = e.evaluate(date("2026-04-11"));
    let objective = &result.objectives[0];
    assert_eq!(objective.projected.map(aims_lang::ir::format_number), Some("0.12".to_string()));
    assert_eq!(objective.status, ObjectiveStatus::OnTrack);
}

#[test]
fn no_evidence_in_a_quantifier_or_aggregate_names_the_record() {
    let mut e = engine(
        r#"audit all_known { require all s: S where true: s.x > 0 }
           audit averaged { require avg(s.x for s: S) > 0 }
           audit filtered { require count(s for s: S where s.x > 0) > 0 }"#,
        r#"{"S": [{"id": "a", "x": 1}, {"id": "b"}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    for rule in &result.rules {
        let reason = rule.outcomes.at(0).failures.first().map(|f| f.reason.clone());
        match reason.as_ref().map(|r| match r {
            FailReason::NoEvidence(why) => Some(&**why),
            FailReason::Violated => None,
        }) {
            Some(Some(Unknown::NotRecorded(path))) => assert_eq!(&**path, r#"s.x of S "b""#, "{:?}", rule.rule),
            _ => panic!("{:?}: {reason:?}", rule.rule),
        }
    }
}

#[test]
fn a_failure_through_a_let_or_a_function_shows_what_it_read() {
    let mut e = engine(
        r#"fn positive(s: S) = s.n > 0
           control through_let for s: S where true {
             let big = s.n > 5
             require big
           }
           control through_fn for s: S where true { require positive(s) }
           control through_lets for s: S where true {
             let level = s.n
             let high = level > 5
             require high
           }"#,
        r#"{"S": [{"id": "a", "n": 0}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    let program = e.program().clone();
    let observed = |rule: usize| {
        let failure = &result.rules[rule].outcomes.at(0).failures[0];
        failure.observed(&program, program.rules[rule].requirements().first().copied())
    };
    assert!(observed(0).contains(&("big".to_string(), "false".to_string())), "{:?}", observed(0));
    // And what the `let` read, through a chain of `let`s too.
    assert!(observed(0).contains(&("s.n".to_string(), "0".to_string())), "{:?}", observed(0));
    assert!(observed(2).contains(&("s.n".to_string(), "0".to_string())), "{:?}", observed(2));
    assert!(observed(2).contains(&("level".to_string(), "0".to_string())), "{:?}", observed(2));
    assert!(observed(1).contains(&("positive".to_string(), "false".to_string())), "{:?}", observed(1));
    // And what the function's body read, named as the function writes it.
    assert!(observed(1).contains(&("s.n (in positive)".to_string(), "0".to_string())), "{:?}", observed(1));
}

#[test]
fn a_value_too_small_to_tell_from_zero_is_never_zero() {
    // Literals: a compile error, not `0`.
    for literal in ["0.0000000000000000000000000000001", "0.00000000000000000000000000001%"] {
        let Err(errors) = load(&format!("audit a {{ require {literal} > 0 }}"), &[]) else {
            panic!("{literal} was accepted");
        };
        assert!(errors.iter().any(|e| e.contains("out of range")), "{errors:?}");
    }
    // Facts in every format: refused, not `0`.
    let policy = "control c for s: S where true { require s.x > 0 and s.rate > 0 }";
    let cases: &[(&str, Format, &str)] = &[
        ("s.json", Format::Json, r#"{"S": [{"id": "a", "x": 1e-30}]}"#),
        ("s.json", Format::Json, r#"{"S": [{"id": "a", "x": "1e-30"}]}"#),
        ("s.csv", Format::Csv, "id,x\na,0.0000000000000000000000000000001\n"),
        ("s.csv", Format::Csv, "id,rate\na,0.0000000000000000000000000001%\n"),
        ("s.yaml", Format::Yaml, "S:\n  - id: a\n    x: 1e-40\n"),
        ("s.toml", Format::Toml, "[[S]]\nid = \"a\"\nx = 1e-40\n"),
    ];
    for (name, format, text) in cases {
        assert!(load(policy, &[(name, *format, text)]).is_err(), "{name}: {text:?} was accepted");
    }
    // Evaluation: a product or quotient that would round to zero is unknown.
    let results = audits(
        r#"audit product { require 0.000000000000001 * 0.000000000000001 > 0 }
           audit quotient { require 0.00000000000001 / 1000000000000000 > 0 }
           audit average { require avg(x for x in [0.0000000000000000000000000001, 0.0000000000000000000000000000]) > 0 }"#,
    );
    for (name, kind, reason) in &results {
        assert_eq!(*kind, OutcomeKind::Fail, "{name}");
        assert!(
            matches!(reason, Some(FailReason::NoEvidence(u)) if matches!(**u, Unknown::OutOfRange(_))),
            "{name}: {reason:?}"
        );
    }
}
