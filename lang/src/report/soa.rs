//! The Statement of Applicability (ISO/IEC 42001 clause 6.1.3): every
//! control of a reference catalogue, applicable or excluded (with the
//! justification), the organisation's rules that implement it, and their
//! aggregate status.
//!
//! The catalogue is a stdlib module: Annex A for ISO/IEC 42001, or the NIST
//! AI RMF subcategories and the EU AI Act obligations, which are reached
//! through the same rules by the crosswalk's `map` declarations (a rule
//! implementing A.6.2.4 counts for every requirement A.6.2.4 maps to).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::diag::Sources;
use crate::ir::Program;

use super::{OutcomeCounts, RuleView};

/// A reference catalogue an SoA can be drawn against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    /// ISO/IEC 42001 Annex A (38 controls).
    Iso42001,
    /// NIST AI RMF 1.0 (72 subcategories).
    NistAiRmf,
    /// EU AI Act obligations.
    EuAiAct,
}

impl Framework {
    /// The stdlib file whose leaf requirements are the rows.
    fn catalogue(self) -> &'static str {
        match self {
            Framework::Iso42001 => "<stdlib>/iso42001/annex_a.aims",
            Framework::NistAiRmf => "<stdlib>/nist_ai_rmf/subcategories.aims",
            Framework::EuAiAct => "<stdlib>/eu_ai_act/articles.aims",
        }
    }

    /// The `use` that loads the catalogue, for messages.
    pub fn module(self) -> &'static str {
        match self {
            Framework::Iso42001 => "iso42001",
            Framework::NistAiRmf => "nist_ai_rmf",
            Framework::EuAiAct => "eu_ai_act",
        }
    }

    /// The name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Iso42001 => "iso42001",
            Framework::NistAiRmf => "nist-ai-rmf",
            Framework::EuAiAct => "eu-ai-act",
        }
    }
}

/// Where a row stands, from the outcomes of the rules implementing it.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SoaStatus {
    /// At least one implementing rule fails for some entity.
    Failing,
    /// Implemented, and every applicable outcome passes.
    Passing,
    /// Implemented; every failing outcome is covered by an exception.
    Waived,
    /// Implemented, but no entity is in scope of the rules.
    NotApplicable,
    /// Excluded, with its justification.
    Excluded,
    /// Neither implemented nor excluded: a gap in the SoA.
    NotAddressed,
}

/// One row of the Statement of Applicability.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SoaRow {
    /// The control's identifier (`A.6.2.4`).
    pub id: String,
    /// The control's title as the standard words it.
    pub title: String,
    /// The objective (or category) the row sits under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// False when it is excluded.
    pub applicable: bool,
    /// Why it is excluded, for an excluded control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The rules implementing it, directly or through a crosswalk.
    pub implemented_by: Vec<String>,
    /// For a crosswalked framework: the requirements that map to this row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// Where it stands, from its implementing rules' outcomes.
    pub status: SoaStatus,
    /// The outcomes of its implementing rules, added up.
    pub counts: OutcomeCounts,
}

/// The name of a file (empty for a file the sources do not hold).
fn file_name(sources: &Sources, file: crate::diag::FileId) -> &str {
    if (file.0 as usize) < sources.len() {
        sources.name(file)
    } else {
        ""
    }
}

/// The requirements of a stdlib catalogue file that no other requirement
/// sits under (controls, sub-clauses, subcategories), in declaration order.
pub(super) fn catalogue_leaves<'p>(
    program: &'p Program,
    sources: &Sources,
    catalogue: &str,
) -> Vec<&'p crate::ir::RequirementDef> {
    let parents: BTreeSet<&str> = program.requirements.iter().filter_map(|r| r.parent.as_deref()).collect();
    program
        .requirements
        .iter()
        .filter(|r| file_name(sources, r.span.file) == catalogue && !parents.contains(r.id.as_str()))
        .collect()
}

/// The rules declared in stdlib modules (defaults an exclusion outweighs).
pub(super) fn stdlib_rules<'p>(program: &'p Program, sources: &Sources) -> BTreeSet<&'p str> {
    program
        .rules
        .iter()
        .filter(|r| file_name(sources, r.decl.span.file).starts_with("<stdlib>/"))
        .map(|r| r.decl.name.as_str())
        .collect()
}

/// Each excluded requirement and its justification.
pub(super) fn exclusions(program: &Program) -> HashMap<&str, &str> {
    program.excludes.iter().map(|x| (x.requirement.as_str(), x.because.as_str())).collect()
}

/// The rows of `framework`'s catalogue, in declaration order; empty when
/// the program does not load it.
pub fn statement(program: &Program, sources: &Sources, rules: &[RuleView], framework: Framework) -> Vec<SoaRow> {
    let rule_views: HashMap<&str, &RuleView> = rules.iter().map(|r| (r.name.as_str(), r)).collect();
    // Requirement -> rules implementing it directly.
    let mut direct: HashMap<&str, Vec<&str>> = HashMap::new();
    for rule in &program.rules {
        for id in &rule.implements {
            direct.entry(id.as_str()).or_default().push(rule.decl.name.as_str());
        }
    }
    let from_stdlib = stdlib_rules(program, sources);
    // Target -> requirements that map to it.
    let mut mapped_from: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in &program.maps {
        for to in &m.to {
            mapped_from.entry(to.as_str()).or_default().push(m.from.as_str());
        }
    }
    let excluded = exclusions(program);

    catalogue_leaves(program, sources, framework.catalogue())
        .into_iter()
        .map(|r| {
            let via: Vec<String> = mapped_from
                .get(r.id.as_str())
                .map(|v| v.iter().filter(|f| direct.contains_key(**f)).map(|f| f.to_string()).collect())
                .unwrap_or_default();
            let mut implemented_by: Vec<String> = Vec::new();
            for source in std::iter::once(r.id.as_str()).chain(via.iter().map(String::as_str)) {
                for name in direct.get(source).into_iter().flatten() {
                    if !implemented_by.iter().any(|n| n == name) {
                        implemented_by.push(name.to_string());
                    }
                }
            }
            let mut counts = OutcomeCounts::default();
            for name in &implemented_by {
                if let Some(view) = rule_views.get(name.as_str()) {
                    counts.pass += view.counts.pass;
                    counts.fail += view.counts.fail;
                    counts.waived += view.counts.waived;
                    counts.not_applicable += view.counts.not_applicable;
                }
            }
            let justification = excluded.get(r.id.as_str()).map(|b| b.to_string());
            // An exclusion outweighs the stdlib's defaults (which it switches
            // off when they implement nothing else), not the project's own rules.
            if justification.is_some() && implemented_by.iter().all(|n| from_stdlib.contains(n.as_str())) {
                implemented_by.clear();
                counts = OutcomeCounts::default();
            }
            let status = if justification.is_some() && implemented_by.is_empty() {
                SoaStatus::Excluded
            } else if implemented_by.is_empty() {
                SoaStatus::NotAddressed
            } else if counts.fail > 0 {
                SoaStatus::Failing
            } else if counts.pass > 0 {
                SoaStatus::Passing
            } else if counts.waived > 0 {
                SoaStatus::Waived
            } else {
                SoaStatus::NotApplicable
            };
            SoaRow {
                id: r.id.clone(),
                title: r.title.clone(),
                parent: r.parent.clone(),
                applicable: status != SoaStatus::Excluded,
                justification,
                implemented_by,
                via,
                status,
                counts,
            }
        })
        .collect()
}

impl SoaStatus {
    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            SoaStatus::Failing => "failing",
            SoaStatus::Passing => "passing",
            SoaStatus::Waived => "waived",
            SoaStatus::NotApplicable => "not applicable",
            SoaStatus::Excluded => "excluded",
            SoaStatus::NotAddressed => "not addressed",
        }
    }
}

/// The SoA as text: one line per row, then the totals.
pub fn to_text(project: &str, framework: Framework, rows: &[SoaRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Statement of Applicability: {} ({})",
        crate::diag::terminal_safe_line(project),
        framework.name()
    );
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rows {
        let detail = match (&r.justification, r.implemented_by.is_empty()) {
            (Some(why), true) => format!("because {why:?}"),
            (_, false) => format!("by {}", r.implemented_by.join(", ")),
            (None, true) => "neither implemented nor excluded".to_string(),
        };
        let _ = writeln!(out, "  {:<width$}  {:<14}  {}  ({detail})", r.id, r.status.as_str(), r.title);
    }
    let count = |s: SoaStatus| rows.iter().filter(|r| r.status == s).count();
    let _ = writeln!(
        out,
        "\n{} rows: {} applicable, {} excluded, {} not addressed; {} passing, {} failing",
        rows.len(),
        rows.iter().filter(|r| r.applicable).count(),
        count(SoaStatus::Excluded),
        count(SoaStatus::NotAddressed),
        count(SoaStatus::Passing),
        count(SoaStatus::Failing),
    );
    crate::diag::terminal_safe(&out).into_owned()
}
