//! Reports: the evaluation turned into what people and machines read.
//!
//! [`Report`] is the one model every format renders: [`Report::to_json`]
//! (schema `aims-report/1`, documented in `docs/cli.md`) and
//! [`Report::to_text`]. Everything in it is ordered (outcomes by entity
//! key, findings by severity, name, entity), so the same inputs give
//! byte-identical output.
//!
//! Its data is typed: places are [`Location`]s (the file relative to the
//! project, named once when it was read), statuses are enums
//! ([`Treatment`], [`ExceptionStatus`], …), and the warnings and errors of
//! the project are [`DiagnosticView`]s; each format decides how to write
//! them (`file:line:column` in JSON and text, the parts in SARIF).

pub mod action_plan;
mod diagnostics;
pub mod explain;
pub mod gap;
pub mod gap_verdict;
mod html;
mod json;
mod junit;
mod location;
mod markdown;
mod ordered;
pub mod oscal;
mod outcomes;
mod sarif;
pub mod soa;
pub mod soa_detail;
pub mod soa_views;
/// When each dated obligation falls due (`aims timeline`).
pub mod timeline {
    pub use crate::timeline::*;
}
mod status;
mod text;

use std::sync::Arc;

use serde::Serialize;

pub use diagnostics::{DiagnosticView, LabelView};
pub use json::escape_into as escape_json_into;
pub use location::{Location, LocationParts};
pub use outcomes::{FindingViews, OutcomeViews};
pub use status::{ExceptionStatus, Treatment};

use crate::diag::{terminal_safe_line, Diagnostic, Sources};
use crate::eval::{self, Env, Evaluation};
use crate::facts::Facts;
use crate::ir::*;
use crate::num::{self, Decimal};
use crate::syntax::ast::Severity;

/// The version of the JSON report's shape.
pub const SCHEMA: &str = "aims-report/1";

/// Which outcomes a report that lists them (JSON, JUnit) writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ShownOutcomes {
    /// Every outcome: the evidence trail (the default).
    #[default]
    All,
    /// Only the failing ones (`--outcomes failing`); the counts still count every outcome.
    Failing,
}

/// The report of one evaluation: the model every format (JSON, text, Markdown, HTML, JUnit, SARIF) renders.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`]: the version of the JSON shape.
    pub schema: &'static str,
    /// The project's name (`[project] name` in `aims.toml`, else the folder's name).
    pub project: String,
    /// The evaluation date, `YYYY-MM-DD`.
    pub as_of: String,
    /// How many rules ran and how their outcomes and findings add up.
    pub summary: Summary,
    /// Every finding, by severity, then name, then entity key.
    pub findings: FindingViews,
    /// Every control and audit, in declaration order, with its outcomes.
    pub rules: Vec<RuleView>,
    /// Every risk, in declaration order, with one entry per entity.
    pub risks: Vec<RiskView>,
    /// Every objective, in declaration order, with where it stands.
    pub objectives: Vec<ObjectiveView>,
    /// Every exception, in declaration order, and whether it is in force.
    pub exceptions: Vec<ExceptionView>,
    /// The Statement of Applicability against ISO/IEC 42001 Annex A (empty
    /// when the policies do not `use iso42001`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub soa: Vec<soa::SoaRow>,
    /// The gap analysis against ISO/IEC 42001 (when the catalogue is loaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<gap::Gap>,
    /// The risk matrices, for heat maps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matrices: Vec<MatrixView>,
    /// The warnings (and errors) found while the project was read, as
    /// `aims check` printed them (empty when there were none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<DiagnosticView>,
    /// The cells of sources read with `bad_values = "unknown"` that could
    /// not be read, by column (absent when every cell was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<crate::facts::quality::DataQuality>,
    /// Where each measure's values came from: its log and files, its
    /// window, and each fact's value and rows (absent without measures).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub measurements: Vec<crate::measure::Measurement>,
}

/// A risk matrix: its axes (scales, lowest value first) and levels.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MatrixView {
    /// The matrix's name as declared.
    pub name: String,
    /// The scales scored, in the matrix's order.
    pub axes: Vec<AxisView>,
    /// The levels, lowest score range first.
    pub levels: Vec<LevelView>,
    /// The highest level the organisation accepts, when the matrix has an `appetite`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appetite: Option<String>,
}

/// One axis of a risk matrix: a scale and its values.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AxisView {
    /// The scale's name as declared.
    pub name: String,
    /// Each value's name and number, lowest number first.
    pub values: Vec<(String, i64)>,
}

/// One level of a risk matrix: the range of scores (the product of the axis numbers) it covers.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LevelView {
    /// The level's name as declared.
    pub name: String,
    /// The lowest score in the level, inclusive.
    pub low: i64,
    /// The highest score in the level, inclusive.
    pub high: i64,
}

/// The totals at the head of a report.
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// How many controls ran.
    pub controls: usize,
    /// How many audits ran.
    pub audits: usize,
    /// The outcomes of every rule, added up.
    pub outcomes: OutcomeCounts,
    /// The findings, by severity.
    pub findings: FindingCounts,
}

/// How many outcomes of each kind a rule (or every rule) had.
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
pub struct OutcomeCounts {
    /// Entities (or the organisation) for which every `require` held.
    pub pass: usize,
    /// Outcomes with a failed `require` that no exception waives.
    pub fail: usize,
    /// Failing outcomes waived by an active exception.
    pub waived: usize,
    /// Entities the rule's `where` filter left out.
    pub not_applicable: usize,
}

/// How many findings of each severity a report has.
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
pub struct FindingCounts {
    /// Major nonconformities.
    pub major: usize,
    /// Minor nonconformities.
    pub minor: usize,
    /// Observations.
    pub observation: usize,
    /// Every finding, whatever its severity.
    pub total: usize,
}

/// One finding as reported.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FindingView {
    /// How an auditor would grade it.
    pub severity: Severity,
    /// The kind of declaration that produced it.
    pub source: eval::FindingSource,
    /// The control, audit, risk, objective or exception that produced it.
    pub name: String,
    /// The entity's key; absent for organisation-level rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// How the fact is named besides its key (`label` in aims.toml).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
    /// The failing `require`, else the declaration (`file:line:column`).
    #[serde(serialize_with = "location::serialize_or_empty")]
    pub location: Option<Location>,
}

impl FindingView {
    /// The fact as a person reads it: its label and key (`Résumé
    /// screening (HR / Résumé screening)`), or its key alone.
    pub fn entity_shown(&self) -> Option<String> {
        shown_entity(self.entity.as_deref(), self.label.as_deref())
    }
}

/// The labels of the facts findings are about (`label` in aims.toml).
/// A rule's findings come together: its subject entity is resolved once
/// per run of them, not by searching the program's rules for each finding.
struct FindingLabels<'a> {
    program: &'a Program,
    facts: &'a dyn Facts,
    /// Which entities have a labelled fact at all.
    labelled: &'a [bool],
    /// The last finding's declaration and the entity its subject ranges over.
    last: Option<(Arc<str>, eval::FindingSource, Option<EntityId>)>,
}

impl FindingLabels<'_> {
    fn subject_of(&mut self, f: &eval::Finding) -> Option<EntityId> {
        if let Some((name, source, entity)) = &self.last {
            if *source == f.source && **name == *f.name {
                return *entity;
            }
        }
        let subject = match f.source {
            eval::FindingSource::Control | eval::FindingSource::Audit => {
                self.program.rules.iter().find(|r| *r.decl.name == *f.name).and_then(|r| r.subject.as_ref())
            }
            eval::FindingSource::Risk => {
                self.program.risks.iter().find(|r| *r.decl.name == *f.name).and_then(|r| r.subject.as_ref())
            }
            _ => None,
        };
        let entity = subject.map(|s| s.entity).filter(|e| self.labelled.get(e.index()).copied().unwrap_or(false));
        self.last = Some((f.name.clone(), f.source, entity));
        entity
    }

    fn label_of(&mut self, f: &eval::Finding) -> Option<Arc<str>> {
        let key = f.entity.as_deref()?;
        let entity = self.subject_of(f)?;
        let row = self.facts.find(entity, key)?;
        self.facts.row(entity, row)?.label.clone()
    }
}

/// A fact's label and key, or its key alone.
pub(crate) fn shown_entity(key: Option<&str>, label: Option<&str>) -> Option<String> {
    ShownEntity::of(key, label).map(|shown| shown.to_string())
}

/// A fact as a person reads it ([`shown_entity`]), written where it is
/// wanted rather than made as a string for each finding.
pub(crate) struct ShownEntity<'a> {
    key: &'a str,
    /// The label, when it says more than the key.
    label: Option<&'a str>,
}

impl<'a> ShownEntity<'a> {
    /// The fact `key` with its `label`, if it has a key.
    pub(crate) fn of(key: Option<&'a str>, label: Option<&'a str>) -> Option<ShownEntity<'a>> {
        key.map(|key| ShownEntity { key, label: label.filter(|l| !l.is_empty() && *l != key) })
    }
}

impl std::fmt::Display for ShownEntity<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.label {
            Some(label) => write!(f, "{label} ({})", self.key),
            None => f.write_str(self.key),
        }
    }
}

/// One control or audit and its outcomes.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RuleView {
    /// The rule's name as declared.
    pub name: String,
    /// Whether it is a `control` or an `audit`.
    pub kind: RuleKind,
    /// The rule's `title`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The severity of the findings its failures raise.
    pub severity: Severity,
    /// The requirements it `implements` (e.g. `A.6.2.4`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<String>,
    /// The management-system clauses it evidences (its `clauses`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<String>,
    /// Where the rule's name is declared.
    pub location: Location,
    /// Its outcomes, added up.
    pub counts: OutcomeCounts,
    /// One outcome per entity (or one for the organisation), by entity key.
    pub outcomes: OutcomeViews,
    /// The variable and entity of its `for`, for tracing the measured
    /// fields a failure read (`s` and `AISystem`); not in the JSON report.
    #[serde(skip)]
    pub subject: Option<(String, String)>,
}

/// The outcome of one rule for one entity, as reported.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct OutcomeView {
    /// The entity's key, shared with the evaluation (a report lists every
    /// outcome: 2,000,000 of them for 20 rules over 100,000 systems).
    pub entity: eval::Key,
    /// Pass, fail, waived or not applicable.
    pub status: OutcomeKind,
    /// The exception that waived the failure, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
    /// The `require`s that failed, in the rule's order (empty unless it failed or was waived).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureView>,
}

/// One failed `require`, as reported.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FailureView {
    /// The condition as written in the policy.
    pub require: String,
    /// Why it failed, in one line.
    pub message: String,
    /// True when the condition could not be decided because a fact was missing, false when it was false.
    pub no_evidence: bool,
    /// Where the `require` is, when its source is known.
    #[serde(serialize_with = "location::serialize_or_empty")]
    pub location: Option<Location>,
    /// The values the condition read.
    pub observed: Vec<Observed>,
}

/// A value a failed condition read.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Observed {
    /// The path as written in the condition (`s.owner.name`).
    pub path: String,
    /// The value as a person reads it.
    pub value: String,
}

/// One risk and its entries, as reported.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RiskView {
    /// The risk's name as declared.
    pub name: String,
    /// The matrix that scores it.
    pub matrix: String,
    /// The risk's `title`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The controls named in its `treated_by`, in that order.
    pub treated_by: Vec<String>,
    /// One entry per entity of its subject (one for the organisation without a subject), by entity key.
    pub entries: Vec<RiskEntryView>,
}

/// A risk for one entity: its level before and after treatment.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RiskEntryView {
    /// The entity's key (`-` for the organisation).
    pub entity: String,
    /// The level before treatment.
    pub inherent: Level,
    /// Whether the treating controls hold for the entity.
    pub treatment: Treatment,
    /// The level after treatment (the inherent one when the treatment is not effective).
    pub residual: Level,
    /// Whether the residual level is above the matrix's appetite.
    pub above_appetite: bool,
    /// Why an axis took its worst value: the facts that were missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// A place in a risk matrix.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Level {
    /// The value's name on each axis, in the matrix's order.
    pub axes: Vec<String>,
    /// The score: the product of the axis values' numbers.
    pub score: i64,
    /// The level the score falls in (`?` when it falls in none).
    pub level: String,
}

/// One objective and where it stands, as reported.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ObjectiveView {
    /// The objective's name as declared.
    pub name: String,
    /// The objective's `title`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Met, on track, at risk, missed or no data.
    pub status: ObjectiveStatus,
    /// The measure's value on the evaluation date, rounded to six decimals; `None` when unknown.
    #[serde(serialize_with = "crate::num::serialize_opt")]
    pub current: Option<Decimal>,
    /// Why the current value is unknown, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// The target as written: comparison, value and deadline (`<= 0.08 by 2026-12-31`).
    pub target: String,
    /// The trend's value at the deadline, rounded to six decimals; `None` without a trend.
    #[serde(serialize_with = "crate::num::serialize_opt")]
    pub projected: Option<Decimal>,
}

/// One exception and whether it is in force, as reported.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ExceptionView {
    /// The exception's name as declared.
    pub name: String,
    /// The rule it waives.
    pub waives: String,
    /// The key of the entity it waives the rule for; absent for a rule without subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The last day it waives the rule, `YYYY-MM-DD`.
    pub until: String,
    /// Who approved it, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Active until its `until` date, expired after.
    pub status: ExceptionStatus,
}

/// The parts of a report that only some formats show, and so are built
/// only when asked for ([`Report::build_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sections {
    /// The gap analysis ([`Report::gap`]), which only some front ends show
    /// (`aims check` says which of its formats do). At 100,000 systems it
    /// is a string per failing outcome, which a report not showing it
    /// would build and drop.
    pub gap: bool,
}

impl Sections {
    /// Every section.
    pub const ALL: Sections = Sections { gap: true };
}

impl Report {
    /// Builds the report of an evaluation, every section included.
    pub fn build(
        project: &str,
        program: &Program,
        facts: &dyn Facts,
        sources: &Sources,
        evaluation: &Evaluation,
    ) -> Report {
        Report::build_with(project, program, facts, sources, evaluation, Sections::ALL)
    }

    /// Builds the report of an evaluation with the optional `sections`
    /// asked for (a section left out is empty: no gap analysis is `None`).
    pub fn build_with(
        project: &str,
        program: &Program,
        facts: &dyn Facts,
        sources: &Sources,
        evaluation: &Evaluation,
        sections: Sections,
    ) -> Report {
        let env = Env::new(program, facts, evaluation.as_of);
        let mut summary = Summary::default();
        let mut rules = Vec::new();
        // Outcome views are made when rendered, from the program's rules.
        let shared_program = Arc::new(program.clone());
        let mut key_orders = outcomes::KeyOrders::default();
        for result in &evaluation.rules {
            let rule = program.rule(result.rule);
            match rule.kind {
                RuleKind::Control => summary.controls += 1,
                RuleKind::Audit => summary.audits += 1,
            }
            let requirements = rule.requirements();
            // Where each `require` is, computed once per rule, not per failure.
            let locations: Vec<Location> = requirements.iter().map(|r| Location::of(sources, r.span)).collect();
            let [pass, fail, waived, not_applicable] = result.outcomes.counts();
            let counts = OutcomeCounts { pass, fail, waived, not_applicable };
            let outcomes = OutcomeViews::new(
                result.outcomes.clone(),
                outcomes::RuleContext {
                    program: shared_program.clone(),
                    requirements: requirements.iter().map(|r| (*r).clone()).collect(),
                    locations,
                    numeric_keys: rule.subject.as_ref().is_some_and(|s| eval::int_keyed(program, s.entity)),
                },
                &mut key_orders,
            );
            summary.outcomes.pass += counts.pass;
            summary.outcomes.fail += counts.fail;
            summary.outcomes.waived += counts.waived;
            summary.outcomes.not_applicable += counts.not_applicable;
            rules.push(RuleView {
                name: rule.decl.name.clone(),
                kind: rule.kind,
                title: rule.title.clone(),
                severity: rule.severity,
                implements: rule.implements.clone(),
                clauses: rule.clauses.clone(),
                location: Location::of(sources, rule.decl.name_span),
                counts,
                outcomes,
                subject: rule.subject.as_ref().map(|s| (s.var.clone(), program.entity(s.entity).decl.name.clone())),
            });
        }
        let risks: Vec<RiskView> = evaluation
            .risks
            .iter()
            .map(|r| {
                let risk = &program.risks[r.risk.index()];
                let matrix = &program.matrices[risk.matrix.index()];
                let level = |axes: &[u32], score: i64, level: Option<u32>| Level {
                    axes: matrix
                        .axes
                        .iter()
                        .zip(axes)
                        .map(|(s, v)| env.program.display(&Value::Scale(*s, *v)))
                        .collect(),
                    score,
                    level: level.and_then(|l| matrix.levels.get(l as usize)).map_or("?".into(), |l| l.name.clone()),
                };
                let mut entries: Vec<RiskEntryView> = r
                    .entries
                    .iter()
                    .map(|e| RiskEntryView {
                        entity: e.key.to_string(),
                        inherent: level(&e.inherent_axes, e.inherent_score, e.inherent_level),
                        treatment: Treatment::of(!risk.treated_by.is_empty(), e.treatment_effective),
                        residual: level(&e.residual_axes, e.residual_score, e.residual_level),
                        above_appetite: e.above_appetite,
                        missing: e.missing.iter().map(ToString::to_string).collect(),
                    })
                    .collect();
                let numeric = risk.subject.as_ref().is_some_and(|s| eval::int_keyed(program, s.entity));
                entries.sort_by(|a, b| eval::cmp_keys(numeric, &a.entity, &b.entity));
                RiskView {
                    name: risk.decl.name.clone(),
                    matrix: matrix.decl.name.clone(),
                    title: risk.title.clone(),
                    treated_by: risk.treated_by.iter().map(|t| program.rule(*t).decl.name.clone()).collect(),
                    entries,
                }
            })
            .collect();
        let objectives: Vec<ObjectiveView> = evaluation
            .objectives
            .iter()
            .map(|o| {
                let objective = &program.objectives[o.objective.index()];
                let (op, target, by) = objective.target;
                ObjectiveView {
                    name: objective.decl.name.clone(),
                    title: objective.title.clone(),
                    status: o.status,
                    current: o.current.map(num::round_shown),
                    unknown: o.unknown.as_ref().map(ToString::to_string),
                    target: format!("{} {} by {by}", op.as_str(), num::format(target)),
                    projected: o.projected.map(num::round_shown),
                }
            })
            .collect();
        let exceptions = evaluation
            .exceptions
            .iter()
            .map(|x| {
                let e = &program.exceptions[x.exception];
                ExceptionView {
                    name: e.decl.name.clone(),
                    waives: program.rule(e.rule).decl.name.clone(),
                    entity: e.target.as_ref().map(|(_, k, _)| k.clone()),
                    until: e.until.to_string(),
                    approved_by: e.approved_by.clone(),
                    status: if x.active { ExceptionStatus::Active } else { ExceptionStatus::Expired },
                }
            })
            .collect();
        let rule_index: std::collections::HashMap<&str, usize> =
            rules.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
        let declared_at = |source: eval::FindingSource, name: &str| -> Option<Location> {
            let decl = match source {
                eval::FindingSource::Control | eval::FindingSource::Audit => return None,
                eval::FindingSource::Risk => &program.risks.iter().find(|r| r.decl.name == name)?.decl,
                eval::FindingSource::Objective => &program.objectives.iter().find(|o| o.decl.name == name)?.decl,
                eval::FindingSource::Exception => &program.exceptions.iter().find(|e| e.decl.name == name)?.decl,
            };
            Some(Location::of(sources, decl.name_span))
        };
        // A rule's findings come together: the rule is looked up once per
        // run of them, and each points at the `require` it names (its
        // outcome is not looked up again).
        let mut last: Option<(Arc<str>, Option<usize>)> = None;
        // Which entities have a labelled fact at all (`label` in aims.toml):
        // a finding about any other is not looked up among the facts.
        let labelled: Vec<bool> = (0..program.entities.len())
            .map(|e| {
                let entity = EntityId(e as u32);
                (0..facts.len(entity)).any(|row| facts.row(entity, row).is_some_and(|r| r.label.is_some()))
            })
            .collect();
        // Without a labelled fact no finding has a label: not one is looked up.
        let mut labels =
            labelled.contains(&true).then(|| FindingLabels { program, facts, labelled: &labelled, last: None });
        let findings = FindingViews::new(evaluation.findings.clone(), |f| {
            let rule = match &last {
                Some((name, rule)) if **name == *f.name => *rule,
                _ => {
                    let rule = rule_index.get(&*f.name).copied();
                    last = Some((f.name.clone(), rule));
                    rule
                }
            };
            let failing_require =
                rule.zip(f.require).and_then(|(r, i)| rules[r].outcomes.requirement_location(i as usize));
            let location = failing_require
                .or_else(|| rule.map(|r| rules[r].location.clone()))
                .or_else(|| declared_at(f.source, &f.name));
            (location, labels.as_mut().and_then(|labels| labels.label_of(f)))
        });
        for f in evaluation.findings.iter() {
            match f.severity {
                Severity::Major => summary.findings.major += 1,
                Severity::Minor => summary.findings.minor += 1,
                Severity::Observation => summary.findings.observation += 1,
            }
        }
        summary.findings.total = findings.len();
        let soa = soa::statement(program, sources, &rules, soa::Framework::Iso42001);
        let as_of = evaluation.as_of.to_string();
        let gap = if sections.gap {
            gap::analyse(&gap::Inputs {
                program,
                sources,
                facts,
                as_of: &as_of,
                rules: &rules,
                risks: &risks,
                objectives: &objectives,
            })
        } else {
            None
        };
        let matrices = program
            .matrices
            .iter()
            .map(|m| MatrixView {
                name: m.decl.name.clone(),
                axes: m
                    .axes
                    .iter()
                    .map(|a| {
                        let scale = &program.scales[a.index()];
                        let mut values = scale.values.clone();
                        values.sort_by_key(|(_, v)| *v);
                        AxisView { name: scale.decl.name.clone(), values }
                    })
                    .collect(),
                levels: m.levels.iter().map(|l| LevelView { name: l.name.clone(), low: l.low, high: l.high }).collect(),
                appetite: m.appetite.and_then(|a| m.levels.get(a as usize)).map(|l| l.name.clone()),
            })
            .collect();
        Report {
            schema: SCHEMA,
            project: project.to_string(),
            as_of: evaluation.as_of.to_string(),
            summary,
            findings,
            rules,
            risks,
            objectives,
            exceptions,
            soa,
            gap,
            matrices,
            diagnostics: Vec::new(),
            data_quality: None,
            measurements: Vec::new(),
        }
    }

    /// The report of a project that could not be evaluated: nothing
    /// evaluated, only the `diagnostics` that say why (its errors and
    /// warnings), so a script or code scanning still sees them.
    pub fn failed(project: &str, as_of: crate::time::Date, sources: &Sources, diagnostics: &[Diagnostic]) -> Report {
        Report {
            schema: SCHEMA,
            project: project.to_string(),
            as_of: as_of.to_string(),
            summary: Summary::default(),
            findings: FindingViews::default(),
            rules: Vec::new(),
            risks: Vec::new(),
            objectives: Vec::new(),
            exceptions: Vec::new(),
            soa: Vec::new(),
            gap: None,
            matrices: Vec::new(),
            diagnostics: Vec::new(),
            data_quality: None,
            measurements: Vec::new(),
        }
        .with_diagnostics(sources, diagnostics)
    }

    /// Adds the diagnostics found while the project was read (the
    /// warnings `aims check` printed), so the JSON and SARIF reports carry
    /// them too.
    pub fn with_diagnostics(mut self, sources: &Sources, diagnostics: &[Diagnostic]) -> Report {
        self.diagnostics.extend(diagnostics.iter().map(|d| DiagnosticView::new(d, sources)));
        self
    }

    /// Adds the data-quality section: the cells read as unknown (nothing
    /// when every cell was read).
    pub fn with_data_quality(mut self, quality: &crate::facts::quality::DataQuality) -> Report {
        self.data_quality = (!quality.is_empty()).then(|| quality.clone());
        self
    }

    /// Adds where each measure's values came from (nothing without measures).
    pub fn with_measurements(mut self, measurements: &[crate::measure::Measurement]) -> Report {
        self.measurements = measurements.to_vec();
        self
    }

    /// The trace of a measured value a failure of `rule` for `key` read as
    /// `path`: when `path` is a measured field of the rule's own subject
    /// (`s.approval_gap`) or a measure of the organisation, how it was
    /// measured (see [`crate::measure::trace`]).
    pub fn measured_trace(&self, rule: &RuleView, key: &str, path: &str) -> Option<String> {
        let subject = rule.subject.as_ref().map(|(var, entity)| (var.as_str(), entity.as_str()));
        crate::measure::trace(&self.measurements, subject, key, path)
    }

    /// The title of every rule, risk and objective that has one, by name.
    fn titles(&self) -> std::collections::HashMap<&str, &str> {
        self.rules
            .iter()
            .filter_map(|r| r.title.as_deref().map(|t| (r.name.as_str(), t)))
            .chain(self.risks.iter().filter_map(|r| r.title.as_deref().map(|t| (r.name.as_str(), t))))
            .chain(self.objectives.iter().filter_map(|o| o.title.as_deref().map(|t| (o.name.as_str(), t))))
            .collect()
    }

    /// The report as JSON, ending with a newline: indented, but each
    /// finding and each outcome on a line of its own (see `json.rs`).
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        match self.write_json(&mut out) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
        }
    }

    /// [`Report::to_json`], written to `out` as it is made.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        json::write(self, out, ShownOutcomes::All)
    }

    /// [`Report::write_json`], listing the outcomes `shown` (the counts
    /// and findings are always whole).
    pub fn write_json_with(&self, out: &mut dyn std::io::Write, shown: ShownOutcomes) -> std::io::Result<()> {
        json::write(self, out, shown)
    }

    /// The report as text for a person: counts first, the exceptions in
    /// force, then findings by rule. Everything that comes from the
    /// project (names, keys, messages, values) is [`terminal_safe`], so no
    /// fact can forge a line or drive the terminal.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        match self.write_text(&mut out) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(e) => format!("aims: {e}\n"),
        }
    }

    /// [`Report::to_text`], written to `out` as it is made.
    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        text::write(self, out)
    }
}

impl ExceptionView {
    /// What the exception waives, on one line: `NAME waives RULE [for KEY]
    /// until DATE (STATUS)`.
    pub fn summary(&self) -> String {
        // An exception without an entity waives an organisation-level rule.
        let whom = self.entity.as_deref().map(|e| format!(" for {e}")).unwrap_or_default();
        format!("{} waives {}{whom} until {} ({})", self.name, self.waives, self.until, self.status)
    }
}

/// `n` and the noun that agrees with it: `1 control`, `2 controls`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A Markdown table cell: nothing in `text` can break the table.
pub(crate) fn markdown_cell(text: &str) -> String {
    markdown::cell(text)
}

/// `text` on one line, [`terminal_safe`], cut to at most `max` characters.
///
/// Only as much of `text` as the line can show is read: a gap row's
/// findings run to megabytes at 100,000 systems, and flattening all of it
/// to keep 140 characters was a fifth of building the report.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let mut flat = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        if !flat.is_empty() {
            flat.push(' ');
            chars += 1;
        }
        flat.push_str(word);
        chars += word.chars().count();
        // Making a text terminal-safe never shortens it, so what is cut
        // off here would be cut off below.
        if chars > max {
            break;
        }
    }
    let flat = terminal_safe_line(&flat).into_owned();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn source_name(source: eval::FindingSource) -> &'static str {
    match source {
        eval::FindingSource::Control => "control",
        eval::FindingSource::Audit => "audit",
        eval::FindingSource::Risk => "risk",
        eval::FindingSource::Objective => "objective",
        eval::FindingSource::Exception => "exception",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// `one_line` as it was first written: the whole text flattened, then cut.
    fn whole_then_cut(text: &str, max: usize) -> String {
        let flat = super::terminal_safe_line(&text.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned();
        if flat.chars().count() <= max {
            return flat;
        }
        let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }

    proptest! {
        #[test]
        fn a_line_cut_early_reads_as_the_whole_text_cut(
            text in "([a-z]{0,6}|[ \t\n]{1,3}|\u{1b}|\u{202e}|é|: ){0,40}",
            max in 0usize..30,
        ) {
            prop_assert_eq!(super::one_line(&text, max), whole_then_cut(&text, max));
        }
    }

    /// A control's finding points at the first `require` its fact failed,
    /// whichever failed and in whatever order the facts come.
    #[test]
    fn a_finding_points_at_the_first_require_its_fact_failed() {
        use crate::facts::{Format, Mapping};
        let policy = "entity S { id: Text key, a: Bool, b: Bool }\n\
                      control c for s: S {\n  require s.a\n  require s.b\n}\n";
        let facts = r#"{ "S": [
            { "id": "z", "a": true, "b": false },
            { "id": "y", "a": false, "b": false },
            { "id": "x", "a": false, "b": true }
        ] }"#;
        let mut engine =
            crate::Engine::from_texts("p.aims", policy, &[("f.json", Format::Json, Mapping::default(), facts)])
                .expect("loads");
        let evaluation = engine.evaluate(crate::Date::parse("2026-01-01").expect("a date"));
        let report = super::Report::build("p", engine.program(), &engine.facts(), engine.sources(), &evaluation);
        let places: Vec<(String, String)> = report
            .findings
            .iter()
            .map(|f| (f.entity.unwrap_or_default(), f.location.map(|l| l.to_string()).unwrap_or_default()))
            .collect();
        let at = |entity: &str, line: u32| (entity.to_string(), format!("p.aims:{line}:3"));
        assert_eq!(places, vec![at("x", 3), at("y", 3), at("z", 4)]);
    }

    #[test]
    fn a_long_text_is_cut_to_its_first_characters() {
        let text = "rule: s1\n".repeat(100_000);
        assert_eq!(super::one_line(&text, 12), "rule: s1 ru…");
        assert_eq!(super::one_line("a \u{1b} b", 40), "a \\u{1b} b");
    }
}
