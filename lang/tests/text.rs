//! The text functions of the language (`lower`, `upper`, `trim`,
//! `contains`, `starts_with`, `ends_with`, `split`, `matches`), end to end:
//! checked with the policy, evaluated over facts as inventories write them.

use aims_lang::diag::Code;
use aims_lang::facts::{Format, Mapping};
use aims_lang::ir::OutcomeKind;
use aims_lang::{Date, Engine};

const SCHEMA: &str =
    "entity UseCase {\n  id: Text key,\n  name: Text,\n  impact: Text,\n  teams: Text,\n  notes: Text?,\n}\n";

const FACTS: &str = r#"{"UseCase": [
  {"id": "uc-1", "name": "Facial recognition at gates", "impact": "Rights-Impacting\n", "teams": "ops, legal", "notes": "TODO review"},
  {"id": "uc-2", "name": "Translation", "impact": " neither", "teams": "comms"},
  {"id": "uc-3", "name": "Camera FACE matching", "impact": "RIGHTS-IMPACTING", "teams": "security,\nlegal"}
]}"#;

fn engine(policy: &str) -> Result<Engine, Vec<(Code, String)>> {
    let text = format!("{SCHEMA}\n{policy}");
    Engine::from_texts("policy.aims", &text, &[("facts.json", Format::Json, Mapping::default(), FACTS)])
        .map_err(|f| f.diagnostics.iter().map(|d| (d.code, d.message.clone())).collect())
}

/// The outcome of each use case under the only rule.
fn outcomes(policy: &str) -> Vec<(String, OutcomeKind)> {
    let mut engine = engine(policy).unwrap_or_else(|d| panic!("{d:?}"));
    let evaluation = engine.evaluate(Date::parse("2026-01-01").expect("date"));
    evaluation.rules[0].outcomes.iter().map(|o| (o.key.to_string(), o.kind)).collect()
}

fn kinds(outcomes: &[(String, OutcomeKind)]) -> Vec<OutcomeKind> {
    outcomes.iter().map(|(_, k)| *k).collect()
}

use OutcomeKind::{Fail, NotApplicable as Na, Pass};

#[test]
fn case_and_spaces_are_folded_by_lower_upper_and_trim() {
    let rights = "control c for u: UseCase where trim(lower(u.impact)) == \"rights-impacting\" { require false }";
    assert_eq!(kinds(&outcomes(rights)), [Fail, Na, Fail]);
    let upper = "control c for u: UseCase where upper(trim(u.impact)) == \"NEITHER\" { require false }";
    assert_eq!(kinds(&outcomes(upper)), [Na, Fail, Na]);
}

#[test]
fn parts_of_a_text_are_found() {
    let policy = "control c for u: UseCase where true {\n\
        require contains(lower(u.name), \"face\") or contains(u.name, \"Facial\")\n}";
    assert_eq!(kinds(&outcomes(policy)), [Pass, Fail, Pass]);
    let policy =
        "control c for u: UseCase where true { require starts_with(u.id, \"uc-\") and ends_with(u.name, \"gates\") }";
    assert_eq!(kinds(&outcomes(policy)), [Pass, Fail, Fail]);
    // A list written in one cell, split and trimmed.
    let policy = "control c for u: UseCase where true { require \"legal\" in split(u.teams, \",\") }";
    assert_eq!(kinds(&outcomes(policy)), [Pass, Fail, Pass]);
    let policy = "control c for u: UseCase where true { require len(split(u.teams, \",\")) == 2 }";
    assert_eq!(kinds(&outcomes(policy)), [Pass, Fail, Pass]);
}

#[test]
fn regular_expressions_match_anywhere_and_a_missing_text_is_no_evidence() {
    let policy = "control c for u: UseCase where matches(u.name, \"(?i)\\\\bfac(e|ial)\\\\b\") { require false }";
    assert_eq!(kinds(&outcomes(policy)), [Fail, Na, Fail]);
    // `notes` is optional: a use case without notes is not evidence either way.
    let policy = "control c for u: UseCase where true { require not matches(u.notes, \"^DONE\") }";
    let found = outcomes(policy);
    assert_eq!(kinds(&found), [Pass, Fail, Fail], "{found:?}");
}

#[test]
fn bad_patterns_and_arguments_are_refused_with_the_policy() {
    let refused = |policy: &str| engine(policy).err().unwrap_or_else(|| panic!("accepted: {policy}"));
    let unclosed = refused("control c for u: UseCase where matches(u.name, \"(face\") { require true }");
    assert_eq!(unclosed[0].0, Code::BadLiteral, "{unclosed:?}");
    assert!(unclosed[0].1.contains("`matches` cannot use this pattern: unclosed group"), "{unclosed:?}");
    let huge = refused("control c for u: UseCase where matches(u.name, \"(\\\\w{100}){100}\") { require true }");
    assert!(huge[0].1.contains("compiles to more than 1024 KiB"), "{huge:?}");
    let variable = refused("control c for u: UseCase where matches(u.name, u.impact) { require true }");
    assert_eq!(variable[0], (Code::NotConstant, "the pattern of `matches` must be a text literal".into()));
    let wrong = refused("control c for u: UseCase where contains(u.name, 3) { require true }");
    assert_eq!(wrong[0], (Code::BadOperand, "`contains` does not apply to `Text` and `Int`".into()));
    let arity = refused("control c for u: UseCase where lower(u.name, u.id) == \"x\" { require true }");
    assert_eq!(arity[0].0, Code::WrongArity, "{arity:?}");
}
