//! `extend` (fields and variants added to declarations made elsewhere),
//! project declarations overriding the stdlib's, and the W0002 lint of the
//! Statement of Applicability.

use aims_lang::diag::{Code, Diagnostic, Level};
use aims_lang::facts::{Format, Mapping};
use aims_lang::ir::OutcomeKind;
use aims_lang::Date;
use aims_lang::Engine;

fn load(policy: &str, facts: &str) -> Result<Engine, Vec<Diagnostic>> {
    Engine::from_texts("policy.aims", policy, &[("facts.json", Format::Json, Mapping::default(), facts)])
        .map_err(|f| f.diagnostics)
}

fn errors(policy: &str) -> Vec<(Code, String)> {
    match load(policy, "{}") {
        Ok(_) => Vec::new(),
        Err(diags) => diags.into_iter().filter(|d| d.level == Level::Error).map(|d| (d.code, d.message)).collect(),
    }
}

const BASE: &str = "
enum Tier { low, high }
entity System { id: Text key, tier: Tier }
";

#[test]
fn an_extension_adds_fields_that_facts_fill_and_rules_read() {
    let policy = format!(
        "{BASE}
extend System {{ owner: Text?, reviewed: Bool = false }}
extend Tier {{ critical }}
control owned for s: System where s.tier == critical {{ require s.owner is some and s.reviewed }}
"
    );
    let facts = r#"{"System": [{"id": "a", "tier": "critical", "owner": "ana", "reviewed": true},
                               {"id": "b", "tier": "critical"},
                               {"id": "c", "tier": "low"}]}"#;
    let mut engine = load(&policy, facts).unwrap_or_else(|d| panic!("{d:?}"));
    let evaluation = engine.evaluate(Date::parse("2026-01-01").expect("date"));
    let kinds: Vec<(String, OutcomeKind)> =
        evaluation.rules[0].outcomes.iter().map(|o| (o.key.to_string(), o.kind)).collect();
    assert_eq!(
        kinds,
        [("a".into(), OutcomeKind::Pass), ("b".into(), OutcomeKind::Fail), ("c".into(), OutcomeKind::NotApplicable)]
    );
    let system = &engine.program().entities[0];
    assert_eq!(system.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["id", "tier", "owner", "reviewed"]);
}

#[test]
fn an_extension_may_not_change_the_key_or_repeat_a_field() {
    let got = errors(&format!("{BASE}\nextend System {{ ref: Text key }}"));
    assert_eq!(got, [(Code::BadExtend, "an extension cannot change the key".to_string())]);
    let got = errors(&format!("{BASE}\nextend System {{ tier: Tier }}"));
    assert_eq!(got, [(Code::Duplicate, "field `tier` is declared twice".to_string())]);
    let got = errors(&format!("{BASE}\nextend Tier {{ low }}"));
    assert_eq!(got, [(Code::Duplicate, "variant `low` is listed twice".to_string())]);
}

#[test]
fn only_enums_records_and_entities_can_be_extended() {
    let got = errors(&format!("{BASE}\nextend Sytem {{ x: Int }}"));
    assert_eq!(got, [(Code::UnknownType, "unknown type `Sytem`".to_string())]);
    let got = errors(&format!("{BASE}\nscale S {{ a: 1 }}\nextend S {{ b }}"));
    assert_eq!(got, [(Code::BadExtend, "`S` cannot be extended".to_string())]);
    let got = errors(&format!("{BASE}\nextend Tier {{ x: Int }}"));
    assert_eq!(got, [(Code::BadExtend, "`Tier` is an enum: it has variants, not fields".to_string())]);
}

#[test]
fn every_annex_a_control_not_implemented_nor_excluded_is_a_warning() {
    let policy = format!(
        "use iso42001\n{BASE}
control owned implements A.3.2 for s: System where true {{ require s.tier == low }}
exclude A.10.4 because \"we have no customers for AI products\"
"
    );
    let engine = load(&policy, r#"{"System": []}"#).unwrap_or_else(|d| panic!("{d:?}"));
    let warnings: Vec<&Diagnostic> = engine.warnings().iter().filter(|d| d.code == Code::UnaddressedControl).collect();
    assert_eq!(warnings.len(), 36);
    assert!(warnings.iter().all(|w| !w.message.contains("A.3.2 ") && !w.message.contains("A.10.4 ")));
    assert!(warnings.iter().any(|w| w.message.starts_with("Annex A control A.2.2 (")));
    let plain = format!("{BASE}\ncontrol owned for s: System where true {{ require s.tier == low }}");
    let without_catalogue = load(&plain, r#"{"System": []}"#).unwrap_or_else(|d| panic!("{d:?}"));
    assert!(without_catalogue.warnings().is_empty(), "no catalogue, no SoA, no warning");
}

fn rule_names(engine: &Engine) -> Vec<String> {
    engine.program().rules.iter().map(|r| r.decl.name.clone()).collect()
}

#[test]
fn a_project_declaration_overrides_the_stdlib_one_of_the_same_name() {
    let defaults = load("use aims.risk\nuse aims.controls", "{}").unwrap_or_else(|d| panic!("{d:?}"));
    let likelihood = defaults.program().scales.iter().find(|s| s.decl.name == "Likelihood").expect("default scale");
    assert_eq!(likelihood.values.len(), 5);
    assert!(rule_names(&defaults).contains(&"system_owner".to_string()));

    let policy = "use aims.risk\nuse aims.controls
scale Likelihood { rare: 1, often: 5 }
control system_owner implements A.3.2 for s: AISystem where true { require s.owner is some and s.status != retired }
";
    let overridden = load(policy, "{}").unwrap_or_else(|d| panic!("{d:?}"));
    let scales: Vec<_> = overridden.program().scales.iter().filter(|s| s.decl.name == "Likelihood").collect();
    assert_eq!(scales.len(), 1, "one Likelihood: the project's");
    assert_eq!(scales[0].values, [("rare".to_string(), 1), ("often".to_string(), 5)]);
    let owners: Vec<_> = overridden.program().rules.iter().filter(|r| r.decl.name == "system_owner").collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].requirements().len(), 1);
    assert!(owners[0].requirements()[0].source.contains("retired"), "the project's rule is the one kept");
}

#[test]
fn excluding_what_a_stdlib_default_implements_switches_it_off() {
    let on = load("use aims.controls", "{}").unwrap_or_else(|d| panic!("{d:?}"));
    assert!(rule_names(&on).contains(&"system_owner".to_string()));
    let off = load("use aims.controls\nexclude A.3.2 because \"one person runs everything\"", "{}")
        .unwrap_or_else(|d| panic!("{d:?}"));
    assert!(!rule_names(&off).contains(&"system_owner".to_string()));
    assert!(off.warnings().iter().all(|w| w.code != Code::ExcludedButImplemented));

    let own = "use aims.controls
control mine implements A.3.2 for s: AISystem where true { require s.owner is some }
exclude A.3.2 because \"one person runs everything\"";
    let conflicted = load(own, "{}").unwrap_or_else(|d| panic!("{d:?}"));
    let warning = conflicted.warnings().iter().find(|w| w.code == Code::ExcludedButImplemented).expect("W0003");
    assert_eq!(warning.message, "A.3.2 is excluded, but `mine` implements it");
}

#[test]
fn doc_comments_are_allowed_on_scale_values() {
    let policy = "scale S {\n  /// seldom\n  rare: 1,\n  /// often\n  often: 2\n}\naudit a { require true }";
    let engine = load(policy, "{}").unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(engine.program().scales[0].values.len(), 2);
}
