//! SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
//!
//! One `result` per finding, located at the failing `require` (or the
//! declaration) in the policy file, so a code-scanning view shows it on the
//! line that states the rule. Levels: major → `error`, minor → `warning`,
//! observation → `note`. A finding's identity across runs is its name and
//! entity (`partialFingerprints`), so an alert stays one alert while it lasts.
//!
//! The warnings and errors found while reading the project follow the
//! findings: one `result` per diagnostic, its `ruleId` the diagnostic's
//! code (`W0001`), its level from the diagnostic's severity.

use serde_json::{json, Value as Json};

use super::{source_name, DiagnosticView, FindingView, Location, Report};
use crate::diag::Level;
use crate::syntax::ast::Severity;

/// A policy file's location as a URI: relative paths under `uri_base`.
fn artifact_uri(file: &str, uri_base: &str) -> String {
    let file = file.replace('\\', "/");
    if file.starts_with('/') {
        format!("file://{file}")
    } else {
        format!("{}{}", uri_base.replace('\\', "/"), file.trim_start_matches("./"))
    }
}

/// A SARIF `locations` array holding one physical location.
fn physical(location: &Location, uri_base: &str) -> Json {
    json!([{
        "physicalLocation": {
            "artifactLocation": { "uri": artifact_uri(&location.file, uri_base) },
            "region": { "startLine": location.line, "startColumn": location.column },
        }
    }])
}

/// The SARIF level of a diagnostic.
fn diagnostic_level(severity: Level) -> &'static str {
    match severity {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Major => "error",
        Severity::Minor => "warning",
        Severity::Observation => "note",
    }
}

impl Report {
    /// The report as a SARIF 2.1.0 log. `uri_base` is put before relative
    /// policy paths so that they resolve from where code scanning looks
    /// (the repository root): the project folder's path from there, ending
    /// in `/`, or empty. Absolute paths become `file://` URIs.
    pub fn to_sarif(&self, uri_base: &str) -> String {
        let mut rule_ids: Vec<String> = Vec::new();
        let mut rules: Vec<Json> = Vec::new();
        let titles = self.titles();
        let mut results = Vec::new();
        for f in self.findings.iter() {
            let index = match rule_ids.iter().position(|r| *r == f.name) {
                Some(i) => i,
                None => {
                    rule_ids.push(f.name.clone());
                    rules.push(self.sarif_rule(&f, titles.get(f.name.as_str()).copied()));
                    rule_ids.len() - 1
                }
            };
            let text = match &f.entity {
                Some(e) => format!("{e}: {}", f.message),
                None => f.message.clone(),
            };
            let mut result = json!({
                "ruleId": f.name,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": text },
                "partialFingerprints": {
                    "aimsFinding/v1": format!("{}/{}", f.name, f.entity.as_deref().unwrap_or("-")),
                },
                "properties": {
                    "severity": f.severity.as_str(),
                    "source": source_name(f.source),
                },
            });
            if let Some(entity) = &f.entity {
                result["properties"]["entity"] = json!(entity);
            }
            if let Some(at) = &f.location {
                result["locations"] = physical(at, uri_base);
            }
            results.push(result);
        }
        for d in &self.diagnostics {
            let index = match rule_ids.iter().position(|r| r == d.code.as_str()) {
                Some(i) => i,
                None => {
                    rule_ids.push(d.code.as_str().to_string());
                    rules.push(diagnostic_rule(d));
                    rule_ids.len() - 1
                }
            };
            results.push(diagnostic_result(d, index, uri_base));
        }
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "aims",
                        "version": env!("CARGO_PKG_VERSION"),
                        "informationUri": "https://example.invalid/aims",
                        "rules": rules,
                    }
                },
                "automationDetails": { "id": format!("aims/{}/{}", self.project, self.as_of) },
                "results": results,
            }]
        });
        let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
        out.push('\n');
        out
    }

    fn sarif_rule(&self, f: &FindingView, title: Option<&str>) -> Json {
        let mut rule = json!({
            "id": f.name,
            "name": f.name,
            "shortDescription": { "text": title.unwrap_or(&f.name) },
            "defaultConfiguration": { "level": level(f.severity) },
        });
        if let Some(view) = self.rules.iter().find(|r| r.name == f.name) {
            let tags: Vec<String> = view
                .implements
                .iter()
                .map(|i| format!("implements:{i}"))
                .chain(view.clauses.iter().map(|c| format!("clause:{c}")))
                .collect();
            rule["properties"] = json!({ "tags": tags, "kind": source_name(f.source) });
        }
        rule
    }
}

/// The SARIF rule of a diagnostic code, described by its first message.
fn diagnostic_rule(d: &DiagnosticView) -> Json {
    json!({
        "id": d.code.as_str(),
        "name": d.code.as_str(),
        "shortDescription": { "text": d.message },
        "helpUri": "https://example.invalid/aims/docs/errors.md",
        "defaultConfiguration": { "level": diagnostic_level(d.severity) },
        "properties": { "kind": "diagnostic" },
    })
}

/// The SARIF result of a diagnostic: its message with the help and notes,
/// at its primary location when that is a file of the project (the
/// stdlib's files are not in the repository code scanning looks at).
fn diagnostic_result(d: &DiagnosticView, index: usize, uri_base: &str) -> Json {
    let mut text = d.message.clone();
    for note in &d.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let mut result = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": index,
        "level": diagnostic_level(d.severity),
        "message": { "text": text },
        "properties": { "source": "diagnostic" },
    });
    let in_project = |at: &&Location| !at.file.starts_with("<stdlib>/");
    if let Some(at) = d.location.as_ref().filter(in_project) {
        result["locations"] = physical(at, uri_base);
        result["partialFingerprints"] =
            json!({ "aimsDiagnostic/v1": format!("{}/{}/{}", d.code.as_str(), at.file, d.message) });
    }
    // The other labels (`declared here`) are related locations.
    let related: Vec<Json> = d
        .labels
        .iter()
        .skip(1)
        .filter_map(|label| {
            let at = label.location.as_ref().filter(in_project)?;
            let mut place = physical(at, uri_base)[0].clone();
            place["message"] = json!({ "text": label.message });
            Some(place)
        })
        .enumerate()
        .map(|(id, mut place)| {
            place["id"] = json!(id);
            place
        })
        .collect();
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_put_the_base_before_relative_paths() {
        assert_eq!(artifact_uri("policy/a.aims", "examples/x/"), "examples/x/policy/a.aims");
        assert_eq!(artifact_uri("./policy/a.aims", ""), "policy/a.aims");
        assert_eq!(artifact_uri("/elsewhere/a.aims", "examples/x/"), "file:///elsewhere/a.aims");
    }

    #[test]
    fn a_diagnostic_is_a_result_with_its_code_as_rule() {
        let d = DiagnosticView {
            code: crate::diag::Code::NoAppetite,
            severity: Level::Warning,
            message: "no appetite".into(),
            location: Some(Location { file: "policy/risks.aims".into(), line: 3, column: 8 }),
            labels: Vec::new(),
            notes: Vec::new(),
            help: Some("declare one".into()),
        };
        let result = diagnostic_result(&d, 2, "examples/x/");
        assert_eq!(result["ruleId"], "W0001");
        assert_eq!(result["ruleIndex"], 2);
        assert_eq!(result["level"], "warning");
        assert_eq!(result["message"]["text"], "no appetite\nhelp: declare one");
        let place = &result["locations"][0]["physicalLocation"];
        assert_eq!(place["artifactLocation"]["uri"], "examples/x/policy/risks.aims");
        assert_eq!(place["region"]["startLine"], 3);
        assert_eq!(place["region"]["startColumn"], 8);
        let stdlib = DiagnosticView {
            location: Some(Location { file: "<stdlib>/iso42001.aims".into(), line: 1, column: 1 }),
            ..d
        };
        assert!(diagnostic_result(&stdlib, 0, "").get("locations").is_none());
    }
}
