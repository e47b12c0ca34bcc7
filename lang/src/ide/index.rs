//! The name index of one file: every occurrence of a declared name, what it
//! refers to, and the variables bound in the file with their types.
//!
//! `sema` resolves names and lowers them away; this walk resolves them
//! again over the syntax tree, with the checked program for the types, and
//! keeps the answers. It follows the language's rules (a variable first,
//! then a value of the expected type, then the only variant of that name)
//! and infers types only as far as the editor needs: enough to know which
//! record a field belongs to and what a value position expects.

use crate::diag::FileId;
use crate::ir::{Program, Ty};
use crate::syntax::ast::{self, ExprKind, Ident, Item, ItemKind, Span};

use super::symbol::{Local, LocalKind, MemberAccess, NameSite, Reference, Symbol};
use super::types::{arithmetic, Types};
use crate::builtins::{AggReturns, Returns};

/// Every name of a file, resolved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileIndex {
    /// Occurrences of declared names, in source order.
    pub references: Vec<Reference>,
    /// Variables bound in the file.
    pub locals: Vec<Local>,
    /// `base.field` accesses with the type of `base`.
    pub members: Vec<MemberAccess>,
    /// Bare names in expressions with the type expected there.
    pub names: Vec<NameSite>,
}

impl FileIndex {
    /// The occurrence whose span contains `offset` (or ends there).
    pub fn reference_at(&self, offset: u32) -> Option<&Reference> {
        let at = self.references.partition_point(|r| r.span.end < offset);
        self.references[at..].iter().take_while(|r| r.span.start <= offset).find(|r| r.span.end >= offset)
    }

    /// The variable bound at `at`.
    pub fn local(&self, at: Span) -> Option<&Local> {
        self.locals.iter().find(|l| l.at == at)
    }

    /// The variables visible at `offset`, innermost last.
    pub fn locals_at(&self, offset: u32) -> Vec<&Local> {
        self.locals.iter().filter(|l| l.scope.start <= offset && offset <= l.scope.end).collect()
    }
}

/// Indexes the items of a file against a checked program.
pub fn index(program: &Program, file: FileId, items: &[Item]) -> FileIndex {
    let mut walker = Walker { types: Types::new(program), file, out: FileIndex::default(), scope: Vec::new() };
    for item in items {
        walker.item(item);
    }
    walker.out.references.sort_by_key(|r| (r.span.start, r.span.end));
    walker.out
}

struct Walker<'p> {
    types: Types<'p>,
    file: FileId,
    out: FileIndex,
    /// Variables in scope: (name, binding span, type).
    scope: Vec<(String, Span, Option<Ty>)>,
}

impl<'p> Walker<'p> {
    fn reference(&mut self, span: Span, symbol: Symbol, is_definition: bool) {
        self.out.references.push(Reference { span, symbol, is_definition });
    }

    fn define(&mut self, name: &Ident, symbol: Symbol) {
        self.reference(name.span, symbol, true);
    }

    fn use_type(&mut self, name: &Ident) {
        if self.types.named(&name.name).is_some() {
            self.reference(name.span, Symbol::Type(name.name.clone()), false);
        }
    }

    fn use_rule(&mut self, name: &Ident) {
        self.reference(name.span, Symbol::Rule(name.name.clone()), false);
    }

    fn requirements(&mut self, refs: &[ast::ReqRef]) {
        for r in refs {
            self.reference(r.span, Symbol::Requirement(r.id.clone()), false);
        }
    }

    /// Binds a variable until [`Walker::unbind`].
    fn bind(&mut self, name: &Ident, kind: LocalKind, ty: Option<Ty>, scope: Span) {
        let symbol = Symbol::Local { file: self.file, at: name.span, name: name.name.clone() };
        self.define(name, symbol);
        self.out.locals.push(Local { name: name.name.clone(), at: name.span, kind, ty: ty.clone(), scope });
        self.scope.push((name.name.clone(), name.span, ty));
    }

    fn unbind_to(&mut self, depth: usize) {
        self.scope.truncate(depth);
    }

    fn type_expr(&mut self, ty: &ast::TypeExpr) -> Option<Ty> {
        match ty {
            ast::TypeExpr::Named { name, .. } => self.use_type(name),
            ast::TypeExpr::List { element, .. } => {
                self.type_expr(element);
            }
        }
        self.types.of_type_expr(ty)
    }

    fn item(&mut self, item: &Item) {
        let depth = self.scope.len();
        match &item.kind {
            ItemKind::Use(_) => {}
            ItemKind::Enum(e) => {
                self.define(&e.name, Symbol::Type(e.name.name.clone()));
                for v in &e.variants {
                    let symbol = Symbol::Variant { owner: e.name.name.clone(), name: v.name.name.clone() };
                    self.define(&v.name, symbol);
                }
            }
            ItemKind::Record(s) | ItemKind::Entity(s) => {
                let owner = s.name.name.clone();
                self.define(&s.name, Symbol::Type(owner.clone()));
                for f in &s.fields {
                    self.define(&f.name, Symbol::Field { owner: owner.clone(), name: f.name.name.clone() });
                    let ty = self.type_expr(&f.ty);
                    if let Some(default) = &f.default {
                        self.expr(default, ty.as_ref());
                    }
                }
            }
            ItemKind::Extend(x) => {
                let owner = x.name.name.clone();
                self.use_type(&x.name);
                for v in &x.variants {
                    self.define(&v.name, Symbol::Variant { owner: owner.clone(), name: v.name.name.clone() });
                }
                for f in &x.fields {
                    self.define(&f.name, Symbol::Field { owner: owner.clone(), name: f.name.name.clone() });
                    let ty = self.type_expr(&f.ty);
                    if let Some(default) = &f.default {
                        self.expr(default, ty.as_ref());
                    }
                }
            }
            ItemKind::Fact(f) => self.fact(f),
            ItemKind::Requirement(r) => {
                self.reference(r.id.span, Symbol::Requirement(r.id.id.clone()), true);
                self.requirements(r.parent.as_slice());
            }
            ItemKind::Control(r) | ItemKind::Audit(r) => {
                self.define(&r.name, Symbol::Rule(r.name.name.clone()));
                self.header(&r.header, item.span);
                self.statements(&r.body, item.span);
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
                    self.reference(a.level.span, Symbol::Variant { owner: matrix, name: a.level.name.clone() }, false);
                }
            }
            ItemKind::Risk(r) => self.risk(r, item.span),
            ItemKind::Objective(o) => {
                self.define(&o.name, Symbol::Rule(o.name.name.clone()));
                self.header(&o.header, item.span);
                for m in &o.measures {
                    self.expr(m, None);
                }
                for (value, _, _) in &o.baselines {
                    self.expr(value, Some(&Ty::Number));
                }
                for t in &o.targets {
                    self.expr(&t.value, Some(&Ty::Number));
                }
                for h in &o.histories {
                    let inner = self.scope.len();
                    self.binder(&h.binder, h.span);
                    self.expr(&h.value, Some(&Ty::Number));
                    self.expr(&h.date, Some(&Ty::Date));
                    if let Some(f) = &h.filter {
                        self.expr(f, Some(&Ty::Bool));
                    }
                    self.unbind_to(inner);
                }
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
                for (name, ty) in &f.params {
                    let ty = self.type_expr(ty);
                    self.bind(name, LocalKind::Parameter, ty, item.span);
                }
                self.expr(&f.body, None);
            }
            ItemKind::Test(t) => {
                for given in &t.given {
                    self.fact(given);
                }
                for e in &t.expects {
                    match e {
                        ast::Expectation::Outcome { rule, .. } => self.use_rule(rule),
                        ast::Expectation::Objective { objective, .. } => self.use_rule(objective),
                        ast::Expectation::Risk { risk, level, .. } => {
                            self.use_rule(risk);
                            if let Some(matrix) = self.matrix_of_risk(&risk.name, &level.name) {
                                let symbol = Symbol::Variant { owner: matrix, name: level.name.clone() };
                                self.reference(level.span, symbol, false);
                            }
                        }
                    }
                }
            }
        }
        self.unbind_to(depth);
    }

    fn fact(&mut self, f: &ast::FactDecl) {
        self.use_type(&f.entity);
        let ty = self.types.named(&f.entity.name).cloned();
        self.field_inits(ty.as_ref(), &f.fields);
    }

    /// `{ field: value, .. }` of a record or an entity type.
    fn field_inits(&mut self, ty: Option<&Ty>, fields: &[ast::FieldInit]) {
        let owner = ty.and_then(|t| self.types.structure(t));
        for init in fields {
            let field = owner.and_then(|o| o.field(&init.name.name).map(|(_, f)| (o, f)));
            let expected = field.map(|(_, f)| f.ty.clone());
            if let Some((o, f)) = field {
                let symbol = Symbol::Field { owner: o.decl.name.clone(), name: f.name.clone() };
                self.reference(init.name.span, symbol, false);
            }
            self.expr(&init.value, expected.as_ref());
        }
    }

    fn header(&mut self, header: &ast::RuleHeader, item: Span) {
        self.requirements(&header.implements);
        self.requirements(&header.clauses);
        if let Some(subject) = &header.subject {
            self.use_type(&subject.entity);
            let ty = self.types.named(&subject.entity.name).cloned();
            self.bind(&subject.var, LocalKind::Subject, ty, item);
            if let Some(filter) = &subject.filter {
                self.expr(filter, Some(&Ty::Bool));
            }
        }
    }

    fn statements(&mut self, body: &[ast::Stmt], item: Span) {
        for stmt in body {
            match stmt {
                ast::Stmt::Let { name, value, span } => {
                    let ty = self.expr(value, None);
                    self.bind(name, LocalKind::Let, ty, Span { start: span.end, end: item.end });
                }
                ast::Stmt::Require { cond, .. } => {
                    self.expr(cond, Some(&Ty::Bool));
                }
            }
        }
    }

    fn risk(&mut self, r: &ast::RiskDecl, item: Span) {
        self.define(&r.name, Symbol::Rule(r.name.name.clone()));
        self.header(&r.header, item);
        self.statements(&r.lets, item);
        let matrix = self.matrix_for_axes(r.axes.iter().map(|(a, _)| a.name.as_str()).collect());
        for (axis, value) in r.axes.iter().chain(&r.residual) {
            let scale = matrix.and_then(|m| {
                m.axes
                    .iter()
                    .map(|s| Ty::Scale(*s))
                    .find(|ty| self.types.owner_name(ty).is_some_and(|n| crate::sema::axis_name(n) == axis.name))
            });
            self.expr(value, scale.as_ref());
        }
        for rule in &r.treated_by {
            self.use_rule(rule);
        }
    }

    /// The matrix of a risk with these axes: the only one, or the one whose axes they are.
    fn matrix_for_axes(&self, axes: Vec<&str>) -> Option<&'p crate::ir::MatrixDef> {
        let program = self.types.program;
        match program.matrices.as_slice() {
            [only] => Some(only),
            many => many.iter().find(|m| {
                m.axes.iter().all(|s| {
                    program
                        .scales
                        .get(s.index())
                        .is_some_and(|s| axes.contains(&crate::sema::axis_name(&s.decl.name).as_str()))
                })
            }),
        }
    }

    fn matrix_with_level(&self, level: &str) -> Option<String> {
        let program = self.types.program;
        let mut having = program.matrices.iter().filter(|m| m.levels.iter().any(|l| l.name == level));
        match (having.next(), having.next()) {
            (Some(m), None) => Some(m.decl.name.clone()),
            _ => None,
        }
    }

    fn matrix_of_risk(&self, risk: &str, level: &str) -> Option<String> {
        let program = self.types.program;
        match program.risks.iter().find(|r| r.decl.name == risk) {
            Some(r) => program.matrices.get(r.matrix.index()).map(|m| m.decl.name.clone()),
            None => self.matrix_with_level(level),
        }
    }

    fn binder(&mut self, binder: &ast::Binder, scope: Span) {
        let ty = match &binder.source {
            ast::BinderSource::Entity(entity) => {
                self.use_type(entity);
                self.types.named(&entity.name).cloned()
            }
            ast::BinderSource::List(list) => match self.expr(list, None).as_ref().map(Ty::definite) {
                Some(Ty::List(element)) => Some((**element).clone()),
                _ => None,
            },
        };
        self.bind(&binder.var, LocalKind::Binder, ty, scope);
    }

    fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Option<Ty> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_inner(e, expected))
    }

    fn expr_inner(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Option<Ty> {
        match &e.kind {
            ExprKind::Bool(_) => Some(Ty::Bool),
            ExprKind::Int(_) => match expected.map(Ty::definite) {
                Some(Ty::Number) => Some(Ty::Number),
                _ => Some(Ty::Int),
            },
            ExprKind::Number(_) => Some(Ty::Number),
            ExprKind::Percent(_) => Some(Ty::Percent),
            ExprKind::Text(_) => match expected.map(Ty::definite) {
                Some(t @ Ty::Entity(_)) => Some(t.clone()),
                _ => Some(Ty::Text),
            },
            ExprKind::Date(_) | ExprKind::Today => Some(Ty::Date),
            ExprKind::Duration(_) => Some(Ty::Duration),
            ExprKind::Paren(inner) => self.expr(inner, expected),
            ExprKind::Name(ident) => self.name(ident, expected),
            ExprKind::Field(base, field) => self.field(base, field),
            ExprKind::Call(func, args) => self.call(func, args),
            ExprKind::Aggregate { func, value, binder, filter } => {
                let depth = self.scope.len();
                self.binder(binder, e.span);
                if let Some(f) = filter {
                    self.expr(f, Some(&Ty::Bool));
                }
                let value_ty = self.expr(value, None);
                self.unbind_to(depth);
                match crate::builtins::aggregate(&func.name).map(|a| a.returns) {
                    Some(AggReturns::Int) => Some(Ty::Int),
                    Some(AggReturns::IntOrNumber) => {
                        value_ty.map(|t| if *t.definite() == Ty::Int { Ty::Int } else { Ty::Number })
                    }
                    Some(AggReturns::NumberOptional) => Some(Ty::Number.optional()),
                    Some(AggReturns::ValueOptional) | None => value_ty.map(|t| t.definite().clone().optional()),
                }
            }
            ExprKind::List(items) => {
                let mut element = match expected.map(Ty::definite) {
                    Some(Ty::List(el)) => Some((**el).clone()),
                    _ => None,
                };
                for item in items {
                    let ty = self.expr(item, element.as_ref());
                    if element.is_none() {
                        element = ty.map(|t| t.definite().clone());
                    }
                }
                Some(element.map_or(Ty::EmptyList, |el| Ty::List(Box::new(el))))
            }
            ExprKind::Record(fields) => {
                let target = expected.map(Ty::definite).filter(|t| matches!(t, Ty::Record(_))).cloned();
                self.field_inits(target.as_ref(), fields);
                target
            }
            ExprKind::Unary(ast::UnaryOp::Not, operand) => {
                self.expr(operand, Some(&Ty::Bool));
                Some(Ty::Bool)
            }
            ExprKind::Unary(ast::UnaryOp::Neg, operand) => self.expr(operand, None),
            ExprKind::Binary(ast::BinaryOp::And | ast::BinaryOp::Or, l, r) => {
                self.expr(l, Some(&Ty::Bool));
                self.expr(r, Some(&Ty::Bool));
                Some(Ty::Bool)
            }
            ExprKind::Binary(ast::BinaryOp::Coalesce, l, r) => {
                let left = self.expr(l, expected);
                let definite = left.as_ref().map(|t| t.definite().clone());
                let right = self.expr(r, definite.as_ref().or(expected));
                definite.or(right)
            }
            ExprKind::Binary(op, l, r) => {
                let left = self.expr(l, None);
                let right = self.expr(r, None);
                arithmetic(*op, left.as_ref(), right.as_ref())
            }
            ExprKind::Compare(_, l, r) => {
                let left = self.expr(l, None);
                self.expr(r, left.as_ref().map(Ty::definite));
                Some(Ty::Bool)
            }
            ExprKind::In { value, collection, .. } => {
                let element = self.expr(value, None).map(|t| Ty::List(Box::new(t.definite().clone())));
                self.expr(collection, element.as_ref());
                Some(Ty::Bool)
            }
            ExprKind::Within(value, window) => {
                self.expr(value, Some(&Ty::Date));
                self.expr(window, Some(&Ty::Duration));
                Some(Ty::Bool)
            }
            ExprKind::Is { value, .. } => {
                self.expr(value, None);
                Some(Ty::Bool)
            }
            ExprKind::If { branches, otherwise } => {
                let mut result: Option<Ty> = None;
                for (cond, then) in branches {
                    self.expr(cond, Some(&Ty::Bool));
                    let ty = self.expr(then, result.as_ref().or(expected));
                    result = result.or(ty);
                }
                let last = self.expr(otherwise, result.as_ref().or(expected));
                result.or(last)
            }
            ExprKind::Exists { binder, filter } => {
                let depth = self.scope.len();
                self.binder(binder, e.span);
                if let Some(f) = filter {
                    self.expr(f, Some(&Ty::Bool));
                }
                self.unbind_to(depth);
                Some(Ty::Bool)
            }
            ExprKind::All { binder, filter, body } => {
                let depth = self.scope.len();
                self.binder(binder, e.span);
                if let Some(f) = filter {
                    self.expr(f, Some(&Ty::Bool));
                }
                self.expr(body, Some(&Ty::Bool));
                self.unbind_to(depth);
                Some(Ty::Bool)
            }
        }
    }

    fn name(&mut self, ident: &Ident, expected: Option<&Ty>) -> Option<Ty> {
        self.out.names.push(NameSite { span: ident.span, expected: expected.cloned() });
        if let Some((name, at, ty)) = self.scope.iter().rev().find(|(n, _, _)| *n == ident.name).cloned() {
            self.reference(ident.span, Symbol::Local { file: self.file, at, name }, false);
            return ty;
        }
        let wanted = expected.map(|t| match t.definite() {
            Ty::List(el) => el.definite().clone(),
            other => other.clone(),
        });
        let ty = match wanted.filter(|t| self.types.has_variant(t, &ident.name)) {
            Some(t) => Some(t),
            None => match self.types.with_variant(&ident.name) {
                [only] => Some(only.clone()),
                _ => None,
            },
        };
        if let Some(owner) = ty.as_ref().and_then(|t| self.types.owner_name(t)) {
            let symbol = Symbol::Variant { owner: owner.to_string(), name: ident.name.clone() };
            self.reference(ident.span, symbol, false);
        }
        ty
    }

    fn field(&mut self, base: &ast::Expr, field: &Ident) -> Option<Ty> {
        // `Domain.credit`: a qualified variant, when `Domain` is a type and not a variable.
        if let ExprKind::Name(type_name) = &base.kind {
            let is_variable = self.scope.iter().any(|(n, _, _)| *n == type_name.name);
            if let Some(ty) = self.types.named(&type_name.name).filter(|_| !is_variable).cloned() {
                self.use_type(type_name);
                self.out.members.push(MemberAccess { field: field.span, base: Some(ty.clone()) });
                if self.types.has_variant(&ty, &field.name) {
                    let symbol = Symbol::Variant { owner: type_name.name.clone(), name: field.name.clone() };
                    self.reference(field.span, symbol, false);
                    return Some(ty);
                }
                return None;
            }
        }
        let base_ty = self.expr(base, None);
        self.out.members.push(MemberAccess { field: field.span, base: base_ty.clone() });
        let (owner, def) = self.types.field(base_ty.as_ref()?, &field.name)?;
        let symbol = Symbol::Field { owner: owner.decl.name.clone(), name: def.name.clone() };
        self.reference(field.span, symbol, false);
        let ty = def.ty.clone();
        Some(if base_ty.is_some_and(|t| t.is_optional()) { ty.optional() } else { ty })
    }

    fn call(&mut self, func: &Ident, args: &[ast::Expr]) -> Option<Ty> {
        let program = self.types.program;
        if let Some(def) = program.fns.iter().find(|f| f.decl.name == func.name) {
            self.reference(func.span, Symbol::Function(func.name.clone()), false);
            for (arg, (_, want)) in args.iter().zip(def.params.iter()) {
                self.expr(arg, Some(want));
            }
            for arg in args.iter().skip(def.params.len()) {
                self.expr(arg, None);
            }
            return Some(def.ret.clone()).filter(|t| *t != Ty::Error);
        }
        let arg_types: Vec<Option<Ty>> = args.iter().map(|a| self.expr(a, None)).collect();
        let Some(builtin) = crate::builtins::lookup(&func.name) else {
            // An undeclared function: a name of no symbol (the checker reports it).
            return None;
        };
        match builtin.call.map(|c| c.returns) {
            Some(Returns::Int) => Some(Ty::Int),
            _ => arg_types.into_iter().next().flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "\
enum Status { planned, deployed }
entity Person { id: Text key, name: Text }
record Evidence { approved: Bool }
entity System {
  id: Text key
  status: Status = planned
  owner: Person?
  evidence: [Evidence]
}
fn live(s: System) = s.status == deployed
control owned for s: System where live(s) {
  let who = s.owner
  require who.name is some
  require all e in s.evidence: e.approved
}
";

    fn indexed(text: &str) -> (Program, FileIndex) {
        let parse = crate::syntax::parse(text);
        assert!(parse.errors.is_empty(), "{:?}", parse.errors);
        let inputs = [crate::sema::SourceInput { file: FileId(0), text, ast: &parse.file, stdlib: false }];
        let program = crate::sema::check(&inputs).program;
        let index = index(&program, FileId(0), &parse.file.items);
        (program, index)
    }

    fn at<'i>(index: &'i FileIndex, text: &str, needle: &str, nth: usize) -> &'i Reference {
        let offset = text.match_indices(needle).nth(nth).map(|(i, _)| i).expect("needle in text") as u32;
        index.reference_at(offset + 1).expect("a reference there")
    }

    #[test]
    fn fields_resolve_through_variables_references_and_lists() {
        let (_, index) = indexed(POLICY);
        let field = |owner: &str, name: &str| Symbol::Field { owner: owner.into(), name: name.into() };
        assert_eq!(at(&index, POLICY, "name is some", 0).symbol, field("Person", "name"), "`who` is a `Person?`");
        assert_eq!(at(&index, POLICY, "approved", 1).symbol, field("Evidence", "approved"), "`e` ranges over a list");
        assert_eq!(at(&index, POLICY, "status ==", 0).symbol, field("System", "status"));
    }

    #[test]
    fn variables_point_at_their_binding() {
        let (_, index) = indexed(POLICY);
        let use_of_who = at(&index, POLICY, "who.name", 0);
        let Symbol::Local { at: bound, .. } = &use_of_who.symbol else { panic!("{use_of_who:?}") };
        assert_eq!(&POLICY[bound.range()], "who");
        assert!(bound.start < use_of_who.span.start);
        let local = index.local(*bound).expect("the let is recorded");
        assert_eq!(local.kind, LocalKind::Let);
    }

    #[test]
    fn variants_resolve_by_the_expected_type_and_by_qualification() {
        let text = "enum A { x, y }\nenum B { x, z }\nentity E { id: Text key, a: A, b: B }\n\
                    control c for e: E where e.b == x { require e.a in [x, y] and e.a != A.y }\n";
        let (_, index) = indexed(text);
        let variant = |owner: &str, name: &str| Symbol::Variant { owner: owner.into(), name: name.into() };
        assert_eq!(at(&index, text, "x {", 0).symbol, variant("B", "x"), "compared with a `B`");
        assert_eq!(at(&index, text, "x, y]", 0).symbol, variant("A", "x"), "a list of `A`");
        assert_eq!(at(&index, text, "A.y", 0).symbol, Symbol::Type("A".into()));
        assert_eq!(at(&index, text, "y }", 1).symbol, variant("A", "y"));
    }

    #[test]
    fn definitions_are_marked() {
        let (_, index) = indexed(POLICY);
        let defs: Vec<&str> = index
            .references
            .iter()
            .filter(|r| r.is_definition && !matches!(r.symbol, Symbol::Local { .. }))
            .map(|r| r.symbol.name())
            .collect();
        assert!(defs.contains(&"System") && defs.contains(&"evidence") && defs.contains(&"owned"), "{defs:?}");
        assert!(defs.contains(&"live") && defs.contains(&"deployed"), "{defs:?}");
    }
}
