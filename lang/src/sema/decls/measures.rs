//! Measures: the field each adds to the entity it measures (with the
//! signatures, so that rules read it like any field), then the check of
//! its metric and its `where`, lowered to a [`MeasurePlan`] by column name.

use super::{decl, Checker, Items};
use crate::diag::{Anchor, Code, Diagnostic, Quote};
use crate::ir::*;
use crate::measure::metrics::{self, Metric, Param};
use crate::measure::{Filter, Literal, MeasurePlan, Window};
use crate::num::Decimal;
use crate::sema::expr::ExprChecker;
use crate::sema::source_map::LocalKind;
use crate::sema::{Context, TypeName};
use crate::syntax::ast::{self, BinaryOp, CmpOp, ExprKind, Span};

/// What a measure's `where` may say, for the help of a refused condition.
const WHERE_HELP: &str = "a measure's `where` joins the log on the entity's key (`d.system == s.id`), bounds a window \
     (`d.at within 30 days`) and compares columns with values (`d.channel == \"web\"`, `d.region in [\"eu\"]`, \
     `d.automated`, `d.label is some`), joined with `and`";

impl Checker<'_, '_> {
    /// Adds each measure's field, `T?`, to the entity it measures; a
    /// measure of the organisation is declared as a name of that type.
    pub(super) fn measure_fields(&mut self, items: &Items) {
        for m in &items.measures {
            let node = m.node;
            let ty = match metric_called(&node.value) {
                Some((metric, _, _)) => Ty::Opt(Box::new(metric.result.ty())),
                None => Ty::Error,
            };
            let Some((_, entity_name)) = &node.subject else {
                self.organisation_measure(m, ty);
                continue;
            };
            let Some(entity) = self.cx.entity_by_name(&entity_name.name) else {
                let mut ck = self.checker(m.file, m.text);
                ck.unknown_type(entity_name, true);
                let diags = std::mem::take(&mut ck.diags);
                self.absorb(diags);
                continue;
            };
            let def = &self.cx.program.entities[entity.index()];
            if let Some((_, existing)) = def.field(&node.name.name) {
                let d = Diagnostic::error(
                    Code::Duplicate,
                    format!("`{}` already has a field `{}`", entity_name.name, node.name.name),
                )
                .at(m.file, node.name.span, "a measure of the same name")
                .also_file(existing.span.file, existing.span.span, "the field")
                .help("a measure is read as a field of its entity: give it another name");
                self.push(d);
                continue;
            }
            let field = def.fields.len() as u32;
            let id = MeasureId(self.cx.program.measures.len() as u32);
            self.cx.program.entities[entity.index()].fields.push(FieldDef {
                name: node.name.name.clone(),
                ty,
                default: None,
                span: m.file.span(node.name.span),
                docs: m.docs.cloned(),
                measure: Some(id),
            });
            let decl = decl(m.file, m.span, &node.name, m.docs);
            let target = MeasureTarget::Field { entity, field };
            self.cx.program.measures.push(MeasureDef { decl, target, record: None, plan: None });
        }
    }

    /// Declares a measure of the organisation, unless its name is taken
    /// by another one or by a variant (a bare name would then be read as
    /// the measure, silently).
    fn organisation_measure(&mut self, m: &super::At<'_, ast::MeasureDecl>, ty: Ty) {
        let node = m.node;
        let name = &node.name.name;
        if let Some(other) = self
            .cx
            .program
            .measures
            .iter()
            .find(|d| matches!(d.target, MeasureTarget::Organisation { .. }) && &d.decl.name == name)
        {
            let d =
                Diagnostic::error(Code::Duplicate, format!("a measure `{name}` of the organisation already exists"))
                    .at(m.file, node.name.span, "declared again")
                    .also_file(other.decl.name_span.file, other.decl.name_span.span, "the first")
                    .help("give each measure a name of its own");
            self.push(d);
            return;
        }
        if let Some((_, variant_ty)) = self.cx.variants_named(name).first() {
            let owner = self.cx.ty_name(variant_ty);
            let d = Diagnostic::error(Code::Duplicate, format!("`{name}` is already a variant of `{owner}`"))
                .at(m.file, node.name.span, "a measure of the same name")
                .help("a measure of the organisation is read by its name: give it a name no variant has");
            self.push(d);
            return;
        }
        let decl = decl(m.file, m.span, &node.name, m.docs);
        let target = MeasureTarget::Organisation { ty };
        self.cx.program.measures.push(MeasureDef { decl, target, record: None, plan: None });
    }

    /// Checks each measure's metric and `where`, and lowers it to a plan.
    pub(super) fn measures(&mut self, items: &Items) {
        for m in &items.measures {
            let at = m.file.span(m.node.name.span);
            let Some(index) = self.cx.program.measures.iter().position(|d| d.decl.name_span == at) else { continue };
            let entity = self.cx.program.measures[index].field().map(|(entity, _)| entity);
            let cx: &Context = self.cx;
            let (record, plan, diags) = check_measure(cx, m.file, m.text, m.node, entity);
            self.absorb(diags);
            let def = &mut self.cx.program.measures[index];
            def.record = record;
            def.plan = plan;
        }
    }
}

/// The metric a measure's value calls, with its name and arguments.
fn metric_called(value: &ast::Expr) -> Option<(&'static Metric, &ast::Ident, &[ast::Expr])> {
    match &value.kind {
        ExprKind::Call(name, args) => metrics::metric(&name.name).map(|m| (m, name, args.as_slice())),
        _ => None,
    }
}

/// The parts of a `where` joined by `and`.
fn conjuncts<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        ExprKind::Paren(inner) if matches!(inner.kind, ExprKind::Binary(BinaryOp::And, ..) | ExprKind::Paren(_)) => {
            conjuncts(inner, out)
        }
        _ => out.push(e),
    }
}

/// One measure's check: the record of its log, its plan (when nothing is
/// wrong) and what is wrong.
fn check_measure(
    cx: &Context,
    file: Anchor,
    text: &str,
    node: &ast::MeasureDecl,
    entity: Option<EntityId>,
) -> (Option<RecordId>, Option<MeasurePlan>, Vec<Diagnostic>) {
    let mut ck = ExprChecker::new(cx, file, text);
    let mut problems: Vec<Diagnostic> = Vec::new();
    let refuse = |span: Span, message: String, label: &str, help: &str| {
        let d = Diagnostic::error(Code::BadMeasure, message).at(file, span, label);
        if help.is_empty() {
            d
        } else {
            d.help(help)
        }
    };
    if let Some((_, entity_name)) = &node.subject {
        ck.record_type_use(entity_name);
    }
    let record = match cx.types.get(&node.record.name) {
        Some(TypeName::Record(id)) => {
            ck.record_type_use(&node.record);
            Some(*id)
        }
        Some(TypeName::Entity(_)) => {
            ck.record_type_use(&node.record);
            problems.push(refuse(
                node.record.span,
                format!("`{}` is an entity: the rows of a log are a `record`", node.record.name),
                "an entity",
                "declare the rows as `record NAME { .. }` and name their files in a `[[logs]]` table of aims.toml",
            ));
            None
        }
        _ => {
            ck.unknown_type(&node.record, false);
            None
        }
    };
    let last = node.filter.as_ref().map_or(node.value.span, |f| f.span);
    let first = node.subject.as_ref().map_or(node.row.span, |(subject, _)| subject.span);
    let scope = first.cover(last).cover(node.row.span);
    let subject = match (&node.subject, entity) {
        (Some((subject, _)), Some(entity)) => Some(ck.bind(subject, LocalKind::Subject, Ty::Entity(entity), scope)),
        _ => None,
    };
    let row = ck.bind(&node.row, LocalKind::Binder, record.map_or(Ty::Error, Ty::Record), scope);
    let fields: &[FieldDef] = record.map_or(&[], |r| &cx.program.records[r.index()].fields);
    let column = |ex: &Ex| -> Option<(String, Ty)> {
        match ex {
            Ex::Field { base, field, .. } if matches!(**base, Ex::Local(slot, _) if slot == row) => {
                fields.get(*field as usize).map(|f| (f.name.clone(), f.ty.definite().clone()))
            }
            _ => None,
        }
    };

    // The metric and its arguments.
    let mut columns = Vec::new();
    let mut rank = None;
    let mut edges = Vec::new();
    let mut arg_types: Vec<Ty> = Vec::new();
    let metric = match metric_called(&node.value) {
        Some((metric, name, args)) => {
            if args.len() < metric.required || args.len() > metric.params.len() {
                let d = Diagnostic::error(Code::WrongArity, format!("`{}` takes {}", metric.name, arity_words(metric)))
                    .at(file, name.span, format!("given {}", args.len()))
                    .help(format!("write `{}`", metrics::signature(metric)));
                problems.push(d);
            }
            for (arg, (param_name, param)) in args.iter().zip(metric.params) {
                match param {
                    Param::PercentRank => {
                        let (ex, _) = ck.expr(arg, Some(&Ty::Number));
                        match const_number(&ex).filter(|n| *n >= Decimal::ZERO && *n <= Decimal::ONE_HUNDRED) {
                            Some(n) => rank = Some(n),
                            None => problems.push(refuse(
                                arg.span,
                                format!("`{param_name}` must be a number from 0 to 100"),
                                "not a rank",
                                "write the rank as a number: `percentile(d.latency_ms, 95)`",
                            )),
                        }
                    }
                    Param::Edges => {
                        let (ex, _) = ck.expr(arg, Some(&Ty::List(Box::new(Ty::Number))));
                        match const_edges(&ex) {
                            Some(list) if !list.is_empty() && list.windows(2).all(|w| w[0] < w[1]) => edges = list,
                            _ => problems.push(refuse(
                                arg.span,
                                "`edges` must be a list of increasing numbers".into(),
                                "not bin edges",
                                "write the edges between bins: `[300, 500, 700]`",
                            )),
                        }
                    }
                    _ => {
                        let (ex, ty) = ck.expr(arg, None);
                        if ty == Ty::Error {
                            continue;
                        }
                        match column(&ex) {
                            Some((name, ty)) if accepts(*param, &ty) => {
                                columns.push(name);
                                arg_types.push(ty);
                            }
                            Some((name, ty)) => {
                                let found = cx.ty_name(&ty);
                                problems.push(refuse(
                                    arg.span,
                                    format!(
                                        "`{param_name}` of `{}` must be {}; `{name}` is `{found}`",
                                        metric.name,
                                        metrics::param_words(*param)
                                    ),
                                    "wrong kind of column",
                                    "",
                                ));
                            }
                            None => problems.push(refuse(
                                arg.span,
                                format!("`{param_name}` of `{}` must be a column of the log", metric.name),
                                "not a column",
                                &format!("name a field of the log's rows: `{}.FIELD`", node.row.name),
                            )),
                        }
                    }
                }
            }
            if metric.params.iter().any(|(_, p)| *p == Param::Comparable)
                && arg_types.len() >= 2
                && arg_types[0] != arg_types[1]
            {
                problems.push(refuse(
                    node.value.span,
                    format!("`{}` compares a prediction with a label of another type", metric.name),
                    "different types",
                    "the prediction and the label are columns of one type",
                ));
            }
            if metric.kind == metrics::MetricKind::Psi {
                let numeric = arg_types.first().is_some_and(|t| accepts(Param::Numeric, t));
                if numeric && edges.is_empty() && args.len() < 2 {
                    problems.push(refuse(
                        node.value.span,
                        "`psi` of a numeric column needs bin edges".into(),
                        "no edges",
                        "give the edges between bins: `psi(d.score, [300, 500, 700])`",
                    ));
                }
                if !numeric && !edges.is_empty() {
                    problems.push(refuse(
                        node.value.span,
                        "`psi` of categories takes no edges".into(),
                        "categories",
                        "the values of a Text, enum or Bool column are its categories: `psi(d.band)`",
                    ));
                }
            }
            Some(metric)
        }
        None => {
            let names: Vec<&str> = metrics::METRICS.iter().map(|m| m.name).collect();
            let mut d = Diagnostic::error(Code::BadMeasure, "a measure's value is a metric over the log's rows")
                .at(file, node.value.span, "not a metric")
                .note(format!("the metrics are {}", names.join(", ")))
                .help("write a metric over the log's columns: `rate(d.approved)`");
            if let ExprKind::Call(name, _) = &node.value.kind {
                d = d.suggest(&name.name, names.iter().copied(), Quote::Code);
            }
            problems.push(d);
            None
        }
    };

    // The `where`: the join, the window and the filters.
    let key_field = entity.and_then(|e| cx.program.entities[e.index()].key);
    let mut key_column = None;
    let mut window: Option<Window> = None;
    let mut filters = Vec::new();
    let mut parts = Vec::new();
    if let Some(filter) = &node.filter {
        conjuncts(filter, &mut parts);
    }
    for part in parts {
        let (ex, ty) = ck.filter(part);
        if ty == Ty::Error {
            continue;
        }
        let subject_field = |ex: &Ex| match ex {
            Ex::Field { base, field, .. } if matches!(**base, Ex::Local(slot, _) if Some(slot) == subject) => {
                Some(*field)
            }
            _ => None,
        };
        let lowered = match &ex {
            Ex::Cmp(CmpOp::Eq, a, b) if subject_field(a).or(subject_field(b)).is_some() => {
                let (log_side, field) = match subject_field(a) {
                    Some(f) => (b, f),
                    None => (a, subject_field(b).unwrap_or_default()),
                };
                match column(log_side) {
                    Some((name, _)) if Some(field) == key_field && key_column.is_none() => {
                        key_column = Some(name);
                        Ok(())
                    }
                    Some(_) if key_column.is_some() => Err(("the log is already joined on the key", "a second join")),
                    Some(_) => Err(("a log is joined on the entity's key field", "not the key")),
                    None => Err(("the entity is compared with something other than a column of the log", "not a join")),
                }
            }
            Ex::Within(date, duration) => match (column(date), &**duration) {
                (Some((name, _)), Ex::Const(Value::Duration(d))) if window.is_none() => {
                    window = Some(Window { column: name, duration: *d });
                    Ok(())
                }
                (Some(_), Ex::Const(_)) => Err(("a measure has one window", "a second window")),
                _ => Err(("a window is a date column of the log `within` a written duration", "not a window")),
            },
            other => match lower_filter(other, &column, &cx.program) {
                Some(f) => {
                    filters.push(f);
                    Ok(())
                }
                None => Err(("a log query cannot express this condition", "not a column compared with a value")),
            },
        };
        if let Err((message, label)) = lowered {
            problems.push(refuse(part.span, message.to_string(), label, WHERE_HELP));
        }
    }
    // A measure of each fact names its rows by a join; one of the
    // organisation counts every row.
    let joined = key_column.is_some() || node.subject.is_none();
    if let (Some((subject, entity_name)), Some(entity), None, Some(_)) = (&node.subject, entity, &key_column, record) {
        let key = key_field
            .and_then(|k| cx.program.entities[entity.index()].fields.get(k as usize))
            .map_or("id", |f| f.name.as_str())
            .to_string();
        let span = node.filter.as_ref().map_or(node.record.span, |f| f.span);
        problems.push(refuse(
            span,
            format!("the rows of each `{}` are not named: the log is not joined on its key", entity_name.name),
            "no join on the key",
            &format!("add `{row}.COLUMN == {s}.{key}` to the `where`", row = node.row.name, s = subject.name),
        ));
    }
    if metric.is_some_and(|m| m.kind == metrics::MetricKind::Psi) && window.is_none() && joined {
        problems.push(refuse(
            node.value.span,
            "`psi` compares the window with the period before it, and there is no window".into(),
            "no window",
            "bound the rows with a window: `d.at within 30 days`",
        ));
    }
    let mut diagnostics = std::mem::take(&mut ck.diags);
    let failed = !problems.is_empty() || diagnostics.iter().any(Diagnostic::is_error);
    diagnostics.append(&mut problems);
    let plan = match (metric, record) {
        (Some(metric), Some(_)) if !failed && joined => Some(MeasurePlan {
            measure: node.name.name.clone(),
            entity: node.subject.as_ref().map(|(_, entity)| entity.name.clone()),
            record: node.record.name.clone(),
            key_column,
            window,
            filters,
            metric: metric.kind,
            columns,
            rank,
            edges,
        }),
        _ => None,
    };
    (record, plan, diagnostics)
}

/// `d.x OP value`, `d.x in [..]`, `d.flag`, `not d.flag`, `d.x is some`.
fn lower_filter(ex: &Ex, column: &dyn Fn(&Ex) -> Option<(String, Ty)>, program: &Program) -> Option<Filter> {
    match ex {
        Ex::Cmp(op, a, b) => {
            if let (Some((name, _)), Some(value)) = (column(a), literal(b, program)) {
                return Some(Filter::Compare { column: name, op: *op, value });
            }
            let (name, _) = column(b)?;
            Some(Filter::Compare { column: name, op: flipped(*op), value: literal(a, program)? })
        }
        Ex::In { value, list, negated } => {
            let (name, _) = column(value)?;
            let values = match &**list {
                Ex::List(items) => items.iter().map(|i| literal(i, program)).collect::<Option<Vec<_>>>()?,
                Ex::Const(Value::List(items)) => {
                    items.iter().map(|i| literal_value(i, program)).collect::<Option<Vec<_>>>()?
                }
                _ => return None,
            };
            Some(Filter::OneOf { column: name, values, negated: *negated })
        }
        Ex::Not(inner) => match column(inner)? {
            (name, Ty::Bool) => Some(Filter::Flag { column: name, value: false }),
            _ => None,
        },
        Ex::Is { value, some } => Some(Filter::Recorded { column: column(value)?.0, some: *some }),
        other => match column(other)? {
            (name, Ty::Bool) => Some(Filter::Flag { column: name, value: true }),
            _ => None,
        },
    }
}

/// `a OP b` as `b OP' a`.
fn flipped(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        same => same,
    }
}

fn literal(ex: &Ex, program: &Program) -> Option<Literal> {
    match ex {
        Ex::Const(v) => literal_value(v, program),
        _ => None,
    }
}

/// A constant as the log stores it: an enum's variant and a reference by
/// their names.
fn literal_value(v: &Value, program: &Program) -> Option<Literal> {
    Some(match v {
        Value::Bool(b) => Literal::Bool(*b),
        Value::Int(n) => Literal::Int(*n),
        Value::Number(n) | Value::Percent(n) => Literal::Number(*n),
        Value::Text(t) => Literal::Text(t.to_string()),
        Value::Date(d) => Literal::Date(*d),
        Value::Ref(_, key) => Literal::Text(key.to_string()),
        Value::Enum(id, i) => Literal::Text(program.enums.get(id.index())?.variants.get(*i as usize)?.clone()),
        Value::Scale(id, i) => Literal::Text(program.scales.get(id.index())?.values.get(*i as usize)?.0.clone()),
        _ => return None,
    })
}

fn const_number(ex: &Ex) -> Option<Decimal> {
    match ex {
        Ex::Const(Value::Int(n)) => Some(Decimal::from(*n)),
        Ex::Const(Value::Number(n)) => Some(*n),
        _ => None,
    }
}

fn const_edges(ex: &Ex) -> Option<Vec<Decimal>> {
    match ex {
        Ex::List(items) => items.iter().map(const_number).collect(),
        Ex::Const(Value::List(items)) => items.iter().map(|v| const_number(&Ex::Const(v.clone()))).collect(),
        _ => None,
    }
}

/// Whether a column of type `ty` can be a parameter of that kind.
fn accepts(param: Param, ty: &Ty) -> bool {
    let group = matches!(ty, Ty::Text | Ty::Enum(_) | Ty::Bool | Ty::Int);
    let numeric = matches!(ty, Ty::Int | Ty::Number | Ty::Percent);
    match param {
        Param::Outcome => *ty == Ty::Bool,
        Param::Group | Param::Comparable => group,
        Param::Numeric => numeric,
        Param::Distribution => group || numeric,
        Param::PercentRank | Param::Edges => false,
    }
}

fn arity_words(m: &Metric) -> String {
    let n = |k: usize| if k == 1 { "1 argument".to_string() } else { format!("{k} arguments") };
    if m.required == m.params.len() {
        n(m.required)
    } else {
        format!("{} or {}", m.required, n(m.params.len()))
    }
}
