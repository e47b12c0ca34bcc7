//! OSCAL 1.0.6 exports, validated in `tests/oscal.rs` against NIST's JSON
//! schemas:
//!
//! - `aims check --format oscal`: an **assessment results** document. One
//!   result for the evaluation date; one observation per control or audit
//!   rule (its outcomes, with each failing fact as relevant evidence); one
//!   finding per row of the Statement of Applicability that is assessed
//!   (satisfied, or not, with the observations of its rules) and per
//!   clause-level rule finding; one risk per risk above appetite.
//! - `aims soa --format oscal`: a **component definition**: the AIMS as one
//!   component whose control implementation has one implemented requirement
//!   per included control, with the justification, implementation status
//!   and evidence as remarks and properties.
//!
//! UUIDs are name-based (a 128-bit FNV-1a hash of the project and the
//! item's name, in the layout of a version 5 UUID), so the same inputs give
//! the same document byte for byte.

use serde_json::{json, Value as Json};

use super::soa::{Framework, Implementation, SoaStatus};
use super::soa_detail::{SoaEntry, Statement};
use super::Report;
use crate::ir::OutcomeKind;

/// The OSCAL version the documents follow.
const OSCAL_VERSION: &str = "1.0.6";

/// At most this many failing facts are listed as evidence of one observation.
const EVIDENCE_PER_OBSERVATION: usize = 50;

/// A name-based UUID for `name` within `project`.
fn uuid(project: &str, name: &str) -> String {
    let hash = |seed: u64| {
        let mut h = seed;
        for b in project.bytes().chain([0]).chain(name.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let (hi, lo) = (hash(0xcbf2_9ce4_8422_2325), hash(0x6c62_272e_07bb_0142));
    let hi = (hi & !0xf000) | 0x5000; // version 5
    let lo = (lo & !(0xc000_u64 << 48)) | (0x8000_u64 << 48); // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// An OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`) for an identifier.
fn token(id: &str) -> String {
    let mut out: String =
        id.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' }).collect();
    if !out.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// The evaluation date as an OSCAL date-time.
fn date_time(as_of: &str) -> String {
    format!("{as_of}T00:00:00Z")
}

/// OSCAL metadata.
fn metadata(title: String, as_of: &str) -> Json {
    json!({
        "title": title,
        "last-modified": date_time(as_of),
        "version": as_of,
        "oscal-version": OSCAL_VERSION,
    })
}

/// The word for an outcome.
fn outcome_word(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Pass => "pass",
        OutcomeKind::Fail => "fail",
        OutcomeKind::Waived => "waived",
        OutcomeKind::NotApplicable => "not applicable",
    }
}

/// The assessment results of an evaluation (`aims check --format oscal`).
pub fn assessment_results(report: &Report, statement: &Statement) -> Json {
    let project = report.project.as_str();
    let as_of = report.as_of.as_str();
    let observation_uuid = |rule: &str| uuid(project, &format!("observation/{rule}"));
    let observations: Vec<Json> = report
        .rules
        .iter()
        .map(|rule| {
            let c = &rule.counts;
            let mut o = json!({
                "uuid": observation_uuid(&rule.name),
                "title": format!("{} {}", if rule.kind == crate::ir::RuleKind::Control { "control" } else { "audit" }, rule.name),
                "description": format!(
                    "{}: {} pass, {} fail, {} waived, {} not applicable on {as_of}.",
                    rule.title.clone().unwrap_or_else(|| rule.name.clone()),
                    c.pass, c.fail, c.waived, c.not_applicable
                ),
                "methods": ["TEST"],
                "types": ["finding"],
                "collected": date_time(as_of),
            });
            let evidence: Vec<Json> = rule
                .outcomes
                .iter()
                .filter(|v| matches!(v.status, OutcomeKind::Fail | OutcomeKind::Waived))
                .take(EVIDENCE_PER_OBSERVATION)
                .map(|v| {
                    let why: Vec<String> = v.failures.iter().map(|f| f.message.clone()).collect();
                    json!({ "description": format!("{} {}: {}", v.entity.to_arc(), outcome_word(v.status), why.join("; ")) })
                })
                .collect();
            if !evidence.is_empty() {
                o["relevant-evidence"] = Json::Array(evidence);
            }
            o
        })
        .collect();
    let mut findings: Vec<Json> = Vec::new();
    for entry in statement.rows.iter().chain(&statement.organisation_controls) {
        let r = &entry.row;
        let state = match r.status {
            SoaStatus::Passing | SoaStatus::Waived | SoaStatus::NothingToCheck => "satisfied",
            SoaStatus::Failing | SoaStatus::NotAddressed => "not-satisfied",
            SoaStatus::Excluded => continue,
        };
        let mut f = json!({
            "uuid": uuid(project, &format!("finding/{}", r.id)),
            "title": format!("{} {}", r.id, r.title),
            "description": format!("{} Test result: {}.", r.justification, r.status.as_str()),
            "target": {
                "type": "objective-id",
                "target-id": token(&r.id),
                "status": { "state": state },
            },
        });
        let related: Vec<Json> =
            r.implemented_by.iter().map(|n| json!({ "observation-uuid": observation_uuid(n) })).collect();
        if !related.is_empty() {
            f["related-observations"] = Json::Array(related);
        }
        findings.push(f);
    }
    // Clause-level findings: the failing rules that implement no Annex A row.
    for finding in report.findings.iter().filter(|f| report.rules.iter().any(|r| r.name == f.name)) {
        let rule = report.rules.iter().find(|r| r.name == finding.name);
        let clauses = rule.map(|r| r.clauses.clone()).unwrap_or_default();
        if clauses.is_empty() {
            continue;
        }
        let entity = finding.entity.clone().unwrap_or_default();
        findings.push(json!({
            "uuid": uuid(project, &format!("clause-finding/{}/{entity}", finding.name)),
            "title": format!("{} {}", finding.name, entity).trim_end().to_string(),
            "description": finding.message,
            "props": [{ "name": "severity", "ns": "https://aims.example/ns", "value": token(&format!("{:?}", finding.severity).to_lowercase()) }],
            "target": {
                "type": "objective-id",
                "target-id": token(&format!("clause-{}", clauses[0])),
                "status": { "state": "not-satisfied" },
            },
            "related-observations": [{ "observation-uuid": observation_uuid(&finding.name) }],
        }));
    }
    let risks: Vec<Json> = report
        .risks
        .iter()
        .flat_map(|risk| risk.entries.iter().filter(|e| e.above_appetite).map(move |e| (risk, e)))
        .map(|(risk, e)| {
            json!({
                "uuid": uuid(project, &format!("risk/{}/{}", risk.name, e.entity)),
                "title": format!("{} {}", risk.name, e.entity),
                "description": risk.title.clone().unwrap_or_else(|| risk.name.clone()),
                "statement": format!(
                    "Above appetite on {as_of} for {}; treated by {}.",
                    e.entity,
                    if risk.treated_by.is_empty() { "no control".to_string() } else { risk.treated_by.join(", ") }
                ),
                "status": "open",
            })
        })
        .collect();
    let mut result = json!({
        "uuid": uuid(project, &format!("result/{as_of}")),
        "title": format!("aims check {project} as of {as_of}"),
        "description": "Every control and audit rule of the project evaluated over its facts on the evaluation date.",
        "start": date_time(as_of),
        "reviewed-controls": { "control-selections": [{ "include-all": {} }] },
    });
    if !observations.is_empty() {
        result["observations"] = Json::Array(observations);
    }
    if !risks.is_empty() {
        result["risks"] = Json::Array(risks);
    }
    if !findings.is_empty() {
        result["findings"] = Json::Array(findings);
    }
    json!({
        "assessment-results": {
            "uuid": uuid(project, "assessment-results"),
            "metadata": metadata(format!("AIMS assessment results: {project}"), as_of),
            "import-ap": {
                "href": "aims.toml",
                "remarks": "The assessment plan is the aims project itself: its policy files and fact sources.",
            },
            "results": [result],
        }
    })
}

/// One implemented requirement of the component definition.
fn implemented_requirement(project: &str, entry: &SoaEntry) -> Json {
    let r = &entry.row;
    let implementation = match r.implementation {
        Some(Implementation::Implemented) => "implemented",
        Some(Implementation::Partially) => "partial",
        Some(Implementation::Planned) => "planned",
        Some(Implementation::NotImplemented) | None => "not-applicable",
    };
    let evidence: Vec<String> = entry.evidence.iter().take(20).map(|e| e.to_string()).collect();
    let mut remarks = format!("Test result: {}.", r.status.as_str());
    if !evidence.is_empty() {
        remarks.push_str(&format!(" Evidence: {}.", evidence.join("; ")));
    }
    if !r.implemented_by.is_empty() {
        remarks.push_str(&format!(" Checked by: {}.", r.implemented_by.join(", ")));
    }
    json!({
        "uuid": uuid(project, &format!("requirement/{}", r.id)),
        "control-id": token(&r.id),
        "description": r.justification,
        "props": [{ "name": "implementation-status", "value": implementation }],
        "remarks": remarks,
    })
}

/// The Statement of Applicability as a component definition (`aims soa --format oscal`).
pub fn component_definition(project: &str, framework: Framework, statement: &Statement) -> Json {
    let as_of = statement.document.as_of.as_str();
    let included: Vec<Json> = statement
        .rows
        .iter()
        .chain(&statement.organisation_controls)
        .filter(|e| e.row.status != SoaStatus::Excluded)
        .map(|e| implemented_requirement(project, e))
        .collect();
    let excluded: Vec<String> = statement
        .rows
        .iter()
        .filter(|e| e.row.status == SoaStatus::Excluded)
        .map(|e| format!("{} excluded: {}", e.row.id, e.row.justification))
        .collect();
    // A control implementation has no remarks: the exclusions and their
    // justifications end its description.
    let mut description =
        format!("The Statement of Applicability of {project} against {} as of {as_of}.", framework.name());
    for x in &excluded {
        description.push_str(&format!("\n{x}"));
    }
    let implementation = json!({
        "uuid": uuid(project, &format!("control-implementation/{}", framework.name())),
        "source": format!("aims-stdlib:{}", framework.module()),
        "description": description,
        "implemented-requirements": included,
    });
    let doc = &statement.document;
    let mut meta = metadata(format!("Statement of Applicability: {project}"), as_of);
    if let Some(version) = &doc.version {
        meta["version"] = Json::String(version.clone());
    }
    let control: Vec<String> = [
        doc.record.as_ref().map(|r| format!("record {r}")),
        doc.owner.as_ref().map(|o| format!("owner {o}")),
        doc.approver.as_ref().map(|a| format!("approved by {a}")),
        doc.approval_date.as_ref().map(|d| format!("on {d}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    meta["remarks"] = Json::String(if control.is_empty() {
        doc.note.clone().unwrap_or_default()
    } else {
        format!("Document control: {}.", control.join(", "))
    });
    json!({
        "component-definition": {
            "uuid": uuid(project, &format!("component-definition/{}", framework.name())),
            "metadata": meta,
            "components": [{
                "uuid": uuid(project, "component/aims"),
                "type": "this-system",
                "title": format!("{project} AI management system"),
                "description": "The AI management system whose controls the Statement of Applicability lists.",
                "control-implementations": [implementation],
            }],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_name_based_and_in_the_version_5_layout() {
        let a = uuid("p", "finding/A.6.2.4");
        assert_eq!(a, uuid("p", "finding/A.6.2.4"));
        assert_ne!(a, uuid("p", "finding/A.6.2.5"));
        assert_ne!(a, uuid("q", "finding/A.6.2.4"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('5') && matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "{a}");
    }

    #[test]
    fn identifiers_become_tokens() {
        assert_eq!(token("A.6.2.4"), "A.6.2.4");
        assert_eq!(token("6.1.2"), "_6.1.2");
        assert_eq!(token("GOVERN 1.1"), "GOVERN-1.1");
    }
}
