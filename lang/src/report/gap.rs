//! Gap analysis: where the organisation stands against ISO/IEC 42001,
//! clause by clause (4.1 to 10.2) and control by control (Annex A), and
//! which of the documented information the standard expects is missing.
//!
//! A row's status comes from the outcomes of the rules that cite it
//! (`clause` or `implements`; a rule citing a clause counts for each
//! sub-clause under it):
//!
//! | status | when |
//! | --- | --- |
//! | passing | some implementing outcome passes (or is waived by an exception) and none fails |
//! | failing | an implementing rule fails for some entity on what the facts say |
//! | no evidence | the rules fail only for lack of records, or nothing is in their scope to show the practice runs |
//! | excluded | excluded with a justification (Annex A only) |
//! | not addressed | no rule cites it and it is not excluded |
//!
//! Readiness of a group = passing rows / rows not excluded, as a
//! percentage; every row weighs the same. Overall readiness is the same
//! ratio over every clause and Annex A row. `docs/gap.md` says the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::action_plan::{Action, ActionPlans};
pub use super::gap_verdict::{Blocker, Verdict};
use super::{ObjectiveView, OutcomeKind, RiskView, RuleView};
use crate::diag::Sources;
use crate::facts::Facts;
use crate::ir::{ObjectiveStatus, Program};
use crate::syntax::ast::Severity;

/// Where one clause, control or record stands.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum GapStatus {
    /// Every implementing rule passes (or is waived) where it applies.
    Passing,
    /// An implementing rule's condition is false for some entity.
    Failing,
    /// Implemented, but failing only for lack of records, or not applying to anything.
    NoEvidence,
    /// Declared not applicable (`exclude`), with a justification.
    Excluded,
    /// Neither implemented nor excluded.
    NotAddressed,
}

impl GapStatus {
    /// The words the text and Markdown views print (`no evidence`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            GapStatus::Passing => "passing",
            GapStatus::Failing => "failing",
            GapStatus::NoEvidence => "no evidence",
            GapStatus::Excluded => "excluded",
            GapStatus::NotAddressed => "not addressed",
        }
    }
}

/// One row of the gap analysis.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct GapRow {
    /// The clause, control or record identifier (`9.2`, `A.6.2.4`).
    pub id: String,
    /// The title as the standard words it.
    pub title: String,
    /// The clause (`4`..`10`) or Annex A area (`A.2`..`A.10`) it counts towards.
    pub group: String,
    /// What the clause or control expects: the catalogue's paraphrase (the
    /// first paragraph of its doc comment), else its title.
    pub expects: String,
    /// Where it stands.
    pub status: GapStatus,
    /// What was found, in a sentence: what passes, what fails for which
    /// entity, what records are missing, or that nothing cites it.
    pub found: String,
    /// How an auditor would grade the gap: `major` for a requirement not
    /// addressed at all, the worst severity of the failing rules, risks and
    /// objectives for a failing row, `minor` for one without evidence; none
    /// for a passing or excluded row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Severity>,
    /// The open `ActionPlan` for it (owner and due date), for a row that
    /// does not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Action>,
    /// The rules that implement it.
    pub implemented_by: Vec<String>,
    /// The risks and objectives that cite it (`clause 6.1.2`), as
    /// `risk NAME` and `objective NAME`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidenced_by: Vec<String>,
    /// `rule: entity` for every failing outcome (`rule` alone for an
    /// organisation-level rule), and what a citing risk or objective says
    /// fails.
    #[serde(skip_serializing_if = "FailingItems::is_empty")]
    pub failing: FailingItems,
    /// What is missing: the messages of failures for lack of records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Why it is excluded, for an excluded row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// The failing items of a gap row, in order: what the citing risks and
/// objectives say fails, then `rule: entity` for every failing outcome of
/// each implementing rule. At 100,000 systems a row names tens of
/// thousands of entities; a rule's are kept as its failing keys laid end
/// to end ([`Entities`], made once per rule and shared by its rows), so
/// listing them reads memory in order instead of one key's allocation
/// after another.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailingItems(Vec<FailingRun>);

/// A run of a row's failing items.
#[derive(Clone, Debug, PartialEq)]
enum FailingRun {
    /// One item given whole: a risk's or objective's text, or its name.
    Text(Arc<str>),
    /// One item per failing entity of the rule `name`.
    Rule { name: Arc<str>, entities: Arc<Entities> },
}

/// The keys of the entities a rule fails for, in key order, laid end to
/// end (`-` for an organisation-level outcome).
#[derive(Clone, Debug, Default, PartialEq)]
struct Entities {
    text: String,
    /// Where each key ends in `text`.
    ends: Vec<usize>,
}

impl Entities {
    fn push(&mut self, key: &str) {
        self.text.push_str(key);
        self.ends.push(self.text.len());
    }

    fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| self.text.get(start..end).unwrap_or(""))
    }
}

impl FailingItems {
    /// How many items there are.
    pub fn len(&self) -> usize {
        self.0
            .iter()
            .map(|run| match run {
                FailingRun::Text(_) => 1,
                FailingRun::Rule { entities, .. } => entities.ends.len(),
            })
            .sum()
    }

    /// Whether there is none (no run is empty).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The items, in order.
    pub fn iter(&self) -> impl Iterator<Item = Failing<'_>> + '_ {
        self.0.iter().flat_map(|run| -> Box<dyn Iterator<Item = Failing<'_>> + '_> {
            match run {
                FailingRun::Text(text) => Box::new(std::iter::once(Failing { what: text, entity: None })),
                FailingRun::Rule { name, entities } => Box::new(
                    entities.iter().map(move |key| Failing { what: name, entity: (key != "-").then_some(key) }),
                ),
            }
        })
    }

    /// Appends an item given whole.
    fn push_text(&mut self, text: &str) {
        self.0.push(FailingRun::Text(text.into()));
    }

    /// Appends an item per entity `rule` fails for.
    fn push_rule(&mut self, name: &Arc<str>, entities: &Arc<Entities>) {
        if !entities.ends.is_empty() {
            self.0.push(FailingRun::Rule { name: name.clone(), entities: entities.clone() });
        }
    }
}

impl Serialize for FailingItems {
    /// An array of strings, each item made in one buffer used again.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        let mut text = String::new();
        for item in self.iter() {
            text.clear();
            item.push_to(&mut text);
            seq.serialize_element(text.as_str())?;
        }
        seq.end()
    }
}

/// One failing item of a gap row: `rule: entity`, the rule alone for an
/// organisation-level rule, or a risk's or objective's whole text. Written
/// (and serialized) as the one text; `push_to` and `Display` write the
/// same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failing<'a> {
    /// The rule's name, or the whole text of a risk's or objective's item
    /// (`risk bias: sys-1 above appetite`).
    pub what: &'a str,
    /// The entity the rule fails for; none for an organisation-level rule
    /// or a whole text.
    pub entity: Option<&'a str>,
}

impl Failing<'_> {
    /// The item appended to `out`.
    pub fn push_to(&self, out: &mut String) {
        out.push_str(self.what);
        if let Some(entity) = self.entity {
            out.push_str(": ");
            out.push_str(entity);
        }
    }
}

impl std::fmt::Display for Failing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)?;
        match self.entity {
            Some(entity) => {
                f.write_str(": ")?;
                f.write_str(entity)
            }
            None => Ok(()),
        }
    }
}

/// The readiness of a group of rows.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Readiness {
    /// The clause (`4`..`10`) or Annex A area (`A.2`..`A.10`), or `overall` for every row.
    pub group: String,
    /// The group's title.
    pub title: String,
    /// Rows that pass.
    pub passing: usize,
    /// Rows that count: all but the excluded ones.
    pub applicable: usize,
    /// `passing / applicable` as a percentage, one decimal; none when nothing counts.
    pub percent: Option<f64>,
}

/// The whole gap analysis.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Gap {
    /// The management-system clauses (4 to 10).
    pub clauses: Vec<GapRow>,
    /// The Annex A controls.
    pub controls: Vec<GapRow>,
    /// The documented information the standard expects (`use aims.documented`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<GapRow>,
    /// The readiness of each clause and Annex A area.
    pub groups: Vec<Readiness>,
    /// The readiness of every clause and Annex A row together (the group `overall`).
    pub overall: Readiness,
    /// Whether a certification body's stage 1 audit would find the AIMS
    /// ready, and what blocks it.
    pub stage1: Verdict,
    /// Whether stage 2 would end in a recommendation for certification,
    /// and what blocks it.
    pub stage2: Verdict,
}

const CLAUSES: &str = "<stdlib>/iso42001/clauses.aims";
const ANNEX_A: &str = "<stdlib>/iso42001/annex_a.aims";
const DOCUMENTS: &str = "<stdlib>/aims/documented.aims";

fn readiness(group: &str, title: &str, rows: &[&GapRow]) -> Readiness {
    let applicable = rows.iter().filter(|r| r.status != GapStatus::Excluded).count();
    let passing = rows.iter().filter(|r| r.status == GapStatus::Passing).count();
    let percent = (applicable > 0).then(|| (passing as f64 * 1000.0 / applicable as f64).round() / 10.0);
    Readiness { group: group.to_string(), title: title.to_string(), passing, applicable, percent }
}

/// What a gap analysis reads: the evaluated program and its facts.
pub struct Inputs<'a> {
    /// The program.
    pub program: &'a Program,
    /// Its sources (to tell the stdlib's catalogue from the project's files).
    pub sources: &'a Sources,
    /// Its facts (for the `ActionPlan` records).
    pub facts: &'a dyn Facts,
    /// The evaluation date, `YYYY-MM-DD`.
    pub as_of: &'a str,
    /// The rules with their outcomes.
    pub rules: &'a [RuleView],
    /// The risks, scored.
    pub risks: &'a [RiskView],
    /// The objectives, with where they stand.
    pub objectives: &'a [ObjectiveView],
}

/// What one risk or objective citing a row says about it.
struct Citation {
    /// `risk NAME` or `objective NAME`.
    name: String,
    /// Some entity was assessed (risk) or the objective is met or on track.
    passes: bool,
    /// Failing texts: an entity above appetite, an objective at risk or missed.
    violations: Vec<String>,
    /// Missing facts or measurements.
    missing: Vec<String>,
    /// The severity of its finding.
    severity: Severity,
}

/// The risks and objectives, by the clauses they cite.
fn citations(input: &Inputs) -> HashMap<String, Vec<Citation>> {
    let mut out: HashMap<String, Vec<Citation>> = HashMap::new();
    for view in input.risks {
        let Some(def) = input.program.risks.iter().find(|r| r.decl.name == view.name) else { continue };
        for clause in &def.clauses {
            let mut c = Citation {
                name: format!("risk {}", view.name),
                passes: false,
                violations: Vec::new(),
                missing: Vec::new(),
                severity: def.severity,
            };
            for e in &view.entries {
                let who = if e.entity == "-" { String::new() } else { format!(" for {}", e.entity) };
                if e.above_appetite {
                    c.violations.push(format!(
                        "risk {}: {} above appetite",
                        view.name,
                        if e.entity == "-" { "the organisation" } else { &e.entity }
                    ));
                } else {
                    c.passes = true;
                }
                for m in &e.missing {
                    c.missing.push(format!("risk {}{who}: {m}", view.name));
                }
            }
            out.entry(clause.clone()).or_default().push(c);
        }
    }
    for view in input.objectives {
        let Some(def) = input.program.objectives.iter().find(|o| o.decl.name == view.name) else { continue };
        for clause in &def.clauses {
            let mut c = Citation {
                name: format!("objective {}", view.name),
                passes: matches!(view.status, ObjectiveStatus::Met | ObjectiveStatus::OnTrack),
                violations: Vec::new(),
                missing: Vec::new(),
                severity: def.severity,
            };
            match view.status {
                ObjectiveStatus::AtRisk | ObjectiveStatus::Missed => {
                    c.violations.push(format!("objective {}: {}", view.name, view.status.as_str().replace('_', " ")))
                }
                ObjectiveStatus::NoData => c.missing.push(format!(
                    "objective {}: {}",
                    view.name,
                    view.unknown.as_deref().unwrap_or("no measurement")
                )),
                ObjectiveStatus::Met | ObjectiveStatus::OnTrack => {}
            }
            out.entry(clause.clone()).or_default().push(c);
        }
    }
    out
}

/// The first paragraph of a doc comment, on one line.
fn paraphrase(r: &crate::ir::RequirementDef) -> String {
    r.docs
        .as_deref()
        .and_then(|d| d.split("\n\n").next())
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| r.title.clone())
}

/// The gap analysis of an evaluated program, or none when the ISO/IEC
/// 42001 catalogue is not loaded.
pub fn analyse(input: &Inputs) -> Option<Gap> {
    let (program, sources, rules) = (input.program, input.sources, input.rules);
    let cited = citations(input);
    let plans = ActionPlans::read(program, input.facts, input.as_of);
    let leaves = |catalogue: &str| super::soa::catalogue_leaves(program, sources, catalogue);
    let clause_rows = leaves(CLAUSES);
    if clause_rows.is_empty() {
        return None;
    }
    let from_stdlib = super::soa::stdlib_rules(program, sources);
    // Requirement -> rules citing it or one of its ancestors.
    let ancestors = |id: &str| -> Vec<String> {
        let mut chain = vec![id.to_string()];
        let mut current = id.to_string();
        for _ in 0..program.requirements.len() {
            match program.requirement(&current).and_then(|r| r.parent.clone()) {
                Some(p) => {
                    chain.push(p.clone());
                    current = p;
                }
                None => break,
            }
        }
        chain
    };
    // Requirement -> positions in `rules` of the rules citing it.
    let mut citing: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, rule) in rules.iter().enumerate() {
        for id in rule.implements.iter().chain(&rule.clauses) {
            let list = citing.entry(id.as_str()).or_default();
            if !list.iter().any(|&r| rules[r].name == rule.name) {
                list.push(i);
            }
        }
    }
    let excluded = super::soa::exclusions(program);
    // What each rule citing some row says, read once per rule however many
    // rows it counts for, the rules shared out among the cores: a rule
    // failing for most of 100,000 systems copies that many keys.
    let cited_rules: Vec<usize> = {
        let mut cited_rules: Vec<usize> = citing.values().flatten().copied().collect();
        cited_rules.sort_unstable();
        cited_rules.dedup();
        cited_rules
    };
    let threads = crate::eval::threads(None);
    let summaries: HashMap<usize, RuleSummary> = cited_rules
        .iter()
        .copied()
        .zip(crate::eval::parallel_map(threads, &cited_rules, |&rule| RuleSummary::of(&rules[rule])))
        .collect();
    let row = |r: &crate::ir::RequirementDef, group: String| -> GapRow {
        let mut implementers: Vec<usize> = Vec::new();
        for id in ancestors(&r.id) {
            for &rule in citing.get(id.as_str()).into_iter().flatten() {
                if !implementers.iter().any(|&x| rules[x].name == rules[rule].name) {
                    implementers.push(rule);
                }
            }
        }
        let justification = excluded.get(r.id.as_str()).map(|b| b.to_string());
        if justification.is_some() && implementers.iter().all(|&i| from_stdlib.contains(rules[i].name.as_str())) {
            implementers.clear();
        }
        let mut failing = FailingItems::default();
        let mut missing: Vec<String> = Vec::new();
        let mut violated = false;
        let mut passes = false;
        let mut worst: Option<Severity> = None;
        let mut evidenced_by: Vec<String> = Vec::new();
        if justification.is_none() {
            for id in ancestors(&r.id) {
                for c in cited.get(&id).into_iter().flatten() {
                    if evidenced_by.contains(&c.name) {
                        continue;
                    }
                    evidenced_by.push(c.name.clone());
                    passes |= c.passes;
                    if !c.violations.is_empty() {
                        violated = true;
                        worst = Some(worst.map_or(c.severity, |w| w.min(c.severity)));
                    }
                    for violation in &c.violations {
                        failing.push_text(violation);
                    }
                    if !c.missing.is_empty() {
                        failing.push_text(&c.name);
                    }
                    for m in &c.missing {
                        if !missing.contains(m) {
                            missing.push(m.clone());
                        }
                    }
                }
            }
        }
        for &rule in &implementers {
            // Every implementer cites the row: it is one of `cited_rules`.
            let summary = &summaries[&rule];
            passes |= summary.passes;
            violated |= summary.violated;
            if summary.violated {
                let severity = rules[rule].severity;
                worst = Some(worst.map_or(severity, |w| w.min(severity)));
            }
            failing.push_rule(&summary.name, &summary.failing);
            for message in &summary.missing {
                if !missing.contains(message) {
                    missing.push(message.clone());
                }
            }
        }
        let status = match (&justification, implementers.is_empty() && evidenced_by.is_empty()) {
            (Some(_), true) => GapStatus::Excluded,
            (None, true) => GapStatus::NotAddressed,
            _ if violated => GapStatus::Failing,
            _ if !failing.is_empty() => GapStatus::NoEvidence,
            _ if passes => GapStatus::Passing,
            _ => GapStatus::NoEvidence,
        };
        let grade = match status {
            GapStatus::Passing | GapStatus::Excluded => None,
            GapStatus::NotAddressed => Some(Severity::Major),
            GapStatus::Failing => Some(worst.unwrap_or(Severity::Major)),
            GapStatus::NoEvidence => Some(Severity::Minor),
        };
        let remediation = match status {
            GapStatus::Passing | GapStatus::Excluded => None,
            _ => plans.for_requirement(&r.id).cloned(),
        };
        let mut row = GapRow {
            id: r.id.clone(),
            title: r.title.clone(),
            group,
            expects: paraphrase(r),
            status,
            found: String::new(),
            grade,
            remediation,
            implemented_by: implementers.iter().map(|&i| rules[i].name.clone()).collect(),
            evidenced_by,
            failing,
            missing,
            justification: if status == GapStatus::Excluded { justification } else { None },
        };
        row.found = found(&row);
        row
    };
    let top = |id: &str| ancestors(id).last().cloned().unwrap_or_default();
    let clauses: Vec<GapRow> = clause_rows.iter().map(|r| row(r, top(&r.id))).collect();
    let controls: Vec<GapRow> = leaves(ANNEX_A).iter().map(|r| row(r, top(&r.id))).collect();
    let documents: Vec<GapRow> = leaves(DOCUMENTS).iter().map(|r| row(r, "DOC".into())).collect();

    let mut groups = Vec::new();
    for rows in [&clauses, &controls] {
        let mut by_group: BTreeMap<(u32, String), Vec<&GapRow>> = BTreeMap::new();
        for r in rows.iter() {
            let order = r.group.trim_start_matches("A.").parse().unwrap_or(u32::MAX);
            by_group.entry((order, r.group.clone())).or_default().push(r);
        }
        for ((_, group), members) in by_group {
            let title = program.requirement(&group).map_or(String::new(), |r| r.title.clone());
            groups.push(readiness(&group, &title, &members));
        }
    }
    let all: Vec<&GapRow> = clauses.iter().chain(&controls).collect();
    let overall = readiness("overall", "Clauses 4-10 and Annex A", &all);
    let stage1 = super::gap_verdict::stage1(&clauses, &controls);
    let stage2 = super::gap_verdict::stage2(&clauses, &controls, &stage1);
    Some(Gap { clauses, controls, documents, groups, overall, stage1, stage2 })
}

/// What the outcomes of one rule say for the rows it counts for.
#[derive(Clone)]
struct RuleSummary {
    /// Some outcome passes or is waived.
    passes: bool,
    /// Some failing outcome has a condition that is false (not only missing records).
    violated: bool,
    /// The rule's name, shared by the rows' failing items.
    name: Arc<str>,
    /// The key of each failing outcome (`-` without a subject), in key
    /// order, shared by the rows' failing items.
    failing: Arc<Entities>,
    /// The messages of failures for lack of records, each once, in order of first appearance.
    missing: Vec<String>,
}

impl RuleSummary {
    /// Reads the rule's outcomes once, making no view of them.
    fn of(rule: &RuleView) -> RuleSummary {
        let mut texts = rule.outcomes.failure_texts();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let [pass, _, waived, _] = rule.outcomes.counts();
        let mut violated = false;
        let mut missing = Vec::new();
        let mut keys: Vec<&str> = Vec::new();
        for o in rule.outcomes.failing() {
            match o.kind {
                OutcomeKind::Pass | OutcomeKind::Waived | OutcomeKind::NotApplicable => {}
                OutcomeKind::Fail => {
                    keys.push(o.key.as_str());
                    let mut undecided = 0;
                    for f in o.undecided() {
                        undecided += 1;
                        let message = texts.message(f).plain.as_str();
                        if !seen.contains(message) {
                            seen.insert(message.to_string());
                            missing.push(message.to_string());
                        }
                    }
                    // Any other failure is a requirement found false.
                    violated |= undecided < o.failures.len();
                }
            }
        }
        let mut failing = Entities { text: String::new(), ends: Vec::with_capacity(keys.len()) };
        // Each key is an allocation of its own: the copy would otherwise
        // wait on every one.
        for key in crate::prefetch::ahead(keys.iter(), |key| crate::prefetch::slice(key.as_bytes())) {
            failing.push(key);
        }
        RuleSummary {
            name: rule.name.as_str().into(),
            passes: pass + waived > 0,
            violated,
            failing: Arc::new(failing),
            missing,
        }
    }
}

fn percent(r: &Readiness) -> String {
    r.percent.map_or("n/a".to_string(), |p| format!("{p:.1}%"))
}

impl Gap {
    /// The gap analysis as text.
    pub fn to_text(&self, project: &str, as_of: &str) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "Gap analysis: {} as of {as_of}", crate::diag::terminal_safe_line(project));
        let _ = writeln!(
            out,
            "  readiness {} ({} of {} clauses and controls passing)\n",
            percent(&self.overall),
            self.overall.passing,
            self.overall.applicable
        );
        out.push_str("Certification readiness\n");
        out.push_str(&super::gap_verdict::verdict_text("stage 1", &self.stage1));
        out.push_str(&super::gap_verdict::verdict_text("stage 2", &self.stage2));
        out.push_str("\nReadiness by clause and Annex A area\n");
        for g in &self.groups {
            let _ =
                writeln!(out, "  {:<5} {:>6}  {:>2}/{:<2}  {}", g.group, percent(g), g.passing, g.applicable, g.title);
        }
        for (heading, rows) in [("Clauses", &self.clauses), ("Annex A controls", &self.controls)] {
            let _ = writeln!(out, "\n{heading}");
            rows_text(&mut out, rows);
        }
        if !self.documents.is_empty() {
            out.push_str("\nDocumented information\n");
            rows_text(&mut out, &self.documents);
        }
        crate::diag::terminal_safe_owned(out)
    }

    /// The gap analysis as Markdown.
    pub fn to_markdown(&self, project: &str, as_of: &str) -> String {
        use std::fmt::Write as _;
        let cell = super::markdown::cell;
        let mut out = String::new();
        let _ = writeln!(out, "## Gap analysis: {} as of {as_of}\n", cell(project));
        let _ = writeln!(
            out,
            "Readiness **{}** ({} of {} passing).\n",
            percent(&self.overall),
            self.overall.passing,
            self.overall.applicable
        );
        for (stage, v) in [("Stage 1", &self.stage1), ("Stage 2", &self.stage2)] {
            let _ = writeln!(
                out,
                "**{stage}: {}.** Needs {}.\n",
                if v.ready { "ready" } else { "not ready" },
                cell(v.needs)
            );
            for b in &v.blockers {
                let _ = writeln!(out, "- blocked by {}: {}", cell(&b.id), cell(&b.reason));
            }
            if !v.blockers.is_empty() {
                out.push('\n');
            }
        }
        out.push_str("| group | title | passing | readiness |\n|---|---|---:|---:|\n");
        for g in &self.groups {
            let _ =
                writeln!(out, "| {} | {} | {}/{} | {} |", g.group, cell(&g.title), g.passing, g.applicable, percent(g));
        }
        for (heading, rows) in [
            ("Clauses", &self.clauses),
            ("Annex A controls", &self.controls),
            ("Documented information", &self.documents),
        ] {
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n### {heading}\n\n| id | title | status | grade | expects | found | remediation |\n|---|---|---|---|---|---|---|"
            );
            for r in rows.iter() {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    r.id,
                    cell(&r.title),
                    r.status.as_str(),
                    r.grade.map_or("", |g| g.as_str()),
                    cell(&r.expects),
                    cell(&r.found),
                    cell(&remediation(r)),
                );
            }
        }
        out
    }
}

/// What was found for a row, in a sentence.
fn found(r: &GapRow) -> String {
    let mut by: Vec<String> = r.implemented_by.clone();
    by.extend(r.evidenced_by.iter().cloned());
    match r.status {
        GapStatus::Passing => format!("in place: checked by {}, none failing", by.join(", ")),
        GapStatus::NotAddressed => {
            "nothing checks it: no rule implements or cites it, and no risk or objective cites it".to_string()
        }
        _ => gaps(r),
    }
}

/// What is wrong with a row, in a few words.
pub(super) fn gaps(r: &GapRow) -> String {
    match r.status {
        GapStatus::Excluded => format!("excluded: {}", r.justification.as_deref().unwrap_or("")),
        GapStatus::NotAddressed => "no rule checks it".to_string(),
        GapStatus::Passing => String::new(),
        GapStatus::Failing => {
            let mut text = String::from("fails for ");
            for (i, item) in r.failing.iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                item.push_to(&mut text);
            }
            text
        }
        GapStatus::NoEvidence if r.missing.is_empty() => "nothing in scope shows it operates".to_string(),
        GapStatus::NoEvidence => format!("missing: {}", r.missing.join("; ")),
    }
}

/// The remediation of a row: its open action, or what is missing.
fn remediation(r: &GapRow) -> String {
    match (&r.remediation, r.grade) {
        (Some(a), _) => format!(
            "action {}, owner {}, due {}{}",
            a.action,
            a.owner.as_deref().unwrap_or("not recorded"),
            a.due,
            if a.overdue { " (overdue)" } else { "" }
        ),
        (None, Some(_)) => "no open action plan".to_string(),
        (None, None) => String::new(),
    }
}

fn rows_text(out: &mut String, rows: &[GapRow]) {
    use std::fmt::Write as _;
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rows {
        let _ = writeln!(out, "  {:<width$}  {:<13}  {}", r.id, r.status.as_str(), r.title);
        let pad = " ".repeat(width + 4);
        let _ = writeln!(out, "{pad}expects: {}", crate::report::one_line(&r.expects, 260));
        let _ = writeln!(out, "{pad}found: {}", crate::report::one_line(&r.found, 200));
        if let Some(grade) = r.grade {
            let _ = writeln!(out, "{pad}grade: {}; remediation: {}", grade.as_str(), remediation(r));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Entities, FailingItems};

    /// A failing item is one text wherever it shows: `rule: entity`, the
    /// rule alone, or a risk's or objective's own words; JSON escapes it.
    #[test]
    fn failing_items_read_and_serialize_as_one_text_each() {
        let mut entities = Entities::default();
        for key in ["sys \"1\"", "-", "sys-2"] {
            entities.push(key);
        }
        let entities = Arc::new(entities);
        let mut items = FailingItems::default();
        items.push_text("risk bias: the organisation above appetite");
        items.push_rule(&Arc::from("bias_testing"), &entities);
        items.push_rule(&Arc::from("never_failing"), &Arc::new(Entities::default()));
        items.push_text("objective uptime");
        assert_eq!(items.len(), 5);
        let json = serde_json::to_string(&items).unwrap_or_default();
        assert_eq!(
            json,
            r#"["risk bias: the organisation above appetite","bias_testing: sys \"1\"","bias_testing","bias_testing: sys-2","objective uptime"]"#
        );
        let texts: Vec<String> = items.iter().map(|item| item.to_string()).collect();
        assert_eq!(texts.len(), 5);
        for (item, text) in items.iter().zip(&texts) {
            let mut pushed = String::new();
            item.push_to(&mut pushed);
            assert_eq!(&pushed, text);
        }
        assert!(FailingItems::default().is_empty());
    }
}
