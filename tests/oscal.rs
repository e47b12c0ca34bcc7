//! The OSCAL exports validate against NIST's published JSON schemas (OSCAL
//! 1.0.6, copied unmodified into `tests/data/oscal/`, see its SOURCE.txt):
//! `aims check --format oscal` as assessment results, `aims soa --format
//! oscal` as a component definition, for every example; the same inputs
//! give the same bytes.

mod common;

use common::{aims, examples, name};

fn validator(schema: &str) -> jsonschema::Validator {
    let path = common::root().join("tests/data/oscal").join(schema);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, what: &str, document: &serde_json::Value) {
    let errors: Vec<String> =
        validator.iter_errors(document).map(|e| format!("{e} at {}", e.instance_path())).take(10).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn check_writes_assessment_results_that_validate() {
    let validator = validator("oscal_assessment-results_schema.json");
    for dir in examples() {
        let project = format!("examples/{}", name(&dir));
        let out = aims(&["check", &project, "--format", "oscal"]);
        assert_eq!(out.status.code(), Some(1), "{project}: {}", String::from_utf8_lossy(&out.stderr));
        let document: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_valid(&validator, &project, &document);
        let result = &document["assessment-results"]["results"][0];
        // Every rule is observed, and the failing SoA rows are findings not satisfied.
        assert!(result["observations"].as_array().is_some_and(|o| o.len() > 10), "{project}");
        let not_satisfied = result["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["target"]["status"]["state"] == "not-satisfied")
            .count();
        assert!(not_satisfied > 0, "{project}");
        let again = aims(&["check", &project, "--format", "oscal"]);
        assert_eq!(out.stdout, again.stdout, "{project}: same inputs, same bytes");
    }
}

#[test]
fn soa_writes_a_component_definition_that_validates() {
    let validator = validator("oscal_component_schema.json");
    for dir in examples() {
        let project = format!("examples/{}", name(&dir));
        let out = aims(&["soa", &project, "--format", "oscal"]);
        assert_eq!(out.status.code(), Some(0), "{project}: {}", String::from_utf8_lossy(&out.stderr));
        let document: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_valid(&validator, &project, &document);
        let implementations = &document["component-definition"]["components"][0]["control-implementations"][0];
        let requirements = implementations["implemented-requirements"].as_array().expect("requirements");
        assert!(requirements.len() >= 30, "{project}");
        assert!(requirements.iter().all(|r| r["description"].as_str().is_some_and(|d| !d.is_empty())), "{project}");
    }
}

#[test]
fn a_document_the_schema_rejects_is_rejected() {
    // The validator is not vacuous: a finding without its target fails.
    let validator = validator("oscal_assessment-results_schema.json");
    let out = aims(&["check", "examples/hr-screening", "--format", "oscal"]);
    let mut document: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    document["assessment-results"]["results"][0]["findings"][0].as_object_mut().expect("a finding").remove("target");
    assert!(validator.iter_errors(&document).next().is_some());
}
