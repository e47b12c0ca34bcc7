//! Checking declarations, in dependency order: types, scales and matrices,
//! the fields measures add, requirements, functions, measures, rules, risks, objectives, exceptions,
//! exclusions, facts and tests.
//!
//! Each kind of declaration is checked in its own file; this one collects
//! the items of every file, drops the stdlib declarations the project
//! overrides, and holds what they share (namespaces, duplicate checks).

mod exceptions;
mod facts;
mod functions;
mod matrices;
mod measures;
mod objectives;
mod requirements;
mod risks;
mod rules;
mod types;

pub(crate) use rules::{check_rule_body, rule_def};

use std::collections::HashMap;

use super::expr::ExprChecker;
use super::{Context, RuleHook, SourceInput};
use crate::diag::{Anchor, Code, Diagnostic, FileSpan, Quote};
use crate::ir::*;
use crate::syntax::ast::{self, ItemKind, Span};

/// An item with the file it came from.
struct At<'a, T> {
    file: Anchor,
    /// Declared in a stdlib module (the project may override it).
    stdlib: bool,
    text: &'a str,
    docs: Option<&'a String>,
    span: Span,
    node: &'a T,
}

impl<T> Clone for At<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for At<'_, T> {}

#[derive(Default)]
struct Items<'a> {
    enums: Vec<At<'a, ast::EnumDecl>>,
    records: Vec<At<'a, ast::StructDecl>>,
    entities: Vec<At<'a, ast::StructDecl>>,
    extends: Vec<At<'a, ast::ExtendDecl>>,
    scales: Vec<At<'a, ast::ScaleDecl>>,
    matrices: Vec<At<'a, ast::MatrixDecl>>,
    appetites: Vec<At<'a, ast::AppetiteDecl>>,
    requirements: Vec<At<'a, ast::RequirementDecl>>,
    rules: Vec<(RuleKind, At<'a, ast::RuleDecl>)>,
    risks: Vec<At<'a, ast::RiskDecl>>,
    objectives: Vec<At<'a, ast::ObjectiveDecl>>,
    exceptions: Vec<At<'a, ast::ExceptionDecl>>,
    excludes: Vec<At<'a, ast::ExcludeDecl>>,
    maps: Vec<At<'a, ast::MapDecl>>,
    fns: Vec<At<'a, ast::FnDecl>>,
    facts: Vec<At<'a, ast::FactDecl>>,
    tests: Vec<At<'a, ast::TestDecl>>,
    measures: Vec<At<'a, ast::MeasureDecl>>,
}

/// How far [`check_all`] goes.
pub(super) enum Scope<'h> {
    /// Up to the rules: what a rule body is checked against.
    Signatures,
    /// Everything; a rule's body comes from the hook when it has one.
    Program(Option<RuleHook<'h>>),
}

pub(super) fn check_all(cx: &mut Context, inputs: &[SourceInput], scope: Scope) {
    let mut items = Items::default();
    for input in inputs {
        for item in &input.ast.items {
            macro_rules! at {
                ($node:expr) => {
                    At {
                        file: input.anchor(item),
                        stdlib: input.stdlib,
                        text: input.text,
                        docs: item.docs.as_ref(),
                        span: item.span,
                        node: $node,
                    }
                };
            }
            match &item.kind {
                ItemKind::Use(_) => {}
                ItemKind::Enum(d) => items.enums.push(at!(d)),
                ItemKind::Record(d) => items.records.push(at!(d)),
                ItemKind::Entity(d) => items.entities.push(at!(d)),
                ItemKind::Extend(d) => items.extends.push(at!(d)),
                ItemKind::Fact(d) => items.facts.push(at!(d)),
                ItemKind::Requirement(d) => items.requirements.push(at!(d)),
                ItemKind::Control(d) => items.rules.push((RuleKind::Control, at!(d))),
                ItemKind::Audit(d) => items.rules.push((RuleKind::Audit, at!(d))),
                ItemKind::Scale(d) => items.scales.push(at!(d)),
                ItemKind::Matrix(d) => items.matrices.push(at!(d)),
                ItemKind::Appetite(d) => items.appetites.push(at!(d)),
                ItemKind::Risk(d) => items.risks.push(at!(d)),
                ItemKind::Objective(d) => items.objectives.push(at!(d)),
                ItemKind::Exception(d) => items.exceptions.push(at!(d)),
                ItemKind::Exclude(d) => items.excludes.push(at!(d)),
                ItemKind::Map(d) => items.maps.push(at!(d)),
                ItemKind::Fn(d) => items.fns.push(at!(d)),
                ItemKind::Test(d) => items.tests.push(at!(d)),
                ItemKind::Measure(d) => items.measures.push(at!(d)),
            }
        }
    }
    override_stdlib(&mut items);
    let mut checker = Checker { cx, names: Namespaces::default(), bodies: None };
    checker.types(&items);
    checker.measure_fields(&items);
    checker.requirements(&items);
    checker.functions(&items);
    let Scope::Program(bodies) = scope else { return };
    checker.measures(&items);
    checker.bodies = bodies;
    checker.rules(&items);
    checker.risks(&items);
    checker.appetite_warning(&items);
    checker.objectives(&items);
    checker.exceptions(&items);
    checker.excludes(&items);
    checker.maps(&items);
    checker.unaddressed_controls(inputs);
    checker.facts(&items);
    checker.tests(&items);
}

/// The fields of a record or entity: its own, then those of every
/// `extend` of it (with the declaration each is written in, whether it is
/// an extension, and the text of its file).
fn struct_fields<'a>(
    s: &At<'a, ast::StructDecl>,
    extends: &'a [At<'a, ast::ExtendDecl>],
) -> Vec<(Anchor, &'a ast::FieldDecl, bool, &'a str)> {
    let own = s.node.fields.iter().map(|f| (s.file, f, false, s.text));
    let added = extends
        .iter()
        .filter(|x| x.node.name.name == s.node.name.name)
        .flat_map(|x| x.node.fields.iter().map(move |f| (x.file, f, true, x.text)));
    own.chain(added).collect()
}

/// Drops the stdlib declarations the project redeclares: a project
/// overrides a default control, audit rule, function, scale, matrix, risk
/// or objective by declaring one of the same name, and the stdlib's
/// appetite by declaring its own; it switches a default control off by
/// excluding every requirement it implements. Types are extended
/// (`extend`), never replaced, since the stdlib's rules read their fields.
fn override_stdlib(items: &mut Items) {
    fn keep<T>(list: &mut Vec<At<'_, T>>, name: impl Fn(&T) -> &str) {
        let project: std::collections::HashSet<String> =
            list.iter().filter(|a| !a.stdlib).map(|a| name(a.node).to_string()).collect();
        list.retain(|a| !a.stdlib || !project.contains(name(a.node)));
    }
    let project_rules: std::collections::HashSet<String> =
        items.rules.iter().filter(|(_, a)| !a.stdlib).map(|(_, a)| a.node.name.name.clone()).collect();
    items.rules.retain(|(_, a)| !a.stdlib || !project_rules.contains(&a.node.name.name));
    keep(&mut items.fns, |d| &d.name.name);
    keep(&mut items.scales, |d| &d.name.name);
    keep(&mut items.matrices, |d| &d.name.name);
    keep(&mut items.risks, |d| &d.name.name);
    keep(&mut items.objectives, |d| &d.name.name);
    if items.appetites.iter().any(|a| !a.stdlib) {
        items.appetites.retain(|a| !a.stdlib);
    }
    // A stdlib default that implements only requirements the project
    // excludes is switched off: the exclusion says the control does not apply.
    let excluded: std::collections::HashSet<&str> = items
        .excludes
        .iter()
        .filter(|x| !x.stdlib && x.node.because.is_some())
        .flat_map(|x| x.node.requirements.iter().map(|r| r.id.as_str()))
        .collect();
    items.rules.retain(|(_, a)| {
        let implements = &a.node.header.implements;
        !(a.stdlib && !implements.is_empty() && implements.iter().all(|r| excluded.contains(r.id.as_str())))
    });
}

/// First definitions of each name, to report duplicates with both places.
#[derive(Default)]
struct Namespaces {
    types: HashMap<String, FileSpan>,
    rules: HashMap<String, FileSpan>,
    fns: HashMap<String, FileSpan>,
    exceptions: HashMap<String, FileSpan>,
    requirements: HashMap<String, FileSpan>,
    tests: HashMap<String, FileSpan>,
}

struct Checker<'c, 'h> {
    cx: &'c mut Context,
    names: Namespaces,
    /// Where checked rule bodies come from instead of checking them here.
    bodies: Option<RuleHook<'h>>,
}

fn decl(file: Anchor, span: Span, name: &ast::Ident, docs: Option<&String>) -> Decl {
    Decl { name: name.name.clone(), span: file.span(span), name_span: file.span(name.span), docs: docs.cloned() }
}

impl Checker<'_, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.cx.diags.push(d);
    }

    /// Records a name in a namespace; false (and a diagnostic) if taken.
    fn claim(
        &mut self,
        space: fn(&mut Namespaces) -> &mut HashMap<String, FileSpan>,
        what: &str,
        name: &str,
        at: FileSpan,
    ) -> bool {
        if name.is_empty() {
            return false;
        }
        let table = space(&mut self.names);
        if let Some(first) = table.get(name).copied() {
            let d = Diagnostic::error(Code::Duplicate, format!("{what} `{name}` is defined twice"))
                .at_file(at.file, at.span, "defined again here")
                .also_file(first.file, first.span, "first defined here")
                .help("rename one of them, or remove the copy");
            self.push(d);
            return false;
        }
        table.insert(name.to_string(), at);
        true
    }

    /// Whether `name` was already seen in this declaration, reported with
    /// both places (`words`: the message with one `{}` for the name, the
    /// label of the repeat, the label of the first); records it if not.
    fn repeated<'n>(
        &mut self,
        seen: &mut HashMap<&'n str, Span>,
        file: Anchor,
        name: &'n ast::Ident,
        words: [&str; 3],
    ) -> bool {
        if let Some(first) = seen.get(name.name.as_str()) {
            let d = Diagnostic::error(Code::Duplicate, words[0].replacen("{}", &name.name, 1))
                .at(file, name.span, words[1])
                .also(file, *first, words[2]);
            self.push(d);
            return true;
        }
        seen.insert(&name.name, name.span);
        false
    }

    fn checker<'a>(&'a self, file: Anchor, text: &'a str) -> ExprChecker<'a> {
        ExprChecker::new(self.cx, file, text)
    }

    fn absorb(&mut self, diags: Vec<Diagnostic>) {
        self.cx.diags.extend(diags);
    }

    fn rule_ref(&mut self, file: Anchor, name: &ast::Ident) -> Option<RuleId> {
        if let Some(id) = self.cx.program.rule_by_name(&name.name) {
            return Some(id);
        }
        let names: Vec<&str> = self.cx.program.rules.iter().map(|r| r.decl.name.as_str()).collect();
        let d = Diagnostic::error(Code::UnknownRule, format!("unknown control `{}`", name.name))
            .at(file, name.span, "no such control")
            .suggest(&name.name, names.iter().copied(), Quote::Code);
        self.push(d);
        None
    }
}
