//! What-if answers computed from the changed chunk only.
//!
//! Before and after an edit of one fact, the engine reads the memoized
//! per-chunk queries of every rule, risk and objective that can see the
//! edited fact (its own chunk for rules about that entity, every chunk for
//! rules that reach into it; see [`crate::eval::reads`]) and returns what
//! differs. Nothing proportional to the inventory is rebuilt.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::db::{self, RuleName, CHUNK_ROWS};
use crate::eval::{self, reads};
use crate::ir::*;
use crate::syntax::ast::Severity;

/// The memoized results that can see one fact: per (rule, chunk) outcome
/// lists, per (risk, chunk) entries, and objective statuses. Lists are
/// shared (`Arc`), so a view costs one pointer per chunk, and comparing two
/// views skips every list that was not recomputed.
#[derive(Clone, Debug, Default)]
pub struct View {
    rules: Vec<(RuleId, Arc<eval::OutcomeChunk>)>,
    risks: Vec<(RiskId, Arc<Vec<eval::RiskEntry>>)>,
    objectives: Vec<(String, ObjectiveStatus)>,
}

/// One change a what-if caused.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A rule's outcome for an entity changed.
    Outcome {
        /// The control or audit.
        rule: String,
        /// The entity's key (`-` for the organisation).
        entity: Arc<str>,
        /// The outcome before the edit.
        before: Option<OutcomeKind>,
        /// The outcome after the edit.
        after: Option<OutcomeKind>,
    },
    /// A risk's residual level for an entity changed.
    Risk {
        /// The risk.
        risk: String,
        /// The entity's key (`-` for the organisation).
        entity: Arc<str>,
        /// The residual level's name before the edit; `None` when the score fell in no level.
        before: Option<String>,
        /// The residual level's name after the edit; `None` when the score falls in no level.
        after: Option<String>,
    },
    /// An objective's status changed.
    Objective {
        /// The objective.
        objective: String,
        /// The status before the edit.
        before: Option<ObjectiveStatus>,
        /// The status after the edit.
        after: Option<ObjectiveStatus>,
    },
}

/// A finding that appeared or disappeared: (severity, what, name, entity).
pub type FindingKey = (Severity, &'static str, String, Option<Arc<str>>);

/// Everything one what-if changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WhatIf {
    /// The outcomes, risk levels and objective statuses that changed.
    pub changes: Vec<Change>,
    /// The findings the edit raised.
    pub findings_added: Vec<FindingKey>,
    /// The findings the edit cleared.
    pub findings_removed: Vec<FindingKey>,
}

/// What an edit can change: one fact (a row of an entity), or everything
/// (a value every rule may read: a measure of the organisation).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Edited {
    Row(EntityId, u32),
    Everything,
}

/// The entities whose rows each rule, risk and objective reads besides
/// its subject's own row ([`reads::rows_read`]), by index in the program:
/// fixed by the policy, so found once for it, not at every what-if.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct EntitiesRead {
    rules: Vec<BTreeSet<EntityId>>,
    risks: Vec<BTreeSet<EntityId>>,
    objectives: Vec<BTreeSet<EntityId>>,
}

/// What the policy's rules, risks and objectives read ([`EntitiesRead`]).
#[salsa::tracked(returns(clone))]
pub(crate) fn entities_read(db: &dyn salsa::Database, ws: db::Workspace) -> Arc<EntitiesRead> {
    let program = &db::compiled(db, ws).program;
    let rules = program
        .rules
        .iter()
        .map(|rule| reads::rows_read(program, rule.subject.as_ref().map(|s| s.entity), reads::rule_exprs(rule)))
        .collect();
    let risks = program
        .risks
        .iter()
        .map(|risk| reads::rows_read(program, risk.subject.as_ref().map(|s| s.entity), reads::risk_exprs(risk)))
        .collect();
    let objectives = program
        .objectives
        .iter()
        .map(|objective| {
            let mut exprs = vec![&objective.measure];
            if let Some(h) = &objective.history {
                exprs.extend([&h.value, &h.date]);
                exprs.extend(h.filter.iter());
            }
            let mut read = reads::rows_read(program, None, exprs);
            if let Some(Source::Entities(e)) = objective.history.as_ref().map(|h| &h.source) {
                read.insert(*e);
            }
            read
        })
        .collect();
    Arc::new(EntitiesRead { rules, risks, objectives })
}

/// The view of everything that can see what `edited` names.
pub(crate) fn view(db: &db::Database, ws: db::Workspace, edited: Edited) -> View {
    let program = &db::compiled(db, ws).program;
    let read = entities_read(db, ws);
    let tables = ws.tables(db);
    let mut view = View::default();
    // Whether an expression list reads the edited entity's other rows.
    let reads = |read: &std::collections::BTreeSet<EntityId>| match edited {
        Edited::Row(entity, _) => read.contains(&entity),
        Edited::Everything => true,
    };
    let chunks_for = |subject: EntityId, reads_entity: bool| -> Vec<db::Chunk> {
        let Some(table) = tables.get(subject.index()) else { return Vec::new() };
        let chunks = table.chunks(db);
        match edited {
            Edited::Row(entity, row) if subject == entity && !reads_entity => {
                chunks.get(row as usize / CHUNK_ROWS).copied().into_iter().collect()
            }
            Edited::Row(entity, _) if subject != entity && !reads_entity => Vec::new(),
            _ => chunks.clone(),
        }
    };
    let mut rule_reads: Vec<bool> = Vec::new();
    for ((i, rule), read) in program.rules.iter().enumerate().zip(&read.rules) {
        let subject = rule.subject.as_ref().map(|s| s.entity);
        let reads_entity = reads(read);
        rule_reads.push(reads_entity);
        let name = RuleName::new(db, rule.decl.name.clone());
        match subject {
            Some(s) => {
                for chunk in chunks_for(s, reads_entity) {
                    view.rules.push((RuleId(i as u32), db::outcomes_in(db, ws, name, chunk)));
                }
            }
            None if reads_entity => view.rules.push((RuleId(i as u32), db::single_outcome(db, ws, name))),
            None => {}
        }
    }
    for ((i, risk), read) in program.risks.iter().enumerate().zip(&read.risks) {
        let subject = risk.subject.as_ref().map(|s| s.entity);
        let reads_entity =
            reads(read) || risk.treated_by.iter().any(|r| rule_reads.get(r.index()).copied().unwrap_or(true));
        let Some(s) = subject else { continue };
        let name = RuleName::new(db, risk.decl.name.clone());
        for chunk in chunks_for(s, reads_entity) {
            view.risks.push((RiskId(i as u32), db::risk_chunk(db, ws, name, chunk)));
        }
    }
    for (objective, read) in program.objectives.iter().zip(&read.objectives) {
        if !reads(read) {
            continue;
        }
        let name = RuleName::new(db, objective.decl.name.clone());
        if let Some(result) = db::objective_status(db, ws, name) {
            view.objectives.push((objective.decl.name.clone(), result.status));
        }
    }
    view
}

/// What changed between two views of the same chunks.
pub(crate) fn diff(program: &Program, as_of: crate::time::Date, before: &View, after: &View) -> WhatIf {
    let mut result = WhatIf::default();
    let kind = |rule: RuleId, o: &eval::OutcomeRef<'_>| match o.kind {
        OutcomeKind::Fail if eval::waiver(program, rule, &o.key, as_of).is_some() => OutcomeKind::Waived,
        k => k,
    };
    for ((rule, b), (_, a)) in before.rules.iter().zip(after.rules.iter()) {
        if Arc::ptr_eq(b, a) || b == a {
            continue;
        }
        let def = program.rule(*rule);
        for (ob, oa) in b.iter().zip(a.iter()) {
            let (kb, ka) = (kind(*rule, &ob), kind(*rule, &oa));
            if kb == ka {
                continue;
            }
            let name = def.decl.name.clone();
            result.changes.push(Change::Outcome {
                rule: name.clone(),
                entity: oa.key.to_arc(),
                before: Some(kb),
                after: Some(ka),
            });
            let entity = def.subject.as_ref().map(|_| oa.key.to_arc());
            let source = if def.kind == RuleKind::Control { "control" } else { "audit" };
            if ka == OutcomeKind::Fail {
                result.findings_added.push((def.severity, source, name, entity));
            } else if kb == OutcomeKind::Fail {
                result.findings_removed.push((def.severity, source, name, entity));
            }
        }
    }
    for ((risk, b), (_, a)) in before.risks.iter().zip(after.risks.iter()) {
        if Arc::ptr_eq(b, a) || b == a {
            continue;
        }
        let def = &program.risks[risk.index()];
        let matrix = &program.matrices[def.matrix.index()];
        let level =
            |e: &eval::RiskEntry| e.residual_level.and_then(|l| matrix.levels.get(l as usize)).map(|l| l.name.clone());
        let before_by_key: BTreeMap<&Arc<str>, &eval::RiskEntry> = b.iter().map(|e| (&e.key, e)).collect();
        let after_by_key: BTreeMap<&Arc<str>, &eval::RiskEntry> = a.iter().map(|e| (&e.key, e)).collect();
        let keys: std::collections::BTreeSet<&Arc<str>> =
            before_by_key.keys().chain(after_by_key.keys()).copied().collect();
        for key in keys {
            let (eb, ea) = (before_by_key.get(key), after_by_key.get(key));
            let (lb, la) = (eb.and_then(|e| level(e)), ea.and_then(|e| level(e)));
            if lb != la {
                result.changes.push(Change::Risk {
                    risk: def.decl.name.clone(),
                    entity: key.clone(),
                    before: lb,
                    after: la,
                });
            }
            let (fb, fa) = (eb.is_some_and(|e| e.above_appetite), ea.is_some_and(|e| e.above_appetite));
            let finding = (def.severity, "risk", def.decl.name.clone(), Some(key.clone()));
            match (fb, fa) {
                (false, true) => result.findings_added.push(finding),
                (true, false) => result.findings_removed.push(finding),
                _ => {}
            }
        }
    }
    for ((name, b), (_, a)) in before.objectives.iter().zip(after.objectives.iter()) {
        if b != a {
            result.changes.push(Change::Objective { objective: name.clone(), before: Some(*b), after: Some(*a) });
        }
    }
    result
}
