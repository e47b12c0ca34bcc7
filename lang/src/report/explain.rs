//! Showing results: the outcomes of a rule, one outcome with its failures,
//! the `:why` trace of an outcome, and the entries of a risk or objective.
//!
//! Everything is read from an [`Evaluation`] and its program; the names
//! and keys have already been resolved by the caller. `aims explain` and
//! the REPL print these views, so they live here, beside the other reports.

use std::fmt::Write as _;

use crate::diag::{terminal_safe_line, FileSpan, Sources};
use crate::eval::{self, Evaluation, FailReason, Failure, OutcomeRef};
use crate::ir::RuleKind;
use crate::ir::{ObjectiveId, OutcomeKind, Program, Requirement, RiskId, RuleDef, RuleId, Step};
use crate::num;
use crate::syntax::{self, ast};

/// What the explanations read.
pub struct View<'a> {
    /// The checked program.
    pub program: &'a Program,
    /// The files, for locations.
    pub sources: &'a Sources,
    /// The evaluation explained.
    pub evaluation: &'a Evaluation,
    /// Where measured values came from (`Engine::measurements`), to trace
    /// the ones a failure read.
    pub measurements: &'a [crate::measure::Measurement],
}

/// `file:line:column` of a span, the file relative to the project as in
/// the reports.
pub fn location(sources: &Sources, at: FileSpan) -> String {
    if at.file.0 as usize >= sources.len() {
        return "?".into();
    }
    terminal_safe_line(&super::Location::of(sources, at).to_string()).into_owned()
}

fn requirements(rule: &RuleDef) -> Vec<&Requirement> {
    rule.steps
        .iter()
        .filter_map(|s| match s {
            Step::Require(r) => Some(r),
            Step::Let { .. } => None,
        })
        .collect()
}

impl View<'_> {
    fn rule_header(&self, rule: &RuleDef) -> String {
        let title = rule.title.as_deref().map(|t| format!(" {t:?}")).unwrap_or_default();
        format!("{} {}{title} ({})", rule_kind(rule.kind), rule.decl.name, rule.severity.as_str())
    }

    fn outcomes(&self, id: RuleId) -> impl Iterator<Item = OutcomeRef<'_>> {
        self.evaluation.rules.get(id.index()).into_iter().flat_map(|r| r.outcomes.iter())
    }

    /// The outcome of a rule for a key (`-` for a rule without subject).
    pub fn find(&self, id: RuleId, key: &str) -> Option<OutcomeRef<'_>> {
        self.outcomes(id).find(|o| &*o.key == key)
    }

    /// The keys a rule has outcomes for, in the order of the reports
    /// (`Int` keys as numbers: 2 before 10).
    pub fn keys(&self, id: RuleId) -> Vec<String> {
        let mut outcomes: Vec<OutcomeRef<'_>> = self.outcomes(id).collect();
        let rule = self.program.rule(id);
        let numeric = rule.subject.as_ref().is_some_and(|s| eval::int_keyed(self.program, s.entity));
        outcomes.sort_by(|a, b| eval::cmp_keys(numeric, &a.key, &b.key));
        outcomes.iter().map(|o| o.key.to_string()).collect()
    }

    fn waiver(&self, outcome: OutcomeRef<'_>) -> Option<String> {
        let e = self.program.exceptions.get(outcome.waived_by? as usize)?;
        let by =
            e.approved_by.as_deref().map(|a| format!(", approved by {}", terminal_safe_line(a))).unwrap_or_default();
        Some(format!("waived by exception {} until {}{by}", e.decl.name, e.until))
    }

    /// What a failure saw, as its lines (`saw s.x = 1, s.y = 2`, then a
    /// `measured: …` line for each measured value among them), each
    /// indented by `indent`. The observed values are computed once for both.
    fn seen(
        &self,
        out: &mut String,
        rule: &RuleDef,
        key: &str,
        failure: &Failure,
        requirement: Option<&Requirement>,
        indent: &str,
    ) {
        let observed = failure.observed(self.program, requirement);
        if observed.is_empty() {
            return;
        }
        let seen: Vec<String> = observed.iter().map(|(p, v)| format!("{p} = {v}")).collect();
        let _ = writeln!(out, "{indent}saw {}", seen.join(", "));
        let subject = rule.subject.as_ref().map(|s| (s.var.as_str(), self.program.entity(s.entity).decl.name.as_str()));
        for (path, _) in &observed {
            if let Some(trace) = crate::measure::trace(self.measurements, subject, key, path) {
                let _ = writeln!(out, "{indent}measured: {}", terminal_safe_line(&trace));
            }
        }
    }

    /// The failures of an outcome, each with the values it saw.
    fn failures(&self, out: &mut String, rule: &RuleDef, outcome: OutcomeRef<'_>, indent: &str) {
        let reqs = requirements(rule);
        for f in outcome.failures {
            let _ = writeln!(out, "{indent}- {}", one_line(&eval::failure_message(reqs.get(f.index).copied(), f)));
            self.seen(out, rule, &outcome.key, f, reqs.get(f.index).copied(), &format!("{indent}  "));
        }
    }

    /// Every outcome of a rule, by entity key, with the failures.
    pub fn rule(&self, id: RuleId) -> String {
        let rule = self.program.rule(id);
        let mut out = self.rule_header(rule);
        out.push('\n');
        let mut outcomes: Vec<OutcomeRef<'_>> = self.outcomes(id).collect();
        let numeric = rule.subject.as_ref().is_some_and(|s| eval::int_keyed(self.program, s.entity));
        outcomes.sort_by(|a, b| eval::cmp_keys(numeric, &a.key, &b.key));
        let keys: Vec<String> = outcomes.iter().map(|o| terminal_safe_line(&o.key).into_owned()).collect();
        let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
        let mut counts = [0usize; 4];
        for (&o, key) in outcomes.iter().zip(&keys) {
            counts[o.kind as usize] += 1;
            let pad = " ".repeat(width - key.chars().count());
            let _ = write!(out, "  {key}{pad}  {}", outcome_word(Some(o.kind)));
            if let Some(w) = self.waiver(o) {
                let _ = write!(out, " ({w})");
            }
            out.push('\n');
            self.failures(&mut out, rule, o, "      ");
        }
        let [pass, fail, waived, na] = counts;
        let _ = writeln!(out, "  {pass} pass, {fail} fail, {waived} waived, {na} not applicable");
        out
    }

    /// One outcome with its failures and the values they saw.
    pub fn one(&self, id: RuleId, outcome: OutcomeRef<'_>) -> String {
        let rule = self.program.rule(id);
        let mut out = format!("{} on {:?}: {}", rule.decl.name, &*outcome.key, outcome_word(Some(outcome.kind)));
        if let Some(w) = self.waiver(outcome) {
            let _ = write!(out, " ({w})");
        }
        out.push('\n');
        self.failures(&mut out, rule, outcome, "  ");
        out
    }

    /// The trace of one outcome: applicability, then every `require` with
    /// whether it held, its message and the values it read.
    pub fn why(&self, id: RuleId, outcome: OutcomeRef<'_>) -> String {
        let rule = self.program.rule(id);
        let mut out = String::new();
        let subject = if rule.subject.is_some() { format!(" on {:?}", &*outcome.key) } else { String::new() };
        let _ = writeln!(out, "{}{subject}: {}", rule.decl.name, outcome_word(Some(outcome.kind)));
        let _ = writeln!(out, "  {}, {}", self.rule_header(rule), location(self.sources, rule.decl.name_span));
        match &rule.subject {
            None => out.push_str("  applies to the organisation as a whole\n"),
            Some(subject) => {
                let entity = &self.program.entity(subject.entity).decl.name;
                let filter = subject_filter(self.sources, rule);
                let header = match &filter {
                    Some(f) => format!("for {}: {entity} where {f}", subject.var),
                    None => format!("for {}: {entity}", subject.var),
                };
                if outcome.kind == OutcomeKind::NotApplicable {
                    let _ = writeln!(out, "  applies? {header}: no, the filter does not hold");
                    out.push_str("  not applicable: no require is checked\n");
                    return out;
                }
                if let Some(f) = outcome.failures.iter().find(|f| f.index == Failure::OF_WHERE) {
                    let _ = writeln!(out, "  applies? {header}: {}", one_line(&eval::failure_message(None, f)));
                    out.push_str("  → fail: whether it applies was not decided; no require is checked\n");
                    return out;
                }
                let holds = if subject.filter.is_some() { "yes, the filter holds" } else { "yes" };
                let _ = writeln!(out, "  applies? {header}: {holds}");
            }
        }
        let reqs = requirements(rule);
        let sources: Vec<String> = reqs.iter().map(|r| one_line(&eval::single_line(&r.source))).collect();
        let width = sources.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        for (i, (req, source)) in reqs.iter().zip(&sources).enumerate() {
            let pad = " ".repeat(width - source.chars().count());
            match outcome.failures.iter().find(|f| f.index == i) {
                None => {
                    let _ = writeln!(out, "  require {}  {source}{pad}  held", i + 1);
                }
                Some(f) => {
                    let verdict = match f.reason {
                        FailReason::Violated => "FAILED",
                        FailReason::NoEvidence(_) => "FAILED (no evidence)",
                    };
                    let _ = writeln!(out, "  require {}  {source}{pad}  {verdict}", i + 1);
                    let _ = writeln!(out, "      {}", one_line(&eval::failure_message(Some(req), f)));
                    self.seen(&mut out, rule, &outcome.key, f, Some(req), "      ");
                    let _ = writeln!(out, "      at {}", location(self.sources, req.span));
                }
            }
        }
        let failed = outcome.failures.len();
        let verdict = match outcome.kind {
            OutcomeKind::Pass => format!("pass: {} held", requires(reqs.len())),
            OutcomeKind::Fail => format!("fail: {failed} of {} failed", requires(reqs.len())),
            OutcomeKind::Waived => format!(
                "waived: {failed} of {} failed, {}",
                requires(reqs.len()),
                self.waiver(outcome).unwrap_or_else(|| "waived".into())
            ),
            OutcomeKind::NotApplicable => "not applicable".into(),
        };
        let _ = writeln!(out, "  → {verdict}");
        out
    }

    /// The entries of a risk (all of them, or the one for `key`).
    pub fn risk(&self, id: RiskId, key: Option<&str>) -> String {
        let risk = &self.program.risks[id.index()];
        let matrix = &self.program.matrices[risk.matrix.index()];
        let level = |l: Option<u32>| l.and_then(|l| matrix.levels.get(l as usize)).map_or("?", |l| l.name.as_str());
        let mut out = String::new();
        let title = risk.title.as_deref().map(|t| format!(" {t:?}")).unwrap_or_default();
        let _ = writeln!(out, "risk {}{title}", risk.decl.name);
        let Some(result) = self.evaluation.risks.get(id.index()) else { return out };
        let mut entries: Vec<_> = result.entries.iter().filter(|e| key.is_none_or(|k| &*e.key == k)).collect();
        let numeric = risk.subject.as_ref().is_some_and(|s| eval::int_keyed(self.program, s.entity));
        entries.sort_by(|a, b| eval::cmp_keys(numeric, &a.key, &b.key));
        if entries.is_empty() {
            out.push_str("  applies to nothing\n");
        }
        let keys: Vec<String> = entries.iter().map(|e| terminal_safe_line(&e.key).into_owned()).collect();
        let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
        for (e, key) in entries.into_iter().zip(&keys) {
            let treatment = if risk.treated_by.is_empty() {
                "untreated"
            } else if e.treatment_effective {
                "treatment effective"
            } else {
                "treatment not effective"
            };
            let pad = " ".repeat(width - key.chars().count());
            let _ = write!(
                out,
                "  {key}{pad}  inherent {} ({}), {treatment}, residual {} ({})",
                level(e.inherent_level),
                e.inherent_score,
                level(e.residual_level),
                e.residual_score
            );
            if e.above_appetite {
                out.push_str(", above appetite");
            }
            out.push('\n');
            for m in &e.missing {
                let _ = writeln!(
                    out,
                    "      missing: {} (the axis takes its worst value)",
                    terminal_safe_line(&m.to_string())
                );
            }
        }
        out
    }

    /// Where an objective stands.
    pub fn objective(&self, id: ObjectiveId) -> String {
        let objective = &self.program.objectives[id.index()];
        let (op, target, by) = objective.target;
        let mut out = String::new();
        let title = objective.title.as_deref().map(|t| format!(" {t:?}")).unwrap_or_default();
        let _ = writeln!(out, "objective {}{title}", objective.decl.name);
        let Some(result) = self.evaluation.objectives.get(id.index()) else { return out };
        let current = match (&result.current, &result.unknown) {
            (Some(v), _) => num::format(num::round_shown(*v)),
            (None, Some(why)) => format!("unknown ({why})"),
            (None, None) => "unknown".into(),
        };
        let _ = writeln!(out, "  status    {}", result.status.as_str());
        let _ = writeln!(out, "  current   {current}");
        let _ = writeln!(out, "  target    {} {} by {by}", op.as_str(), num::format(target));
        if let Some(p) = result.projected {
            let _ = writeln!(out, "  projected {} at the deadline", num::format(num::round_shown(p)));
        }
        out
    }
}

fn requires(n: usize) -> String {
    if n == 1 {
        "1 require".into()
    } else {
        format!("{n} requires")
    }
}

/// The `where` filter of a rule as written, read back from its source.
fn subject_filter(sources: &Sources, rule: &RuleDef) -> Option<String> {
    let at = rule.decl.span;
    if at.file.0 as usize >= sources.len() {
        return None;
    }
    let text = sources.text(at.file).get(at.span.start as usize..at.span.end as usize)?;
    let parsed = syntax::parse(text);
    let item = parsed.file.items.into_iter().find(|i| match &i.kind {
        ast::ItemKind::Control(r) | ast::ItemKind::Audit(r) => r.name.name == rule.decl.name,
        _ => false,
    })?;
    let (ast::ItemKind::Control(decl) | ast::ItemKind::Audit(decl)) = &item.kind else { return None };
    let filter = decl.header.subject.as_ref()?.filter.as_ref()?;
    let source = text.get(item.absolute(filter.span).range())?;
    Some(source.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Text on one line: runs of white space (a `require` written over
/// several lines) become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An outcome as the REPL and `aims explain` print it.
pub fn outcome_word(kind: Option<OutcomeKind>) -> &'static str {
    match kind {
        None => "(none)",
        Some(OutcomeKind::NotApplicable) => "not applicable",
        Some(k) => k.as_str(),
    }
}

/// The keyword of a rule's kind.
pub fn rule_kind(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Control => "control",
        RuleKind::Audit => "audit",
    }
}
