//! The Statement of Applicability (ISO/IEC 42001 clause 6.1.3): every
//! control of a reference catalogue, included or excluded, with the
//! justification for either (the exclusion's `because`; for an inclusion,
//! the policy's own words, the risks it treats and the obligations behind
//! it), its implementation status apart from the latest test result, and
//! the organisation's rules that implement it. `soa_detail.rs` adds, for
//! `aims soa`, the evidence, the checks, the waivers and document control.
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

/// The latest test result of a row, from the outcomes of the rules implementing it.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SoaStatus {
    /// At least one implementing rule fails for some entity.
    Failing,
    /// Implemented, and every applicable outcome passes.
    Passing,
    /// Implemented; every failing outcome is covered by an exception.
    Waived,
    /// Implemented, but nothing in scope to check yet (no fact the rules
    /// apply to): included, not excluded.
    NothingToCheck,
    /// Excluded, with its justification.
    Excluded,
    /// Neither implemented nor excluded: a gap in the SoA.
    NotAddressed,
}

/// Whether a control is part of the AIMS.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Included: implemented, or to be (a gap when nothing implements it).
    Included,
    /// Excluded, with its justification.
    Excluded,
}

/// How far an included control is implemented, apart from its test result.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    /// Its rules are in place and none fails (or nothing is in scope yet).
    Implemented,
    /// Its rules are in place; some outcomes pass (or are waived), some fail.
    Partially,
    /// Not implemented yet, with an open `ActionPlan` for it: `plan`
    /// gives the owner and due date, and whether it is overdue.
    Planned,
    /// Nothing implements it, or every outcome of its rules fails, and no
    /// open action plans it.
    NotImplemented,
}

impl Implementation {
    /// The words the text, Markdown, HTML and spreadsheet views print.
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::Implemented => "implemented",
            Implementation::Partially => "partially implemented",
            Implementation::Planned => "planned",
            Implementation::NotImplemented => "not implemented",
        }
    }
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
    /// Included or excluded.
    pub decision: Decision,
    /// Why it is excluded (the `exclude`'s `because`), or why it is
    /// included: the policy's own words, the risks it treats, the
    /// requirements and legal obligations behind it. Never empty.
    pub justification: String,
    /// The risks whose treatment relies on its rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub treats_risks: Vec<String>,
    /// The organisation's requirements and the legal obligations (EU AI
    /// Act) that map to or from it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<String>,
    /// How far it is implemented; absent for an excluded control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
    /// For a `planned` control: the open action that plans it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<super::action_plan::Action>,
    /// The rules implementing it, directly or through a crosswalk.
    pub implemented_by: Vec<String>,
    /// For a crosswalked framework: the requirements that map to this row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// The latest test result, from its implementing rules' outcomes.
    pub status: SoaStatus,
    /// What the status means when it is not a plain pass or fail: what
    /// had nothing to check, or that the row is a gap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    rows_for(program, sources, rules, catalogue_leaves(program, sources, framework.catalogue()))
}

/// The organisation's own controls: the requirements its policy files
/// declare (not the stdlib's) that no other requirement sits under and
/// that a rule implements, as SoA rows.
pub fn organisation_controls(program: &Program, sources: &Sources, rules: &[RuleView]) -> Vec<SoaRow> {
    let parents: BTreeSet<&str> = program.requirements.iter().filter_map(|r| r.parent.as_deref()).collect();
    let implemented: BTreeSet<&str> =
        program.rules.iter().flat_map(|r| r.implements.iter().map(String::as_str)).collect();
    let own = program
        .requirements
        .iter()
        .filter(|r| !file_name(sources, r.span.file).starts_with("<stdlib>/"))
        .filter(|r| !parents.contains(r.id.as_str()) && implemented.contains(r.id.as_str()))
        .collect();
    rows_for(program, sources, rules, own)
}

/// The first sentence or paragraph of a doc comment, on one line.
fn first_paragraph(docs: &str) -> String {
    docs.split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows for a list of requirements.
fn rows_for(
    program: &Program,
    sources: &Sources,
    rules: &[RuleView],
    requirements: Vec<&crate::ir::RequirementDef>,
) -> Vec<SoaRow> {
    let rule_views: HashMap<&str, &RuleView> = rules.iter().map(|r| (r.name.as_str(), r)).collect();
    let rule_defs: HashMap<&str, &crate::ir::RuleDef> =
        program.rules.iter().map(|r| (r.decl.name.as_str(), r)).collect();
    // Requirement -> rules implementing it directly.
    let mut direct: HashMap<&str, Vec<&str>> = HashMap::new();
    for rule in &program.rules {
        for id in &rule.implements {
            direct.entry(id.as_str()).or_default().push(rule.decl.name.as_str());
        }
    }
    let from_stdlib = stdlib_rules(program, sources);
    // Target -> requirements that map to it, and source -> its targets.
    let mut mapped_from: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut maps_to: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in &program.maps {
        for to in &m.to {
            mapped_from.entry(to.as_str()).or_default().push(m.from.as_str());
            maps_to.entry(m.from.as_str()).or_default().push(to.as_str());
        }
    }
    let declared_in: HashMap<&str, &str> =
        program.requirements.iter().map(|r| (r.id.as_str(), file_name(sources, r.span.file))).collect();
    // Rule -> the risks whose treatment relies on it.
    let mut treats: HashMap<&str, Vec<&str>> = HashMap::new();
    for risk in &program.risks {
        for rule in &risk.treated_by {
            if let Some(def) = program.rules.get(rule.index()) {
                treats.entry(def.decl.name.as_str()).or_default().push(risk.decl.name.as_str());
            }
        }
    }
    let excluded = exclusions(program);

    requirements
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
            let exclusion = excluded.get(r.id.as_str()).map(|b| b.to_string());
            // An exclusion outweighs the stdlib's defaults (which it switches
            // off when they implement nothing else), not the project's own rules.
            if exclusion.is_some() && implemented_by.iter().all(|n| from_stdlib.contains(n.as_str())) {
                implemented_by.clear();
                counts = OutcomeCounts::default();
            }
            let status = if exclusion.is_some() && implemented_by.is_empty() {
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
                SoaStatus::NothingToCheck
            };
            let mut treats_risks: Vec<String> = Vec::new();
            for name in &implemented_by {
                for risk in treats.get(name.as_str()).into_iter().flatten() {
                    if !treats_risks.iter().any(|t| t == risk) {
                        treats_risks.push(risk.to_string());
                    }
                }
            }
            // Requirements of the organisation mapped to it, and legal
            // obligations it maps to (or, for a crosswalked row, that it is).
            let mut obligations: Vec<String> = Vec::new();
            let own = |id: &str| declared_in.get(id).is_some_and(|f| !f.starts_with("<stdlib>/"));
            let legal = |id: &str| declared_in.get(id).is_some_and(|f| *f == Framework::EuAiAct.catalogue());
            for id in mapped_from.get(r.id.as_str()).into_iter().flatten().filter(|id| own(id)) {
                obligations.push(id.to_string());
            }
            for id in maps_to.get(r.id.as_str()).into_iter().flatten().filter(|id| legal(id) || own(id)) {
                if !obligations.iter().any(|o| o == id) {
                    obligations.push(id.to_string());
                }
            }
            let decision = if status == SoaStatus::Excluded { Decision::Excluded } else { Decision::Included };
            let implementation = match status {
                SoaStatus::Excluded => None,
                SoaStatus::NotAddressed => Some(Implementation::NotImplemented),
                SoaStatus::Failing if counts.pass + counts.waived == 0 => Some(Implementation::NotImplemented),
                SoaStatus::Failing => Some(Implementation::Partially),
                SoaStatus::Waived => Some(Implementation::Partially),
                SoaStatus::Passing if counts.waived > 0 => Some(Implementation::Partially),
                SoaStatus::Passing | SoaStatus::NothingToCheck => Some(Implementation::Implemented),
            };
            let justification = match (&exclusion, status) {
                (Some(why), SoaStatus::Excluded) => why.clone(),
                (_, SoaStatus::NotAddressed) => {
                    "neither implemented nor excluded: the statement has a gap here".to_string()
                }
                _ => {
                    let defs: Vec<&crate::ir::RuleDef> =
                        implemented_by.iter().filter_map(|n| rule_defs.get(n.as_str()).copied()).collect();
                    // The policy's own words: the doc comment of the organisation's
                    // requirement or of a project rule, else the reason the
                    // first `require` gives.
                    // A requirement of the organisation's own is justified by its doc comment.
                    let own_docs = (!file_name(sources, r.span.file).starts_with("<stdlib>/"))
                        .then(|| r.docs.as_deref().map(first_paragraph))
                        .flatten();
                    let purpose = own_docs
                        .or_else(|| {
                            defs.iter()
                                .filter(|d| !from_stdlib.contains(d.decl.name.as_str()))
                                .find_map(|d| d.decl.docs.as_deref().map(first_paragraph))
                        })
                        .or_else(|| {
                            defs.iter().find_map(|d| d.requirements().first().and_then(|q| q.because.clone()))
                        })
                        .or_else(|| defs.iter().find_map(|d| d.title.clone()))
                        .unwrap_or_else(|| format!("implemented by {}", implemented_by.join(", ")));
                    let mut text = format!("Included: {}.", purpose.trim_end_matches('.'));
                    if !treats_risks.is_empty() {
                        text.push_str(&format!(" Treats the risks {}.", treats_risks.join(", ")));
                    }
                    if !obligations.is_empty() {
                        text.push_str(&format!(" Requirements and obligations behind it: {}.", obligations.join(", ")));
                    }
                    text
                }
            };
            let note = match status {
                SoaStatus::NothingToCheck => Some(format!(
                    "included and implemented by {}; nothing in scope to check on this date (no fact their `for ... where` selects), which is not an exclusion",
                    implemented_by.join(", ")
                )),
                SoaStatus::NotAddressed => Some("neither implemented nor excluded".to_string()),
                _ => None,
            };
            SoaRow {
                id: r.id.clone(),
                title: r.title.clone(),
                parent: r.parent.clone(),
                applicable: status != SoaStatus::Excluded,
                decision,
                justification,
                treats_risks,
                obligations,
                implementation,
                plan: None,
                implemented_by,
                via,
                status,
                note,
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
            SoaStatus::NothingToCheck => "nothing to check",
            SoaStatus::Excluded => "excluded",
            SoaStatus::NotAddressed => "not addressed",
        }
    }
}

/// The SoA as text: document control, one block per row, then the totals.
pub fn to_text(project: &str, framework: Framework, statement: &super::soa_detail::Statement) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let doc = &statement.document;
    let _ = writeln!(
        out,
        "Statement of Applicability: {} ({}) as of {}",
        crate::diag::terminal_safe_line(project),
        framework.name(),
        doc.as_of
    );
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "not recorded".to_string());
    let _ = writeln!(
        out,
        "  document {}, version {}, owner {}, approved by {} on {}",
        or_none(&doc.record),
        or_none(&doc.version),
        or_none(&doc.owner),
        or_none(&doc.approver),
        or_none(&doc.approval_date)
    );
    let entries = statement.rows.iter().chain(&statement.organisation_controls);
    let width = entries.clone().map(|e| e.row.id.len()).max().unwrap_or(0);
    for (i, e) in entries.enumerate() {
        if i == statement.rows.len() {
            let _ = writeln!(out, "\nThe organisation's own controls");
        }
        let r = &e.row;
        let implementation = match (r.implementation, &r.plan) {
            (Some(Implementation::Planned), Some(plan)) if plan.overdue => "planned, OVERDUE",
            (Some(i), _) => i.as_str(),
            (None, _) => "excluded",
        };
        let _ = writeln!(out, "  {:<width$}  {:<16}  {:<21}  {}", r.id, r.status.as_str(), implementation, r.title);
        let pad = " ".repeat(width + 4);
        let _ = writeln!(out, "{pad}why: {}", r.justification);
        if !r.implemented_by.is_empty() {
            let _ = writeln!(out, "{pad}checked by: {}", r.implemented_by.join(", "));
        }
        if let Some(note) = &r.note {
            let _ = writeln!(out, "{pad}note: {note}");
        }
        if !e.evidence.is_empty() {
            let shown: Vec<String> = e.evidence.iter().take(6).map(|x| x.to_string()).collect();
            let more = e.evidence.len().saturating_sub(shown.len());
            let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
            let _ = writeln!(out, "{pad}evidence: {}{tail}", shown.join("; "));
        }
        for w in &e.waivers {
            let _ = writeln!(out, "{pad}waiver: {w}");
        }
    }
    let _ = writeln!(out, "\n{}", super::soa_views::counts(statement));
    let planned: Vec<&super::action_plan::Action> =
        statement.rows.iter().chain(&statement.organisation_controls).filter_map(|e| e.row.plan.as_ref()).collect();
    if !planned.is_empty() {
        let overdue = planned.iter().filter(|p| p.overdue).count();
        let _ = writeln!(out, "{} with an open action plan, {overdue} of them overdue", planned.len());
    }
    crate::diag::terminal_safe_owned(out)
}
