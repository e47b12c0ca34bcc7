//! The diagnostics of every document: the engine's (syntax, names, types,
//! lints such as W0002 for an Annex A control nothing addresses, facts),
//! and failing controls and audits as information on their names.

use std::collections::HashMap;
use std::fmt::Write as _;

use aims_lang::diag::FileId;
use aims_lang::ir::Ty;
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};

use crate::convert::{self, Lines, SOURCE};
use crate::files::FileKind;
use crate::state::Snapshot;

/// How many failing entities a diagnostic names.
const FAILURES_SHOWN: usize = 5;

/// Every document's diagnostics (an empty list for a document that has none).
pub fn compute(snapshot: &Snapshot) -> Cancellable<HashMap<Uri, Vec<lsp::Diagnostic>>> {
    let mut out: HashMap<Uri, Vec<lsp::Diagnostic>> =
        snapshot.files.iter().map(|(uri, _, _)| (uri.clone(), Vec::new())).collect();
    let uri_of = |file: FileId| snapshot.uri(file);
    let diagnostics = snapshot.analysis.diagnostics()?;
    // Problems that point nowhere are shown at the top of aims.toml.
    let manifest =
        snapshot.files.iter().find(|(_, _, kind)| *kind == FileKind::Manifest).map(|(uri, _, _)| uri.clone());
    let mut lines = Lines::new(snapshot.sources(), snapshot.encoding);
    for d in diagnostics {
        let placed = convert::diagnostic(d, &mut lines, &uri_of);
        let placed = placed.or_else(|| convert::unplaced(d, manifest.as_ref()?, &mut lines, &uri_of));
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
    if snapshot.evaluable {
        failing_rules(snapshot, &mut lines, &mut out)?;
    }
    Ok(out)
}

/// One information diagnostic per failing rule, on its name.
fn failing_rules(
    snapshot: &Snapshot,
    lines: &mut Lines,
    out: &mut HashMap<Uri, Vec<lsp::Diagnostic>>,
) -> Cancellable<()> {
    let program = snapshot.analysis.program()?;
    let summaries = snapshot.analysis.rule_summaries()?;
    for (rule, summary) in program.rules.iter().zip(summaries) {
        let Some(uri) = snapshot.uri(rule.decl.name_span.file) else { continue };
        let Some(summary) = summary else { continue };
        if summary.fail == 0 {
            continue;
        }
        let total = summary.pass + summary.fail + summary.waived;
        let mut message = match &rule.subject {
            Some(subject) => {
                let entity = program.ty_name(&Ty::Entity(subject.entity));
                format!("`{}` fails for {} of {total} {entity}", rule.decl.name, summary.fail)
            }
            None => format!("`{}` fails", rule.decl.name),
        };
        for failing in summary.failing.iter().take(FAILURES_SHOWN) {
            let reasons: Vec<&str> = failing.failures.iter().map(|(_, m)| m.as_str()).collect();
            if rule.subject.is_some() {
                let _ = write!(message, "\n- {}: {}", failing.key, reasons.join("; "));
            } else {
                let _ = write!(message, "\n- {}", reasons.join("; "));
            }
        }
        if summary.fail as usize > FAILURES_SHOWN {
            let _ = write!(message, "\n- and {} more", summary.fail as usize - FAILURES_SHOWN);
        }
        // Each failing `require`, with the entities it fails for.
        let requirements = rule.requirements();
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
                let span = requirements.get(i)?.span;
                let range = lines.of(span.file)?.range(span.span);
                let shown: Vec<&str> = keys.iter().take(FAILURES_SHOWN).copied().collect();
                let more = if keys.len() > FAILURES_SHOWN { ", .." } else { "" };
                Some(DiagnosticRelatedInformation {
                    location: Location { uri: snapshot.uri(span.file)?, range },
                    message: format!("fails for {}{more}", shown.join(", ")),
                })
            })
            .collect();
        let range = match lines.of(rule.decl.name_span.file) {
            Some(index) => index.range(rule.decl.name_span.span),
            None => continue,
        };
        out.entry(uri).or_default().push(lsp::Diagnostic {
            range,
            severity: Some(DiagnosticSeverity::INFORMATION),
            code: Some(NumberOrString::String(rule.severity.as_str().to_string())),
            source: Some(format!("{SOURCE} evaluation as of {}", snapshot.as_of)),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lsp::Diagnostic::default()
        });
    }
    Ok(())
}
