//! Two evaluations compared without copying them: rule by rule and chunk
//! by chunk, skipping every chunk whose memoized outcome list is the same
//! shared allocation in both (or equal), then the findings of only what
//! changed, found by binary search in the sorted finding lists.
//!
//! An evaluation refers to its program by index, and declarations change
//! the program, so each side comes with an [`Outline`]: the names, kinds
//! and severities of its declarations (a few strings per declaration,
//! nothing per fact).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use aims_lang::eval::{self, Evaluation, Finding, FindingSource, OutcomeRef, RiskEntry};
use aims_lang::ir::{OutcomeKind, Program, RuleKind};
use aims_lang::syntax::Severity;

use super::{Diff, FindingKey, RiskState};

/// The declarations of a program that a comparison needs, by index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outline {
    /// Per rule: name, kind, severity, whether it has a subject (without
    /// one, its finding names no entity).
    rules: Vec<(String, RuleKind, Severity, bool)>,
    /// Per risk: name, severity, the residual levels' names.
    risks: Vec<(String, Severity, Vec<String>)>,
    objectives: Vec<String>,
    /// The rules, risks and exceptions whose entities have `Int` keys
    /// (their findings and changes are listed in numeric key order).
    numeric: BTreeSet<String>,
}

impl Outline {
    /// The outline of a program.
    pub fn of(program: &Program) -> Outline {
        let numeric = int_keyed_names(program);
        Outline {
            rules: program
                .rules
                .iter()
                .map(|r| (r.decl.name.clone(), r.kind, r.severity, r.subject.is_some()))
                .collect(),
            risks: program
                .risks
                .iter()
                .map(|r| {
                    let levels =
                        program.matrices.get(r.matrix.index()).map(|m| m.levels.as_slice()).unwrap_or_default();
                    (r.decl.name.clone(), r.severity, levels.iter().map(|l| l.name.clone()).collect())
                })
                .collect(),
            objectives: program.objectives.iter().map(|o| o.decl.name.clone()).collect(),
            numeric,
        }
    }
}

/// One evaluation and the outline of the program it came from.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    /// The declarations of the evaluated program.
    pub outline: &'a Outline,
    /// The evaluation.
    pub evaluation: &'a Evaluation,
}

/// Which findings may differ: by (severity, name) with an entity key, or
/// every finding of that (severity, name).
type Touched = BTreeSet<(Severity, String, Option<String>)>;

fn kind_index(kind: OutcomeKind) -> usize {
    match kind {
        OutcomeKind::Pass => 0,
        OutcomeKind::Fail => 1,
        OutcomeKind::Waived => 2,
        OutcomeKind::NotApplicable => 3,
    }
}

impl Diff {
    /// What changed from `before` to `after`. Costs in proportion to what
    /// changed (plus a pointer comparison per chunk of each rule, and a
    /// walk over the risk entries), never a copy of every outcome.
    pub fn between(before: Side<'_>, after: Side<'_>) -> Diff {
        let (b, a) = (before.evaluation, after.evaluation);
        let mut diff = Diff {
            as_of: (b.as_of != a.as_of).then_some((b.as_of, a.as_of)),
            finding_count: (b.findings.len(), a.findings.len()),
            ..Diff::default()
        };
        let mut touched = Touched::new();
        let after_rules: HashMap<&str, usize> =
            after.outline.rules.iter().enumerate().map(|(i, r)| (r.0.as_str(), i)).collect();
        let before_rules: HashMap<&str, usize> =
            before.outline.rules.iter().enumerate().map(|(i, r)| (r.0.as_str(), i)).collect();
        for result in &b.rules {
            // A large comparison stops here on Ctrl-C.
            aims_lang::engine::checkpoint();
            let Some((name, kind, severity, subject)) = before.outline.rules.get(result.rule.index()) else { continue };
            let now = after_rules.get(name.as_str()).and_then(|i| a.rules.iter().find(|r| r.rule.index() == *i));
            match now {
                None => {
                    diff.removed_rules.push((name.clone(), *kind));
                    touched.insert((*severity, name.clone(), None));
                }
                Some(now) => {
                    outcome_changes(name, &result.outcomes, &now.outcomes, &mut diff.outcomes, &mut |key| {
                        touched.insert((*severity, name.clone(), subject.then(|| key.to_string())));
                    });
                    if let Some((_, _, s, _)) = after_rules.get(name.as_str()).and_then(|i| after.outline.rules.get(*i))
                    {
                        if s != severity {
                            touched.insert((*severity, name.clone(), None));
                            touched.insert((*s, name.clone(), None));
                        }
                    }
                }
            }
        }
        for result in &a.rules {
            let Some((name, kind, severity, _)) = after.outline.rules.get(result.rule.index()) else { continue };
            if !before_rules.contains_key(name.as_str()) {
                let mut counts = [0; 4];
                for o in result.outcomes.iter() {
                    counts[kind_index(o.kind)] += 1;
                }
                diff.new_rules.push((name.clone(), *kind, counts));
                touched.insert((*severity, name.clone(), None));
            }
        }
        let numeric = |name: &str| after.outline.numeric.contains(name) || before.outline.numeric.contains(name);
        let by_key = |name: &str, x: &str, y: &str| eval::cmp_keys(numeric(name), x, y);
        diff.outcomes.sort_by(|x, y| {
            x.0.cmp(&y.0).then_with(|| by_key(&x.0, &x.1, &y.1)).then_with(|| (x.2, x.3).cmp(&(y.2, y.3)))
        });

        let after_risks: HashMap<&str, usize> =
            after.outline.risks.iter().enumerate().map(|(i, r)| (r.0.as_str(), i)).collect();
        let before_risks: BTreeSet<&str> = before.outline.risks.iter().map(|r| r.0.as_str()).collect();
        let empty = Vec::new();
        for result in &b.risks {
            let Some((name, severity, levels)) = before.outline.risks.get(result.risk.index()) else { continue };
            let now =
                after_risks.get(name.as_str()).and_then(|i| Some((*i, a.risks.iter().find(|r| r.risk.index() == *i)?)));
            let (after_levels, after_entries, after_severity) = match now {
                Some((i, r)) => (&after.outline.risks[i].2, &r.entries, after.outline.risks[i].1),
                None => (levels, &empty, *severity),
            };
            risk_changes(name, (levels, &result.entries), (after_levels, after_entries), &mut diff.risks, &mut |key| {
                touched.insert((*severity, name.clone(), Some(key.to_string())));
                touched.insert((after_severity, name.clone(), Some(key.to_string())));
            });
        }
        for result in &a.risks {
            let Some((name, severity, levels)) = after.outline.risks.get(result.risk.index()) else { continue };
            if !before_risks.contains(name.as_str()) {
                risk_changes(name, (levels, &empty), (levels, &result.entries), &mut diff.risks, &mut |key| {
                    touched.insert((*severity, name.clone(), Some(key.to_string())));
                });
            }
        }
        diff.risks.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| by_key(&x.0, &x.1, &y.1)));

        let statuses = |side: &Side<'_>| -> BTreeMap<String, aims_lang::ir::ObjectiveStatus> {
            side.evaluation
                .objectives
                .iter()
                .filter_map(|o| Some((side.outline.objectives.get(o.objective.index())?.clone(), o.status)))
                .collect()
        };
        let (sb, sa) = (statuses(&before), statuses(&after));
        for (name, s) in &sb {
            let now = sa.get(name).copied();
            if now != Some(*s) {
                diff.objectives.push((name.clone(), Some(*s), now));
            }
        }
        for (name, s) in &sa {
            if !sb.contains_key(name) {
                diff.objectives.push((name.clone(), None, Some(*s)));
            }
        }
        diff.objectives.sort_by(|x, y| x.0.cmp(&y.0));

        let (removed, added) = finding_changes(before, after, &touched);
        diff.removed = removed;
        diff.added = added;
        let findings = |x: &FindingKey, y: &FindingKey| {
            (x.0, x.1, &x.2)
                .cmp(&(y.0, y.1, &y.2))
                .then_with(|| match (&x.3, &y.3) {
                    (Some(a), Some(b)) => by_key(&x.2, a, b),
                    (a, b) => a.cmp(b),
                })
                .then_with(|| x.4.cmp(&y.4))
        };
        diff.added.sort_by(findings);
        diff.removed.sort_by(findings);
        diff
    }
}

/// The outcomes of one rule that differ, chunk by chunk: `touch` is called
/// with the key of every outcome that differs in any way (its finding's
/// message may have changed with its failures).
fn outcome_changes(
    rule: &str,
    before: &eval::Outcomes,
    after: &eval::Outcomes,
    out: &mut Vec<super::OutcomeChange>,
    touch: &mut dyn FnMut(&str),
) {
    let (bc, ac) = (before.chunks(), after.chunks());
    let mut old: Vec<OutcomeRef<'_>> = Vec::new();
    let mut new: Vec<OutcomeRef<'_>> = Vec::new();
    for i in 0..bc.len().max(ac.len()) {
        aims_lang::engine::checkpoint();
        match (bc.get(i), ac.get(i)) {
            (Some(x), Some(y)) if Arc::ptr_eq(x, y) || x == y => {}
            (x, y) => {
                old.extend(x.iter().flat_map(|c| c.iter()));
                new.extend(y.iter().flat_map(|c| c.iter()));
            }
        }
    }
    if old.is_empty() && new.is_empty() {
        return;
    }
    let same_keys = old.len() == new.len() && old.iter().zip(&new).all(|(x, y)| x.key == y.key);
    if same_keys {
        for (x, y) in old.iter().zip(&new) {
            if x != y {
                touch(&x.key);
            }
            if x.kind != y.kind {
                out.push((rule.to_string(), x.key.to_string(), Some(x.kind), Some(y.kind)));
            }
        }
        return;
    }
    // Facts were added or removed: match the outcomes by key.
    let by_key: HashMap<&str, &OutcomeRef<'_>> = new.iter().map(|o| (o.key.as_str(), o)).collect();
    for x in &old {
        touch(&x.key);
        let now = by_key.get(&*x.key);
        if now.map(|y| y.kind) != Some(x.kind) {
            out.push((rule.to_string(), x.key.to_string(), Some(x.kind), now.map(|y| y.kind)));
        }
    }
    let was: BTreeSet<&str> = old.iter().map(|o| o.key.as_str()).collect();
    for y in &new {
        if !was.contains(&*y.key) {
            touch(&y.key);
            out.push((rule.to_string(), y.key.to_string(), None, Some(y.kind)));
        }
    }
}

/// A risk entry as the diff shows it.
fn state(levels: &[String], entry: &RiskEntry) -> RiskState {
    let level = entry.residual_level.and_then(|l| levels.get(l as usize)).map_or("?".to_string(), |l| l.clone());
    RiskState { level, above_appetite: entry.above_appetite }
}

type RiskRows = Vec<(String, String, Option<RiskState>, Option<RiskState>)>;

/// The entries of one risk whose residual level (or presence) changed:
/// the common beginning and end of the two lists are compared in place,
/// and only what lies between is matched by key.
fn risk_changes(
    risk: &str,
    (levels_b, before): (&[String], &[RiskEntry]),
    (levels_a, after): (&[String], &[RiskEntry]),
    out: &mut RiskRows,
    touch: &mut dyn FnMut(&str),
) {
    let compare = |x: &RiskEntry, y: &RiskEntry, out: &mut RiskRows, touch: &mut dyn FnMut(&str)| {
        if x == y && levels_a == levels_b {
            return;
        }
        touch(&x.key);
        let (sx, sy) = (state(levels_b, x), state(levels_a, y));
        if sx.level != sy.level {
            out.push((risk.to_string(), x.key.to_string(), Some(sx), Some(sy)));
        }
    };
    let prefix = before.iter().zip(after).take_while(|(x, y)| x.key == y.key).count();
    for (x, y) in before[..prefix].iter().zip(&after[..prefix]) {
        compare(x, y, out, touch);
    }
    let (before, after) = (&before[prefix..], &after[prefix..]);
    let suffix = before.iter().rev().zip(after.iter().rev()).take_while(|(x, y)| x.key == y.key).count();
    for (x, y) in before[before.len() - suffix..].iter().zip(&after[after.len() - suffix..]) {
        compare(x, y, out, touch);
    }
    let (before, after) = (&before[..before.len() - suffix], &after[..after.len() - suffix]);
    let by_key: HashMap<&str, &RiskEntry> = after.iter().map(|e| (&*e.key, e)).collect();
    for x in before {
        match by_key.get(&*x.key) {
            Some(y) => compare(x, y, out, touch),
            None => {
                touch(&x.key);
                out.push((risk.to_string(), x.key.to_string(), Some(state(levels_b, x)), None));
            }
        }
    }
    let was: BTreeSet<&str> = before.iter().map(|e| &*e.key).collect();
    for y in after {
        if !was.contains(&*y.key) {
            touch(&y.key);
            out.push((risk.to_string(), y.key.to_string(), None, Some(state(levels_a, y))));
        }
    }
}

fn finding_key(f: &Finding) -> FindingKey {
    (f.severity, f.source, f.name.to_string(), f.entity.as_ref().map(|e| e.to_string()), f.message.to_string())
}

/// The findings of `(severity, name)`, of one entity or of all: a range of
/// the evaluation's list, which is sorted by severity, name, then entity.
fn range(side: &Side<'_>, severity: Severity, name: &str, entity: Option<&str>) -> Range<usize> {
    let list = &side.evaluation.findings;
    let numeric = side.outline.numeric.contains(name);
    let head = |f: &Finding| (f.severity, &*f.name).cmp(&(severity, name));
    let cmp = |f: &Finding| {
        head(f).then_with(|| match (entity, &f.entity) {
            (None, _) => std::cmp::Ordering::Equal,
            (Some(k), Some(e)) => eval::cmp_keys(numeric, e, k),
            (Some(_), None) => std::cmp::Ordering::Less,
        })
    };
    let start = list.partition_point(|f| cmp(f) == std::cmp::Ordering::Less);
    let end = list.partition_point(|f| cmp(f) != std::cmp::Ordering::Greater);
    start..end
}

/// The findings removed and added: those of the touched (severity, name,
/// entity) triples, and every finding of an objective or an exception
/// (few, and they depend on whole evaluations), compared as multisets.
fn finding_changes(before: Side<'_>, after: Side<'_>, touched: &Touched) -> (Vec<FindingKey>, Vec<FindingKey>) {
    let collect = |side: &Side<'_>| -> BTreeMap<FindingKey, usize> {
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        let mut out = BTreeMap::new();
        let list = &side.evaluation.findings;
        for (severity, name, entity) in touched {
            for i in range(side, *severity, name, entity.as_deref()) {
                seen.insert(i);
            }
        }
        for (i, f) in list.iter().enumerate() {
            if matches!(f.source, FindingSource::Objective | FindingSource::Exception) {
                seen.insert(i);
            }
        }
        for i in seen {
            *out.entry(finding_key(&list[i])).or_insert(0) += 1;
        }
        out
    };
    let (b, a) = (collect(&before), collect(&after));
    (minus(&b, &a), minus(&a, &b))
}

/// The finding keys of `a` not in `b`, counting repeats.
pub(crate) fn minus(a: &BTreeMap<FindingKey, usize>, b: &BTreeMap<FindingKey, usize>) -> Vec<FindingKey> {
    let mut out = Vec::new();
    for (key, n) in a {
        let m = b.get(key).copied().unwrap_or(0);
        for _ in m..*n {
            out.push(key.clone());
        }
    }
    out
}

/// The rules, risks and exceptions whose entities have `Int` keys: their
/// findings and changes are listed in numeric key order.
pub(crate) fn int_keyed_names(program: &Program) -> BTreeSet<String> {
    let int_keyed = |subject: Option<aims_lang::ir::EntityId>| subject.is_some_and(|e| eval::int_keyed(program, e));
    program
        .rules
        .iter()
        .filter(|r| int_keyed(r.subject.as_ref().map(|s| s.entity)))
        .map(|r| r.decl.name.clone())
        .chain(
            program
                .risks
                .iter()
                .filter(|r| int_keyed(r.subject.as_ref().map(|s| s.entity)))
                .map(|r| r.decl.name.clone()),
        )
        .chain(
            program
                .exceptions
                .iter()
                .filter(|e| int_keyed(e.target.as_ref().map(|t| t.0)))
                .map(|e| e.decl.name.clone()),
        )
        .collect()
}
