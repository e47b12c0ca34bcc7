//! Builds the AST from pest pairs: the only place that knows pest's shapes.
//!
//! The grammar guarantees the shape of every pair, so the builder walks
//! them positionally. Literal problems the grammar cannot see (an
//! impossible date, a bad escape, an out-of-range number) are collected as
//! errors and the literal is replaced by a harmless value.

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::{Rule, SyntaxError};
use crate::diag::Code;
use crate::time::{Date, Duration};

type P<'i> = Pair<'i, Rule>;

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_in
            | Rule::kw_is
            | Rule::kw_some
            | Rule::kw_none
            | Rule::kw_within
            | Rule::kw_if
            | Rule::kw_then
            | Rule::kw_else
            | Rule::kw_exists
            | Rule::kw_all
            | Rule::kw_for
            | Rule::kw_where
            | Rule::kw_use
            | Rule::kw_enum
            | Rule::kw_record
            | Rule::kw_entity
            | Rule::kw_extend
            | Rule::kw_fact
            | Rule::kw_requirement
            | Rule::kw_control
            | Rule::kw_audit
            | Rule::kw_scale
            | Rule::kw_matrix
            | Rule::kw_appetite
            | Rule::kw_risk
            | Rule::kw_objective
            | Rule::kw_exception
            | Rule::kw_exclude
            | Rule::kw_map
            | Rule::kw_fn
            | Rule::kw_measure
            | Rule::kw_over
            | Rule::kw_test
            | Rule::kw_require
            | Rule::kw_let
            | Rule::kw_because
            | Rule::kw_implements
            | Rule::kw_clause
            | Rule::kw_severity
            | Rule::kw_owner
            | Rule::kw_treated
            | Rule::kw_residual
    )
}

/// The children of a pair, keywords left out.
fn inner<'i>(pair: P<'i>) -> impl Iterator<Item = P<'i>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

pub(super) struct Builder {
    /// Where the chunk starts in its file: the offset of its items. Spans
    /// are built relative to it, so a declaration's tree does not depend on
    /// where the declaration is.
    base: u32,
    max_chain: usize,
    max_depth: usize,
    /// How many calls of [`Builder::expr`] are under way: 0 outside any
    /// expression, 1 while building an outermost one.
    level: usize,
    pub(super) errors: Vec<SyntaxError>,
}

impl Builder {
    /// A builder for a chunk that starts `base` bytes into its file.
    pub(super) fn new(base: u32, limits: super::ParseLimits) -> Builder {
        Builder { base, max_chain: limits.max_chain, max_depth: limits.max_depth, level: 0, errors: Vec::new() }
    }

    /// An outermost expression deeper than the limit is refused, so that no
    /// tree deeper than the limit outlives the builder.
    fn check_depth(&mut self, e: Expr) -> Expr {
        let (depth, at) = e.depth();
        if depth <= self.max_depth {
            return e;
        }
        self.errors.push(SyntaxError {
            code: Code::TooDeep,
            span: at,
            message: format!("expression nested {depth} levels deep, more than the limit of {}", self.max_depth),
            label: "too deeply nested".into(),
            help: Some("every operator, `not`, `-`, bracket, `if`, quantifier, call and field access is a level: split the expression with `let` or a `fn`".into()),
        });
        let span = e.span;
        e.dismantle();
        Expr { kind: ExprKind::Bool(false), span }
    }

    /// Operator chains fold into a tree as deep as they are long: past the
    /// limit the chain is refused, so every later pass recurses a bounded depth.
    fn check_chain(&mut self, operands: usize, span: Span) -> bool {
        if operands <= self.max_chain {
            return true;
        }
        self.errors.push(SyntaxError {
            code: Code::TooDeep,
            span,
            message: format!("a chain of {operands} operands is longer than the limit of {}", self.max_chain),
            label: "too long".into(),
            help: Some("split it with `let` or a `fn`, or use an aggregate such as `all x in list: ..`".into()),
        });
        false
    }

    fn span(&self, pair: &P) -> Span {
        // A pair may end with the whitespace pest skipped while looking for more.
        let s = pair.as_span();
        let trimmed = pair.as_str().trim_end().len();
        Span::new(s.start(), s.start() + trimmed)
    }

    fn error(&mut self, span: Span, message: String, label: &str, help: Option<&str>) {
        self.errors.push(SyntaxError {
            code: Code::BadLiteral,
            span,
            message,
            label: label.to_string(),
            help: help.map(str::to_string),
        });
    }

    pub(super) fn chunk(&mut self, mut pairs: Pairs<Rule>) -> Vec<Item> {
        let Some(chunk) = pairs.next() else { return Vec::new() };
        let mut items = Vec::new();
        for pair in chunk.into_inner() {
            if pair.as_rule() == Rule::item {
                items.push(self.item(pair));
            }
        }
        items
    }

    fn item(&mut self, pair: P) -> Item {
        let mut docs = None;
        let mut kind = None;
        let mut span = self.span(&pair);
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::docs => docs = self.docs(child),
                _ => {
                    span = self.span(&child);
                    kind = Some(self.decl(child));
                }
            }
        }
        // The grammar makes `decl` mandatory in `item`.
        let kind = kind.unwrap_or(ItemKind::Use(UseDecl { path: String::new(), span }));
        Item { docs, offset: self.base, span, kind }
    }

    fn docs(&mut self, pair: P) -> Option<String> {
        let lines: Vec<String> = pair
            .into_inner()
            .filter_map(|doc| doc.into_inner().next())
            .map(|text| {
                let t = text.as_str();
                t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
            })
            .collect();
        if lines.is_empty() {
            None
        } else {
            Some(lines.join("\n"))
        }
    }

    fn decl(&mut self, pair: P) -> ItemKind {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::use_decl => {
                let path = inner(pair).next().map(|p| p.as_str().to_string()).unwrap_or_default();
                ItemKind::Use(UseDecl { path, span })
            }
            Rule::enum_decl => {
                let mut it = inner(pair);
                let name = self.ident(it.next());
                let variants = it
                    .map(|v| {
                        let mut vi = v.into_inner();
                        let docs = vi.next().and_then(|d| self.docs(d));
                        Variant { docs, name: self.ident(vi.next()) }
                    })
                    .collect();
                ItemKind::Enum(EnumDecl { name, variants })
            }
            Rule::record_decl => ItemKind::Record(self.struct_decl(pair)),
            Rule::entity_decl => ItemKind::Entity(self.struct_decl(pair)),
            Rule::extend_decl => {
                let mut it = inner(pair);
                let name = self.ident(it.next());
                let mut fields = Vec::new();
                let mut variants = Vec::new();
                for child in it {
                    if child.as_rule() == Rule::field_decl {
                        fields.push(self.field_decl(child));
                    } else {
                        let mut vi = child.into_inner();
                        let docs = vi.next().and_then(|d| self.docs(d));
                        variants.push(Variant { docs, name: self.ident(vi.next()) });
                    }
                }
                ItemKind::Extend(ExtendDecl { name, fields, variants })
            }
            Rule::fact_decl => ItemKind::Fact(self.fact(pair)),
            Rule::requirement_decl => {
                let mut it = inner(pair);
                let id = self.req_ref(it.next());
                let title = self.text(it.next());
                let parent = it.next().map(|p| self.req_ref(Some(p)));
                ItemKind::Requirement(RequirementDecl { id, title, parent })
            }
            Rule::control_decl => ItemKind::Control(self.rule_decl(pair)),
            Rule::audit_decl => ItemKind::Audit(self.rule_decl(pair)),
            Rule::scale_decl => {
                let mut it = inner(pair);
                let name = self.ident(it.next());
                let values = it
                    .map(|v| {
                        // Doc comments on a value are read like a variant's, and not kept.
                        let mut vi = v.into_inner().filter(|p| p.as_rule() != Rule::docs);
                        let n = self.ident(vi.next());
                        let value = self.integer(vi.next());
                        (n, value)
                    })
                    .collect();
                ItemKind::Scale(ScaleDecl { name, values })
            }
            Rule::matrix_decl => {
                let mut name = None;
                let mut axes = Vec::new();
                let mut levels = Vec::new();
                for child in inner(pair) {
                    match child.as_rule() {
                        Rule::ident if name.is_none() => name = Some(self.ident(Some(child))),
                        Rule::ident => axes.push(self.ident(Some(child))),
                        _ => {
                            let lspan = self.span(&child);
                            let mut li = child.into_inner();
                            let lname = self.ident(li.next());
                            let low = self.integer(li.next());
                            let high = self.integer(li.next());
                            levels.push(LevelDecl { name: lname, low, high, span: lspan });
                        }
                    }
                }
                ItemKind::Matrix(MatrixDecl { name: name.unwrap_or_else(|| self.missing(span)), axes, levels })
            }
            Rule::appetite_decl => {
                let mut idents: Vec<Ident> = inner(pair).map(|p| self.ident(Some(p))).collect();
                let level = idents.pop().unwrap_or_else(|| self.missing(span));
                ItemKind::Appetite(AppetiteDecl { matrix: idents.pop(), level })
            }
            Rule::risk_decl => ItemKind::Risk(self.risk(pair)),
            Rule::objective_decl => ItemKind::Objective(self.objective(pair)),
            Rule::exception_decl => ItemKind::Exception(self.exception(pair)),
            Rule::exclude_decl => {
                let mut requirements = Vec::new();
                let mut because = None;
                for child in inner(pair) {
                    match child.as_rule() {
                        Rule::because_clause => because = Some(self.text(inner(child).next())),
                        _ => requirements.push(self.req_ref(Some(child))),
                    }
                }
                ItemKind::Exclude(ExcludeDecl { requirements, because })
            }
            Rule::map_decl => {
                let mut it = inner(pair);
                let from = self.req_ref(it.next());
                let to = it.map(|p| self.req_ref(Some(p))).collect();
                ItemKind::Map(MapDecl { from, to })
            }
            Rule::fn_decl => {
                let mut name = None;
                let mut params = Vec::new();
                let mut body = None;
                for child in inner(pair) {
                    match child.as_rule() {
                        Rule::ident => name = Some(self.ident(Some(child))),
                        Rule::param => {
                            let mut pi = child.into_inner();
                            let pname = self.ident(pi.next());
                            let ty = self.type_expr(pi.next());
                            params.push((pname, ty));
                        }
                        _ => body = Some(self.expr(child)),
                    }
                }
                ItemKind::Fn(FnDecl {
                    name: name.unwrap_or_else(|| self.missing(span)),
                    params,
                    body: body.unwrap_or(Expr { kind: ExprKind::Bool(false), span }),
                })
            }
            Rule::test_decl => ItemKind::Test(self.test(pair)),
            Rule::measure_decl => {
                let mut it = inner(pair);
                let name = self.ident(it.next());
                let mut it = it.peekable();
                let subject = match it.peek() {
                    Some(p) if p.as_rule() == Rule::measure_subject => Some(self.binding(it.next())),
                    _ => None,
                };
                let value = match it.next() {
                    Some(p) => self.expr(p),
                    None => Expr { kind: ExprKind::Bool(false), span },
                };
                let (row, record) = self.binding(it.next());
                let filter = it.next().map(|p| self.expr(p));
                ItemKind::Measure(MeasureDecl { name, subject, value, row, record, filter })
            }
            _ => ItemKind::Use(UseDecl { path: String::new(), span }),
        }
    }

    /// `x: Type` of a measure's subject or rows: the variable and the type.
    fn binding(&mut self, pair: Option<P>) -> (Ident, Ident) {
        let mut it = pair.map(inner).into_iter().flatten();
        let var = self.ident(it.next());
        let ty = self.ident(it.next());
        (var, ty)
    }

    fn missing(&self, span: Span) -> Ident {
        Ident { name: String::new(), span }
    }

    fn ident(&mut self, pair: Option<P>) -> Ident {
        match pair {
            Some(p) => Ident { name: p.as_str().to_string(), span: self.span(&p) },
            None => Ident { name: String::new(), span: Span::default() },
        }
    }

    fn req_ref(&mut self, pair: Option<P>) -> ReqRef {
        let Some(p) = pair else { return ReqRef { id: String::new(), span: Span::default() } };
        let span = self.span(&p);
        match p.into_inner().next() {
            Some(child) if child.as_rule() == Rule::string => {
                let text = self.text(Some(child));
                ReqRef { id: text.value, span }
            }
            Some(child) => ReqRef { id: child.as_str().to_string(), span },
            None => ReqRef { id: String::new(), span },
        }
    }

    fn integer(&mut self, pair: Option<P>) -> i64 {
        let Some(p) = pair else { return 0 };
        match p.as_str().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                let span = self.span(&p);
                self.error(span, format!("number `{}` is too large", p.as_str()), "too large", None);
                0
            }
        }
    }

    fn text(&mut self, pair: Option<P>) -> Text {
        let Some(p) = pair else { return Text { value: String::new(), span: Span::default() } };
        let span = self.span(&p);
        let raw = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        let value = self.unescape(raw, span);
        Text { value, span }
    }

    fn unescape(&mut self, raw: &str, span: Span) -> String {
        if !raw.contains('\\') {
            return raw.to_string();
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                other => {
                    let shown = other.map(|c| c.to_string()).unwrap_or_default();
                    self.error(
                        span,
                        format!("unknown escape `\\{shown}` in text"),
                        "unknown escape",
                        Some("the escapes are \\n, \\r, \\t, \\\" and \\\\"),
                    );
                }
            }
        }
        out
    }

    fn date(&mut self, pair: &P) -> Date {
        match Date::parse(pair.as_str()) {
            Some(d) => d,
            None => {
                let span = self.span(pair);
                self.error(
                    span,
                    format!("`{}` is not a date", pair.as_str()),
                    "no such day",
                    Some("dates are written YYYY-MM-DD and must exist in the calendar"),
                );
                Date::UNIX_EPOCH
            }
        }
    }

    fn struct_decl(&mut self, pair: P) -> StructDecl {
        let mut it = inner(pair);
        let name = self.ident(it.next());
        let fields = it.map(|f| self.field_decl(f)).collect();
        StructDecl { name, fields }
    }

    fn field_decl(&mut self, pair: P) -> FieldDecl {
        let mut docs = None;
        let mut name = None;
        let mut ty = None;
        let mut is_key = false;
        let mut default = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::docs => docs = self.docs(child),
                Rule::ident => name = Some(self.ident(Some(child))),
                Rule::type_expr => ty = Some(self.type_expr(Some(child))),
                Rule::key_mark => is_key = true,
                _ => default = Some(self.expr(child)),
            }
        }
        let name = name.unwrap_or_else(|| self.ident(None));
        let ty = ty.unwrap_or_else(|| self.type_expr(None));
        FieldDecl { docs, name, ty, is_key, default }
    }

    fn type_expr(&mut self, pair: Option<P>) -> TypeExpr {
        let Some(p) = pair else {
            return TypeExpr::Named { name: self.ident(None), optional: false, span: Span::default() };
        };
        let p = if p.as_rule() == Rule::type_expr {
            match p.clone().into_inner().next() {
                Some(child) => child,
                None => p,
            }
        } else {
            p
        };
        let span = self.span(&p);
        let rule = p.as_rule();
        let children: Vec<P> = p.into_inner().collect();
        let optional = children.iter().any(|c| c.as_rule() == Rule::optional_mark);
        let first = children.into_iter().next();
        if rule == Rule::list_type {
            let element = Box::new(self.type_expr(first));
            TypeExpr::List { element, optional, span }
        } else {
            TypeExpr::Named { name: self.ident(first), optional, span }
        }
    }

    fn fact(&mut self, pair: P) -> FactDecl {
        let mut it = inner(pair);
        let entity = self.ident(it.next());
        let (fields, body_span) = match it.next() {
            Some(record) => {
                let span = self.span(&record);
                (self.field_inits(record), span)
            }
            None => (Vec::new(), entity.span),
        };
        FactDecl { entity, fields, body_span }
    }

    fn field_inits(&mut self, record: P) -> Vec<FieldInit> {
        inner(record)
            .map(|init| {
                let mut ii = init.into_inner();
                let name = self.ident(ii.next());
                let value = match ii.next() {
                    Some(e) => self.expr(e),
                    None => Expr { kind: ExprKind::Bool(false), span: name.span },
                };
                FieldInit { name, value }
            })
            .collect()
    }

    fn header_clause(&mut self, header: &mut RuleHeader, child: P) -> bool {
        let span = self.span(&child);
        match child.as_rule() {
            Rule::implements_clause => {
                header.clause_spans.push(("implements", span));
                for r in inner(child) {
                    let r = self.req_ref(Some(r));
                    header.implements.push(r);
                }
            }
            Rule::clause_clause => {
                header.clause_spans.push(("clause", span));
                for r in inner(child) {
                    let r = self.req_ref(Some(r));
                    header.clauses.push(r);
                }
            }
            Rule::severity_clause => {
                header.clause_spans.push(("severity", span));
                if let Some(s) = inner(child).next() {
                    let sspan = self.span(&s);
                    let sev = Severity::parse(s.as_str()).unwrap_or(Severity::Minor);
                    header.severity = Some((sev, sspan));
                }
            }
            Rule::owner_clause => {
                header.clause_spans.push(("owner", span));
                header.owner = Some(self.text(inner(child).next()));
            }
            Rule::for_clause => {
                header.clause_spans.push(("for", span));
                let mut it = inner(child);
                let var = self.ident(it.next());
                let entity = self.ident(it.next());
                let filter = it.next().map(|e| self.expr(e));
                header.subject = Some(Subject { var, entity, filter });
            }
            _ => return false,
        }
        true
    }

    fn rule_decl(&mut self, pair: P) -> RuleDecl {
        let mut name = None;
        let mut title = None;
        let mut header = RuleHeader::default();
        let mut body = Vec::new();
        for child in inner(pair) {
            match child.as_rule() {
                Rule::ident => name = Some(self.ident(Some(child))),
                Rule::string => title = Some(self.text(Some(child))),
                Rule::block => body = inner(child).map(|s| self.stmt(s)).collect(),
                _ => {
                    self.header_clause(&mut header, child);
                }
            }
        }
        RuleDecl { name: name.unwrap_or_else(|| self.ident(None)), title, header, body }
    }

    fn stmt(&mut self, pair: P) -> Stmt {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut it = inner(pair);
        if rule == Rule::let_stmt {
            let name = self.ident(it.next());
            let value = self.expr_or_false(it.next(), span);
            Stmt::Let { name, value, span }
        } else {
            let cond = self.expr_or_false(it.next(), span);
            let because = it.next().map(|t| self.text(Some(t)));
            Stmt::Require { cond, because, span }
        }
    }

    fn expr_or_false(&mut self, pair: Option<P>, span: Span) -> Expr {
        match pair {
            Some(p) => self.expr(p),
            None => Expr { kind: ExprKind::Bool(false), span },
        }
    }

    fn risk(&mut self, pair: P) -> RiskDecl {
        let mut risk = RiskDecl {
            name: self.ident(None),
            title: None,
            header: RuleHeader::default(),
            lets: Vec::new(),
            axes: Vec::new(),
            residual: Vec::new(),
            treated_by: Vec::new(),
        };
        for child in inner(pair) {
            let span = self.span(&child);
            match child.as_rule() {
                Rule::ident => risk.name = self.ident(Some(child)),
                Rule::string => risk.title = Some(self.text(Some(child))),
                Rule::treated_stmt => {
                    for c in inner(child) {
                        let c = self.ident(Some(c));
                        risk.treated_by.push(c);
                    }
                }
                Rule::residual_stmt | Rule::axis_stmt => {
                    let residual = child.as_rule() == Rule::residual_stmt;
                    let mut it = inner(child);
                    let axis = self.ident(it.next());
                    let value = self.expr_or_false(it.next(), span);
                    if residual {
                        risk.residual.push((axis, value));
                    } else {
                        risk.axes.push((axis, value));
                    }
                }
                Rule::let_stmt => {
                    let stmt = self.stmt(child);
                    risk.lets.push(stmt);
                }
                _ => {
                    self.header_clause(&mut risk.header, child);
                }
            }
        }
        risk
    }

    fn objective(&mut self, pair: P) -> ObjectiveDecl {
        let mut o = ObjectiveDecl {
            name: self.ident(None),
            title: None,
            header: RuleHeader::default(),
            measures: Vec::new(),
            baselines: Vec::new(),
            targets: Vec::new(),
            histories: Vec::new(),
        };
        for child in inner(pair) {
            let span = self.span(&child);
            match child.as_rule() {
                Rule::ident => o.name = self.ident(Some(child)),
                Rule::string => o.title = Some(self.text(Some(child))),
                Rule::measure_stmt => {
                    let e = self.expr_or_false(inner(child).next(), span);
                    o.measures.push(e);
                }
                Rule::baseline_stmt => {
                    let mut it = inner(child);
                    let value = self.expr_or_false(it.next(), span);
                    let date = match it.next() {
                        Some(d) => self.date(&d),
                        None => Date::UNIX_EPOCH,
                    };
                    o.baselines.push((value, date, span));
                }
                Rule::target_stmt => {
                    let mut it = inner(child);
                    let op = it.next().and_then(|p| CmpOp::parse(p.as_str())).unwrap_or(CmpOp::Le);
                    let value = self.expr_or_false(it.next(), span);
                    let deadline = match it.next() {
                        Some(d) => self.date(&d),
                        None => Date::UNIX_EPOCH,
                    };
                    o.targets.push(Target { op, value, deadline, span });
                }
                Rule::history_stmt => {
                    let mut it = inner(child);
                    let value = self.expr_or_false(it.next(), span);
                    let date = self.expr_or_false(it.next(), span);
                    let binder = self.binder(it.next(), span);
                    let filter = it.next().map(|e| self.expr(e));
                    o.histories.push(History { value, date, binder, filter, span });
                }
                _ => {
                    self.header_clause(&mut o.header, child);
                }
            }
        }
        o
    }

    fn exception(&mut self, pair: P) -> ExceptionDecl {
        let mut e = ExceptionDecl {
            name: self.ident(None),
            waives: None,
            target: None,
            until: None,
            approved_by: None,
            because: None,
        };
        for child in inner(pair) {
            let span = self.span(&child);
            match child.as_rule() {
                Rule::ident => e.name = self.ident(Some(child)),
                Rule::waives_clause => {
                    let mut it = inner(child);
                    e.waives = Some(self.ident(it.next()));
                    if let Some(entity) = it.next() {
                        let entity = self.ident(Some(entity));
                        let key = self.text(it.next());
                        e.target = Some((entity, key));
                    }
                }
                Rule::until_clause => {
                    if let Some(d) = inner(child).next() {
                        e.until = Some((self.date(&d), span));
                    }
                }
                Rule::approved_clause => e.approved_by = Some(self.text(inner(child).next())),
                Rule::because_clause => e.because = Some(self.text(inner(child).next())),
                _ => {}
            }
        }
        e
    }

    fn test(&mut self, pair: P) -> TestDecl {
        let mut t = TestDecl {
            name: Text { value: String::new(), span: Span::default() },
            as_of: None,
            given: Vec::new(),
            expects: Vec::new(),
        };
        for child in inner(pair) {
            let span = self.span(&child);
            match child.as_rule() {
                Rule::string => t.name = self.text(Some(child)),
                Rule::as_of_stmt => {
                    if let Some(d) = inner(child).next() {
                        t.as_of = Some((self.date(&d), span));
                    }
                }
                Rule::given_stmt => {
                    let fact = self.fact(child);
                    t.given.push(fact);
                }
                Rule::expect_stmt => {
                    if let Some(e) = inner(child).next() {
                        let expectation = self.expectation(e, span);
                        t.expects.push(expectation);
                    }
                }
                _ => {}
            }
        }
        t
    }

    fn expectation(&mut self, pair: P, span: Span) -> Expectation {
        let rule = pair.as_rule();
        let children: Vec<P> = inner(pair).collect();
        let mut idents = Vec::new();
        let mut entity = None;
        let mut outcome = None;
        for child in children {
            match child.as_rule() {
                Rule::ident => idents.push(self.ident(Some(child))),
                Rule::string => entity = Some(self.text(Some(child))),
                Rule::outcome_word => outcome = Some(self.ident(Some(child))),
                _ => {}
            }
        }
        let mut idents = idents.into_iter();
        let first = idents.next().unwrap_or_else(|| self.missing(span));
        let second = idents.next().unwrap_or_else(|| self.missing(span));
        match rule {
            Rule::expect_risk => Expectation::Risk { risk: first, entity, level: second, span },
            Rule::expect_objective => Expectation::Objective { objective: first, status: second, span },
            _ => Expectation::Outcome {
                rule: first,
                outcome: outcome.unwrap_or_else(|| self.missing(span)),
                entity,
                span,
            },
        }
    }

    fn binder(&mut self, pair: Option<P>, span: Span) -> Binder {
        let Some(p) = pair else {
            return Binder { var: self.missing(span), source: BinderSource::Entity(self.missing(span)) };
        };
        let mut it = p.into_inner();
        let var = self.ident(it.next());
        let source = match it.next() {
            Some(src) if src.as_rule() == Rule::entity_source => BinderSource::Entity(self.ident(inner(src).next())),
            Some(src) => {
                let e = self.expr_or_false(inner(src).next(), span);
                BinderSource::List(Box::new(e))
            }
            None => BinderSource::Entity(self.missing(span)),
        };
        Binder { var, source }
    }

    // ------------------------------------------------------------ expressions

    pub(super) fn expr(&mut self, pair: P) -> Expr {
        self.level += 1;
        let e = stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, || self.expr_inner(pair));
        self.level -= 1;
        if self.level == 0 {
            self.check_depth(e)
        } else {
            e
        }
    }

    fn expr_inner(&mut self, pair: P) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => self.expr_or_false(pair.into_inner().next(), span),
            Rule::or_expr | Rule::and_expr => {
                let op = if pair.as_rule() == Rule::or_expr { BinaryOp::Or } else { BinaryOp::And };
                if !self.check_chain(inner(pair.clone()).count(), span) {
                    return Expr { kind: ExprKind::Bool(false), span };
                }
                let mut operands = inner(pair).map(|p| self.expr(p));
                let first = operands.next().unwrap_or(Expr { kind: ExprKind::Bool(false), span });
                operands.fold(first, |acc, rhs| {
                    let s = acc.span.cover(rhs.span);
                    Expr { kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)), span: s }
                })
            }
            Rule::not_expr => {
                let children: Vec<P> = pair.into_inner().collect();
                if !self.check_chain(children.len(), span) {
                    return Expr { kind: ExprKind::Bool(false), span };
                }
                let nots: Vec<Span> =
                    children.iter().filter(|c| c.as_rule() == Rule::kw_not).map(|c| self.span(c)).collect();
                let operand = children.into_iter().find(|c| c.as_rule() != Rule::kw_not);
                let mut e = self.expr_or_false(operand, span);
                for not_span in nots.into_iter().rev() {
                    let s = not_span.cover(e.span);
                    e = Expr { kind: ExprKind::Unary(UnaryOp::Not, Box::new(e)), span: s };
                }
                e
            }
            Rule::cmp_expr => {
                let mut it = pair.into_inner();
                let lhs = self.expr_or_false(it.next(), span);
                match it.next() {
                    None => lhs,
                    Some(tail) => self.cmp_tail(lhs, tail, span),
                }
            }
            Rule::coalesce_expr => {
                if !self.check_chain(pair.clone().into_inner().count(), span) {
                    return Expr { kind: ExprKind::Bool(false), span };
                }
                let mut operands = pair.into_inner().map(|p| self.expr(p));
                let first = operands.next().unwrap_or(Expr { kind: ExprKind::Bool(false), span });
                operands.fold(first, |acc, rhs| {
                    let s = acc.span.cover(rhs.span);
                    Expr { kind: ExprKind::Binary(BinaryOp::Coalesce, Box::new(acc), Box::new(rhs)), span: s }
                })
            }
            Rule::add_expr | Rule::mul_expr => {
                if !self.check_chain(pair.clone().into_inner().count() / 2 + 1, span) {
                    return Expr { kind: ExprKind::Bool(false), span };
                }
                let mut it = pair.into_inner();
                let mut acc = self.expr_or_false(it.next(), span);
                while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
                    let op = match op.as_str() {
                        "+" => BinaryOp::Add,
                        "-" => BinaryOp::Sub,
                        "*" => BinaryOp::Mul,
                        _ => BinaryOp::Div,
                    };
                    let rhs = self.expr(rhs);
                    let s = acc.span.cover(rhs.span);
                    acc = Expr { kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)), span: s };
                }
                acc
            }
            Rule::unary_expr => {
                let children: Vec<P> = pair.into_inner().collect();
                if !self.check_chain(children.len(), span) {
                    return Expr { kind: ExprKind::Bool(false), span };
                }
                let negs: Vec<Span> =
                    children.iter().filter(|c| c.as_rule() == Rule::neg).map(|c| self.span(c)).collect();
                let operand = children.into_iter().find(|c| c.as_rule() != Rule::neg);
                let mut e = self.expr_or_false(operand, span);
                for neg_span in negs.into_iter().rev() {
                    let s = neg_span.cover(e.span);
                    e = Expr { kind: ExprKind::Unary(UnaryOp::Neg, Box::new(e)), span: s };
                }
                e
            }
            Rule::postfix_expr => {
                if !self.check_chain(pair.clone().into_inner().count(), span) {
                    return Expr { kind: ExprKind::Bool(false), span };
                }
                let mut it = pair.into_inner();
                let mut e = self.expr_or_false(it.next(), span);
                for field in it {
                    let f = self.ident(Some(field));
                    let s = e.span.cover(f.span);
                    e = Expr { kind: ExprKind::Field(Box::new(e), f), span: s };
                }
                e
            }
            Rule::paren_expr => {
                let e = self.expr_or_false(pair.into_inner().next(), span);
                Expr { kind: ExprKind::Paren(Box::new(e)), span }
            }
            Rule::list_lit => Expr { kind: ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()), span },
            Rule::record_lit => Expr { kind: ExprKind::Record(self.field_inits(pair)), span },
            Rule::date => Expr { kind: ExprKind::Date(self.date(&pair)), span },
            Rule::duration => {
                let mut it = pair.into_inner();
                let amount = self.integer(it.next());
                let unit = it.next().map(|u| u.as_str().to_string()).unwrap_or_default();
                let duration = Duration::from_unit(amount, &unit).unwrap_or_else(|| {
                    self.error(span, "duration is too long".into(), "too long", None);
                    Duration::default()
                });
                Expr { kind: ExprKind::Duration(duration), span }
            }
            Rule::percent => {
                let digits: String = pair.as_str().trim_end_matches('%').chars().filter(|c| *c != '_').collect();
                let value = crate::num::parse(&digits).and_then(crate::num::percent_of).unwrap_or_else(|| {
                    self.error(
                        span,
                        format!("percent `{}` is out of range", pair.as_str()),
                        "out of range",
                        Some(crate::num::RANGE_HELP),
                    );
                    crate::num::Decimal::ZERO
                });
                Expr { kind: ExprKind::Percent(value), span }
            }
            Rule::number => {
                let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
                if digits.contains('.') {
                    let value = crate::num::parse(&digits).unwrap_or_else(|| {
                        self.error(span, format!("number `{}` is out of range", pair.as_str()), "out of range", None);
                        crate::num::Decimal::ZERO
                    });
                    Expr { kind: ExprKind::Number(value), span }
                } else {
                    match digits.parse::<i64>() {
                        Ok(n) => Expr { kind: ExprKind::Int(n), span },
                        Err(_) => {
                            self.error(span, format!("number `{}` is too large", pair.as_str()), "too large", None);
                            Expr { kind: ExprKind::Int(0), span }
                        }
                    }
                }
            }
            Rule::string => {
                let t = self.text(Some(pair));
                Expr { kind: ExprKind::Text(t.value), span }
            }
            Rule::kw_true => Expr { kind: ExprKind::Bool(true), span },
            Rule::kw_false => Expr { kind: ExprKind::Bool(false), span },
            Rule::kw_today => Expr { kind: ExprKind::Today, span },
            Rule::name => Expr { kind: ExprKind::Name(self.ident(pair.into_inner().next())), span },
            Rule::call => {
                let mut it = pair.into_inner();
                let func = self.ident(it.next());
                let mut args = Vec::new();
                let mut aggregate = None;
                for child in it {
                    if child.as_rule() == Rule::agg_tail {
                        let mut ai = inner(child);
                        let binder = self.binder(ai.next(), span);
                        let filter = ai.next().map(|e| Box::new(self.expr(e)));
                        aggregate = Some((binder, filter));
                    } else {
                        args.push(self.expr(child));
                    }
                }
                match aggregate {
                    Some((binder, filter)) => {
                        let value =
                            Box::new(args.into_iter().next().unwrap_or(Expr { kind: ExprKind::Bool(false), span }));
                        Expr { kind: ExprKind::Aggregate { func, value, binder, filter }, span }
                    }
                    None => Expr { kind: ExprKind::Call(func, args), span },
                }
            }
            Rule::if_expr => {
                let parts: Vec<Expr> = inner(pair).map(|p| self.expr(p)).collect();
                let mut parts = parts.into_iter();
                let mut branches = Vec::new();
                let mut otherwise = None;
                loop {
                    match (parts.next(), parts.next()) {
                        (Some(c), Some(t)) => branches.push((c, t)),
                        (Some(e), None) => {
                            otherwise = Some(e);
                            break;
                        }
                        _ => break,
                    }
                }
                let otherwise = Box::new(otherwise.unwrap_or(Expr { kind: ExprKind::Bool(false), span }));
                Expr { kind: ExprKind::If { branches, otherwise }, span }
            }
            Rule::exists_expr => {
                let mut it = inner(pair);
                let binder = self.binder(it.next(), span);
                let filter = it.next().map(|e| Box::new(self.expr(e)));
                Expr { kind: ExprKind::Exists { binder, filter }, span }
            }
            Rule::all_expr => {
                let mut it = inner(pair);
                let binder = self.binder(it.next(), span);
                let rest: Vec<Expr> = it.map(|e| self.expr(e)).collect();
                let mut rest = rest.into_iter();
                let (filter, body) = match (rest.next(), rest.next()) {
                    (Some(f), Some(b)) => (Some(Box::new(f)), b),
                    (Some(b), None) => (None, b),
                    _ => (None, Expr { kind: ExprKind::Bool(true), span }),
                };
                Expr { kind: ExprKind::All { binder, filter, body: Box::new(body) }, span }
            }
            _ => Expr { kind: ExprKind::Bool(false), span },
        }
    }

    fn cmp_tail(&mut self, lhs: Expr, tail: P, span: Span) -> Expr {
        let rule = tail.as_rule();
        let children: Vec<P> = tail.into_inner().collect();
        let kind = match rule {
            Rule::is_tail => {
                let some = children.iter().any(|c| c.as_rule() == Rule::kw_some);
                ExprKind::Is { value: Box::new(lhs), some }
            }
            Rule::compare_tail => {
                let mut it = children.into_iter();
                let op = it.next().and_then(|o| CmpOp::parse(o.as_str())).unwrap_or(CmpOp::Eq);
                let rhs = self.expr_or_false(it.next(), span);
                ExprKind::Compare(op, Box::new(lhs), Box::new(rhs))
            }
            Rule::in_tail | Rule::not_in_tail => {
                let rhs = children.into_iter().find(|c| !is_keyword(c.as_rule()));
                let rhs = self.expr_or_false(rhs, span);
                ExprKind::In { value: Box::new(lhs), collection: Box::new(rhs), negated: rule == Rule::not_in_tail }
            }
            _ => {
                let rhs = children.into_iter().find(|c| !is_keyword(c.as_rule()));
                let rhs = self.expr_or_false(rhs, span);
                ExprKind::Within(Box::new(lhs), Box::new(rhs))
            }
        };
        Expr { kind, span }
    }
}
