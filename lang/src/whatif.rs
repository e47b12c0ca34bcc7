//! What-if answers computed from the changed chunk only.
//!
//! Before and after an edit of one fact, the engine reads the memoized
//! per-chunk queries of every rule, risk and objective that can see the
//! edited fact (its own chunk for rules about that entity, every chunk for
//! rules that reach into it; see [`crate::eval::reads`]) and returns what
//! differs. Nothing proportional to the inventory is rebuilt.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::db::{self, RuleName, CHUNK_ROWS};
use crate::eval::{self, reads};
use crate::ir::*;
use crate::syntax::ast::Severity;

/// The outcomes, risk levels and objective statuses that can see one fact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    pub outcomes: BTreeMap<(String, Arc<str>), (OutcomeKind, Severity)>,
    /// (risk, entity) → (residual level name, above appetite, severity)
    pub risks: BTreeMap<(String, Arc<str>), (String, bool, Severity)>,
    pub objectives: BTreeMap<String, ObjectiveStatus>,
}

/// One change a what-if caused.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Outcome { rule: String, entity: Arc<str>, before: Option<OutcomeKind>, after: Option<OutcomeKind> },
    Risk { risk: String, entity: Arc<str>, before: Option<String>, after: Option<String> },
    Objective { objective: String, before: Option<ObjectiveStatus>, after: Option<ObjectiveStatus> },
}

/// A finding that appeared or disappeared: (severity, what, name, entity).
pub type FindingKey = (Severity, &'static str, String, Option<Arc<str>>);

/// Everything one what-if changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WhatIf {
    pub changes: Vec<Change>,
    pub findings_added: Vec<FindingKey>,
    pub findings_removed: Vec<FindingKey>,
}

/// The view of everything that can see row `row` of `entity`.
pub(crate) fn view(db: &db::Database, ws: db::Workspace, entity: EntityId, row: u32) -> View {
    let program = &db::compiled(db, ws).program;
    let tables = ws.tables(db);
    let as_of = ws.as_of(db);
    let chunk_index = row as usize / CHUNK_ROWS;
    let mut view = View::default();
    let chunks_for = |subject: EntityId, reads_entity: bool| -> Vec<db::Chunk> {
        let Some(table) = tables.get(subject.index()) else { return Vec::new() };
        let chunks = table.chunks(db);
        if subject == entity && !reads_entity {
            chunks.get(chunk_index).copied().into_iter().collect()
        } else if subject == entity || reads_entity {
            chunks.clone()
        } else {
            Vec::new()
        }
    };
    let mut rule_reads: Vec<bool> = Vec::new();
    for (i, rule) in program.rules.iter().enumerate() {
        let subject = rule.subject.as_ref().map(|s| s.entity);
        let reads_entity = reads::rows_read(program, subject, reads::rule_exprs(rule)).contains(&entity);
        rule_reads.push(reads_entity);
        let name = RuleName::new(db, rule.decl.name.clone());
        let mut record = |o: &eval::Outcome| {
            let kind = match o.kind {
                OutcomeKind::Fail if eval::waiver(program, RuleId(i as u32), &o.key, as_of).is_some() => {
                    OutcomeKind::Waived
                }
                k => k,
            };
            view.outcomes.insert((rule.decl.name.clone(), o.key.clone()), (kind, rule.severity));
        };
        match subject {
            Some(s) => {
                for chunk in chunks_for(s, reads_entity) {
                    db::chunk_outcomes(db, ws, name, chunk).iter().for_each(&mut record);
                }
            }
            None if reads_entity => record(&db::single_outcome(db, ws, name)),
            None => {}
        }
    }
    for risk in &program.risks {
        let subject = risk.subject.as_ref().map(|s| s.entity);
        let reads_entity = reads::rows_read(program, subject, reads::risk_exprs(risk)).contains(&entity)
            || risk.treated_by.iter().any(|r| rule_reads.get(r.index()).copied().unwrap_or(true));
        let Some(s) = subject else { continue };
        let name = RuleName::new(db, risk.decl.name.clone());
        let matrix = &program.matrices[risk.matrix.index()];
        for chunk in chunks_for(s, reads_entity) {
            for e in db::risk_chunk(db, ws, name, chunk).iter() {
                let level = e.residual_level.and_then(|l| matrix.levels.get(l as usize)).map_or("?", |l| &l.name);
                view.risks.insert(
                    (risk.decl.name.clone(), e.key.clone()),
                    (level.to_string(), e.above_appetite, risk.severity),
                );
            }
        }
    }
    for objective in &program.objectives {
        let mut exprs = vec![&objective.measure];
        if let Some(h) = &objective.history {
            exprs.extend([&h.value, &h.date]);
            exprs.extend(h.filter.iter());
        }
        let mut read = reads::rows_read(program, None, exprs);
        if let Some(Source::Entities(e)) = objective.history.as_ref().map(|h| &h.source) {
            read.insert(*e);
        }
        if !read.contains(&entity) {
            continue;
        }
        let name = RuleName::new(db, objective.decl.name.clone());
        if let Some(result) = db::objective_status(db, ws, name) {
            view.objectives.insert(objective.decl.name.clone(), result.status);
        }
    }
    view
}

/// What changed between two views.
pub(crate) fn diff(before: &View, after: &View) -> WhatIf {
    let mut result = WhatIf::default();
    let keys: std::collections::BTreeSet<&(String, Arc<str>)> =
        before.outcomes.keys().chain(after.outcomes.keys()).collect();
    for key in keys {
        let (b, a) = (before.outcomes.get(key), after.outcomes.get(key));
        if b.map(|x| x.0) == a.map(|x| x.0) {
            continue;
        }
        result.changes.push(Change::Outcome {
            rule: key.0.clone(),
            entity: key.1.clone(),
            before: b.map(|x| x.0),
            after: a.map(|x| x.0),
        });
        let finding = |x: Option<&(OutcomeKind, Severity)>| x.filter(|x| x.0 == OutcomeKind::Fail).map(|x| x.1);
        match (finding(b), finding(a)) {
            (None, Some(s)) => result.findings_added.push((s, "control", key.0.clone(), Some(key.1.clone()))),
            (Some(s), None) => result.findings_removed.push((s, "control", key.0.clone(), Some(key.1.clone()))),
            _ => {}
        }
    }
    let keys: std::collections::BTreeSet<&(String, Arc<str>)> = before.risks.keys().chain(after.risks.keys()).collect();
    for key in keys {
        let (b, a) = (before.risks.get(key), after.risks.get(key));
        if b.map(|x| (&x.0, x.1)) != a.map(|x| (&x.0, x.1)) {
            if b.map(|x| &x.0) != a.map(|x| &x.0) {
                result.changes.push(Change::Risk {
                    risk: key.0.clone(),
                    entity: key.1.clone(),
                    before: b.map(|x| x.0.clone()),
                    after: a.map(|x| x.0.clone()),
                });
            }
            let finding = |x: Option<&(String, bool, Severity)>| x.filter(|x| x.1).map(|x| x.2);
            match (finding(b), finding(a)) {
                (None, Some(s)) => result.findings_added.push((s, "risk", key.0.clone(), Some(key.1.clone()))),
                (Some(s), None) => result.findings_removed.push((s, "risk", key.0.clone(), Some(key.1.clone()))),
                _ => {}
            }
        }
    }
    let keys: std::collections::BTreeSet<&String> = before.objectives.keys().chain(after.objectives.keys()).collect();
    for key in keys {
        let (b, a) = (before.objectives.get(key).copied(), after.objectives.get(key).copied());
        if b != a {
            result.changes.push(Change::Objective { objective: key.clone(), before: b, after: a });
        }
    }
    result
}
