//! SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
//!
//! One `result` per finding, located at the failing `require` (or the
//! declaration) in the policy file, so a code-scanning view shows it on the
//! line that states the rule. Levels: major → `error`, minor → `warning`,
//! observation → `note`. A finding's identity across runs is its name and
//! entity (`partialFingerprints`), so an alert stays one alert while it lasts.

use serde_json::{json, Value as Json};

use super::{source_name, FindingView, Report};
use crate::syntax::ast::Severity;

/// `file:line:column` split into its parts (the file may hold `:`).
pub(super) fn split_location(location: &str) -> Option<(&str, u64, u64)> {
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((parts.next()?, line, column))
}

/// A policy file's location as a URI: relative paths under `uri_base`.
fn artifact_uri(file: &str, uri_base: &str) -> String {
    let file = file.replace('\\', "/");
    if file.starts_with('/') {
        format!("file://{file}")
    } else {
        format!("{}{}", uri_base.replace('\\', "/"), file.trim_start_matches("./"))
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
            if let Some((file, line, column)) = split_location(&f.location) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(file, uri_base) },
                        "region": { "startLine": line, "startColumn": column },
                    }
                }]);
            }
            results.push(result);
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
    fn locations_split_from_the_right() {
        assert_eq!(split_location("policy/a.aims:12:3"), Some(("policy/a.aims", 12, 3)));
        assert_eq!(split_location("C:/x/a.aims:1:1"), Some(("C:/x/a.aims", 1, 1)));
        assert_eq!(split_location("nowhere"), None);
    }
}
