//! Controls and audit rules: header, subject and body.

use super::requirements::known_requirements;
use super::{decl, Checker, Items};
use crate::diag::{Anchor, Code, Diagnostic};
use crate::ir::*;
use crate::sema::expr::ExprChecker;
use crate::sema::source_map::{LocalKind, Recorder};
use crate::sema::{Context, RuleBody, TypeName};
use crate::syntax::ast::{self, Severity, Span};

impl Checker<'_, '_> {
    pub(super) fn misplaced(&mut self, file: Anchor, header: &ast::RuleHeader, what: &str, forbidden: &[&str]) {
        for (clause, span) in &header.clause_spans {
            if forbidden.contains(clause) {
                self.push(Diagnostic::error(Code::MisplacedClause, format!("`{clause}` is not allowed on {what}")).at(
                    file,
                    *span,
                    "not allowed here",
                ));
            }
        }
    }

    pub(super) fn rules(&mut self, items: &Items) {
        // Names first: risks and exceptions refer to rules by name.
        let mut accepted = Vec::new();
        for (kind, r) in &items.rules {
            let at = r.file.span(r.node.name.span);
            if self.claim(|n| &mut n.rules, "rule", &r.node.name.name, at) {
                accepted.push((*kind, *r));
            }
        }
        for (kind, r) in accepted {
            let body = match self.bodies.as_mut().and_then(|hook| hook(r.file, r.node)) {
                Some(body) => self.placed_owner_labels(body),
                None => {
                    let cx: &Context = self.cx;
                    check_rule_body(cx, &cx.model, r.file, r.text, r.node)
                }
            };
            let RuleBody { implements, clauses, checked, diagnostics, model } = body;
            self.absorb(diagnostics);
            self.cx.model.borrow_mut().add_piece(r.file.file, &model);
            let Some(checked) = checked else { continue };
            let decl = decl(r.file, r.span, &r.node.name, r.docs);
            self.cx.program.rules.push(rule_def(kind, decl, r.node, implements, clauses, checked));
        }
    }

    pub(super) fn subject_with(&self, ck: &mut ExprChecker, s: &ast::Subject) -> Option<SubjectDef> {
        // `subject` only reads the context; a shared borrow is enough.
        let this = CheckerRef { cx: self.cx };
        this.subject(ck, s)
    }

    /// A body checked on its own, with the label of each unknown field at
    /// the type it was looked up in moved to where the program has that
    /// type (the signatures it was checked against place declarations
    /// relative to themselves).
    fn placed_owner_labels(&self, mut body: RuleBody) -> RuleBody {
        for d in body.diagnostics.iter_mut().filter(|d| d.code == Code::UnknownField) {
            let Some(label) = d.secondary.first_mut() else { continue };
            let Some(owner) = label.message.strip_suffix("` is declared here").and_then(|m| m.strip_prefix('`')) else {
                continue;
            };
            let at = match self.cx.types.get(owner) {
                Some(TypeName::Entity(id)) => Some(self.cx.program.entities[id.index()].decl.name_span),
                Some(TypeName::Record(id)) => Some(self.cx.program.records[id.index()].decl.name_span),
                _ => None,
            };
            if let Some(at) = at {
                label.at = at;
            }
        }
        body
    }
}

/// Checks the header and body of one control or audit rule against what
/// the declarations before rules (types, requirements, functions) made of
/// the context, recording the source map in `model`. It reads nothing
/// else, so the database can check a rule on its own and keep the result
/// until the rule or that context changes.
pub(crate) fn check_rule_body(
    cx: &Context,
    model: &Recorder,
    file: Anchor,
    text: &str,
    node: &ast::RuleDecl,
) -> RuleBody {
    let mut diagnostics = Vec::new();
    let implements = known_requirements(&cx.program, file, &node.header.implements, &mut diagnostics);
    let clauses = known_requirements(&cx.program, file, &node.header.clauses, &mut diagnostics);
    let mut ck = ExprChecker::recording_into(cx, model, file, text);
    let subject = match &node.header.subject {
        Some(s) => (CheckerRef { cx }).subject(&mut ck, s).map(Some),
        None => Some(None),
    };
    let checked = subject.map(|subject| {
        let steps = body_steps(&mut ck, &node.body, file);
        (subject, steps.into(), ck.slots())
    });
    diagnostics.append(&mut ck.diags);
    RuleBody { implements, clauses, checked, diagnostics, model: Default::default() }
}

/// A read-only view of the checker for helpers that run while an
/// `ExprChecker` borrows the context.
pub(super) struct CheckerRef<'c> {
    cx: &'c Context,
}

impl CheckerRef<'_> {
    pub(super) fn subject(&self, ck: &mut ExprChecker, s: &ast::Subject) -> Option<SubjectDef> {
        let entity = match self.cx.entity_by_name(&s.entity.name) {
            Some(id) => id,
            None => {
                ck.unknown_type(&s.entity, true);
                return None;
            }
        };
        ck.bind(&s.var, LocalKind::Subject, Ty::Entity(entity), s.var.span);
        let filter = s.filter.as_ref().map(|f| {
            let reads_before = ck.optional_reads.len();
            let decided_before = ck.decided_on_absent.len();
            let (ex, ty) = ck.expr(f, Some(&Ty::Bool));
            if ty.is_optional() {
                let reads: Vec<(Span, String)> = ck.optional_reads[reads_before..].to_vec();
                let file = ck_file(ck);
                let mut d = Diagnostic::error(Code::UnhandledOptional, "the applicability condition may be unknown")
                    .at(file, f.span, "this may be unknown");
                for (span, path) in reads.iter().take(3) {
                    d = d.also(file, *span, format!("`{path}` may be absent"));
                }
                let example = reads.first().map(|(_, p)| p.clone()).unwrap_or_else(|| "x.field".into());
                d = d
                    .note("an absent fact must not silently make a rule not applicable")
                    .help(format!("handle the absent case: `{example} is some and ..` or `{example} ?? default`"));
                ck.diags.push(d);
            } else if ty != Ty::Bool && ty != Ty::Error {
                let name = self.cx.ty_name(&ty);
                let file = ck_file(ck);
                ck.diags.push(Diagnostic::error(Code::TypeMismatch, format!("expected `Bool`, found `{name}`")).at(
                    file,
                    f.span,
                    format!("this is `{name}`"),
                ));
            }
            if !ty.is_optional() {
                // Definite, but it may still decide on an absent value inside.
                ck.refuse_decided_on_absent(decided_before, "the applicability condition");
            }
            ex
        });
        Some(SubjectDef { var: s.var.name.clone(), entity, filter: filter.map(std::sync::Arc::new) })
    }
}

pub(super) fn ck_file(ck: &ExprChecker) -> Anchor {
    ck.file()
}

/// Lowers the `let` and `require` statements of a rule body.
pub(super) fn body_steps(ck: &mut ExprChecker, body: &[ast::Stmt], file: Anchor) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lets: Vec<(u32, Ex)> = Vec::new();
    for stmt in body {
        match stmt {
            ast::Stmt::Let { name, value, span } => {
                let (ex, ty) = ck.expr(value, None);
                let slot = ck.bind(name, LocalKind::Let, ty, Span { start: span.end, end: span.end });
                lets.push((slot, ex.clone()));
                steps.push(Step::Let { slot, value: ex });
            }
            ast::Stmt::Require { cond, because, span } => {
                let (ex, _) = ck.expect(cond, &Ty::Bool, true);
                steps.push(Step::Require(Requirement {
                    cond: ex,
                    lets: std::sync::Arc::from(lets.as_slice()),
                    because: because.as_ref().map(|b| b.value.clone()),
                    source: ck.source(cond.span).to_string(),
                    span: file.span(*span),
                }));
            }
        }
    }
    steps
}

/// The rule a checked body makes under its header (title, severity,
/// owner): the one place a [`RuleDef`] is put together, for the program
/// and for the logic evaluation reads.
pub(crate) fn rule_def(
    kind: RuleKind,
    decl: Decl,
    node: &ast::RuleDecl,
    implements: Vec<String>,
    clauses: Vec<String>,
    (subject, steps, slots): (Option<SubjectDef>, std::sync::Arc<[Step]>, u32),
) -> RuleDef {
    RuleDef {
        decl,
        kind,
        title: node.title.as_ref().map(|t| t.value.clone()),
        severity: node.header.severity.map(|(s, _)| s).unwrap_or(Severity::Minor),
        implements,
        clauses,
        owner: node.header.owner.as_ref().map(|t| t.value.clone()),
        subject,
        steps,
        slots,
    }
}
