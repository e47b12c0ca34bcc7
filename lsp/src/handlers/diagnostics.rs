//! The diagnostics of every document: the engine's (syntax, names, types,
//! lints such as W0002 for an Annex A control nothing addresses, facts),
//! and failing controls and audits as information on their names.
//!
//! A failing rule's diagnostic is kept from one update to the next, with
//! its JSON, and built again only when the rule's summary, place or
//! heading changed: on a policy with hundreds of failing controls, a
//! keystroke changes one.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use aims_lang::diag::FileId;
use aims_lang::ir::{RuleDef, Ty};
use aims_lang::{Cancellable, Date, RuleSummary};
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};

use crate::convert::{self, Lines, SOURCE};
use crate::files::FileKind;
use crate::state::Snapshot;

/// How many failing entities a diagnostic names for one reason, and how
/// many reasons it gives.
const FAILURES_SHOWN: usize = 5;

/// A diagnostic as published, with its JSON: one that did not change is
/// not serialized again (see `crate::output`).
#[derive(Debug, PartialEq)]
pub struct Shown {
    pub diagnostic: lsp::Diagnostic,
    pub json: String,
}

impl Shown {
    /// `None` only if the diagnostic cannot be serialized, which its types
    /// rule out (every map has text keys).
    fn new(diagnostic: lsp::Diagnostic) -> Option<Arc<Shown>> {
        let json = serde_json::to_string(&diagnostic).ok()?;
        Some(Arc::new(Shown { diagnostic, json }))
    }
}

/// Every document's diagnostics, as published.
pub type Computed = HashMap<Uri, Vec<Arc<Shown>>>;

/// What the last update left for the next one.
#[derive(Default)]
pub struct FailingRules {
    /// The failing rules' diagnostics, by rule name.
    by_name: HashMap<String, Failing>,
    /// Whether it could show evaluation results (the policy checked and
    /// the facts fitted).
    showed_results: bool,
}

/// One failing rule's diagnostic and what it was built from.
struct Failing {
    summary: Arc<RuleSummary>,
    heading: Heading,
    shown: Arc<Shown>,
}

/// What a failing rule's diagnostic says besides its summary: where its
/// name and each of its `require`s are, what it ranges over, its
/// severity and the evaluation date.
#[derive(PartialEq)]
struct Heading {
    uri: Uri,
    range: lsp::Range,
    requirements: Vec<Option<(FileId, lsp::Range)>>,
    entity: Option<String>,
    severity: &'static str,
    as_of: Date,
}

/// Every document's diagnostics (an empty list for a document that has
/// none); `failing` holds the failing rules' diagnostics of the last
/// update and is left holding this one's.
///
/// Checking the program and evaluating its rules are independent (rules
/// are evaluated from their own checks, see
/// `aims_lang::Analysis::rule_summaries`), so when the last update could
/// show results, the rules are evaluated on a thread of their own while
/// this one checks the program: on a 10,000-line policy that is a few
/// milliseconds of a keystroke. Once the policy fails to check, results
/// are asked only after the check says they can be shown.
pub fn compute(snapshot: &Snapshot, failing: &mut FailingRules) -> Cancellable<Computed> {
    std::thread::scope(|scope| {
        let ahead = (failing.showed_results && snapshot.analysis.facts_fit()).then(|| {
            let analysis = snapshot.analysis.clone();
            scope.spawn(move || analysis.rule_summaries())
        });
        let mut lines = Lines::new(snapshot.sources(), snapshot.encoding);
        let mut shown = engine_diagnostics(snapshot, &mut lines)?;
        failing.showed_results = snapshot.evaluable()?;
        if failing.showed_results {
            let summaries = match ahead {
                Some(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
                None => snapshot.analysis.rule_summaries()?,
            };
            failing_rules(snapshot, &mut lines, &summaries, failing, &mut shown)?;
        }
        Ok(shown)
    })
}

/// The engine's diagnostics (syntax, names, types, lints), the facts' and
/// the fixed problems, per document.
fn engine_diagnostics(snapshot: &Snapshot, lines: &mut Lines) -> Cancellable<Computed> {
    let mut out: HashMap<Uri, Vec<lsp::Diagnostic>> =
        snapshot.files.iter().map(|(uri, _, _)| (uri.clone(), Vec::new())).collect();
    let uri_of = |file: FileId| snapshot.uri(file);
    let diagnostics = snapshot.analysis.diagnostics()?;
    // Problems that point nowhere are shown at the top of aims.toml.
    let manifest =
        snapshot.files.iter().find(|(_, _, kind)| *kind == FileKind::Manifest).map(|(uri, _, _)| uri.clone());
    for d in diagnostics {
        let placed = convert::diagnostic(d, lines, &uri_of);
        let placed = placed.or_else(|| convert::unplaced(d, manifest.as_ref()?, lines, &uri_of));
        if let Some((uri, converted)) = placed {
            out.entry(uri).or_default().push(converted);
        }
    }
    if let Some(failure) = &snapshot.fact_failure {
        let mut lines = Lines::new(&failure.sources, snapshot.encoding);
        for d in &failure.diagnostics {
            let placed = convert::diagnostic(d, &mut lines, &uri_of);
            let placed = placed.or_else(|| convert::unplaced(d, manifest.as_ref()?, &mut lines, &uri_of));
            if let Some((uri, converted)) = placed {
                out.entry(uri).or_default().push(converted);
            }
        }
    }
    for (uri, d) in &snapshot.fixed_problems {
        out.entry(uri.clone()).or_default().push(d.clone());
    }
    Ok(out
        .into_iter()
        .map(|(uri, diagnostics)| (uri, diagnostics.into_iter().filter_map(Shown::new).collect()))
        .collect())
}

/// One information diagnostic per failing rule, on its name.
fn failing_rules(
    snapshot: &Snapshot,
    lines: &mut Lines,
    summaries: &HashMap<String, Arc<RuleSummary>>,
    kept: &mut FailingRules,
    out: &mut Computed,
) -> Cancellable<()> {
    let program = snapshot.analysis.program()?;
    let mut previous = std::mem::take(&mut kept.by_name);
    for rule in &program.rules {
        let Some(uri) = snapshot.uri(rule.decl.name_span.file) else { continue };
        let Some(summary) = summaries.get(&rule.decl.name).cloned() else { continue };
        if summary.fail == 0 {
            continue;
        }
        let Some(range) = lines.of(rule.decl.name_span.file).map(|index| index.range(rule.decl.name_span.span)) else {
            continue;
        };
        let requirements = rule
            .requirements()
            .iter()
            .map(|r| Some((r.span.file, lines.of(r.span.file)?.range(r.span.span))))
            .collect();
        let heading = Heading {
            uri: uri.clone(),
            range,
            requirements,
            entity: rule.subject.as_ref().map(|subject| program.ty_name(&Ty::Entity(subject.entity))),
            severity: rule.severity.as_str(),
            as_of: snapshot.as_of,
        };
        let before = previous.remove_entry(&rule.decl.name);
        let shown = match &before {
            Some((_, kept))
                if kept.heading == heading && (Arc::ptr_eq(&kept.summary, &summary) || kept.summary == summary) =>
            {
                kept.shown.clone()
            }
            _ => match Shown::new(failing_rule(rule, &summary, &heading, |file| snapshot.uri(file))) {
                Some(shown) => shown,
                None => continue,
            },
        };
        out.entry(uri).or_default().push(shown.clone());
        let name = before.map_or_else(|| rule.decl.name.clone(), |(name, _)| name);
        kept.by_name.insert(name, Failing { summary, heading, shown });
    }
    Ok(())
}

/// The diagnostic of one failing rule.
fn failing_rule(
    rule: &RuleDef,
    summary: &RuleSummary,
    heading: &Heading,
    uri_of: impl Fn(FileId) -> Option<Uri>,
) -> lsp::Diagnostic {
    let total = summary.pass + summary.fail + summary.waived;
    let mut message = match &heading.entity {
        Some(entity) => format!("`{}` fails for {} of {total} {entity}", rule.decl.name, summary.fail),
        None => format!("`{}` fails", rule.decl.name),
    };
    // The failing entities kept, grouped by their reasons, in the order in
    // which each reason first fails: a rule that fails the same way for
    // hundreds of systems says so once.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for failing in &summary.failing {
        let reasons = failing.failures.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("; ");
        match groups.iter_mut().find(|(shared, _)| *shared == reasons) {
            Some((_, keys)) => keys.push(&failing.key),
            None => groups.push((reasons, vec![&failing.key])),
        }
    }
    let mut named = 0;
    for (reasons, keys) in groups.iter().take(FAILURES_SHOWN) {
        named += keys.len();
        if heading.entity.is_none() {
            let _ = write!(message, "\n- {reasons}");
            continue;
        }
        let _ = write!(message, "\n- {}", keys[..keys.len().min(FAILURES_SHOWN)].join(", "));
        if keys.len() > FAILURES_SHOWN {
            let _ = write!(message, " and {} more", keys.len() - FAILURES_SHOWN);
        }
        let _ = write!(message, ": {reasons}");
    }
    if summary.fail as usize > named {
        let _ = write!(message, "\n- and {} more", summary.fail as usize - named);
    }
    // Each failing `require`, with the entities it fails for.
    let mut per_require: Vec<(usize, Vec<&str>)> = Vec::new();
    for failing in &summary.failing {
        for (index, _) in &failing.failures {
            match per_require.iter_mut().find(|(i, _)| i == index) {
                Some((_, keys)) => keys.push(&failing.key),
                None => per_require.push((*index, vec![&failing.key])),
            }
        }
    }
    let related: Vec<DiagnosticRelatedInformation> = per_require
        .into_iter()
        .filter_map(|(i, keys)| {
            let (file, range) = heading.requirements.get(i).copied().flatten()?;
            let uri = uri_of(file)?;
            let shown: Vec<&str> = keys.iter().take(FAILURES_SHOWN).copied().collect();
            let more = if keys.len() > FAILURES_SHOWN { ", .." } else { "" };
            Some(DiagnosticRelatedInformation {
                location: Location { uri, range },
                message: format!("fails for {}{more}", shown.join(", ")),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: heading.range,
        severity: Some(DiagnosticSeverity::INFORMATION),
        code: Some(NumberOrString::String(heading.severity.to_string())),
        source: Some(format!("{SOURCE} evaluation as of {}", heading.as_of)),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}
