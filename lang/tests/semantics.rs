//! The worked examples of the evaluation semantics (`docs/language.md`,
//! "Evaluation semantics"), one test per table.

use aims_lang::eval::{Evaluation, FailReason, FindingSource};
use aims_lang::facts::{Format, Mapping};
use aims_lang::ir::{ObjectiveStatus, OutcomeKind};
use aims_lang::syntax::Severity;
use aims_lang::Date;
use aims_lang::Engine;

const SCHEMA: &str = r#"
enum Domain { credit, hiring, health, support }
entity AISystem {
  id: Text key
  domain: Domain
  last_bias_test: Date?
  bias_disparity: Number?
  human_review: Bool = true
}
"#;

fn engine(policy: &str, facts: &str) -> Engine {
    let text = format!("{SCHEMA}\n{policy}");
    match Engine::from_texts("policy.aims", &text, &[("facts.json", Format::Json, Mapping::default(), facts)]) {
        Ok(engine) => engine,
        Err(failure) => {
            panic!("{}", aims_lang::diag::render(&failure.diagnostics, &failure.sources, Default::default()))
        }
    }
}

fn date(s: &str) -> Date {
    Date::parse(s).expect("a date")
}

fn outcome(evaluation: &Evaluation, rule: usize, key: &str) -> OutcomeKind {
    evaluation.rules[rule].outcomes.iter().find(|o| &*o.key == key).map(|o| o.kind).expect("an outcome")
}

#[test]
fn within_days_counts_calendar_days_and_rejects_the_future() {
    let mut e = engine(
        "control fresh for s: AISystem where true { require s.last_bias_test within 180 days }",
        r#"{"AISystem": [{"id": "a", "domain": "credit", "last_bias_test": "2026-01-01"},
                         {"id": "f", "domain": "credit", "last_bias_test": "2026-07-02"}]}"#,
    );
    assert_eq!(outcome(&e.evaluate(date("2026-06-30")), 0, "a"), OutcomeKind::Pass, "180 days");
    assert_eq!(outcome(&e.evaluate(date("2026-07-01")), 0, "a"), OutcomeKind::Fail, "181 days");
    assert_eq!(outcome(&e.evaluate(date("2026-06-30")), 0, "f"), OutcomeKind::Fail, "in the future");
}

#[test]
fn within_months_clamps_to_the_end_of_the_month() {
    let mut e = engine(
        "control yearly for s: AISystem where true { require s.last_bias_test within 12 months }",
        r#"{"AISystem": [{"id": "a", "domain": "credit", "last_bias_test": "2025-03-31"}]}"#,
    );
    assert_eq!(outcome(&e.evaluate(date("2026-03-31")), 0, "a"), OutcomeKind::Pass);
    assert_eq!(outcome(&e.evaluate(date("2026-03-30")), 0, "a"), OutcomeKind::Pass);
    assert_eq!(outcome(&e.evaluate(date("2026-05-01")), 0, "a"), OutcomeKind::Fail);
}

#[test]
fn missing_evidence_fails_and_never_passes() {
    let mut e = engine(
        "control bias_testing severity major for s: AISystem where s.domain == credit { require s.last_bias_test within 180 days }",
        r#"{"AISystem": [{"id": "a", "domain": "credit", "last_bias_test": "2026-05-01"},
                         {"id": "b", "domain": "credit"},
                         {"id": "c", "domain": "health"}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    assert_eq!(outcome(&result, 0, "a"), OutcomeKind::Pass);
    assert_eq!(outcome(&result, 0, "b"), OutcomeKind::Fail);
    assert_eq!(outcome(&result, 0, "c"), OutcomeKind::NotApplicable);
    let b = result.rules[0].outcomes.iter().find(|o| &*o.key == "b").expect("b");
    assert!(matches!(b.failures[0].reason, FailReason::NoEvidence(_)));
    assert_eq!(result.findings.len(), 1);
    assert_eq!(&*result.findings[0].message, "no evidence: s.last_bias_test is not recorded");
    assert_eq!(result.findings[0].severity, Severity::Major);
}

#[test]
fn every_require_is_evaluated_and_reported() {
    let mut e = engine(
        r#"control both for s: AISystem where true {
             require s.last_bias_test within 180 days because "stale"
             require s.bias_disparity < 0.1 because "too unfair"
           }"#,
        r#"{"AISystem": [{"id": "a", "domain": "credit", "last_bias_test": "2024-01-01", "bias_disparity": 0.2}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    let failures = &result.rules[0].outcomes.at(0).failures;
    assert_eq!(failures.len(), 2);
    let requirements = e.program().rules[0].requirements();
    assert_eq!(
        failures[1].observed(e.program(), requirements.get(1).copied()),
        vec![("s.bias_disparity".to_string(), "0.2".to_string())]
    );
}

#[test]
fn kleene_logic_lets_known_facts_decide() {
    let mut e = engine(
        r#"control either for s: AISystem where true { require s.bias_disparity < 0.1 or s.human_review }
           control both for s: AISystem where true { require s.bias_disparity < 0.1 and s.human_review }"#,
        r#"{"AISystem": [{"id": "a", "domain": "credit", "human_review": true},
                         {"id": "b", "domain": "credit", "human_review": false}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    assert_eq!(outcome(&result, 0, "a"), OutcomeKind::Pass, "unknown or true is true");
    assert_eq!(outcome(&result, 0, "b"), OutcomeKind::Fail, "unknown or false is unknown");
    assert_eq!(outcome(&result, 1, "b"), OutcomeKind::Fail, "unknown and false is false");
    let b = result.rules[1].outcomes.iter().find(|o| &*o.key == "b").expect("b");
    assert_eq!(b.failures[0].reason, FailReason::Violated);
}

const EXCEPTION_POLICY: &str = r#"
control bias_testing severity major for s: AISystem where true { require s.bias_disparity < 0.1 }
exception e waives bias_testing for AISystem "b" until 2027-03-31 approved by "CRO" because "retired soon"
"#;

#[test]
fn exceptions_waive_until_their_last_day_then_become_findings() {
    let mut failing =
        engine(EXCEPTION_POLICY, r#"{"AISystem": [{"id": "b", "domain": "credit", "bias_disparity": 0.3}]}"#);
    let on_last_day = failing.evaluate(date("2027-03-31"));
    assert_eq!(outcome(&on_last_day, 0, "b"), OutcomeKind::Waived);
    assert!(on_last_day.findings.is_empty());

    let after = failing.evaluate(date("2027-04-01"));
    assert_eq!(outcome(&after, 0, "b"), OutcomeKind::Fail);
    let expired: Vec<_> = after.findings.iter().filter(|f| f.source == FindingSource::Exception).collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].severity, Severity::Minor);
    assert!(expired[0].message.contains("expired on 2027-03-31"));

    let mut passing =
        engine(EXCEPTION_POLICY, r#"{"AISystem": [{"id": "b", "domain": "credit", "bias_disparity": 0.01}]}"#);
    let removable = passing.evaluate(date("2027-04-01"));
    assert_eq!(outcome(&removable, 0, "b"), OutcomeKind::Pass);
    assert_eq!(removable.findings.len(), 1);
    assert_eq!(removable.findings[0].severity, Severity::Observation);
    assert!(removable.findings[0].message.contains("can be removed"));

    let idle = passing.evaluate(date("2026-12-01"));
    assert_eq!(idle.findings.len(), 1);
    assert_eq!(idle.findings[0].severity, Severity::Observation);
    assert!(idle.findings[0].message.contains("waives nothing"));
}

#[test]
fn aggregates_over_empty_sets() {
    let mut e = engine(
        r#"audit counted { require count(s for s: AISystem where s.domain == hiring) == 0 }
           audit summed { require sum(s.bias_disparity ?? 0 for s: AISystem where s.domain == hiring) == 0 }
           audit averaged { require avg(s.bias_disparity ?? 0 for s: AISystem where s.domain == hiring) < 1 }
           objective fair "x" { measure max(s.bias_disparity ?? 0 for s: AISystem where s.domain == hiring) target <= 0.1 by 2027-01-01 }"#,
        r#"{"AISystem": [{"id": "a", "domain": "credit"}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    assert_eq!(outcome(&result, 0, "-"), OutcomeKind::Pass, "count of nothing is 0");
    assert_eq!(outcome(&result, 1, "-"), OutcomeKind::Pass, "sum of nothing is 0");
    assert_eq!(outcome(&result, 2, "-"), OutcomeKind::Fail, "avg of nothing is unknown");
    let averaged = &result.rules[2].outcomes.at(0);
    assert!(matches!(averaged.failures[0].reason, FailReason::NoEvidence(_)));
    assert_eq!(result.objectives[0].status, ObjectiveStatus::NoData);
}

const RISK_POLICY: &str = r#"
scale Likelihood { rare: 1, unlikely: 2, possible: 3, likely: 4, almost_certain: 5 }
scale Impact { negligible: 1, minor: 2, moderate: 3, major: 4, severe: 5 }
matrix RiskLevel = Likelihood * Impact { low: 1..4 medium: 5..9 high: 10..16 critical: 17..25 }
appetite medium
control bias_testing for s: AISystem where true { require s.last_bias_test within 180 days }
control human_review for s: AISystem where true { require s.human_review }
exception d_waiver waives bias_testing for AISystem "d" until 2030-01-01 approved by "CRO"
risk unfair_credit for s: AISystem where s.domain == credit {
  likelihood: if s.last_bias_test within 180 days then unlikely else likely
  impact: Impact.major
  treated by bias_testing, human_review
  residual likelihood: rare
}
"#;

#[test]
fn risks_follow_the_matrix_and_a_waiver_is_not_a_treatment() {
    let mut e = engine(
        RISK_POLICY,
        r#"{"AISystem": [{"id": "a", "domain": "credit", "last_bias_test": "2026-05-01"},
                         {"id": "b", "domain": "credit", "last_bias_test": "2024-01-01"},
                         {"id": "d", "domain": "credit", "last_bias_test": "2024-01-01"}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    let entries = &result.risks[0].entries;
    let a = entries.iter().find(|x| &*x.key == "a").expect("a");
    assert_eq!((a.inherent_score, a.treatment_effective, a.residual_score, a.above_appetite), (8, true, 4, false));
    let b = entries.iter().find(|x| &*x.key == "b").expect("b");
    assert_eq!((b.inherent_score, b.treatment_effective, b.residual_score, b.above_appetite), (16, false, 16, true));
    let d = entries.iter().find(|x| &*x.key == "d").expect("d");
    assert_eq!(outcome(&result, 0, "d"), OutcomeKind::Waived);
    assert_eq!((d.treatment_effective, d.residual_score, d.above_appetite), (false, 16, true));
    let risk_findings: Vec<_> = result.findings.iter().filter(|f| f.source == FindingSource::Risk).collect();
    assert_eq!(risk_findings.len(), 2);
    assert!(risk_findings.iter().all(|f| f.severity == Severity::Major));
}

fn objective_status(history: &str, current: f64, as_of: &str) -> ObjectiveStatus {
    let policy = r#"
entity Measurement { id: Text key, value: Number, date: Date }
objective fairer_credit "cut bias" {
  measure avg(s.bias_disparity ?? 1 for s: AISystem where s.domain == credit)
  baseline 0.15 on 2026-01-01
  target <= 0.12 by 2026-12-31
  history m.value at m.date for m: Measurement where true
}"#;
    let facts = format!(
        r#"{{"AISystem": [{{"id": "a", "domain": "credit", "bias_disparity": {current}}}], "Measurement": [{history}]}}"#
    );
    engine(policy, &facts).evaluate(date(as_of)).objectives[0].status
}

#[test]
fn objectives_are_met_missed_on_track_or_at_risk() {
    assert_eq!(objective_status("", 0.11, "2026-06-30"), ObjectiveStatus::Met);
    assert_eq!(objective_status("", 0.13, "2027-01-15"), ObjectiveStatus::Missed);
    let on_track = r#"{"id": "1", "value": 0.15, "date": "2026-01-01"},
                      {"id": "2", "value": 0.14, "date": "2026-04-01"},
                      {"id": "3", "value": 0.13, "date": "2026-06-30"}"#;
    assert_eq!(objective_status(on_track, 0.13, "2026-06-30"), ObjectiveStatus::OnTrack);
    let flat = r#"{"id": "1", "value": 0.15, "date": "2026-01-01"}, {"id": "2", "value": 0.149, "date": "2026-06-30"}"#;
    assert_eq!(objective_status(flat, 0.149, "2026-06-30"), ObjectiveStatus::AtRisk);
    assert_eq!(objective_status("", 0.13, "2026-06-30"), ObjectiveStatus::AtRisk, "only the baseline is known");
}

#[test]
fn findings_are_ordered_by_severity_then_name_then_entity() {
    let mut e = engine(
        r#"control z_minor severity minor for s: AISystem where true { require false }
           control a_major severity major for s: AISystem where true { require false }
           control m_observation severity observation for s: AISystem where true { require false }"#,
        r#"{"AISystem": [{"id": "y", "domain": "credit"}, {"id": "x", "domain": "credit"}]}"#,
    );
    let result = e.evaluate(date("2026-06-30"));
    let order: Vec<(String, String)> =
        result.findings.iter().map(|f| (f.name.to_string(), f.entity.as_deref().unwrap_or("").to_string())).collect();
    let expected = [
        ("a_major", "x"),
        ("a_major", "y"),
        ("z_minor", "x"),
        ("z_minor", "y"),
        ("m_observation", "x"),
        ("m_observation", "y"),
    ];
    assert_eq!(order, expected.map(|(a, b)| (a.to_string(), b.to_string())));
}

#[test]
fn an_applicability_condition_must_handle_absent_facts() {
    let text = format!("{SCHEMA}\ncontrol c for s: AISystem where s.bias_disparity > 0.1 {{ require true }}");
    let failure = Engine::from_texts("p.aims", &text, &[]).expect_err("rejected");
    assert_eq!(failure.diagnostics[0].code, aims_lang::diag::Code::UnhandledOptional);
    let narrowed = format!("{SCHEMA}\ncontrol c for s: AISystem where s.bias_disparity is some and s.bias_disparity > 0.1 {{ require true }}");
    assert!(Engine::from_texts("p.aims", &narrowed, &[]).is_ok());
}

#[test]
fn the_example_policy_tests_pass() {
    let engine = Engine::load(std::path::Path::new("../examples/credit-scoring"), &Default::default())
        .unwrap_or_else(|f| panic!("{}", aims_lang::diag::render(&f.diagnostics, &f.sources, Default::default())));
    let results = aims_lang::engine::testing::run_tests(engine.program(), date("2026-11-01"));
    assert!(results.len() >= 5, "the example has test blocks");
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn a_failing_policy_test_says_what_differs() {
    let e = engine(
        r#"control c for s: AISystem where true { require s.human_review }
           test "wrong expectation" { as of 2026-01-01 given AISystem { id: "x", domain: credit } expect c fails for "x" }"#,
        r#"{}"#,
    );
    let results = aims_lang::engine::testing::run_tests(e.program(), date("2026-11-01"));
    assert_eq!(results[0].failures, vec!["`c` for \"x\": expected fail, got pass".to_string()]);
}

#[test]
fn risks_without_an_appetite_are_warned_about() {
    let text = format!(
        "{SCHEMA}\nscale L {{ low: 1, high: 2 }}\nscale I {{ low: 1, high: 2 }}\nmatrix M = L * I {{ ok: 1..2, bad: 3..4 }}\n\
         risk r for s: AISystem where true {{ l: high i: high }}\n"
    );
    let engine = Engine::from_texts("p.aims", &text, &[]).expect("a warning is not an error");
    let codes: Vec<_> = engine.warnings().iter().map(|d| d.code).collect();
    assert_eq!(codes, vec![aims_lang::diag::Code::NoAppetite]);
}
