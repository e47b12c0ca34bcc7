//! Semantic analysis: from parsed files to a checked [`Program`].
//!
//! Declarations are collected across every file first (so order never
//! matters and duplicates are found with both locations), then types are
//! resolved, then every expression is checked and lowered by
//! [`expr::ExprChecker`]. Cycles (between functions, between requirement
//! parents) are found here by depth-first search and reported, never
//! followed. Every problem becomes a diagnostic; checking goes on, so one
//! run reports them all.

mod decls;
pub(crate) mod expr;
mod names;
mod rule_body;
pub mod source_map;

use std::collections::HashMap;

pub(crate) use decls::rule_def;
pub use rule_body::RuleBody;
pub use source_map::{SemanticModel, SourceMap};

use crate::diag::{Anchor, Diagnostic, FileId};
use crate::ir::*;
use crate::syntax::ast;

/// One parsed file, or one piece of a file, handed to the checker.
#[derive(Clone, Copy, Debug)]
pub struct SourceInput<'a> {
    pub file: FileId,
    /// The text the anchors of its items point into.
    pub text: &'a str,
    pub ast: &'a ast::SourceFile,
    /// Where its items are placed in `text`, on top of their own offsets:
    /// a declaration parsed on its own is handed over as it was parsed,
    /// with the place where it is written (no copy of its tree is moved).
    pub offset: u32,
    /// A stdlib module: its rules, functions, scales, matrices, appetite,
    /// risks and objectives give way to the project's of the same name.
    pub stdlib: bool,
}

impl SourceInput<'_> {
    /// Where one of its items is written: the one place an item's anchor
    /// is made.
    pub(crate) fn anchor(&self, item: &ast::Item) -> Anchor {
        Anchor { file: self.file, offset: self.offset + item.offset }
    }
}

/// The checked program, every diagnostic found on the way, and what each
/// name of the policy files resolved to.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
    /// The source maps of the policy files (not of stdlib modules).
    pub model: SemanticModel,
}

/// Checks a set of files as one program.
pub fn check(inputs: &[SourceInput]) -> Checked {
    check_with(inputs, None)
}

/// Where the checker takes a control's or audit rule's checked body from
/// (`None`: it checks the body itself): the declaration's anchor and tree
/// in, the body placed at that anchor out.
pub type RuleHook<'h> = &'h mut dyn FnMut(Anchor, &ast::RuleDecl) -> Option<RuleBody>;

/// Checks a set of files as one program, with rule bodies from `bodies`.
pub fn check_with(inputs: &[SourceInput], bodies: Option<RuleHook>) -> Checked {
    let mut cx = Context::default();
    decls::check_all(&mut cx, inputs, decls::Scope::Program(bodies));
    names::record_declarations(&cx, inputs);
    let mut model = cx.model.into_inner();
    model.finish(inputs);
    Checked { program: cx.program, diagnostics: cx.diags, model }
}

/// What a rule body is checked against: the types, requirements and
/// functions of a set of files (the declarations checked before rules).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signatures(Context, bool);

impl Signatures {
    /// The signatures of a set of files.
    pub fn of(inputs: &[SourceInput]) -> Signatures {
        let mut cx = Context::default();
        decls::check_all(&mut cx, inputs, decls::Scope::Signatures);
        // Their diagnostics are the program's to report, once; what the
        // names resolved to is the program's to record.
        let errors = cx.diags.iter().any(Diagnostic::is_error);
        cx.diags.clear();
        cx.model = source_map::Recorder::default();
        Signatures(cx, errors)
    }

    /// Whether checking them found an error: a rule checked against them
    /// may then hold expressions of an unknown type that report nothing.
    pub fn has_errors(&self) -> bool {
        self.1
    }

    /// The program they make: types, requirements and functions, nothing
    /// after them (spans relative to each declaration).
    pub fn program(&self) -> &Program {
        &self.0.program
    }

    /// The source map of a piece of a policy file holding rules only (a
    /// declaration being typed), each rule checked on its own against
    /// these signatures: what the whole program's check records of that
    /// piece, without checking the rest of the program again. Spans are
    /// relative to the piece's `text`.
    pub fn rules_source_map(&self, file: FileId, text: &str, ast: &ast::SourceFile) -> SourceMap {
        let input = SourceInput { file, text, ast, offset: 0, stdlib: false };
        let model = source_map::Recorder::default();
        for item in &ast.items {
            let (ast::ItemKind::Control(rule) | ast::ItemKind::Audit(rule)) = &item.kind else { continue };
            decls::check_rule_body(&self.0, &model, input.anchor(item), text, rule);
        }
        names::record_items(&self.0, &model, &input);
        let mut model = model.into_inner();
        model.finish(&[input]);
        model.take_file(file).unwrap_or_default()
    }

    /// Checks one control's or audit rule's header and body against these
    /// signatures; spans relative to `anchor`, the source map recorded on
    /// the way (for `anchor`'s file) kept in the body.
    pub fn check_rule(&self, anchor: Anchor, text: &str, rule: &ast::RuleDecl) -> RuleBody {
        let model = source_map::Recorder::default();
        let mut body = decls::check_rule_body(&self.0, &model, anchor, text, rule);
        body.model = std::sync::Arc::new(model.into_inner().take_file(anchor.file).unwrap_or_default());
        body
    }
}

/// An expression checked against a program, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Expression {
    pub ex: Ex,
    pub ty: Ty,
    /// Frame size the expression needs.
    pub slots: u32,
}

/// Checks an expression written on its own (a REPL query) against a
/// program; spans in the diagnostics are relative to `text`, in `file`.
pub fn expression(
    program: &Program,
    file: FileId,
    text: &str,
    expected: Option<&Ty>,
) -> Result<Expression, Vec<Diagnostic>> {
    checked_expression(program, file, text, expected).map(|(expression, _)| expression)
}

/// [`expression`], with the text literals it read as references.
fn checked_expression(
    program: &Program,
    file: FileId,
    text: &str,
    expected: Option<&Ty>,
) -> Result<(Expression, References), Vec<Diagnostic>> {
    let ast = crate::syntax::parse_expr(text)
        .map_err(|errors| errors.iter().map(|e| Diagnostic::from_syntax(file, e)).collect::<Vec<_>>())?;
    let cx = Context::from_program(program);
    let mut ck = expr::ExprChecker::new(&cx, crate::diag::Anchor::start_of(file), text);
    let (ex, ty) = match expected {
        Some(want) => ck.expect(&ast, want, true),
        None => ck.expr(&ast, None),
    };
    let slots = ck.slots();
    let diags = std::mem::take(&mut ck.diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok((Expression { ex, ty, slots }, std::mem::take(&mut ck.references)))
}

/// Text literals read as references to facts: (span in the text, entity, key).
pub type References = Vec<(ast::Span, EntityId, std::sync::Arc<str>)>;

/// A constant typed by a person (a REPL value or record), with where each
/// reference to a fact was written in its text.
#[derive(Clone, Debug)]
pub struct Constant {
    pub value: Value,
    /// Every text literal read as a reference.
    pub references: References,
}

/// A constant of a type, written in the language: `true`, `2026-01-01`,
/// `high`, `"text"`, `"key"` for a reference, `{ field: value, .. }` for a
/// record.
pub fn constant(program: &Program, ty: &Ty, text: &str) -> Result<Constant, Vec<Diagnostic>> {
    let file = FileId(u32::MAX);
    let (checked, references) = checked_expression(program, file, text, Some(ty))?;
    if checked.ty.is_optional() && !ty.is_optional() {
        return Err(vec![Diagnostic::error(crate::diag::Code::UnhandledOptional, "the value may be absent")]);
    }
    let value = const_value(&checked.ex)
        .ok_or_else(|| vec![Diagnostic::error(crate::diag::Code::NotConstant, "expected a constant value")])?;
    Ok(Constant { value, references })
}

/// A whole fact of an entity, written as in a `fact` declaration:
/// `{ id: "x", .. }`, defaults filled in. Returns a `Value::Record` of every
/// field in declaration order.
pub fn fact_record(program: &Program, entity: EntityId, text: &str) -> Result<Constant, Vec<Diagnostic>> {
    let file = FileId(u32::MAX);
    let ast = crate::syntax::parse_expr(text)
        .map_err(|errors| errors.iter().map(|e| Diagnostic::from_syntax(file, e)).collect::<Vec<_>>())?;
    let crate::syntax::ast::ExprKind::Record(fields) = &ast.kind else {
        return Err(vec![Diagnostic::error(
            crate::diag::Code::TypeMismatch,
            "expected a record `{ field: value, .. }`",
        )]);
    };
    let cx = Context::from_program(program);
    let mut ck = expr::ExprChecker::new(&cx, crate::diag::Anchor::start_of(file), text);
    let def = program.entity(entity).clone();
    let (values, ok) = ck.field_values(&def, fields, ast.span);
    if !ok {
        return Err(std::mem::take(&mut ck.diags));
    }
    let values: Option<Vec<Value>> = values.iter().map(const_value).collect();
    let value = values.map(|v| Value::Record(v.into())).ok_or_else(|| {
        vec![Diagnostic::error(crate::diag::Code::NotConstant, "a fact must be written with constants")]
    })?;
    Ok(Constant { value, references: std::mem::take(&mut ck.references) })
}

/// A type that has values named by bare identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeName {
    Enum(EnumId),
    Record(RecordId),
    Entity(EntityId),
    Scale(ScaleId),
    Matrix(MatrixId),
}

/// Everything known so far while checking.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Context {
    pub(crate) program: Program,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) types: HashMap<String, TypeName>,
    pub(crate) fns: HashMap<String, FnId>,
    /// Signatures of functions: parameter types and return type (Error until checked).
    pub(crate) fn_sigs: Vec<(Vec<Ty>, Ty)>,
    /// What each name resolved to, recorded while checking (the
    /// expression checkers record through the shared borrow of the context
    /// they hold).
    pub(crate) model: source_map::Recorder,
}

impl Context {
    /// A context that knows every declaration of a checked program.
    pub(crate) fn from_program(program: &Program) -> Context {
        let mut cx = Context { program: program.clone(), ..Context::default() };
        for (i, e) in program.enums.iter().enumerate() {
            cx.types.insert(e.decl.name.clone(), TypeName::Enum(EnumId(i as u32)));
        }
        for (i, r) in program.records.iter().enumerate() {
            cx.types.insert(r.decl.name.clone(), TypeName::Record(RecordId(i as u32)));
        }
        for (i, e) in program.entities.iter().enumerate() {
            cx.types.insert(e.decl.name.clone(), TypeName::Entity(EntityId(i as u32)));
        }
        for (i, s) in program.scales.iter().enumerate() {
            cx.types.insert(s.decl.name.clone(), TypeName::Scale(ScaleId(i as u32)));
        }
        for (i, m) in program.matrices.iter().enumerate() {
            cx.types.insert(m.decl.name.clone(), TypeName::Matrix(MatrixId(i as u32)));
        }
        for (i, f) in program.fns.iter().enumerate() {
            cx.fns.insert(f.decl.name.clone(), FnId(i as u32));
            cx.fn_sigs.push((f.params.iter().map(|(_, t)| t.clone()).collect(), f.ret.clone()));
        }
        cx
    }

    pub(crate) fn ty_name(&self, ty: &Ty) -> String {
        self.program.ty_name(ty)
    }

    /// The declared name of an enum, scale, matrix, record or entity type
    /// (through `?`).
    pub(crate) fn owner_name(&self, ty: &Ty) -> Option<String> {
        match ty.definite() {
            Ty::Enum(_) | Ty::Scale(_) | Ty::Level(_) | Ty::Record(_) | Ty::Entity(_) => {
                Some(self.program.ty_name(ty.definite()))
            }
            _ => None,
        }
    }

    /// The type a declared type name denotes (not the builtins).
    pub(crate) fn named_type(&self, name: &str) -> Option<Ty> {
        Some(match self.types.get(name)? {
            TypeName::Enum(id) => Ty::Enum(*id),
            TypeName::Record(id) => Ty::Record(*id),
            TypeName::Entity(id) => Ty::Entity(*id),
            TypeName::Scale(id) => Ty::Scale(*id),
            TypeName::Matrix(id) => Ty::Level(*id),
        })
    }

    /// Every value of an enum, scale or matrix named `name`.
    pub(crate) fn variants_named(&self, name: &str) -> Vec<(Value, Ty)> {
        let mut out = Vec::new();
        for (i, e) in self.program.enums.iter().enumerate() {
            if let Some(v) = e.variants.iter().position(|v| v == name) {
                out.push((Value::Enum(EnumId(i as u32), v as u32), Ty::Enum(EnumId(i as u32))));
            }
        }
        for (i, s) in self.program.scales.iter().enumerate() {
            if let Some(v) = s.values.iter().position(|(n, _)| n == name) {
                out.push((Value::Scale(ScaleId(i as u32), v as u32), Ty::Scale(ScaleId(i as u32))));
            }
        }
        for (i, m) in self.program.matrices.iter().enumerate() {
            if let Some(v) = m.levels.iter().position(|l| l.name == name) {
                out.push((Value::Level(MatrixId(i as u32), v as u32), Ty::Level(MatrixId(i as u32))));
            }
        }
        out
    }

    pub(crate) fn all_variant_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.program.enums {
            out.extend(e.variants.iter().cloned());
        }
        for s in &self.program.scales {
            out.extend(s.values.iter().map(|(n, _)| n.clone()));
        }
        for m in &self.program.matrices {
            out.extend(m.levels.iter().map(|l| l.name.clone()));
        }
        out
    }

    pub(crate) fn variant_names(&self, ty: &Ty) -> Vec<String> {
        match ty {
            Ty::Enum(id) => self.program.enums[id.index()].variants.clone(),
            Ty::Scale(id) => self.program.scales[id.index()].values.iter().map(|(n, _)| n.clone()).collect(),
            Ty::Level(id) => self.program.matrices[id.index()].levels.iter().map(|l| l.name.clone()).collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn variant_of(&self, ty: &Ty, name: &str) -> Option<Value> {
        match ty {
            Ty::Enum(id) => self.program.enums[id.index()]
                .variants
                .iter()
                .position(|v| v == name)
                .map(|v| Value::Enum(*id, v as u32)),
            Ty::Scale(id) => self.program.scales[id.index()]
                .values
                .iter()
                .position(|(n, _)| n == name)
                .map(|v| Value::Scale(*id, v as u32)),
            Ty::Level(id) => self.program.matrices[id.index()]
                .levels
                .iter()
                .position(|l| l.name == name)
                .map(|v| Value::Level(*id, v as u32)),
            _ => None,
        }
    }

    pub(crate) fn is_type_name(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    /// The type whose values `Name.variant` names.
    pub(crate) fn value_type(&self, name: &str) -> Option<Ty> {
        match self.types.get(name)? {
            TypeName::Enum(id) => Some(Ty::Enum(*id)),
            TypeName::Scale(id) => Some(Ty::Scale(*id)),
            TypeName::Matrix(id) => Some(Ty::Level(*id)),
            _ => None,
        }
    }

    pub(crate) fn fn_by_name(&self, name: &str) -> Option<FnId> {
        self.fns.get(name).copied()
    }

    pub(crate) fn fn_signature(&self, id: FnId) -> (Vec<Ty>, Ty) {
        self.fn_sigs[id.index()].clone()
    }

    pub(crate) fn fn_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.fns.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The organisation measure named `name` and its type.
    pub(crate) fn organisation_measure(&self, name: &str) -> Option<(MeasureId, Ty)> {
        self.program.measures.iter().enumerate().find_map(|(i, m)| match &m.target {
            MeasureTarget::Organisation { ty } if m.decl.name == name => Some((MeasureId(i as u32), ty.clone())),
            _ => None,
        })
    }

    pub(crate) fn entity_by_name(&self, name: &str) -> Option<EntityId> {
        match self.types.get(name) {
            Some(TypeName::Entity(id)) => Some(*id),
            _ => None,
        }
    }

    pub(crate) fn entity_names(&self) -> Vec<String> {
        self.program.entities.iter().map(|e| e.decl.name.clone()).collect()
    }

    pub(crate) fn type_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.types.keys().cloned().collect();
        names.extend(crate::builtins::TYPES.iter().map(|t| t.name.to_string()));
        names.sort();
        names
    }

    /// Resolves a written type.
    pub(crate) fn resolve_type(&mut self, file: crate::diag::Anchor, ty: &ast::TypeExpr) -> Ty {
        match ty {
            ast::TypeExpr::List { element, optional, .. } => {
                let el = self.resolve_type(file, element);
                let list = Ty::List(Box::new(el));
                if *optional {
                    list.optional()
                } else {
                    list
                }
            }
            ast::TypeExpr::Named { name, optional, .. } => {
                let other = name.name.as_str();
                let base = match crate::builtins::builtin_type(other) {
                    Some(builtin) => builtin.ty.clone(),
                    None => match self.types.get(other) {
                        Some(TypeName::Enum(id)) => Ty::Enum(*id),
                        Some(TypeName::Record(id)) => Ty::Record(*id),
                        Some(TypeName::Entity(id)) => Ty::Entity(*id),
                        Some(TypeName::Scale(id)) => Ty::Scale(*id),
                        Some(TypeName::Matrix(id)) => Ty::Level(*id),
                        None => {
                            let names = self.type_names();
                            let d =
                                Diagnostic::error(crate::diag::Code::UnknownType, format!("unknown type `{other}`"))
                                    .at(file, name.span, "not declared")
                                    .suggest(other, names.iter().map(String::as_str), crate::diag::Quote::Code);
                            self.diags.push(d);
                            Ty::Error
                        }
                    },
                };
                if *optional {
                    base.optional()
                } else {
                    base
                }
            }
        }
    }
}

/// Converts a lowered constant expression to its value.
pub(crate) fn const_value(ex: &Ex) -> Option<Value> {
    match ex {
        Ex::Const(v) => Some(v.clone()),
        Ex::List(items) => {
            let values: Option<Vec<Value>> = items.iter().map(const_value).collect();
            values.map(|v| Value::List(v.into()))
        }
        Ex::Record(items) => {
            let values: Option<Vec<Value>> = items.iter().map(const_value).collect();
            values.map(|v| Value::Record(v.into()))
        }
        _ => None,
    }
}

/// `ImpactSeverity` → `impact_severity`: how a matrix axis is named in a risk.
pub fn axis_name(scale: &str) -> String {
    let mut out = String::new();
    for (i, c) in scale.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
