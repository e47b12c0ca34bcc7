//! What an edit changed: two evaluations compared, and the answer as text.
//!
//! [`Diff::between`] (in `compare`) walks two evaluations rule by rule and
//! chunk by chunk, skipping the chunks whose memoized outcomes are shared
//! or equal, so an edit's answer costs what the edit changed. The result is
//! keyed by names (outcomes by rule and entity key, risk entries by risk
//! and key, objectives by name, findings by severity, source, name, entity
//! and message), since declarations and undo change the program. A large
//! answer is summarised ([`Diff::render_within`]): counts per rule and the
//! first changes.

mod compare;
#[cfg(test)]
pub(crate) mod oracle;

use std::fmt::Write as _;

use aims_lang::eval::FindingSource;
use aims_lang::ir::{ObjectiveStatus, OutcomeKind, RuleKind};
use aims_lang::report::count;
pub use aims_lang::report::explain::{one_line, outcome_word as outcome, rule_kind};
use aims_lang::syntax::Severity;
use aims_lang::Date;

pub use compare::{Outline, Side};

/// A finding, by everything that identifies it.
pub type FindingKey = (Severity, FindingSource, String, Option<String>, String);

/// Where one risk stands for one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskState {
    /// The residual level's name (`?` when the score falls in no level).
    pub level: String,
    /// Whether the residual risk is above the risk's appetite.
    pub above_appetite: bool,
}

/// One outcome that changed: rule, entity key, before, after (`None`: no such outcome).
pub type OutcomeChange = (String, String, Option<OutcomeKind>, Option<OutcomeKind>);

/// Everything that differs between two snapshots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    /// The evaluation dates before and after, when they differ.
    pub as_of: Option<(Date, Date)>,
    /// Rules present before and after whose outcome changed for an entity.
    pub outcomes: Vec<OutcomeChange>,
    /// Rules that only exist after: name, kind, outcome counts (pass, fail, waived, n/a).
    pub new_rules: Vec<(String, RuleKind, [usize; 4])>,
    /// Rules that only existed before.
    pub removed_rules: Vec<(String, RuleKind)>,
    /// Risk entries whose residual level (or presence) changed.
    pub risks: Vec<(String, String, Option<RiskState>, Option<RiskState>)>,
    /// Objectives whose status (or presence) changed: name, before, after.
    pub objectives: Vec<(String, Option<ObjectiveStatus>, Option<ObjectiveStatus>)>,
    /// Findings only after.
    pub added: Vec<FindingKey>,
    /// Findings only before.
    pub removed: Vec<FindingKey>,
    /// Number of findings before and after.
    pub finding_count: (usize, usize),
}

impl Diff {
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

    /// The diff as text, in full; `no change` when nothing changed.
    pub fn render(&self) -> String {
        self.render_within(None)
    }

    /// How many lines of changes the full text has (outcomes, risks,
    /// objectives, findings).
    pub fn lines(&self) -> usize {
        self.outcomes.iter().filter(|(_, _, b, a)| !quiet(b, a)).count()
            + self.risks.len()
            + self.objectives.len()
            + self.added.len()
            + self.removed.len()
    }

    /// The diff as text, each list cut after `limit` lines (with the
    /// number of changes per rule and of those left out) when the whole
    /// answer has more than `limit` lines of changes; in full when it has
    /// fewer or `limit` is `None`.
    pub fn render_within(&self, limit: Option<usize>) -> String {
        if self.is_empty() {
            return "no change\n".into();
        }
        let cut = limit.filter(|l| self.lines() > *l);
        let shown = |n: usize| cut.map_or(n, |l| n.min(l));
        let more = |out: &mut String, n: usize| {
            if n > shown(n) {
                let _ = writeln!(out, "  … and {} more", n - shown(n));
            }
        };
        let mut out = String::new();
        if let Some(limit) = cut {
            let _ =
                writeln!(out, "{} (the first {limit} of each kind shown)", count(self.lines(), "change", "changes"));
        }
        if let Some((a, b)) = self.as_of {
            let _ = writeln!(out, "as of {a} → {b}");
        }
        if !(self.outcomes.is_empty() && self.new_rules.is_empty() && self.removed_rules.is_empty()) {
            out.push_str("outcomes\n");
            let loud = self.outcomes.iter().filter(|(_, _, b, a)| !quiet(b, a));
            let n = loud.clone().count();
            if cut.is_some() && n > shown(n) {
                // Cut: first how many changed per rule.
                let mut per_rule: Vec<(&str, usize)> = Vec::new();
                for (rule, ..) in loud.clone() {
                    match per_rule.last_mut() {
                        Some((r, k)) if *r == rule.as_str() => *k += 1,
                        _ => per_rule.push((rule, 1)),
                    }
                }
                let rows: Vec<(String, String)> =
                    per_rule.iter().map(|(r, k)| (r.to_string(), count(*k, "change", "changes"))).collect();
                table(&mut out, &rows);
                out.push_str("  the first changes:\n");
            }
            let rows: Vec<(String, String)> = loud
                .take(shown(n))
                .map(|(rule, key, b, a)| (subject(rule, key), format!("{} → {}", outcome(*b), outcome(*a))))
                .collect();
            table(&mut out, &rows);
            more(&mut out, n);
            // Outcomes that appear or go as not applicable (a fact added or
            // removed that the rule does not cover) are only counted.
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
                .take(shown(self.risks.len()))
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
            more(&mut out, self.risks.len());
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
            let n = self.removed.len() + self.added.len();
            if cut.is_some() && n > shown(n) {
                let _ = writeln!(out, "  {} removed, {} added", self.removed.len(), self.added.len());
            }
            let lines = self.removed.iter().map(|f| ('-', f)).chain(self.added.iter().map(|f| ('+', f)));
            for (sign, f) in lines.take(shown(n)) {
                let _ = writeln!(out, "  {sign} {}", finding(f));
            }
            more(&mut out, n);
        }
        if cut.is_some() {
            out.push_str("(`:save FILE` writes the whole answer to a file; `:limit off` prints answers in full)\n");
        }
        out
    }
}

/// Outcomes that appear or go as not applicable (a fact added or removed
/// that the rule does not cover): counted, not listed.
fn quiet(b: &Option<OutcomeKind>, a: &Option<OutcomeKind>) -> bool {
    matches!((b, a), (None, Some(OutcomeKind::NotApplicable)) | (Some(OutcomeKind::NotApplicable), None))
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
