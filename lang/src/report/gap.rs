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

use serde::Serialize;

use super::{OutcomeKind, RuleView};
use crate::diag::Sources;
use crate::ir::Program;

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
    /// Where it stands.
    pub status: GapStatus,
    /// The rules that implement it.
    pub implemented_by: Vec<String>,
    /// `rule: entity` for every failing outcome (`rule` alone for an
    /// organisation-level rule).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<String>,
    /// What is missing: the messages of failures for lack of records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Why it is excluded, for an excluded row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
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

/// The gap analysis of an evaluated program, or none when the ISO/IEC
/// 42001 catalogue is not loaded.
pub fn analyse(program: &Program, sources: &Sources, rules: &[RuleView]) -> Option<Gap> {
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
    // What each rule's outcomes say, read once per rule however many rows it counts for.
    let mut summaries: Vec<Option<RuleSummary>> = vec![None; rules.len()];
    let mut row = |r: &crate::ir::RequirementDef, group: String| -> GapRow {
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
        let mut failing = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        let mut violated = false;
        let mut passes = false;
        for &rule in &implementers {
            let summary = summaries[rule].get_or_insert_with(|| RuleSummary::of(&rules[rule]));
            passes |= summary.passes;
            violated |= summary.violated;
            let name = &rules[rule].name;
            failing.extend(summary.failing.iter().map(|&key| {
                if key == "-" {
                    name.clone()
                } else {
                    format!("{name}: {key}")
                }
            }));
            for message in &summary.missing {
                if !missing.contains(message) {
                    missing.push(message.clone());
                }
            }
        }
        let status = match (&justification, implementers.is_empty()) {
            (Some(_), true) => GapStatus::Excluded,
            (None, true) => GapStatus::NotAddressed,
            _ if violated => GapStatus::Failing,
            _ if !failing.is_empty() => GapStatus::NoEvidence,
            _ if passes => GapStatus::Passing,
            _ => GapStatus::NoEvidence,
        };
        GapRow {
            id: r.id.clone(),
            title: r.title.clone(),
            group,
            status,
            implemented_by: implementers.iter().map(|&i| rules[i].name.clone()).collect(),
            failing,
            missing,
            justification: if status == GapStatus::Excluded { justification } else { None },
        }
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
    Some(Gap { clauses, controls, documents, groups, overall })
}

/// What the outcomes of one rule say for the rows it counts for.
#[derive(Clone)]
struct RuleSummary<'r> {
    /// Some outcome passes or is waived.
    passes: bool,
    /// Some failing outcome has a condition that is false (not only missing records).
    violated: bool,
    /// The key of each failing outcome (`-` without a subject), in key
    /// order: each row makes its own `rule: entity` texts from them.
    failing: Vec<&'r str>,
    /// The messages of failures for lack of records, each once, in order of first appearance.
    missing: Vec<String>,
}

impl<'r> RuleSummary<'r> {
    /// Reads the rule's outcomes once, making no view of them.
    fn of(rule: &'r RuleView) -> RuleSummary<'r> {
        let mut summary = RuleSummary { passes: false, violated: false, failing: Vec::new(), missing: Vec::new() };
        let mut texts = rule.outcomes.failure_texts();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for o in rule.outcomes.raw() {
            match o.kind {
                OutcomeKind::Pass | OutcomeKind::Waived => summary.passes = true,
                OutcomeKind::NotApplicable => {}
                OutcomeKind::Fail => {
                    summary.failing.push(&o.key);
                    for f in &o.failures {
                        if matches!(f.reason, crate::eval::FailReason::NoEvidence(_)) {
                            let message = texts.message(f);
                            if !seen.contains(message) {
                                seen.insert(message.to_string());
                                summary.missing.push(message.to_string());
                            }
                        } else {
                            summary.violated = true;
                        }
                    }
                }
            }
        }
        summary
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
        out.push_str("Readiness by clause and Annex A area\n");
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
        crate::diag::terminal_safe(&out).into_owned()
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
            let _ = writeln!(out, "\n### {heading}\n\n| id | title | status | by | gaps |\n|---|---|---|---|---|");
            for r in rows.iter() {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    r.id,
                    cell(&r.title),
                    r.status.as_str(),
                    cell(&r.implemented_by.join(", ")),
                    cell(&gaps(r))
                );
            }
        }
        out
    }
}

/// What is wrong with a row, in a few words.
pub(super) fn gaps(r: &GapRow) -> String {
    match r.status {
        GapStatus::Excluded => format!("excluded: {}", r.justification.as_deref().unwrap_or("")),
        GapStatus::NotAddressed => "no rule checks it".to_string(),
        GapStatus::Passing => String::new(),
        GapStatus::Failing => format!("fails for {}", r.failing.join(", ")),
        GapStatus::NoEvidence if r.missing.is_empty() => "nothing in scope shows it operates".to_string(),
        GapStatus::NoEvidence => format!("missing: {}", r.missing.join("; ")),
    }
}

fn rows_text(out: &mut String, rows: &[GapRow]) {
    use std::fmt::Write as _;
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rows {
        let _ = writeln!(out, "  {:<width$}  {:<13}  {}", r.id, r.status.as_str(), r.title);
        let detail = gaps(r);
        if !detail.is_empty() {
            let _ = writeln!(out, "  {:<width$}  {:<13}  {}", "", "", crate::report::one_line(&detail, 160));
        }
    }
}
