//! What the editor shows of an evaluation: per rule, how many entities
//! pass, fail, are waived or not applicable, and why the failing ones fail.
//!
//! [`rule_summary`] is a salsa query that reads only the rule's span-free
//! logic, the exceptions (span-free), the facts and `as_of`: after an edit
//! to one control, only that control's summary is computed again, where
//! the full [`crate::eval::Evaluation`] would rebuild every rule's outcome
//! list and every finding.

use std::sync::Arc;

use crate::db::{self, RuleName, Workspace};
use crate::eval::{failure_message, OutcomeChunk, OutcomeRef};
use crate::ir::{OutcomeKind, RuleDef};
use crate::syntax::ast::ItemKind;
use crate::time::Date;

/// The most failing entities a summary keeps (the counts are exact).
pub const MAX_FAILURES_KEPT: usize = 100;

/// One failing entity of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct FailingEntity {
    /// The entity's key (`-` for a rule without `for`).
    pub key: Arc<str>,
    /// Why, one message per failed `require`: (its index, the message).
    pub failures: Vec<(usize, String)>,
}

/// The outcomes of one rule, counted, with the failing entities.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleSummary {
    /// Entities for which every `require` held.
    pub pass: u32,
    /// Failing outcomes no exception waives.
    pub fail: u32,
    /// Failing outcomes waived by an active exception.
    pub waived: u32,
    /// Entities the rule's `where` filter leaves out.
    pub not_applicable: u32,
    /// The first `MAX_FAILURES_KEPT` failing entities, in fact order.
    pub failing: Vec<FailingEntity>,
}

impl RuleSummary {
    /// `3 pass · 1 fail · 2 n/a` (waived only when some are).
    pub fn label(&self) -> String {
        let mut parts = vec![format!("{} pass", self.pass), format!("{} fail", self.fail)];
        if self.waived > 0 {
            parts.push(format!("{} waived", self.waived));
        }
        parts.push(format!("{} n/a", self.not_applicable));
        parts.join(" · ")
    }
}

/// An exception as evaluation sees it: the rule, the key, the last day.
#[derive(Clone, Debug, PartialEq)]
struct Waiver {
    rule: String,
    key: Option<String>,
    until: Date,
}

/// The exceptions as written, without their spans: unchanged by edits
/// elsewhere. Read from the declarations, not the assembled program (see
/// [`db::rule_sites`]); in a program that checks they are its exceptions,
/// since the checker reports every one it leaves out as an error.
#[salsa::tracked(returns(clone))]
fn waivers(db: &dyn salsa::Database, ws: Workspace) -> Arc<Vec<Waiver>> {
    let mut waivers = Vec::new();
    db::for_each_item(db, ws, |_, _, item| {
        let ItemKind::Exception(e) = &item.kind else { return };
        let (Some(rule), Some((until, _))) = (&e.waives, e.until) else { return };
        let key = e.target.as_ref().map(|(_, key)| key.value.clone());
        waivers.push(Waiver { rule: rule.name.clone(), key, until });
    });
    Arc::new(waivers)
}

/// The summary of one control or audit rule, by name (`None` if there is no such rule).
#[salsa::tracked(returns(clone))]
pub fn rule_summary<'db>(db: &'db dyn salsa::Database, ws: Workspace, rule: RuleName<'db>) -> Option<Arc<RuleSummary>> {
    if !db::rule_checks(db, ws, rule) {
        return None;
    }
    let logic = db::rule_logic_in(db, ws, rule)?;
    let outcomes: Vec<Arc<OutcomeChunk>> = match &logic.subject {
        None => vec![db::single_outcome(db, ws, rule)],
        Some(_) => db::rule_chunks(db, ws, rule).iter().map(|pair| db::chunk_outcomes(db, *pair)).collect(),
    };
    let waivers = waivers(db, ws);
    let as_of = ws.as_of(db);
    let name = rule.text(db);
    let waived = |key: &str| {
        waivers.iter().any(|w| w.rule == *name && as_of <= w.until && w.key.as_deref().is_none_or(|k| k == key))
    };
    let mut summary = RuleSummary::default();
    for outcome in outcomes.iter().flat_map(|chunk| chunk.iter()) {
        match outcome.kind {
            OutcomeKind::Pass => summary.pass += 1,
            OutcomeKind::NotApplicable => summary.not_applicable += 1,
            OutcomeKind::Waived => summary.waived += 1,
            OutcomeKind::Fail if waived(&outcome.key) => summary.waived += 1,
            OutcomeKind::Fail => {
                summary.fail += 1;
                if summary.failing.len() < MAX_FAILURES_KEPT {
                    summary.failing.push(failing(&logic, outcome));
                }
            }
        }
    }
    Some(Arc::new(summary))
}

fn failing(rule: &RuleDef, outcome: OutcomeRef<'_>) -> FailingEntity {
    let requirements = rule.requirements();
    let failures =
        outcome.failures.iter().map(|f| (f.index, failure_message(requirements.get(f.index).copied(), f))).collect();
    FailingEntity { key: outcome.key.to_arc(), failures }
}

/// The summary of a rule by name.
pub fn summary(db: &dyn salsa::Database, ws: Workspace, rule: &str) -> Option<Arc<RuleSummary>> {
    rule_summary(db, ws, RuleName::new(db, rule.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Format, Mapping};
    use crate::Engine;

    const POLICY: &str = "entity S { id: Text key, ok: Bool, live: Bool }\n\
control c for s: S where s.live { require s.ok because \"it must be ok\" }\n\
control d for s: S { require true }\n\
exception e waives c for S \"b\" until 2027-01-01 approved by \"me\"\n";
    const FACTS: &str = r#"{ "S": [
        { "id": "a", "ok": false, "live": true }, { "id": "b", "ok": false, "live": true },
        { "id": "c", "ok": true, "live": true }, { "id": "d", "ok": true, "live": false } ] }"#;

    #[test]
    fn a_summary_counts_outcomes_and_keeps_the_reasons() {
        let mut engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)])
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        engine.set_as_of(Date::parse("2026-06-01").expect("date"));
        let summary = summary(engine.db(), engine.workspace(), "c").expect("c is a rule");
        assert_eq!((summary.pass, summary.fail, summary.waived, summary.not_applicable), (1, 1, 1, 1));
        assert_eq!(summary.label(), "1 pass · 1 fail · 1 waived · 1 n/a");
        assert_eq!(&*summary.failing[0].key, "a");
        assert_eq!(summary.failing[0].failures, vec![(0, "it must be ok (`s.ok`)".to_string())]);
        assert!(super::summary(engine.db(), engine.workspace(), "nope").is_none());

        engine.set_as_of(Date::parse("2027-06-01").expect("date"));
        let expired = super::summary(engine.db(), engine.workspace(), "c").expect("c");
        assert_eq!(expired.fail, 2, "the exception has expired");
    }

    #[test]
    fn editing_one_control_summarises_only_that_control_again() {
        let db = crate::db::Database::with_log();
        let mut engine =
            Engine::from_texts_with("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)], db)
                .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        for rule in ["c", "d"] {
            summary(engine.db(), engine.workspace(), rule);
        }
        engine.db().take_log();
        let file = engine.policy_files()[0];
        assert!(engine.replace_policy_text(file, &POLICY.replace("require true", "require 1 > 0")));
        for rule in ["c", "d"] {
            summary(engine.db(), engine.workspace(), rule);
        }
        let log = engine.db().take_log();
        let ran: Vec<&String> = log.iter().filter(|l| l.starts_with("rule_summary")).collect();
        assert_eq!(ran.len(), 1, "only `d` changed: {log:#?}");
        assert_eq!(
            log.iter().filter(|l| l.starts_with("parse_declaration")).count(),
            1,
            "one declaration re-parsed: {log:#?}"
        );
        // The editor's summaries never wait for the assembled program.
        assert!(!log.iter().any(|l| l.starts_with("compiled(")), "{log:#?}");
    }
}
