//! What `aims soa` adds to the rows of the Statement of Applicability, for
//! an auditor: per row the checks that test it and their outcomes, the
//! evidence (documents with id and version, fact records with the outcome
//! of the rule that read them, the `exclude` for an exclusion) and the
//! waivers with approver, expiry and reason; for the statement, the
//! organisation's own controls and document control (record, version,
//! owner, approver, approval date, as-of).
//!
//! Documents and document control are read from the `Document` entity of
//! `aims.records` (its `kind`, `title`, `version`, `date`, `approved`,
//! `owner`, `approved_by`, `approved_on`), when the policies load it. A
//! document is evidence for a row when one of its rules names the
//! document's kind (`documented(use_process)`, `d.kind == context_analysis`).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::diag::Sources;
use crate::facts::Facts;
use crate::ir::{EntityId, OutcomeKind, Program, RuleKind, Ty, Value};
use crate::syntax::ast::Severity;

use super::action_plan::ActionPlans;
use super::soa::{self, Framework, SoaRow, SoaStatus};
use super::{ExceptionStatus, Location, OutcomeCounts, Report};

/// At most this many records of one entity are listed for one
/// organisation-level rule (the count of the others follows).
const RECORDS_PER_RULE: usize = 50;

/// The Statement of Applicability with its evidence and document control.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Statement {
    /// Version, owner, approval and the as-of date of the statement.
    pub document: DocumentControl,
    /// One entry per control of the catalogue, in its order.
    pub rows: Vec<SoaEntry>,
    /// The organisation's own controls (requirements its policy declares
    /// and a rule implements).
    pub organisation_controls: Vec<SoaEntry>,
}

/// Document control of the statement, from the approved `Document` of kind
/// `statement_of_applicability` (the latest one).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct DocumentControl {
    /// The key of the `Document` record.
    pub record: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Who owns it.
    pub owner: Option<String>,
    /// Who approved it.
    pub approver: Option<String>,
    /// When it was approved (`approved_on`, else its `date`).
    pub approval_date: Option<String>,
    /// The date the statement's results are computed for.
    pub as_of: String,
    /// What is missing, when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A row with what an auditor checks it against.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SoaEntry {
    /// The row itself.
    #[serde(flatten)]
    pub row: SoaRow,
    /// The rules that test it, with their outcomes.
    pub checks: Vec<Check>,
    /// Documents, fact records and policy declarations behind the row.
    pub evidence: Vec<Evidence>,
    /// Exceptions that waive one of its rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<Waiver>,
}

/// A rule that tests a row, and its outcomes added up.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Check {
    /// The rule's name.
    pub rule: String,
    /// Control or audit.
    pub kind: RuleKind,
    /// The severity of its findings.
    pub severity: Severity,
    /// Its outcomes.
    pub counts: OutcomeCounts,
}

/// One piece of evidence for a row.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// Documented information: a `Document` record.
    Document {
        /// Its key.
        id: String,
        /// Its kind (`EvidenceKind`).
        kind: String,
        /// Its title.
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Its version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
        /// Its date.
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<String>,
        /// Whether it is approved.
        approved: bool,
    },
    /// A fact the row's rule was checked for or read, with the outcome.
    Record {
        /// The entity type.
        entity: String,
        /// The fact's key.
        key: String,
        /// The rule.
        rule: String,
        /// The rule's outcome (for the fact, or for the organisation).
        outcome: OutcomeKind,
    },
    /// More records of the same entity and rule, not listed.
    More {
        /// The entity type.
        entity: String,
        /// The rule.
        rule: String,
        /// How many more.
        count: usize,
    },
    /// A declaration of the policy: the `exclude` of an excluded control.
    Policy {
        /// What it declares.
        what: String,
        /// Where (`file:line:column`).
        location: String,
    },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Document { id, version, date, approved, .. } => {
                write!(f, "document {id}")?;
                if let Some(v) = version {
                    write!(f, " v{v}")?;
                }
                if let Some(d) = date {
                    write!(f, " of {d}")?;
                }
                if !approved {
                    write!(f, " (not approved)")?;
                }
                Ok(())
            }
            Evidence::Record { entity, key, rule, outcome } => {
                let outcome = serde_json::to_value(outcome).ok();
                let outcome = outcome.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
                write!(f, "{entity} {key} ({rule}: {outcome})")
            }
            Evidence::More { entity, rule, count } => write!(f, "{count} more {entity} ({rule})"),
            Evidence::Policy { what, location } => write!(f, "{what} at {location}"),
        }
    }
}

/// An exception that waives one of a row's rules.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Waiver {
    /// The exception's name.
    pub exception: String,
    /// The rule it waives.
    pub rule: String,
    /// The entity it waives the rule for, when one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The last day it waives the rule.
    pub until: String,
    /// Active or expired on the statement's date.
    pub status: ExceptionStatus,
    /// Why it was granted.
    pub because: Option<String>,
}

impl fmt::Display for Waiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} waives {}", self.exception, self.rule)?;
        if let Some(e) = &self.entity {
            write!(f, " for {e}")?;
        }
        write!(f, " until {}", self.until)?;
        match &self.approved_by {
            Some(a) => write!(f, ", approved by {a}"),
            None => write!(f, ", approver not recorded"),
        }
    }
}

/// A fact value as text, when it has a simple one.
pub(super) fn show(program: &Program, value: &Value) -> Option<String> {
    match value {
        Value::Text(t) => Some(t.to_string()),
        Value::Date(d) => Some(d.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Ref(_, key) => Some(key.to_string()),
        Value::Enum(e, i) => program.enums.get(e.index()).and_then(|d| d.variants.get(*i as usize)).cloned(),
        _ => None,
    }
}

/// The `Document` entity and the names of its kinds, when the policies load `aims.records`.
struct Documents<'a> {
    entity: EntityId,
    kinds: BTreeSet<&'a str>,
}

impl<'a> Documents<'a> {
    fn of(program: &'a Program) -> Option<Documents<'a>> {
        let entity = program.entity_by_name("Document")?;
        let (_, kind) = program.entity(entity).field("kind")?;
        let Ty::Enum(id) = kind.ty else { return None };
        let kinds = program.enums.get(id.index())?.variants.iter().map(String::as_str).collect();
        Some(Documents { entity, kinds })
    }

    /// A field of a document, as text.
    fn field(&self, program: &Program, facts: &dyn Facts, row: u32, name: &str) -> Option<String> {
        let (index, _) = program.entity(self.entity).field(name)?;
        show(program, facts.values(self.entity, row)?.get(index as usize)?)
    }

    /// The documents of one kind, as evidence, in load order.
    fn of_kind(&self, program: &Program, facts: &dyn Facts, kind: &str) -> Vec<Evidence> {
        (0..facts.len(self.entity))
            .filter(|row| self.field(program, facts, *row, "kind").as_deref() == Some(kind))
            .map(|row| Evidence::Document {
                id: facts.key_of(program, self.entity, row).to_string(),
                kind: kind.to_string(),
                title: self.field(program, facts, row, "title"),
                version: self.field(program, facts, row, "version"),
                date: self.field(program, facts, row, "date"),
                approved: self.field(program, facts, row, "approved").as_deref() == Some("true"),
            })
            .collect()
    }

    /// Document control from the latest approved statement of applicability.
    fn control(&self, program: &Program, facts: &dyn Facts, as_of: &str) -> DocumentControl {
        let field = |row: u32, name: &str| self.field(program, facts, row, name);
        let latest = (0..facts.len(self.entity))
            .filter(|row| field(*row, "kind").as_deref() == Some("statement_of_applicability"))
            .filter(|row| field(*row, "approved").as_deref() == Some("true"))
            .max_by_key(|row| (field(*row, "approved_on").or_else(|| field(*row, "date")), *row));
        match latest {
            Some(row) => DocumentControl {
                record: Some(facts.key_of(program, self.entity, row).to_string()),
                title: field(row, "title"),
                version: field(row, "version"),
                owner: field(row, "owner"),
                approver: field(row, "approved_by"),
                approval_date: field(row, "approved_on").or_else(|| field(row, "date")),
                as_of: as_of.to_string(),
                note: None,
            },
            None => DocumentControl {
                note: Some(
                    "no approved Document of kind statement_of_applicability is recorded: record the approved statement as documented information (clause 6.1.3)"
                        .to_string(),
                ),
                ..unrecorded(as_of)
            },
        }
    }
}

/// Document control with nothing recorded.
fn unrecorded(as_of: &str) -> DocumentControl {
    DocumentControl {
        record: None,
        title: None,
        version: None,
        owner: None,
        approver: None,
        approval_date: None,
        as_of: as_of.to_string(),
        note: Some(
            "the policies do not load aims.records: no Document records to take document control from".to_string(),
        ),
    }
}

/// The identifiers in a condition, in order.
fn words(source: &str) -> impl Iterator<Item = &str> {
    source.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// The entities a condition quantifies over (`exists x: Entity`, `all x: Entity`).
fn quantified<'s>(program: &Program, source: &'s str) -> Vec<&'s str> {
    let tokens: Vec<&str> = source.split_whitespace().collect();
    let mut out = Vec::new();
    for pair in tokens.windows(2) {
        let name = pair[1].trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        if pair[0].ends_with(':') && program.entity_by_name(name).is_some() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The statement of `framework` with evidence and document control; its
/// rows are empty when the program does not load the catalogue.
pub fn build(
    program: &Program,
    sources: &Sources,
    facts: &dyn Facts,
    report: &Report,
    framework: Framework,
) -> Statement {
    let documents = Documents::of(program);
    let document = match &documents {
        Some(d) => d.control(program, facts, &report.as_of),
        None => unrecorded(&report.as_of),
    };
    let plans = ActionPlans::read(program, facts, &report.as_of);
    let entry = |row: SoaRow| detail(program, sources, facts, report, documents.as_ref(), planned(&plans, row));
    let rows = soa::statement(program, sources, &report.rules, framework).into_iter().map(entry).collect();
    let organisation_controls = if framework == Framework::Iso42001 {
        soa::organisation_controls(program, sources, &report.rules).into_iter().map(entry).collect()
    } else {
        Vec::new()
    };
    Statement { document, rows, organisation_controls }
}

/// A control not implemented yet that an open action plans: `planned`,
/// with the action (a partially implemented one keeps its status and gets
/// the action); its note, and the justification of a row that nothing
/// implements yet, say by whom and by when.
fn planned(plans: &ActionPlans, mut row: SoaRow) -> SoaRow {
    let open = [Some(soa::Implementation::NotImplemented), Some(soa::Implementation::Partially)];
    if !open.contains(&row.implementation) {
        return row;
    }
    let Some(action) = plans.for_requirement(&row.id) else { return row };
    if row.implementation == Some(soa::Implementation::NotImplemented) {
        row.implementation = Some(soa::Implementation::Planned);
    }
    let owner = action.owner.as_deref().map_or(String::new(), |o| format!(", owner {o}"));
    let what = action.description.as_deref().map_or(String::new(), |d| format!(": {}", d.trim_end_matches('.')));
    let overdue = if action.overdue { " (overdue)" } else { "" };
    let plan = format!("planned by action {}{what}{owner}, due {}{overdue}", action.action, action.due);
    if row.status == SoaStatus::NotAddressed {
        row.justification = format!("Included: {plan}.");
    }
    row.note = Some(match row.note.take() {
        Some(note) if row.status != SoaStatus::NotAddressed => format!("{note}; {plan}"),
        _ => plan,
    });
    row.plan = Some(action.clone());
    row
}

/// The checks, evidence and waivers of one row.
fn detail(
    program: &Program,
    sources: &Sources,
    facts: &dyn Facts,
    report: &Report,
    documents: Option<&Documents>,
    row: SoaRow,
) -> SoaEntry {
    let mut checks = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut seen_documents = BTreeSet::new();
    for name in &row.implemented_by {
        let Some(def) = program.rule_by_name(name).map(|id| program.rule(id)) else { continue };
        let Some(view) = report.rules.iter().find(|r| &r.name == name) else { continue };
        checks.push(Check {
            rule: name.clone(),
            kind: view.kind,
            severity: view.severity,
            counts: view.counts.clone(),
        });
        let sources_of: Vec<&str> = def.requirements().iter().map(|q| q.source.as_str()).collect();
        // Documents whose kind the rule names.
        let mut kinds: Vec<&str> = Vec::new();
        if let Some(docs) = documents {
            for word in sources_of.iter().flat_map(|s| words(s)) {
                if docs.kinds.contains(word) && !kinds.contains(&word) {
                    kinds.push(word);
                }
            }
            for kind in &kinds {
                for doc in docs.of_kind(program, facts, kind) {
                    if let Evidence::Document { id, .. } = &doc {
                        if seen_documents.insert(id.clone()) {
                            evidence.push(doc);
                        }
                    }
                }
            }
        }
        match &def.subject {
            // The facts the rule was checked for, with their outcomes; when
            // none was in scope, the facts it found out of scope (why there
            // was nothing to check).
            Some(subject) => {
                let entity = &program.entity(subject.entity).decl.name;
                let in_scope = view.counts.pass + view.counts.fail + view.counts.waived > 0;
                let shown = view
                    .outcomes
                    .iter()
                    .filter(|o| !in_scope || o.status != OutcomeKind::NotApplicable)
                    .take(if in_scope { usize::MAX } else { RECORDS_PER_RULE });
                for outcome in shown {
                    evidence.push(Evidence::Record {
                        entity: entity.clone(),
                        key: outcome.entity.to_arc().to_string(),
                        rule: name.clone(),
                        outcome: outcome.status,
                    });
                }
            }
            // An organisation-level rule: the facts it quantifies over.
            None => {
                let outcome = view.outcomes.iter().next().map_or(OutcomeKind::NotApplicable, |o| o.status);
                let mut entities: Vec<&str> = Vec::new();
                for source in &sources_of {
                    for e in quantified(program, source) {
                        if !entities.contains(&e) {
                            entities.push(e);
                        }
                    }
                }
                for e in entities {
                    let Some(id) = program.entity_by_name(e) else { continue };
                    if documents.is_some_and(|d| d.entity == id) && !kinds.is_empty() {
                        continue;
                    }
                    let count = facts.len(id) as usize;
                    for row in 0..count.min(RECORDS_PER_RULE) {
                        evidence.push(Evidence::Record {
                            entity: e.to_string(),
                            key: facts.key_of(program, id, row as u32).to_string(),
                            rule: name.clone(),
                            outcome,
                        });
                    }
                    if count > RECORDS_PER_RULE {
                        evidence.push(Evidence::More {
                            entity: e.to_string(),
                            rule: name.clone(),
                            count: count - RECORDS_PER_RULE,
                        });
                    }
                }
            }
        }
    }
    if row.status == SoaStatus::Excluded {
        for x in program.excludes.iter().filter(|x| x.requirement == row.id) {
            evidence.push(Evidence::Policy {
                what: format!("exclude {}", x.requirement),
                location: Location::of(sources, x.span).to_string(),
            });
        }
    }
    let waivers = report
        .exceptions
        .iter()
        .filter(|x| row.implemented_by.contains(&x.waives))
        .map(|x| Waiver {
            exception: x.name.clone(),
            rule: x.waives.clone(),
            entity: x.entity.clone(),
            approved_by: x.approved_by.clone(),
            until: x.until.clone(),
            status: x.status,
            because: program.exceptions.iter().find(|d| d.decl.name == x.name).and_then(|d| d.because.clone()),
        })
        .collect();
    SoaEntry { row, checks, evidence, waivers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Date;

    fn statement(policy: &str) -> Statement {
        let mut engine = crate::Engine::from_texts("p.aims", policy, &[]).expect("the policy loads");
        let evaluation = engine.evaluate(Date::parse("2026-06-30").expect("date"));
        let report = Report::build("p", engine.program(), &engine.facts(), engine.sources(), &evaluation);
        build(engine.program(), engine.sources(), &engine.facts(), &report, Framework::Iso42001)
    }

    fn row<'s>(s: &'s Statement, id: &str) -> &'s SoaEntry {
        s.rows.iter().chain(&s.organisation_controls).find(|e| e.row.id == id).expect(id)
    }

    const BASE: &str = r#"
use aims
use iso42001
fact Person { id: "ceo", name: "CEO", top_management: true }
fact Document { id: "soa", kind: statement_of_applicability, title: "SoA", version: "4.1", date: 2026-01-10,
  approved: true, approved_by: "ceo", owner: "ceo" }
fact Document { id: "use", kind: use_process, title: "Responsible use", version: "2", date: 2026-01-10, approved: true }
fact AISystem { id: "a", name: "A", status: deployed, intended_use: "x" }
fact AISystem { id: "b", name: "B", status: deployed }
exclude A.10.4 because "we provide no AI system or service to customers"
exception b_intended
  waives intended_use for AISystem "b"
  until 2026-09-30
  approved by "CEO"
  because "the use statement is being rewritten"
"#;

    #[test]
    fn every_row_has_a_justification_and_evidence_and_document_control_is_read() {
        let s = statement(BASE);
        assert_eq!(s.rows.len(), 38);
        assert_eq!(s.document.record.as_deref(), Some("soa"));
        assert_eq!(s.document.version.as_deref(), Some("4.1"));
        assert_eq!(s.document.owner.as_deref(), Some("ceo"));
        assert_eq!(s.document.approver.as_deref(), Some("ceo"));
        assert_eq!(s.document.approval_date.as_deref(), Some("2026-01-10"));
        assert_eq!(s.document.as_of, "2026-06-30");
        for e in &s.rows {
            assert!(!e.row.justification.is_empty(), "{}", e.row.id);
        }
        // A.9.2 is shown by its document, with id and version.
        let use_process = row(&s, "A.9.2");
        assert!(use_process.evidence.iter().any(|x| matches!(x,
            Evidence::Document { id, version: Some(v), approved: true, .. } if id == "use" && v == "2")));
        assert!(use_process.row.justification.starts_with("Included: "), "{}", use_process.row.justification);
    }

    #[test]
    fn an_exclusion_is_justified_by_its_because_and_cites_its_declaration() {
        let s = statement(BASE);
        let customers = row(&s, "A.10.4");
        assert_eq!(customers.row.decision, soa::Decision::Excluded);
        assert_eq!(customers.row.implementation, None);
        assert_eq!(customers.row.justification, "we provide no AI system or service to customers");
        assert!(matches!(&customers.evidence[..], [Evidence::Policy { what, .. }] if what == "exclude A.10.4"));
    }

    #[test]
    fn implementation_status_is_apart_from_the_test_result() {
        let s = statement(BASE);
        // One system passes, one is waived: implemented in part, test result passing.
        let intended = row(&s, "A.9.4");
        assert_eq!(intended.row.status, SoaStatus::Passing);
        assert_eq!(intended.row.implementation, Some(soa::Implementation::Partially));
        let waiver = &intended.waivers[0];
        assert_eq!((waiver.approved_by.as_deref(), waiver.until.as_str()), (Some("CEO"), "2026-09-30"));
        assert_eq!(waiver.because.as_deref(), Some("the use statement is being rewritten"));
        // Every system fails event logging: not implemented, test result failing.
        let logging = row(&s, "A.6.2.8");
        assert_eq!(logging.row.status, SoaStatus::Failing);
        assert_eq!(logging.row.implementation, Some(soa::Implementation::NotImplemented));
        assert_eq!(logging.evidence.len(), 2);
        // No concern raised: nothing to check, included and implemented, with a note.
        let concerns =
            statement("use aims\nuse iso42001\nfact Document { id: \"k\", kind: concern_process, approved: true }\n");
        let a33 = row(&concerns, "A.3.3");
        assert_eq!(a33.row.status, SoaStatus::Passing);
        let nothing = statement("use aims\nuse iso42001\n");
        let a84 = row(&nothing, "A.9.4");
        assert_eq!(a84.row.status, SoaStatus::NothingToCheck);
        assert_eq!(a84.row.decision, soa::Decision::Included);
        assert_eq!(a84.row.implementation, Some(soa::Implementation::Implemented));
        assert!(a84.row.note.as_deref().is_some_and(|n| n.contains("not an exclusion")), "{:?}", a84.row.note);
        assert!(nothing.document.note.is_some() && nothing.document.record.is_none());
    }

    #[test]
    fn an_open_action_plans_a_control_with_its_due_date_and_an_overdue_one_shows() {
        let plans = "fact Person { id: \"kim\", name: \"Kim\" }\n\
            fact ActionPlan { id: \"ap-log\", requirement: \"A.6.2.8\", owner: \"kim\", due: 2026-05-31 }\n\
            fact ActionPlan { id: \"ap-use\", requirement: \"A.9.4\", due: 2026-09-30 }\n\
            fact ActionPlan { id: \"ap-done\", requirement: \"A.6.2.8\", due: 2026-12-31, completed_on: 2026-06-01 }\n";
        let s = statement(&format!("{BASE}{plans}"));
        // Every system fails event logging: not implemented, so planned; due before the as-of date.
        let logging = row(&s, "A.6.2.8");
        assert_eq!(logging.row.implementation, Some(soa::Implementation::Planned));
        let plan = logging.row.plan.as_ref().expect("the open plan");
        assert_eq!((plan.action.as_str(), plan.due.as_str(), plan.overdue), ("ap-log", "2026-05-31", true));
        assert_eq!(plan.owner.as_deref(), Some("kim"));
        assert!(
            logging.row.note.as_deref().is_some_and(|n| n.contains("due 2026-05-31 (overdue)")),
            "{:?}",
            logging.row.note
        );
        // Partially implemented keeps its status and carries the action, not overdue yet.
        let intended = row(&s, "A.9.4");
        assert_eq!(intended.row.implementation, Some(soa::Implementation::Partially));
        assert!(intended.row.plan.as_ref().is_some_and(|p| !p.overdue && p.due == "2026-09-30"));
        // Implemented controls carry no plan; without plans nothing is planned.
        assert!(row(&s, "A.2.2").row.plan.is_none());
        let text = soa::to_text("p", Framework::Iso42001, &s);
        assert!(text.contains("planned, OVERDUE"), "{text}");
        assert!(text.contains("2 with an open action plan, 1 of them overdue"), "{text}");
        let none = statement(BASE);
        assert_eq!(row(&none, "A.6.2.8").row.implementation, Some(soa::Implementation::NotImplemented));
    }

    #[test]
    fn the_organisations_own_controls_are_rows_with_the_risks_and_obligations_behind_them() {
        let s = statement(&format!(
            "{BASE}\nrequirement ORG-1 \"Every system has a stated use\"\nmap ORG-1 to A.9.4\n\
             /// Our customers' contracts ask for a written use of every system.\n\
             control stated_use implements ORG-1 for s: AISystem {{ require s.intended_use is some }}\n"
        ));
        let own = row(&s, "ORG-1");
        assert_eq!(own.row.implemented_by, ["stated_use"]);
        assert!(own.row.justification.contains("contracts ask for a written use"), "{}", own.row.justification);
        let a94 = row(&s, "A.9.4");
        assert!(a94.row.obligations.iter().any(|o| o == "ORG-1"), "{:?}", a94.row.obligations);
    }
}
