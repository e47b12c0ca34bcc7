//! Requirements and what refers to them: parents, exclusions, maps, and
//! the Annex A controls no control addresses.

use std::collections::HashMap;

use super::{Checker, Items};
use crate::diag::{Anchor, Code, Diagnostic, FileId, Quote};
use crate::ir::*;
use crate::sema::SourceInput;
use crate::syntax::ast::{self, ItemKind};

impl Checker<'_, '_> {
    pub(super) fn requirements(&mut self, items: &Items) {
        for r in &items.requirements {
            let at = r.file.span(r.node.id.span);
            if !self.claim(|n| &mut n.requirements, "requirement", &r.node.id.id, at) {
                continue;
            }
            self.cx.program.requirements.push(RequirementDef {
                id: r.node.id.id.clone(),
                title: r.node.title.value.clone(),
                parent: r.node.parent.as_ref().map(|p| p.id.clone()),
                span: r.file.span(r.span),
                docs: r.docs.cloned(),
            });
        }
        let index: HashMap<String, usize> =
            self.cx.program.requirements.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        for r in &items.requirements {
            let Some(parent) = &r.node.parent else { continue };
            if !index.contains_key(&parent.id) {
                let d = unknown_requirement(&self.cx.program, r.file, parent);
                self.push(d);
            }
        }
        // A parent chain longer than the catalogue is a cycle.
        let mut reported = std::collections::HashSet::new();
        for start in 0..self.cx.program.requirements.len() {
            let mut chain = vec![start];
            let mut current = start;
            while let Some(parent) = self.cx.program.requirements[current].parent.as_ref().and_then(|p| index.get(p)) {
                if let Some(pos) = chain.iter().position(|&c| c == *parent) {
                    let cycle: Vec<usize> = chain[pos..].to_vec();
                    let mut key = cycle.clone();
                    key.sort_unstable();
                    if reported.insert(key) {
                        let reqs = &self.cx.program.requirements;
                        let names: Vec<String> = cycle.iter().map(|&i| format!("`{}`", reqs[i].id)).collect();
                        let first = &reqs[cycle[0]];
                        let mut d = Diagnostic::error(
                            Code::Cycle,
                            format!("requirements are their own ancestors: {} → `{}`", names.join(" → "), first.id),
                        )
                        .at_file(first.span.file, first.span.span, "part of the cycle");
                        for &i in &cycle[1..] {
                            d = d.also_file(reqs[i].span.file, reqs[i].span.span, "part of the cycle");
                        }
                        self.push(d);
                    }
                    break;
                }
                chain.push(*parent);
                current = *parent;
            }
        }
    }

    pub(super) fn check_requirements(&mut self, file: Anchor, refs: &[ast::ReqRef]) -> Vec<String> {
        let mut diags = Vec::new();
        let out = known_requirements(&self.cx.program, file, refs, &mut diags);
        self.absorb(diags);
        out
    }

    pub(super) fn excludes(&mut self, items: &Items) {
        for x in &items.excludes {
            let ids = self.check_requirements(x.file, &x.node.requirements);
            let Some(because) = &x.node.because else {
                self.push(
                    Diagnostic::error(Code::ExcludeWithoutReason, "an exclusion needs a justification")
                        .at(x.file, x.span, "no `because`")
                        .note("the Statement of Applicability must justify every exclusion (clause 6.1.3)")
                        .help("add `because \"why this control does not apply\"`"),
                );
                continue;
            };
            for id in ids {
                let implementer =
                    items.rules.iter().find(|(_, r)| !r.stdlib && r.node.header.implements.iter().any(|i| i.id == id));
                if let (Some((_, rule)), false) = (implementer, x.stdlib) {
                    self.push(
                        Diagnostic::warning(
                            Code::ExcludedButImplemented,
                            format!("{id} is excluded, but `{}` implements it", rule.node.name.name),
                        )
                        .at(x.file, x.span, "excluded here")
                        .also(rule.file, rule.node.name.span, "implemented here")
                        .help("the Statement of Applicability cannot say both: drop the exclusion or the `implements`"),
                    );
                }
                self.cx.program.excludes.push(ExcludeDef {
                    requirement: id,
                    because: because.value.clone(),
                    span: x.file.span(x.span),
                });
            }
        }
    }

    /// W0002: every ISO/IEC 42001 Annex A control must be implemented by
    /// some rule or excluded with a justification (clause 6.1.3), or the
    /// Statement of Applicability has a gap. Reported at the project's
    /// `use` that loaded the catalogue.
    pub(super) fn unaddressed_controls(&mut self, inputs: &[SourceInput]) {
        let Some((file, span)) = inputs.iter().filter(|i| !i.stdlib).find_map(|i| {
            i.ast.items.iter().find_map(|item| match &item.kind {
                ItemKind::Use(u)
                    if ["iso42001", "nist_ai_rmf", "eu_ai_act", "aims"]
                        .iter()
                        .any(|m| u.path == *m || u.path.starts_with(&format!("{m}."))) =>
                {
                    Some((i.anchor(item), u.span))
                }
                _ => None,
            })
        }) else {
            return;
        };
        let stdlib_files: Vec<FileId> = inputs.iter().filter(|i| i.stdlib).map(|i| i.file).collect();
        let program = &self.cx.program;
        let parents: std::collections::HashSet<&str> =
            program.requirements.iter().filter_map(|r| r.parent.as_deref()).collect();
        fn root_of<'p>(program: &'p Program, mut id: &'p str) -> &'p str {
            // Bounded: a parent cycle is reported elsewhere and must not hang this.
            for _ in 0..program.requirements.len() {
                match program.requirement(id).and_then(|r| r.parent.as_deref()) {
                    Some(p) => id = p,
                    None => break,
                }
            }
            id
        }
        let implemented: std::collections::HashSet<&str> =
            program.rules.iter().flat_map(|r| r.implements.iter().map(String::as_str)).collect();
        let excluded: std::collections::HashSet<&str> =
            program.excludes.iter().map(|x| x.requirement.as_str()).collect();
        let gaps: Vec<(String, String)> = program
            .requirements
            .iter()
            .filter(|r| stdlib_files.contains(&r.span.file) && !parents.contains(r.id.as_str()))
            .filter(|r| root_of(program, &r.id).starts_with("A."))
            .filter(|r| !implemented.contains(r.id.as_str()) && !excluded.contains(r.id.as_str()))
            .map(|r| (r.id.clone(), r.title.clone()))
            .collect();
        for (id, title) in gaps {
            self.push(
                Diagnostic::warning(
                    Code::UnaddressedControl,
                    format!("Annex A control {id} ({title}) is neither implemented nor excluded"),
                )
                .at(file, span, "the Annex A catalogue is loaded here")
                .note("the Statement of Applicability must cover every Annex A control (clause 6.1.3)")
                .help(format!(
                    "name it in a control's `implements {id}`, or add `exclude {id} because \"why it does not apply\"`"
                )),
            );
        }
    }

    pub(super) fn maps(&mut self, items: &Items) {
        for m in &items.maps {
            let from = self.check_requirements(m.file, std::slice::from_ref(&m.node.from));
            let to = self.check_requirements(m.file, &m.node.to);
            if let (Some(from), false) = (from.into_iter().next(), to.is_empty()) {
                self.cx.program.maps.push(MapDef { from, to, span: m.file.span(m.span) });
            }
        }
    }
}

/// The diagnostic of a reference to a requirement that is not declared.
fn unknown_requirement(program: &Program, file: Anchor, r: &ast::ReqRef) -> Diagnostic {
    let ids: Vec<&str> = program.requirements.iter().map(|r| r.id.as_str()).collect();
    let otherwise = if ids.is_empty() {
        "no requirement is declared; add `use iso42001` to load the ISO/IEC 42001 catalogue"
    } else {
        "declare it with `requirement ID \"title\"`, or check the identifier"
    };
    Diagnostic::error(Code::UnknownRequirement, format!("unknown requirement `{}`", r.id))
        .at(file, r.span, "no such requirement")
        .suggest_or(&r.id, ids.iter().copied(), Quote::Code, otherwise)
}

/// The requirements a rule refers to that are declared (a diagnostic for
/// each of the others). A free function: a rule checked on its own (see
/// [`super::rules::check_rule_body`]) has no checker.
pub(super) fn known_requirements(
    program: &Program,
    file: Anchor,
    refs: &[ast::ReqRef],
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut out = Vec::new();
    for r in refs {
        if program.requirement(&r.id).is_some() {
            out.push(r.id.clone());
        } else {
            diags.push(unknown_requirement(program, file, r));
        }
    }
    out
}
