//! What an edit changed: two evaluations compared.
//!
//! An [`Evaluation`] refers to its program by index, and edits (typed
//! declarations, undo) change the program, so each evaluation is first
//! reduced to a [`Snapshot`] keyed by names: outcomes by (rule, entity key),
//! risk entries by (risk, key), objectives by name, findings by (severity,
//! source, name, entity, message). Two snapshots give a [`Diff`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use aims_lang::eval::{self, Evaluation, FindingSource};
use aims_lang::ir::{ObjectiveStatus, OutcomeKind, Program, RuleKind};
use aims_lang::report::count;
pub use aims_lang::report::explain::{one_line, outcome_word as outcome, rule_kind};
use aims_lang::syntax::Severity;
use aims_lang::Date;

/// A finding, by everything that identifies it.
pub type FindingKey = (Severity, FindingSource, String, Option<String>, String);

/// Where one risk stands for one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskState {
    /// The residual level's name (`?` when the score falls in no level).
    pub level: String,
    pub above_appetite: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct RuleSnapshot {
    kind: RuleKind,
    outcomes: BTreeMap<String, OutcomeKind>,
}

/// An evaluation keyed by names, independent of the program it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub as_of: Date,
    rules: BTreeMap<String, RuleSnapshot>,
    risks: BTreeMap<(String, String), RiskState>,
    objectives: BTreeMap<String, ObjectiveStatus>,
    findings: BTreeMap<FindingKey, usize>,
    finding_count: usize,
    /// The rules, risks and exceptions whose entities have `Int` keys
    /// (listed in numeric key order).
    numeric: std::collections::BTreeSet<String>,
}

impl Snapshot {
    /// Reduces an evaluation of `program`.
    pub fn new(program: &Program, evaluation: &Evaluation) -> Snapshot {
        let mut rules = BTreeMap::new();
        for result in &evaluation.rules {
            // Ctrl-C stops a large snapshot between rules.
            aims_lang::engine::checkpoint();
            let Some(rule) = program.rules.get(result.rule.index()) else { continue };
            let outcomes = result.outcomes.iter().map(|o| (o.key.to_string(), o.kind)).collect();
            rules.insert(rule.decl.name.clone(), RuleSnapshot { kind: rule.kind, outcomes });
        }
        let mut risks = BTreeMap::new();
        for result in &evaluation.risks {
            let Some(risk) = program.risks.get(result.risk.index()) else { continue };
            let levels = program.matrices.get(risk.matrix.index()).map(|m| m.levels.as_slice()).unwrap_or_default();
            for entry in &result.entries {
                let level = entry
                    .residual_level
                    .and_then(|l| levels.get(l as usize))
                    .map_or("?".to_string(), |l| l.name.clone());
                risks.insert(
                    (risk.decl.name.clone(), entry.key.to_string()),
                    RiskState { level, above_appetite: entry.above_appetite },
                );
            }
        }
        let objectives = evaluation
            .objectives
            .iter()
            .filter_map(|o| Some((program.objectives.get(o.objective.index())?.decl.name.clone(), o.status)))
            .collect();
        let mut findings = BTreeMap::new();
        for f in evaluation.findings.iter() {
            let key =
                (f.severity, f.source, f.name.clone(), f.entity.as_ref().map(|e| e.to_string()), f.message.clone());
            *findings.entry(key).or_insert(0) += 1;
        }
        let int_keyed = |subject: Option<aims_lang::ir::EntityId>| subject.is_some_and(|e| eval::int_keyed(program, e));
        let numeric = program
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
            .collect();
        Snapshot {
            as_of: evaluation.as_of,
            rules,
            risks,
            objectives,
            findings,
            finding_count: evaluation.findings.len(),
            numeric,
        }
    }
}

/// One outcome that changed: rule, entity key, before, after (`None`: no such outcome).
pub type OutcomeChange = (String, String, Option<OutcomeKind>, Option<OutcomeKind>);

/// Everything that differs between two snapshots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    pub as_of: Option<(Date, Date)>,
    /// Rules present before and after whose outcome changed for an entity.
    pub outcomes: Vec<OutcomeChange>,
    /// Rules that only exist after: name, kind, outcome counts (pass, fail, waived, n/a).
    pub new_rules: Vec<(String, RuleKind, [usize; 4])>,
    /// Rules that only existed before.
    pub removed_rules: Vec<(String, RuleKind)>,
    /// Risk entries whose residual level (or presence) changed.
    pub risks: Vec<(String, String, Option<RiskState>, Option<RiskState>)>,
    pub objectives: Vec<(String, Option<ObjectiveStatus>, Option<ObjectiveStatus>)>,
    pub added: Vec<FindingKey>,
    pub removed: Vec<FindingKey>,
    /// Number of findings before and after.
    pub finding_count: (usize, usize),
}

fn counts(outcomes: &BTreeMap<String, OutcomeKind>) -> [usize; 4] {
    let mut c = [0; 4];
    for kind in outcomes.values() {
        c[match kind {
            OutcomeKind::Pass => 0,
            OutcomeKind::Fail => 1,
            OutcomeKind::Waived => 2,
            OutcomeKind::NotApplicable => 3,
        }] += 1;
    }
    c
}

/// The finding keys of `a` not in `b`, counting repeats.
fn minus(a: &BTreeMap<FindingKey, usize>, b: &BTreeMap<FindingKey, usize>) -> Vec<FindingKey> {
    let mut out = Vec::new();
    for (key, n) in a {
        let m = b.get(key).copied().unwrap_or(0);
        for _ in m..*n {
            out.push(key.clone());
        }
    }
    out
}

impl Diff {
    /// What changed from `before` to `after`.
    pub fn between(before: &Snapshot, after: &Snapshot) -> Diff {
        let mut diff = Diff {
            as_of: (before.as_of != after.as_of).then_some((before.as_of, after.as_of)),
            finding_count: (before.finding_count, after.finding_count),
            ..Diff::default()
        };
        for (name, b) in &before.rules {
            aims_lang::engine::checkpoint();
            match after.rules.get(name) {
                None => diff.removed_rules.push((name.clone(), b.kind)),
                Some(a) => {
                    for (key, kind) in &b.outcomes {
                        let now = a.outcomes.get(key).copied();
                        if now != Some(*kind) {
                            diff.outcomes.push((name.clone(), key.clone(), Some(*kind), now));
                        }
                    }
                    for (key, kind) in &a.outcomes {
                        if !b.outcomes.contains_key(key) {
                            diff.outcomes.push((name.clone(), key.clone(), None, Some(*kind)));
                        }
                    }
                }
            }
        }
        let numeric = |name: &str| after.numeric.contains(name) || before.numeric.contains(name);
        let by_key = |name: &str, a: &str, b: &str| eval::cmp_keys(numeric(name), a, b);
        diff.outcomes.sort_by(|x, y| {
            x.0.cmp(&y.0).then_with(|| by_key(&x.0, &x.1, &y.1)).then_with(|| (x.2, x.3).cmp(&(y.2, y.3)))
        });
        for (name, a) in &after.rules {
            if !before.rules.contains_key(name) {
                diff.new_rules.push((name.clone(), a.kind, counts(&a.outcomes)));
            }
        }
        for (key, b) in &before.risks {
            match after.risks.get(key) {
                Some(a) if a.level == b.level => {}
                a => diff.risks.push((key.0.clone(), key.1.clone(), Some(b.clone()), a.cloned())),
            }
        }
        for (key, a) in &after.risks {
            if !before.risks.contains_key(key) {
                diff.risks.push((key.0.clone(), key.1.clone(), None, Some(a.clone())));
            }
        }
        diff.risks.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| by_key(&x.0, &x.1, &y.1)));
        for (name, b) in &before.objectives {
            let a = after.objectives.get(name).copied();
            if a != Some(*b) {
                diff.objectives.push((name.clone(), Some(*b), a));
            }
        }
        for (name, a) in &after.objectives {
            if !before.objectives.contains_key(name) {
                diff.objectives.push((name.clone(), None, Some(*a)));
            }
        }
        diff.objectives.sort_by(|x, y| x.0.cmp(&y.0));
        let findings = |x: &FindingKey, y: &FindingKey| {
            (x.0, x.1, &x.2)
                .cmp(&(y.0, y.1, &y.2))
                .then_with(|| match (&x.3, &y.3) {
                    (Some(a), Some(b)) => by_key(&x.2, a, b),
                    (a, b) => a.cmp(b),
                })
                .then_with(|| x.4.cmp(&y.4))
        };
        diff.added = minus(&after.findings, &before.findings);
        diff.added.sort_by(findings);
        diff.removed = minus(&before.findings, &after.findings);
        diff.removed.sort_by(findings);
        diff
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.as_of.is_none()
            && self.outcomes.is_empty()
            && self.new_rules.is_empty()
            && self.removed_rules.is_empty()
            && self.risks.is_empty()
            && self.objectives.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
    }

    /// The diff as text; `no change` when nothing changed.
    pub fn render(&self) -> String {
        if self.is_empty() {
            return "no change\n".into();
        }
        let mut out = String::new();
        if let Some((a, b)) = self.as_of {
            let _ = writeln!(out, "as of {a} → {b}");
        }
        if !(self.outcomes.is_empty() && self.new_rules.is_empty() && self.removed_rules.is_empty()) {
            out.push_str("outcomes\n");
            // Outcomes that appear or go as not applicable (a fact added or
            // removed that the rule does not cover) are only counted.
            let quiet = |b: &Option<OutcomeKind>, a: &Option<OutcomeKind>| {
                matches!((b, a), (None, Some(OutcomeKind::NotApplicable)) | (Some(OutcomeKind::NotApplicable), None))
            };
            let rows: Vec<(String, String)> = self
                .outcomes
                .iter()
                .filter(|(_, _, b, a)| !quiet(b, a))
                .map(|(rule, key, b, a)| (subject(rule, key), format!("{} → {}", outcome(*b), outcome(*a))))
                .collect();
            table(&mut out, &rows);
            let appeared = self.outcomes.iter().filter(|(_, _, b, a)| b.is_none() && quiet(b, a)).count();
            let gone = self.outcomes.iter().filter(|(_, _, b, a)| a.is_none() && quiet(b, a)).count();
            if appeared > 0 {
                let _ = writeln!(out, "  and {}: not applicable", count(appeared, "new outcome", "new outcomes"));
            }
            if gone > 0 {
                let _ =
                    writeln!(out, "  and {} gone", count(gone, "not applicable outcome", "not applicable outcomes"));
            }
            for (name, kind, [pass, fail, waived, na]) in &self.new_rules {
                let _ = writeln!(
                    out,
                    "  new {} {name}: {pass} pass, {fail} fail, {waived} waived, {na} not applicable",
                    rule_kind(*kind)
                );
            }
            for (name, kind) in &self.removed_rules {
                let _ = writeln!(out, "  {} {name} is gone", rule_kind(*kind));
            }
        }
        if !self.risks.is_empty() {
            out.push_str("risks\n");
            let rows: Vec<(String, String)> = self
                .risks
                .iter()
                .map(|(risk, key, b, a)| {
                    let mut change = format!("residual {} → {}", risk_level(b), risk_level(a));
                    match (b.as_ref().is_some_and(|b| b.above_appetite), a.as_ref().is_some_and(|a| a.above_appetite)) {
                        (false, true) => change.push_str(" (now above appetite)"),
                        (true, false) => change.push_str(" (now within appetite)"),
                        _ => {}
                    }
                    (subject(risk, key), change)
                })
                .collect();
            table(&mut out, &rows);
        }
        if !self.objectives.is_empty() {
            out.push_str("objectives\n");
            let rows: Vec<(String, String)> = self
                .objectives
                .iter()
                .map(|(name, b, a)| (name.clone(), format!("{} → {}", objective(*b), objective(*a))))
                .collect();
            table(&mut out, &rows);
        }
        if !(self.added.is_empty() && self.removed.is_empty()) {
            let _ = writeln!(out, "findings ({} → {})", self.finding_count.0, self.finding_count.1);
            for f in &self.removed {
                let _ = writeln!(out, "  - {}", finding(f));
            }
            for f in &self.added {
                let _ = writeln!(out, "  + {}", finding(f));
            }
        }
        out
    }
}

/// `rule × key`, or the rule alone for the organisation (`-`).
fn subject(rule: &str, key: &str) -> String {
    if key == "-" {
        rule.to_string()
    } else {
        format!("{rule} × {key}")
    }
}

/// Two aligned columns, indented by two spaces.
fn table(out: &mut String, rows: &[(String, String)]) {
    let width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    for (left, right) in rows {
        let pad = width - left.chars().count();
        let _ = writeln!(out, "  {left}{}  {right}", " ".repeat(pad));
    }
}

fn objective(status: Option<ObjectiveStatus>) -> &'static str {
    status.map_or("(none)", ObjectiveStatus::as_str)
}

fn risk_level(state: &Option<RiskState>) -> &str {
    state.as_ref().map_or("(none)", |s| s.level.as_str())
}

/// The word for what produced a finding.
pub fn source_name(source: FindingSource) -> &'static str {
    match source {
        FindingSource::Control => "control",
        FindingSource::Audit => "audit",
        FindingSource::Risk => "risk",
        FindingSource::Objective => "objective",
        FindingSource::Exception => "exception",
    }
}

/// A finding on one line: severity, source, name, entity and message.
pub fn finding((severity, source, name, entity, message): &FindingKey) -> String {
    let who = entity.as_deref().map(|e| format!(" {e}")).unwrap_or_default();
    format!("{:<11} {} {name}{who}: {}", severity.as_str(), source_name(*source), one_line(message))
}
