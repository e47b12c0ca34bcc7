//! Type checking and lowering of expressions.
//!
//! One pass does both: each `ast::Expr` becomes an [`Ex`] with its [`Ty`].
//! Bare names resolve to variables first, then to enum or scale values the
//! context expects, then to the one enum that has such a variant. Optional
//! values may be narrowed: after `x.f is some and`, `x.f` is definite.

use std::sync::Arc;

use super::source_map::{Local as MapLocal, LocalKind, MemberAccess, NameSite, Recorder, Symbol};
use super::Context;
use crate::builtins::{self, AggReturns, Returns};
use crate::diag::{did_you_mean, Anchor, Code, Diagnostic, Quote};
use crate::ir::*;
use crate::syntax::ast::{self, BinaryOp, CmpOp, ExprKind, Span, UnaryOp};

/// A variable in scope.
#[derive(Clone, Debug)]
struct Local {
    name: String,
    /// Where it is bound: what the source map names it by.
    at: Span,
    slot: u32,
    ty: Ty,
}

/// Checks the expressions of one declaration, which share one frame.
pub(crate) struct ExprChecker<'c> {
    cx: &'c Context,
    /// The declaration's file and start: spans of its tree are relative to it.
    file: Anchor,
    /// The file's text from where the declaration starts, so that the
    /// declaration's spans slice it directly.
    text: &'c str,
    scope: Vec<Local>,
    next_slot: u32,
    narrowed: Vec<String>,
    /// Optional fields read without being narrowed: (span, path).
    pub(crate) optional_reads: Vec<(Span, String)>,
    /// Where an unknown is decided without a word: an `if` condition that
    /// may be unknown (it counts as false), or a call of a function that
    /// has one. Harmless in a `require` (absent evidence never earns the
    /// better branch), but in a `where` it would make an absent fact
    /// silently exclude: (span, what may be absent).
    pub(crate) decided_on_absent: Vec<(Span, String)>,
    pub(crate) diags: Vec<Diagnostic>,
    /// Text literals read as references to facts: (span, entity, key), so
    /// that a value typed at the REPL can say which key has no fact.
    pub(crate) references: Vec<(Span, EntityId, Arc<str>)>,
    /// Where the source map is recorded: the context's, or a rule's own
    /// when the rule is checked on its own (see `RuleBody::model`).
    model: &'c Recorder,
}

impl<'c> ExprChecker<'c> {
    /// A checker for a declaration anchored at `file`, written in `text`
    /// (its whole file).
    pub(crate) fn new(cx: &'c Context, file: Anchor, text: &'c str) -> ExprChecker<'c> {
        ExprChecker::recording_into(cx, &cx.model, file, text)
    }

    /// A checker like [`ExprChecker::new`] that records the source map in
    /// `model` rather than in the context's.
    pub(crate) fn recording_into(cx: &'c Context, model: &'c Recorder, file: Anchor, text: &'c str) -> ExprChecker<'c> {
        ExprChecker {
            model,
            cx,
            file,
            text: text.get(file.offset as usize..).unwrap_or(""),
            scope: Vec::new(),
            next_slot: 0,
            narrowed: Vec::new(),
            optional_reads: Vec::new(),
            decided_on_absent: Vec::new(),
            diags: Vec::new(),
            references: Vec::new(),
        }
    }

    pub(crate) fn file(&self) -> Anchor {
        self.file
    }

    /// The number of slots the frame needs.
    pub(crate) fn slots(&self) -> u32 {
        self.next_slot
    }

    /// Declares a variable and returns its slot; the source map records
    /// it, visible over `scope` (a declaration-wide scope is closed when
    /// the declaration is, see [`super::SemanticModel`]).
    pub(crate) fn bind(&mut self, name: &ast::Ident, kind: LocalKind, ty: Ty, scope: Span) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        let symbol = Symbol::Local {
            file: self.file.file,
            at: super::source_map::node_key(self.file, name.span),
            name: name.name.clone(),
        };
        self.model.borrow_mut().reference(self.file, name.span, symbol, true);
        let known = Some(ty.clone()).filter(|t| *t != Ty::Error);
        self.model.borrow_mut().map(self.file.file).locals.push(MapLocal {
            name: name.name.clone(),
            at: super::source_map::node_key(self.file, name.span),
            kind,
            ty: known,
            scope: super::source_map::node_key(self.file, scope),
        });
        self.scope.push(Local { name: name.name.clone(), at: name.span, slot, ty });
        slot
    }

    /// Records a use of a declared symbol in the source map.
    fn record_use(&self, span: Span, symbol: Symbol) {
        self.model.borrow_mut().reference(self.file, span, symbol, false);
    }

    /// Records a written type name (an entity of a binder), when it names one.
    pub(crate) fn record_type_use(&self, name: &ast::Ident) {
        if self.cx.is_type_name(&name.name) {
            self.record_use(name.span, Symbol::Type(name.name.clone()));
        }
    }

    /// Records a variant, value or level named by `span`, of type `ty`.
    fn record_variant(&self, span: Span, ty: &Ty, name: &str) {
        if let Some(owner) = self.cx.owner_name(ty) {
            self.record_use(span, Symbol::Variant { owner, name: name.to_string() });
        }
    }

    /// Checks expressions only for what the source map records of them
    /// (a call that is refused still has names in its arguments that the
    /// editor resolves): their diagnostics and effects are dropped.
    fn record_only<'e>(&mut self, exprs: impl IntoIterator<Item = &'e ast::Expr>, expected: &[Ty]) {
        let (diags, reads, decided, slots) =
            (self.diags.len(), self.optional_reads.len(), self.decided_on_absent.len(), self.next_slot);
        for (i, e) in exprs.into_iter().enumerate() {
            self.expr(e, expected.get(i));
        }
        self.diags.truncate(diags);
        self.optional_reads.truncate(reads);
        self.decided_on_absent.truncate(decided);
        self.next_slot = slots;
    }

    fn unbind(&mut self) {
        self.scope.pop();
    }

    /// The text of a span of the declaration.
    pub(crate) fn source(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    fn error(&mut self, code: Code, span: Span, message: String, label: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, message).at(self.file, span, label));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn ty_name(&self, ty: &Ty) -> String {
        self.cx.ty_name(ty)
    }

    /// Checks an expression that must have type `want` (optional allowed
    /// when `allow_optional`), reporting a mismatch.
    pub(crate) fn expect(&mut self, e: &ast::Expr, want: &Ty, allow_optional: bool) -> (Ex, Ty) {
        let (ex, ty) = self.expr(e, Some(want));
        if ty == Ty::Error {
            return (ex, ty);
        }
        let base = if allow_optional { ty.definite().clone() } else { ty.clone() };
        if !assignable(&base, want) {
            let found = self.ty_name(&ty);
            let wanted = self.ty_name(want);
            let help = if ty.is_optional() && assignable(ty.definite(), want) {
                Some("the value may be absent: handle it with `is some` or give a default with `??`")
            } else {
                None
            };
            let d = self.error(
                if help.is_some() { Code::UnhandledOptional } else { Code::TypeMismatch },
                e.span,
                format!("expected `{wanted}`, found `{found}`"),
                format!("this is `{found}`"),
            );
            if let Some(help) = help {
                d.help = Some(help.to_string());
            }
            return (ex, Ty::Error);
        }
        (ex, ty)
    }

    /// Checks and lowers an expression; `expected` guides the resolution of
    /// bare variant names and empty lists.
    pub(crate) fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> (Ex, Ty) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_inner(e, expected))
    }

    fn expr_inner(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> (Ex, Ty) {
        match &e.kind {
            ExprKind::Bool(b) => (Ex::Const(Value::Bool(*b)), Ty::Bool),
            ExprKind::Int(n) => match expected.map(Ty::definite) {
                Some(Ty::Number) => (Ex::Const(Value::Number(crate::num::from_int(*n))), Ty::Number),
                _ => (Ex::Const(Value::Int(*n)), Ty::Int),
            },
            ExprKind::Number(n) => (Ex::Const(Value::Number(*n)), Ty::Number),
            ExprKind::Percent(p) => (Ex::Const(Value::Percent(*p)), Ty::Percent),
            ExprKind::Text(t) => match expected.map(Ty::definite) {
                Some(Ty::Entity(id)) => {
                    let key: Arc<str> = Arc::from(t.as_str());
                    self.references.push((e.span, *id, key.clone()));
                    (Ex::Const(Value::Ref(*id, key)), Ty::Entity(*id))
                }
                _ => (Ex::Const(Value::text(t)), Ty::Text),
            },
            ExprKind::Date(d) => (Ex::Const(Value::Date(*d)), Ty::Date),
            ExprKind::Duration(d) => (Ex::Const(Value::Duration(*d)), Ty::Duration),
            ExprKind::Today => (Ex::Today, Ty::Date),
            ExprKind::Paren(inner) => self.expr(inner, expected),
            ExprKind::Name(ident) => self.name(ident, expected),
            ExprKind::Field(base, field) => self.field(e, base, field),
            ExprKind::Call(func, args) => self.call(e.span, func, args),
            ExprKind::Aggregate { func, value, binder, filter } => {
                self.aggregate(e.span, func, value, binder, filter.as_deref())
            }
            ExprKind::List(items) => self.list(e.span, items, expected),
            ExprKind::Record(fields) => self.record(e.span, fields, expected),
            ExprKind::Unary(UnaryOp::Not, operand) => {
                let (ex, ty) = self.expect(operand, &Ty::Bool, true);
                (Ex::Not(Box::new(ex)), lift(Ty::Bool, &ty))
            }
            ExprKind::Unary(UnaryOp::Neg, operand) => {
                let (ex, ty) = self.expr(operand, expected);
                if ty != Ty::Error && !ty.definite().is_numeric() {
                    let name = self.ty_name(&ty);
                    self.error(Code::BadOperand, operand.span, format!("cannot negate `{name}`"), "not a number");
                    return (ex, Ty::Error);
                }
                if let Ex::Const(v) = &ex {
                    let negated = match v {
                        Value::Int(n) => Some(Value::Int(n.saturating_neg())),
                        Value::Number(n) => Some(Value::Number(-n)),
                        Value::Percent(n) => Some(Value::Percent(-n)),
                        _ => None,
                    };
                    if let Some(v) = negated {
                        return (Ex::Const(v), ty);
                    }
                }
                (Ex::Neg(Box::new(ex)), ty)
            }
            ExprKind::Binary(BinaryOp::And, l, r) | ExprKind::Binary(BinaryOp::Or, l, r) => {
                let is_and = matches!(e.kind, ExprKind::Binary(BinaryOp::And, ..));
                let (lx, lt) = self.expect(l, &Ty::Bool, true);
                let narrowed_before = self.narrowed.len();
                let mut paths = Vec::new();
                guarded_paths(l, self.text, is_and, &mut paths);
                self.narrowed.extend(paths);
                let (rx, rt) = self.expect(r, &Ty::Bool, true);
                self.narrowed.truncate(narrowed_before);
                let ty = lift(lift(Ty::Bool, &lt), &rt);
                let ex = if is_and { Ex::And(Box::new(lx), Box::new(rx)) } else { Ex::Or(Box::new(lx), Box::new(rx)) };
                (ex, ty)
            }
            ExprKind::Binary(BinaryOp::Coalesce, l, r) => {
                let (lx, lt) = self.expr(l, expected);
                if lt == Ty::Error {
                    return (lx, lt);
                }
                let want = lt.definite().clone();
                let (rx, rt) = self.expr(r, Some(&want));
                let ty = match unify(&want, rt.definite()) {
                    Some(t) => t,
                    None if rt == Ty::Error => Ty::Error,
                    None => {
                        let (a, b) = (self.ty_name(&want), self.ty_name(&rt));
                        self.error(
                            Code::TypeMismatch,
                            r.span,
                            format!("the default must be `{a}`, found `{b}`"),
                            format!("this is `{b}`"),
                        );
                        Ty::Error
                    }
                };
                let ty = if rt.is_optional() { ty.optional() } else { ty };
                (Ex::Coalesce(Box::new(lx), Box::new(rx)), ty)
            }
            ExprKind::Binary(op, l, r) => self.arith(e.span, *op, l, r),
            ExprKind::Compare(op, l, r) => self.compare(*op, l, r),
            ExprKind::In { value, collection, negated } => {
                let (vx, vt) = self.expr(value, None);
                let want_list = Ty::List(Box::new(vt.definite().clone()));
                let (cx, ct) = self.expr(collection, Some(&want_list));
                if vt == Ty::Error || ct == Ty::Error {
                    return (Ex::Const(Value::Bool(false)), Ty::Error);
                }
                let element = match ct.definite() {
                    Ty::List(el) => (**el).clone(),
                    Ty::EmptyList => vt.definite().clone(),
                    other => {
                        let name = self.ty_name(other);
                        self.error(
                            Code::BadOperand,
                            collection.span,
                            format!("`in` needs a list, found `{name}`"),
                            "not a list",
                        );
                        return (Ex::Const(Value::Bool(false)), Ty::Error);
                    }
                };
                if !comparable(CmpOp::Eq, vt.definite(), &element) {
                    let (a, b) = (self.ty_name(&vt), self.ty_name(&element));
                    self.error(
                        Code::TypeMismatch,
                        e.span,
                        format!("cannot look for `{a}` in a list of `{b}`"),
                        "the types differ",
                    );
                    return (Ex::Const(Value::Bool(false)), Ty::Error);
                }
                let ty = lift(lift(Ty::Bool, &vt), &ct);
                (Ex::In { value: Box::new(vx), list: Box::new(cx), negated: *negated }, ty)
            }
            ExprKind::Within(value, window) => {
                let (vx, vt) = self.expect(value, &Ty::Date, true);
                let (wx, wt) = self.expect(window, &Ty::Duration, false);
                if vt == Ty::Error || wt == Ty::Error {
                    return (Ex::Const(Value::Bool(false)), Ty::Error);
                }
                (Ex::Within(Box::new(vx), Box::new(wx)), lift(Ty::Bool, &vt))
            }
            ExprKind::Is { value, some } => {
                let (vx, _) = self.expr_for_presence(value);
                (Ex::Is { value: Box::new(vx), some: *some }, Ty::Bool)
            }
            ExprKind::If { branches, otherwise } => {
                let mut lowered = Vec::new();
                let mut result: Option<Ty> = None;
                let mut optional = false;
                for (cond, then) in branches {
                    let reads = self.optional_reads.len();
                    let (cx_, ct) = self.expect(cond, &Ty::Bool, true);
                    if ct.is_optional() {
                        let path = self
                            .optional_reads
                            .get(reads)
                            .map_or_else(|| format!("`{}`", self.source(cond.span)), |(_, path)| format!("`{path}`"));
                        self.decided_on_absent.push((cond.span, path));
                    }
                    let before = self.narrowed.len();
                    let mut paths = Vec::new();
                    guarded_paths(cond, self.text, true, &mut paths);
                    self.narrowed.extend(paths);
                    let (tx, tt) = self.expr(then, result.as_ref().or(expected));
                    self.narrowed.truncate(before);
                    optional |= tt.is_optional();
                    result = self.join(result, tt, then.span);
                    lowered.push((cx_, tx));
                }
                let (ox, ot) = self.expr(otherwise, result.as_ref().or(expected));
                optional |= ot.is_optional();
                let ty = self.join(result, ot, otherwise.span).unwrap_or(Ty::Error);
                let ty = if optional { ty.optional() } else { ty };
                (Ex::If { branches: lowered, otherwise: Box::new(ox) }, ty)
            }
            ExprKind::Exists { binder, filter } => {
                let (source, element, source_opt) = self.binder_source(binder);
                let slot = self.bind(&binder.var, LocalKind::Binder, element, e.span);
                let filter = filter.as_ref().map(|f| self.filter(f));
                self.unbind();
                let optional = source_opt || filter.as_ref().is_some_and(|(_, t)| t.is_optional());
                let ty = if optional { Ty::Bool.optional() } else { Ty::Bool };
                let ex =
                    Ex::Quantifier { all: false, slot, source, filter: filter.map(|(x, _)| Box::new(x)), body: None };
                (ex, ty)
            }
            ExprKind::All { binder, filter, body } => {
                let (source, element, source_opt) = self.binder_source(binder);
                let slot = self.bind(&binder.var, LocalKind::Binder, element, e.span);
                let filter = filter.as_ref().map(|f| self.filter(f));
                let (bx, bt) = self.expect(body, &Ty::Bool, true);
                self.unbind();
                let optional = source_opt || bt.is_optional() || filter.as_ref().is_some_and(|(_, t)| t.is_optional());
                let ty = if optional { Ty::Bool.optional() } else { Ty::Bool };
                let ex = Ex::Quantifier {
                    all: true,
                    slot,
                    source,
                    filter: filter.map(|(x, _)| Box::new(x)),
                    body: Some(Box::new(bx)),
                };
                (ex, ty)
            }
        }
    }

    /// A `where` of a quantifier or an aggregate: a condition that may be
    /// unknown makes the whole expression unknown (its type says so), but
    /// one that decides on an absent value without a word is refused.
    pub(crate) fn filter(&mut self, f: &ast::Expr) -> (Ex, Ty) {
        let before = self.decided_on_absent.len();
        let (ex, ty) = self.expect(f, &Ty::Bool, true);
        self.refuse_decided_on_absent(before, "this condition");
        (ex, ty)
    }

    /// Reports E0202 for the unknowns decided without a word since
    /// `before`, in a `where` (`what` names it).
    pub(crate) fn refuse_decided_on_absent(&mut self, before: usize, what: &str) {
        if self.decided_on_absent.len() <= before {
            return;
        }
        let decided: Vec<(Span, String)> = self.decided_on_absent.drain(before..).collect();
        let (first_span, first_path) = &decided[0];
        let file = self.file;
        let mut d =
            Diagnostic::error(Code::UnhandledOptional, format!("{what} decides on {first_path}, which may be absent"))
                .at(file, *first_span, "an absent value counts as false here");
        for (at, path) in decided.iter().skip(1).take(2) {
            d = d.also(file, *at, format!("{path} may be absent"));
        }
        d = d
            .note("an absent fact must not silently decide what a rule applies to")
            .help("handle the absent case in the condition: `x is some and ..`, or give a default with `??`");
        self.diags.push(d);
    }

    /// `x is some` may test any value; a definite one is simply some.
    fn expr_for_presence(&mut self, value: &ast::Expr) -> (Ex, Ty) {
        let reads = self.optional_reads.len();
        let result = self.expr(value, None);
        // Testing presence is handling the optional: not an unhandled read.
        self.optional_reads.truncate(reads);
        result
    }

    fn join(&mut self, so_far: Option<Ty>, next: Ty, span: Span) -> Option<Ty> {
        match so_far {
            None => Some(next.definite().clone()),
            Some(Ty::Error) => Some(Ty::Error),
            Some(t) => match unify(&t, next.definite()) {
                Some(u) => Some(u),
                None if next == Ty::Error => Some(Ty::Error),
                None => {
                    let (a, b) = (self.ty_name(&t), self.ty_name(&next));
                    self.error(
                        Code::TypeMismatch,
                        span,
                        format!("branches have different types: `{a}` and `{b}`"),
                        format!("this is `{b}`"),
                    );
                    Some(Ty::Error)
                }
            },
        }
    }

    fn name(&mut self, ident: &ast::Ident, expected: Option<&Ty>) -> (Ex, Ty) {
        // An expected type that did not check expects nothing.
        let wanted = expected.filter(|t| **t != Ty::Error).cloned();
        let site = NameSite { span: super::source_map::node_key(self.file, ident.span), expected: wanted };
        self.model.borrow_mut().map(self.file.file).names.push(site);
        if let Some(local) = self.scope.iter().rev().find(|l| l.name == ident.name) {
            let symbol = Symbol::Local {
                file: self.file.file,
                at: super::source_map::node_key(self.file, local.at),
                name: local.name.clone(),
            };
            let found = (Ex::Local(local.slot, Arc::from(ident.name.as_str())), local.ty.clone());
            self.record_use(ident.span, symbol);
            return found;
        }
        if let Some((id, ty)) = self.cx.organisation_measure(&ident.name) {
            self.record_use(ident.span, Symbol::Measure(ident.name.clone()));
            return (Ex::Measure(id), ty);
        }
        if let Some(found) = self.variant_for(expected, &ident.name) {
            self.record_variant(ident.span, &found.1, &ident.name);
            return found;
        }
        let candidates = self.cx.variants_named(&ident.name);
        match candidates.as_slice() {
            [(value, ty)] => {
                self.record_variant(ident.span, ty, &ident.name);
                return (Ex::Const(value.clone()), ty.clone());
            }
            [] => {}
            many => {
                let owners: Vec<String> = many.iter().map(|(_, t)| format!("`{}`", self.ty_name(t))).collect();
                let first = self.ty_name(&many[0].1);
                let name = ident.name.clone();
                let d = self.error(
                    Code::UnknownVariant,
                    ident.span,
                    format!("`{name}` is a variant of several types: {}", owners.join(", ")),
                    "ambiguous",
                );
                d.help = Some(format!("name the type: `{first}.{name}`"));
                return (Ex::Const(Value::Bool(false)), Ty::Error);
            }
        }
        // Owned: the diagnostic is pushed onto `self` while they are read.
        let mut names: Vec<String> = self.scope.iter().map(|l| l.name.clone()).collect();
        names.extend(self.cx.all_variant_names());
        names.extend(
            self.cx
                .program
                .measures
                .iter()
                .filter(|m| matches!(m.target, MeasureTarget::Organisation { .. }))
                .map(|m| m.decl.name.clone()),
        );
        // The literals written as words: `flase` is a typo of `false`.
        names.extend(["true", "false", "today"].map(String::from));
        let name = ident.name.clone();
        let span = ident.span;
        let file = self.file;
        let is_type = self.cx.is_type_name(&name);
        let d = self.error(Code::UnknownName, span, format!("unknown name `{name}`"), "not declared here");
        let at = file.span(span);
        let suggested = d.set_suggestion_with_fix(&name, names.iter().map(String::as_str), at).is_some();
        if !suggested && is_type {
            d.help = Some(format!("`{name}` is a type; bind a variable with `for x: {name}` or `exists x: {name}`"));
        }
        (Ex::Const(Value::Bool(false)), Ty::Error)
    }

    /// A bare name read as a value of the expected enum, scale or level.
    fn variant_for(&self, expected: Option<&Ty>, name: &str) -> Option<(Ex, Ty)> {
        let expected = match expected?.definite() {
            Ty::List(el) => el.as_ref().clone(),
            other => other.clone(),
        };
        let value = self.cx.variant_of(&expected, name)?;
        Some((Ex::Const(value), expected))
    }

    fn field(&mut self, whole: &ast::Expr, base: &ast::Expr, field: &ast::Ident) -> (Ex, Ty) {
        // `Domain.credit`: a qualified variant, when `Domain` is a type and not a variable.
        if let ExprKind::Name(type_name) = &base.kind {
            let is_variable = self.scope.iter().any(|l| l.name == type_name.name);
            if let Some(named) = self.cx.named_type(&type_name.name).filter(|_| !is_variable) {
                // A type named on its own: after its dot come its variants
                // (or, for the editor, its fields).
                self.record_use(type_name.span, Symbol::Type(type_name.name.clone()));
                let member =
                    MemberAccess { field: super::source_map::node_key(self.file, field.span), base: Some(named) };
                self.model.borrow_mut().map(self.file.file).members.push(member);
            }
            if !is_variable {
                if let Some(ty) = self.cx.value_type(&type_name.name) {
                    return match self.cx.variant_of(&ty, &field.name) {
                        Some(v) => {
                            self.record_use(
                                field.span,
                                Symbol::Variant { owner: type_name.name.clone(), name: field.name.clone() },
                            );
                            (Ex::Const(v), ty)
                        }
                        None => {
                            let names = self.cx.variant_names(&ty);
                            let help = did_you_mean(&field.name, names.iter().map(String::as_str), Quote::Code)
                                .unwrap_or_else(|| format!("the variants are: {}", names.join(", ")));
                            let (f, t) = (field.name.clone(), type_name.name.clone());
                            let d = self.error(
                                Code::UnknownVariant,
                                field.span,
                                format!("`{t}` has no variant `{f}`"),
                                "no such variant",
                            );
                            d.help = Some(help);
                            (Ex::Const(Value::Bool(false)), Ty::Error)
                        }
                    };
                }
            }
        }
        let (bx, bt) = self.expr(base, None);
        let member = MemberAccess {
            field: super::source_map::node_key(self.file, field.span),
            base: Some(bt.clone()).filter(|t| *t != Ty::Error),
        };
        self.model.borrow_mut().map(self.file.file).members.push(member);
        if bt == Ty::Error {
            return (bx, Ty::Error);
        }
        let def = match bt.definite() {
            Ty::Entity(id) => &self.cx.program.entities[id.index()],
            Ty::Record(id) => &self.cx.program.records[id.index()],
            other => {
                let name = self.ty_name(other);
                let f = field.name.clone();
                self.error(
                    Code::UnknownField,
                    field.span,
                    format!("`{name}` has no fields, so no `{f}`"),
                    format!("`{}` is `{name}`", self.source(base.span)),
                );
                return (Ex::Const(Value::Bool(false)), Ty::Error);
            }
        };
        let Some((index, def_field)) = def.field(&field.name) else {
            // Owned: the diagnostic is pushed onto `self` while they are read.
            let names: Vec<String> = def.fields.iter().map(|f| f.name.clone()).collect();
            let owner = def.decl.name.clone();
            let owner_span = def.decl.name_span;
            let f = field.name.clone();
            let span = field.span;
            let file = self.file;
            let d = self.error(Code::UnknownField, span, format!("`{owner}` has no field `{f}`"), "unknown field");
            d.secondary.push(crate::diag::Label { at: owner_span, message: format!("`{owner}` is declared here") });
            let at = file.span(span);
            if d.set_suggestion_with_fix(&f, names.iter().map(String::as_str), at).is_none() {
                d.help = Some(format!("the fields of `{owner}` are: {}", names.join(", ")));
            }
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        };
        self.record_use(field.span, Symbol::Field { owner: def.decl.name.clone(), name: def_field.name.clone() });
        let path = self.source(whole.span).to_string();
        let mut ty = def_field.ty.clone();
        if bt.is_optional() {
            ty = ty.optional();
        }
        if ty.is_optional() {
            if self.narrowed.contains(&path) {
                ty = ty.definite().clone();
            } else {
                self.optional_reads.push((whole.span, path.clone()));
            }
        }
        (Ex::Field { base: Box::new(bx), field: index, path: Arc::from(path.as_str()) }, ty)
    }

    fn call(&mut self, span: Span, func: &ast::Ident, args: &[ast::Expr]) -> (Ex, Ty) {
        if let Some(id) = self.cx.fn_by_name(&func.name) {
            self.record_use(func.span, Symbol::Function(func.name.clone()));
            let (params, ret) = self.cx.fn_signature(id);
            if params.len() != args.len() {
                self.record_only(args, &params);
                let name = func.name.clone();
                self.error(
                    Code::WrongArity,
                    span,
                    format!("`{name}` takes {} argument{}, found {}", params.len(), plural(params.len()), args.len()),
                    "wrong number of arguments",
                );
                return (Ex::Const(Value::Bool(false)), Ty::Error);
            }
            let mut lowered = Vec::new();
            let mut optional = false;
            for (arg, want) in args.iter().zip(params.iter()) {
                let (x, t) = self.expect(arg, want, true);
                optional |= t.is_optional() && !want.is_optional();
                lowered.push(x);
            }
            let ret = if optional { ret.optional() } else { ret };
            if let Some(path) = &self.cx.program.fns[id.index()].decides_on_absent {
                self.decided_on_absent.push((span, format!("{path} (in `{}`)", func.name)));
            }
            return (Ex::Call { func: id, args: lowered }, ret);
        }
        let entry = builtins::lookup(&func.name);
        let builtin = entry.and_then(|b| b.call.as_ref());
        if entry.is_some_and(|b| b.aggregate.is_some()) && builtin.is_none() {
            self.record_only(args, &[]);
            let name = func.name.clone();
            let d = self.error(
                Code::WrongArity,
                span,
                format!("`{name}` is an aggregate and needs `for`"),
                "no `for` here",
            );
            d.help = Some(format!("write `{name}(x for x: Entity where ..)` or `{name}(x for x in list)`"));
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        let Some(builtin) = builtin else {
            self.record_only(args, &[]);
            let names: Vec<&str> =
                self.cx.fn_names().into_iter().chain(builtins::BUILTINS.iter().map(|b| b.name)).collect();
            let help = did_you_mean(&func.name, names.iter().copied(), Quote::Code);
            let name = func.name.clone();
            let d = self.error(Code::UnknownName, func.span, format!("unknown function `{name}`"), "not declared");
            d.help = help;
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        };
        let arity = builtin.arity();
        if args.len() != arity {
            self.record_only(args, &[]);
            let name = func.name.clone();
            let d = self.error(
                Code::WrongArity,
                span,
                format!("`{name}` takes {arity} argument{}, found {}", plural(arity), args.len()),
                "wrong number of arguments",
            );
            // A name that is also an aggregate (`min`, `max`) was perhaps meant as one.
            if entry.is_some_and(|b| b.aggregate.is_some()) {
                d.help = Some(format!("to aggregate, write `{name}(x.value for x: Entity)`"));
            }
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        let lowered: Vec<(Ex, Ty)> = args.iter().map(|a| self.expr(a, None)).collect();
        if lowered.iter().any(|(_, t)| *t == Ty::Error) {
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        let optional = lowered.iter().any(|(_, t)| t.is_optional());
        let accepted = builtin.params.iter().zip(&lowered).all(|((_, arg), (_, t))| arg.accepts(t.definite()));
        let ty = match builtin.returns {
            _ if !accepted => None,
            Returns::Int => Some(Ty::Int),
            Returns::FirstArgument => Some(lowered[0].1.definite().clone()),
            Returns::Common => unify(lowered[0].1.definite(), lowered[1].1.definite()),
            Returns::Bool => Some(Ty::Bool),
            Returns::Text => Some(Ty::Text),
            Returns::TextList => Some(Ty::List(Box::new(Ty::Text))),
        };
        let Some(ty) = ty else {
            let types: Vec<String> = lowered.iter().map(|(_, t)| format!("`{}`", self.ty_name(t))).collect();
            let name = func.name.clone();
            self.error(
                Code::BadOperand,
                span,
                format!("`{name}` does not apply to {}", types.join(" and ")),
                "wrong argument type",
            );
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        };
        // A pattern is a literal, compiled now: a bad one is refused before anything runs.
        for ((_, arg), ((x, _), written)) in builtin.params.iter().zip(lowered.iter().zip(args)) {
            if *arg != builtins::Arg::Pattern {
                continue;
            }
            let problem = match x {
                Ex::Const(Value::Text(pattern)) => crate::eval::text::compile(pattern).err().map(|why| {
                    (
                        Code::BadLiteral,
                        format!("`{}` cannot use this pattern: {why}", func.name),
                        "this pattern".to_string(),
                    )
                }),
                _ => Some((
                    Code::NotConstant,
                    format!("the pattern of `{}` must be a text literal", func.name),
                    "not a literal".to_string(),
                )),
            };
            if let Some((code, message, label)) = problem {
                let d = self.error(code, written.span, message, label);
                d.help = Some(
                    "write the pattern in quotes, in the syntax of Rust's regex crate (docs/language.md, builtins)"
                        .into(),
                );
                return (Ex::Const(Value::Bool(false)), Ty::Error);
            }
        }
        let ty = if optional { ty.optional() } else { ty };
        (Ex::Builtin(builtin.op, lowered.into_iter().map(|(x, _)| x).collect()), ty)
    }

    /// Resolves what a binder ranges over: (source, element type, whether the source may be unknown).
    pub(crate) fn binder_source(&mut self, binder: &ast::Binder) -> (Source, Ty, bool) {
        match &binder.source {
            ast::BinderSource::Entity(name) => match self.cx.entity_by_name(&name.name) {
                Some(id) => {
                    self.record_type_use(name);
                    (Source::Entities(id), Ty::Entity(id), false)
                }
                None => {
                    self.record_type_use(name);
                    self.unknown_type(name, true);
                    (Source::List(Box::new(Ex::Const(Value::List(Arc::from(Vec::new()))))), Ty::Error, false)
                }
            },
            ast::BinderSource::List(list) => {
                let (lx, lt) = self.expr(list, None);
                let element = match lt.definite() {
                    Ty::List(el) => (**el).clone(),
                    Ty::Error => Ty::Error,
                    // `[]` has no elements, so its variable is never bound:
                    // any type will do, and `Int` makes `sum` of it the 0
                    // the language promises (an error type here would turn
                    // the whole expression into a silent `false`).
                    Ty::EmptyList => Ty::Int,
                    other => {
                        let name = self.ty_name(other);
                        self.error(
                            Code::BadOperand,
                            list.span,
                            format!("expected a list, found `{name}`"),
                            "not a list",
                        );
                        Ty::Error
                    }
                };
                (Source::List(Box::new(lx)), element, lt.is_optional())
            }
        }
    }

    pub(crate) fn unknown_type(&mut self, name: &ast::Ident, entity_only: bool) {
        let candidates = if entity_only { self.cx.entity_names() } else { self.cx.type_names() };
        let help = did_you_mean(&name.name, candidates.iter().map(String::as_str), Quote::Code);
        let n = name.name.clone();
        let what = if entity_only { "entity" } else { "type" };
        let d = self.error(Code::UnknownType, name.span, format!("unknown {what} `{n}`"), "not declared");
        d.help = help;
    }

    fn aggregate(
        &mut self,
        span: Span,
        func: &ast::Ident,
        value: &ast::Expr,
        binder: &ast::Binder,
        filter: Option<&ast::Expr>,
    ) -> (Ex, Ty) {
        let Some(aggregate) = builtins::aggregate(&func.name) else {
            let name = func.name.clone();
            let d =
                self.error(Code::UnknownName, func.span, format!("`{name}` is not an aggregate"), "not an aggregate");
            let names = builtins::aggregate_names();
            let (last, rest) = names.split_last().map_or(("", &[][..]), |(l, r)| (*l, r));
            d.help = Some(format!("the aggregates are {} and {last}", rest.join(", ")));
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        };
        let agg = aggregate.op;
        let (source, element, source_opt) = self.binder_source(binder);
        let slot = self.bind(&binder.var, LocalKind::Binder, element, span);
        let filter = filter.map(|f| self.filter(f));
        let (vx, vt) = self.expr(value, None);
        self.unbind();
        let filter_opt = filter.as_ref().is_some_and(|(_, t)| t.is_optional());
        // `count` never reads its value, so only the source and filter can make it unknown.
        let may_be_unknown = source_opt || filter_opt || (agg != AggFn::Count && vt.is_optional());
        let ty = match aggregate.returns {
            AggReturns::Int => Ty::Int,
            _ if vt == Ty::Error => Ty::Error,
            returns if aggregate.value.accepts(vt.definite()) => match returns {
                AggReturns::Int => Ty::Int,
                AggReturns::IntOrNumber if *vt.definite() == Ty::Int => Ty::Int,
                AggReturns::IntOrNumber | AggReturns::NumberOptional => Ty::Number,
                AggReturns::ValueOptional => vt.definite().clone(),
            },
            _ => {
                let name = self.ty_name(&vt);
                self.error(
                    Code::BadOperand,
                    value.span,
                    format!("cannot take `{}` of `{name}`", agg.as_str()),
                    "not a number",
                );
                Ty::Error
            }
        };
        let always_optional = matches!(aggregate.returns, AggReturns::NumberOptional | AggReturns::ValueOptional);
        let ty = if ty != Ty::Error && (may_be_unknown || always_optional) { ty.optional() } else { ty };
        let _ = span;
        (Ex::Aggregate { func: agg, slot, source, filter: filter.map(|(x, _)| Box::new(x)), value: Box::new(vx) }, ty)
    }

    fn list(&mut self, span: Span, items: &[ast::Expr], expected: Option<&Ty>) -> (Ex, Ty) {
        let element_hint = match expected.map(Ty::definite) {
            Some(Ty::List(el)) => Some((**el).clone()),
            _ => None,
        };
        if items.is_empty() {
            return match element_hint {
                Some(el) => (Ex::List(Vec::new()), Ty::List(Box::new(el))),
                None => (Ex::List(Vec::new()), Ty::EmptyList),
            };
        }
        let mut lowered = Vec::new();
        let mut element: Option<Ty> = element_hint.clone();
        for item in items {
            let (x, t) = self.expr(item, element.as_ref());
            element = self.join(element, t, item.span);
            lowered.push(x);
        }
        let _ = span;
        let element = element.unwrap_or(Ty::Error);
        if element == Ty::Error {
            return (Ex::List(lowered), Ty::Error);
        }
        (Ex::List(lowered), Ty::List(Box::new(element)))
    }

    fn record(&mut self, span: Span, fields: &[ast::FieldInit], expected: Option<&Ty>) -> (Ex, Ty) {
        let Some(Ty::Record(id)) = expected.map(|t| match t.definite() {
            Ty::List(el) => el.as_ref().clone(),
            other => other.clone(),
        }) else {
            self.record_only(fields.iter().map(|f| &f.value), &[]);
            self.error(
                Code::TypeMismatch,
                span,
                "a record value is only allowed where a record is expected".into(),
                "no record type expected here",
            );
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        };
        let def = &self.cx.program.records[id.index()];
        let (values, ok) = self.field_values(&def.clone(), fields, span);
        if !ok {
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        (Ex::Record(values), Ty::Record(id))
    }

    /// Lowers `{ field: value, .. }` against a record or entity definition:
    /// one expression per declared field, defaults and absences filled in.
    pub(crate) fn field_values(&mut self, def: &StructDef, fields: &[ast::FieldInit], span: Span) -> (Vec<Ex>, bool) {
        let mut values: Vec<Option<Ex>> = vec![None; def.fields.len()];
        let mut ok = true;
        for init in fields {
            match def.field(&init.name.name) {
                Some((index, field)) => {
                    self.record_use(
                        init.name.span,
                        Symbol::Field { owner: def.decl.name.clone(), name: field.name.clone() },
                    );
                    if values[index as usize].is_some() {
                        let n = init.name.name.clone();
                        self.error(
                            Code::Duplicate,
                            init.name.span,
                            format!("field `{n}` is given twice"),
                            "again here",
                        );
                        ok = false;
                        continue;
                    }
                    let (x, t) = self.expect(&init.value, &field.ty, false);
                    ok &= t != Ty::Error;
                    values[index as usize] = Some(x);
                }
                None => {
                    let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
                    let (n, owner) = (init.name.name.clone(), def.decl.name.clone());
                    let help = did_you_mean(&n, names.iter().copied(), Quote::Code)
                        .unwrap_or_else(|| format!("the fields of `{owner}` are: {}", names.join(", ")));
                    let d = self.error(
                        Code::UnknownField,
                        init.name.span,
                        format!("`{owner}` has no field `{n}`"),
                        "unknown field",
                    );
                    d.help = Some(help);
                    ok = false;
                }
            }
        }
        let mut out = Vec::with_capacity(values.len());
        for (value, field) in values.into_iter().zip(def.fields.iter()) {
            match value {
                Some(v) => out.push(v),
                None => match (&field.default, field.ty.is_optional()) {
                    (Some(d), _) => out.push(Ex::Const(d.clone())),
                    (None, true) => out.push(Ex::Const(Value::Absent)),
                    (None, false) if matches!(field.ty, Ty::List(_)) => out.push(Ex::List(Vec::new())),
                    (None, false) => {
                        let (n, owner) = (field.name.clone(), def.decl.name.clone());
                        let d = self.error(
                            Code::FactMissingField,
                            span,
                            format!("missing field `{n}` of `{owner}`"),
                            format!("`{n}` is required"),
                        );
                        d.help = Some("give the field a value, or declare it optional (`T?`) or with a default".into());
                        ok = false;
                        out.push(Ex::Const(Value::Absent));
                    }
                },
            }
        }
        (out, ok)
    }

    fn arith(&mut self, span: Span, op: BinaryOp, l: &ast::Expr, r: &ast::Expr) -> (Ex, Ty) {
        let (lx, lt) = self.expr(l, None);
        let (rx, rt) = self.expr(r, Some(lt.definite()));
        if lt == Ty::Error || rt == Ty::Error {
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        let (a, b) = (lt.definite(), rt.definite());
        let result = match (op, a, b) {
            (BinaryOp::Add, Ty::Date, Ty::Duration) => Some((Arith::DatePlus, Ty::Date)),
            (BinaryOp::Sub, Ty::Date, Ty::Duration) => Some((Arith::DateMinus, Ty::Date)),
            (BinaryOp::Sub, Ty::Date, Ty::Date) => Some((Arith::DateDiff, Ty::Int)),
            (_, a, b) if a.is_numeric() && b.is_numeric() => {
                let arith = match op {
                    BinaryOp::Add => Arith::Add,
                    BinaryOp::Sub => Arith::Sub,
                    BinaryOp::Mul => Arith::Mul,
                    _ => Arith::Div,
                };
                let ty = match (arith, a, b) {
                    (Arith::Div, _, _) => Ty::Number,
                    (_, Ty::Int, Ty::Int) => Ty::Int,
                    (Arith::Add | Arith::Sub, Ty::Percent, Ty::Percent) => Ty::Percent,
                    _ => Ty::Number,
                };
                Some((arith, ty))
            }
            _ => None,
        };
        let Some((arith, ty)) = result else {
            let (x, y) = (self.ty_name(&lt), self.ty_name(&rt));
            self.error(
                Code::BadOperand,
                span,
                format!("cannot apply `{}` to `{x}` and `{y}`", op.as_str()),
                "unsupported operand types",
            );
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        };
        let ty = lift(lift(ty, &lt), &rt);
        (Ex::Arith(arith, Box::new(lx), Box::new(rx)), ty)
    }

    fn compare(&mut self, op: CmpOp, l: &ast::Expr, r: &ast::Expr) -> (Ex, Ty) {
        let (lx, lt) = self.expr(l, None);
        let (rx, rt) = self.expr(r, Some(lt.definite()));
        if lt == Ty::Error || rt == Ty::Error {
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        if !comparable(op, lt.definite(), rt.definite()) {
            let (a, b) = (self.ty_name(&lt), self.ty_name(&rt));
            let message = if lt.definite() == rt.definite() {
                format!("`{a}` values cannot be ordered with `{}`", op.as_str())
            } else {
                format!("cannot compare `{a}` with `{b}`")
            };
            let span = l.span.cover(r.span);
            let d = self.error(Code::TypeMismatch, span, message, format!("`{a}` {} `{b}`", op.as_str()));
            if *lt.definite() == Ty::Date && rt.definite().is_numeric() {
                d.help = Some("to compare an age, write `d within 180 days` or `days_since(d) > 180`".into());
            }
            return (Ex::Const(Value::Bool(false)), Ty::Error);
        }
        (Ex::Cmp(op, Box::new(lx), Box::new(rx)), lift(lift(Ty::Bool, &lt), &rt))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `result` made optional when `operand` is.
fn lift(result: Ty, operand: &Ty) -> Ty {
    if operand.is_optional() {
        result.optional()
    } else {
        result
    }
}

/// Whether a value of type `actual` may stand where `expected` is wanted.
pub(crate) fn assignable(actual: &Ty, expected: &Ty) -> bool {
    match (actual, expected) {
        (Ty::Error, _) | (_, Ty::Error) => true,
        (a, b) if a == b => true,
        (Ty::Int, Ty::Number) | (Ty::Percent, Ty::Number) => true,
        (Ty::EmptyList, Ty::List(_)) => true,
        (Ty::List(a), Ty::List(b)) => assignable(a, b),
        (Ty::Opt(a), Ty::Opt(b)) => assignable(a, b),
        (a, Ty::Opt(b)) => assignable(a, b),
        _ => false,
    }
}

/// The common type of two branches or list elements.
fn unify(a: &Ty, b: &Ty) -> Option<Ty> {
    match (a, b) {
        (Ty::Error, _) | (_, Ty::Error) => Some(Ty::Error),
        (a, b) if a == b => Some(a.clone()),
        (a, b) if a.is_numeric() && b.is_numeric() => Some(Ty::Number),
        (Ty::EmptyList, l @ Ty::List(_)) | (l @ Ty::List(_), Ty::EmptyList) => Some(l.clone()),
        (Ty::Opt(a), b) | (b, Ty::Opt(a)) => unify(a, b).map(Ty::optional),
        _ => None,
    }
}

/// Whether `a op b` is meaningful.
pub(crate) fn comparable(op: CmpOp, a: &Ty, b: &Ty) -> bool {
    let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
    match (a, b) {
        (Ty::Error, _) | (_, Ty::Error) => true,
        (a, b) if a.is_numeric() && b.is_numeric() => true,
        (Ty::Entity(_), Ty::Text) | (Ty::Text, Ty::Entity(_)) => equality,
        (a, b) if a == b => equality || matches!(a, Ty::Date | Ty::Text | Ty::Enum(_) | Ty::Scale(_) | Ty::Level(_)),
        _ => false,
    }
}

/// Paths that `cond` proves present for what follows it: for `and`, the
/// `p is some` conjuncts; for `or`, the `p is none` disjuncts.
fn guarded_paths(cond: &ast::Expr, text: &str, for_and: bool, out: &mut Vec<String>) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || guarded_paths_inner(cond, text, for_and, out))
}

fn guarded_paths_inner(cond: &ast::Expr, text: &str, for_and: bool, out: &mut Vec<String>) {
    match &cond.kind {
        ExprKind::Paren(inner) => guarded_paths(inner, text, for_and, out),
        ExprKind::Is { value, some } if *some == for_and => {
            if let Some(path) = text.get(strip_parens(value).span.range()) {
                out.push(path.to_string());
            }
        }
        ExprKind::Binary(BinaryOp::And, l, r) if for_and => {
            guarded_paths(l, text, for_and, out);
            guarded_paths(r, text, for_and, out);
        }
        ExprKind::Binary(BinaryOp::Or, l, r) if !for_and => {
            guarded_paths(l, text, for_and, out);
            guarded_paths(r, text, for_and, out);
        }
        _ => {}
    }
}

fn strip_parens(e: &ast::Expr) -> &ast::Expr {
    match &e.kind {
        ExprKind::Paren(inner) => strip_parens(inner),
        _ => e,
    }
}
