//! The declared names of each policy declaration, and the names its header
//! refers to outside expressions (written types, requirements, rules,
//! matrix levels), recorded in the source map once the program is checked.
//! Names inside expressions are recorded by the expression checker as it
//! resolves them.

use super::source_map::{Recorder, Symbol};
use super::{Context, SourceInput};
use crate::diag::Anchor;
use crate::syntax::ast::{self, Ident, ItemKind};

/// Records the declaration-level names of every policy file.
pub(super) fn record_declarations(cx: &Context, inputs: &[SourceInput]) {
    for input in inputs.iter().filter(|i| !i.stdlib) {
        record_items(cx, &cx.model, input);
    }
}

/// Records the declaration-level names of one input's items into `model`,
/// resolved against `cx`.
pub(super) fn record_items(cx: &Context, model: &Recorder, input: &SourceInput) {
    for item in &input.ast.items {
        // The item's spans are relative to where it starts.
        Names { cx, model, file: input.anchor(item) }.item(item);
    }
}

struct Names<'c> {
    cx: &'c Context,
    /// Where the names are recorded.
    model: &'c Recorder,
    /// The declaration being recorded: its file and where it starts.
    file: Anchor,
}

impl Names<'_> {
    fn define(&self, name: &Ident, symbol: Symbol) {
        self.model.borrow_mut().reference(self.file, name.span, symbol, true);
    }

    fn refer(&self, span: ast::Span, symbol: Symbol) {
        self.model.borrow_mut().reference(self.file, span, symbol, false);
    }

    /// A written type name, when it names a declared type.
    fn use_type(&self, name: &Ident) {
        if self.cx.is_type_name(&name.name) {
            self.refer(name.span, Symbol::Type(name.name.clone()));
        }
    }

    fn use_rule(&self, name: &Ident) {
        self.refer(name.span, Symbol::Rule(name.name.clone()));
    }

    fn requirements(&self, refs: &[ast::ReqRef]) {
        for r in refs {
            self.refer(r.span, Symbol::Requirement(r.id.clone()));
        }
    }

    fn type_expr(&self, ty: &ast::TypeExpr) {
        match ty {
            ast::TypeExpr::Named { name, .. } => self.use_type(name),
            ast::TypeExpr::List { element, .. } => self.type_expr(element),
        }
    }

    fn fields(&self, owner: &str, fields: &[ast::FieldDecl]) {
        for f in fields {
            self.define(&f.name, Symbol::Field { owner: owner.to_string(), name: f.name.name.clone() });
            self.type_expr(&f.ty);
        }
    }

    fn header(&self, header: &ast::RuleHeader) {
        self.requirements(&header.implements);
        self.requirements(&header.clauses);
        if let Some(subject) = &header.subject {
            self.use_type(&subject.entity);
        }
    }

    fn item(&self, item: &ast::Item) {
        match &item.kind {
            ItemKind::Use(_) => {}
            ItemKind::Enum(e) => {
                self.define(&e.name, Symbol::Type(e.name.name.clone()));
                for v in &e.variants {
                    self.define(&v.name, Symbol::Variant { owner: e.name.name.clone(), name: v.name.name.clone() });
                }
            }
            ItemKind::Record(s) | ItemKind::Entity(s) => {
                self.define(&s.name, Symbol::Type(s.name.name.clone()));
                self.fields(&s.name.name, &s.fields);
            }
            ItemKind::Extend(x) => {
                self.use_type(&x.name);
                for v in &x.variants {
                    self.define(&v.name, Symbol::Variant { owner: x.name.name.clone(), name: v.name.name.clone() });
                }
                self.fields(&x.name.name, &x.fields);
            }
            ItemKind::Fact(f) => self.use_type(&f.entity),
            ItemKind::Requirement(r) => {
                self.model.borrow_mut().reference(self.file, r.id.span, Symbol::Requirement(r.id.id.clone()), true);
                self.requirements(r.parent.as_slice());
            }
            ItemKind::Control(r) | ItemKind::Audit(r) => {
                self.define(&r.name, Symbol::Rule(r.name.name.clone()));
                self.header(&r.header);
            }
            ItemKind::Scale(s) => {
                self.define(&s.name, Symbol::Type(s.name.name.clone()));
                for (v, _) in &s.values {
                    self.define(v, Symbol::Variant { owner: s.name.name.clone(), name: v.name.clone() });
                }
            }
            ItemKind::Matrix(m) => {
                self.define(&m.name, Symbol::Type(m.name.name.clone()));
                for axis in &m.axes {
                    self.use_type(axis);
                }
                for l in &m.levels {
                    self.define(&l.name, Symbol::Variant { owner: m.name.name.clone(), name: l.name.name.clone() });
                }
            }
            ItemKind::Appetite(a) => {
                let matrix = match &a.matrix {
                    Some(m) => {
                        self.use_type(m);
                        Some(m.name.clone())
                    }
                    None => self.matrix_with_level(&a.level.name),
                };
                if let Some(matrix) = matrix {
                    self.refer(a.level.span, Symbol::Variant { owner: matrix, name: a.level.name.clone() });
                }
            }
            ItemKind::Risk(r) => {
                self.define(&r.name, Symbol::Rule(r.name.name.clone()));
                self.header(&r.header);
                for rule in &r.treated_by {
                    self.use_rule(rule);
                }
            }
            ItemKind::Objective(o) => {
                self.define(&o.name, Symbol::Rule(o.name.name.clone()));
                self.header(&o.header);
            }
            ItemKind::Exception(e) => {
                self.define(&e.name, Symbol::Exception(e.name.name.clone()));
                if let Some(rule) = &e.waives {
                    self.use_rule(rule);
                }
                if let Some((entity, _)) = &e.target {
                    self.use_type(entity);
                }
            }
            ItemKind::Exclude(x) => self.requirements(&x.requirements),
            ItemKind::Map(m) => {
                self.requirements(std::slice::from_ref(&m.from));
                self.requirements(&m.to);
            }
            ItemKind::Fn(f) => {
                self.define(&f.name, Symbol::Function(f.name.name.clone()));
                for (_, ty) in &f.params {
                    self.type_expr(ty);
                }
            }
            ItemKind::Measure(m) => {
                // A measure is read as a field of the entity it measures,
                // or by its name for the organisation.
                match &m.subject {
                    Some((_, entity)) => {
                        self.define(&m.name, Symbol::Field { owner: entity.name.clone(), name: m.name.name.clone() });
                        self.use_type(entity);
                    }
                    None => self.define(&m.name, Symbol::Measure(m.name.name.clone())),
                }
                self.use_type(&m.record);
            }
            ItemKind::Test(t) => {
                for given in &t.given {
                    self.use_type(&given.entity);
                }
                for e in &t.expects {
                    match e {
                        ast::Expectation::Outcome { rule, .. } => self.use_rule(rule),
                        ast::Expectation::Objective { objective, .. } => self.use_rule(objective),
                        ast::Expectation::Risk { risk, level, .. } => {
                            self.use_rule(risk);
                            if let Some(matrix) = self.matrix_of_risk(&risk.name, &level.name) {
                                self.refer(level.span, Symbol::Variant { owner: matrix, name: level.name.clone() });
                            }
                        }
                    }
                }
            }
        }
    }

    /// The only matrix with a level of that name.
    fn matrix_with_level(&self, level: &str) -> Option<String> {
        let mut having = self.cx.program.matrices.iter().filter(|m| m.levels.iter().any(|l| l.name == level));
        match (having.next(), having.next()) {
            (Some(m), None) => Some(m.decl.name.clone()),
            _ => None,
        }
    }

    /// The matrix a risk was checked against, or the one with that level.
    fn matrix_of_risk(&self, risk: &str, level: &str) -> Option<String> {
        let program = &self.cx.program;
        match program.risks.iter().find(|r| r.decl.name == risk) {
            Some(r) => program.matrices.get(r.matrix.index()).map(|m| m.decl.name.clone()),
            None => self.matrix_with_level(level),
        }
    }
}
