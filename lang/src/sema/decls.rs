//! Checking declarations, in dependency order: types, scales and matrices,
//! requirements, functions, rules, risks, objectives, exceptions,
//! exclusions, facts and tests.

use std::collections::HashMap;

use super::expr::ExprChecker;
use super::{axis_name, const_value, Context, SourceInput, TypeName};
use crate::diag::{Code, Diagnostic, FileId, FileSpan, Quote};
use crate::ir::*;
use crate::syntax::ast::{self, ItemKind, Severity, Span};

/// An item with the file it came from.
struct At<'a, T> {
    file: FileId,
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
}

pub(super) fn check_all(cx: &mut Context, inputs: &[SourceInput]) {
    let mut items = Items::default();
    for input in inputs {
        for item in &input.ast.items {
            macro_rules! at {
                ($node:expr) => {
                    At {
                        file: input.file,
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
            }
        }
    }
    override_stdlib(&mut items);
    let mut checker = Checker { cx, names: Namespaces::default() };
    checker.types(&items);
    checker.requirements(&items);
    checker.functions(&items);
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
/// `extend` of it (with the file each is written in, and whether it is an
/// extension).
fn struct_fields<'a>(
    s: &At<'a, ast::StructDecl>,
    extends: &'a [At<'a, ast::ExtendDecl>],
) -> Vec<(FileId, &'a ast::FieldDecl, bool)> {
    let own = s.node.fields.iter().map(|f| (s.file, f, false));
    let added = extends
        .iter()
        .filter(|x| x.node.name.name == s.node.name.name)
        .flat_map(|x| x.node.fields.iter().map(move |f| (x.file, f, true)));
    own.chain(added).collect()
}

/// The text of the file an extension is written in.
fn extension_text<'a>(extends: &[At<'a, ast::ExtendDecl>], file: FileId) -> &'a str {
    extends.iter().find(|x| x.file == file).map_or("", |x| x.text)
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

struct Checker<'c> {
    cx: &'c mut Context,
    names: Namespaces,
}

fn decl(file: FileId, span: Span, name: &ast::Ident, docs: Option<&String>) -> Decl {
    Decl {
        name: name.name.clone(),
        span: FileSpan { file, span },
        name_span: FileSpan { file, span: name.span },
        docs: docs.cloned(),
    }
}

impl Checker<'_> {
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
                .at(at.file, at.span, "defined again here")
                .also(first.file, first.span, "first defined here")
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
        file: FileId,
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

    fn checker<'a>(&'a self, file: FileId, text: &'a str) -> ExprChecker<'a> {
        ExprChecker::new(self.cx, file, text)
    }

    fn absorb(&mut self, diags: Vec<Diagnostic>) {
        self.cx.diags.extend(diags);
    }

    // ------------------------------------------------------------ types

    fn types(&mut self, items: &Items) {
        for e in &items.enums {
            let at = FileSpan { file: e.file, span: e.node.name.span };
            if !self.claim(|n| &mut n.types, "type", &e.node.name.name, at) {
                continue;
            }
            let id = EnumId(self.cx.program.enums.len() as u32);
            let mut variants: Vec<String> = Vec::new();
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for v in &e.node.variants {
                if self.repeated(
                    &mut seen,
                    e.file,
                    &v.name,
                    ["variant `{}` is listed twice", "listed again here", "first listed here"],
                ) {
                    continue;
                }
                variants.push(v.name.name.clone());
            }
            for x in items.extends.iter().filter(|x| x.node.name.name == e.node.name.name) {
                for v in &x.node.variants {
                    if variants.contains(&v.name.name) {
                        self.push(
                            Diagnostic::error(Code::Duplicate, format!("variant `{}` is listed twice", v.name.name))
                                .at(x.file, v.name.span, "added again here")
                                .also(e.file, e.node.name.span, "in this enum"),
                        );
                        continue;
                    }
                    variants.push(v.name.name.clone());
                }
                if let Some(f) = x.node.fields.first() {
                    self.push(
                        Diagnostic::error(
                            Code::BadExtend,
                            format!("`{}` is an enum: it has variants, not fields", e.node.name.name),
                        )
                        .at(x.file, f.name.span, "a field")
                        .help(format!("list variants: `extend {} {{ {} }}`", e.node.name.name, f.name.name)),
                    );
                }
            }
            self.cx.types.insert(e.node.name.name.clone(), TypeName::Enum(id));
            self.cx.program.enums.push(EnumDef { decl: decl(e.file, e.span, &e.node.name, e.docs), variants });
        }
        for s in &items.scales {
            let at = FileSpan { file: s.file, span: s.node.name.span };
            if !self.claim(|n| &mut n.types, "type", &s.node.name.name, at) {
                continue;
            }
            let id = ScaleId(self.cx.program.scales.len() as u32);
            self.cx.types.insert(s.node.name.name.clone(), TypeName::Scale(id));
            let mut values: Vec<(String, i64)> = Vec::new();
            for (n, v) in &s.node.values {
                if values.iter().any(|(m, _)| *m == n.name) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("scale value `{}` is listed twice", n.name)).at(
                            s.file,
                            n.span,
                            "listed again here",
                        ),
                    );
                    continue;
                }
                values.push((n.name.clone(), *v));
            }
            if values.is_empty() {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("scale `{}` has no values", s.node.name.name))
                        .at(s.file, s.node.name.span, "empty scale")
                        .help("list its values with their numbers: `rare: 1, likely: 4`"),
                );
            }
            self.cx.program.scales.push(ScaleDef { decl: decl(s.file, s.span, &s.node.name, s.docs), values });
        }
        // Records and entities: names first, so fields may refer to any of them.
        let mut structs = Vec::new();
        for (is_entity, list) in [(false, &items.records), (true, &items.entities)] {
            for s in list.iter() {
                let at = FileSpan { file: s.file, span: s.node.name.span };
                if !self.claim(|n| &mut n.types, "type", &s.node.name.name, at) {
                    continue;
                }
                let def = StructDef { decl: decl(s.file, s.span, &s.node.name, s.docs), fields: Vec::new(), key: None };
                let name = s.node.name.name.clone();
                if is_entity {
                    let id = EntityId(self.cx.program.entities.len() as u32);
                    self.cx.types.insert(name, TypeName::Entity(id));
                    self.cx.program.entities.push(def);
                    structs.push((TypeName::Entity(id), *s));
                } else {
                    let id = RecordId(self.cx.program.records.len() as u32);
                    self.cx.types.insert(name, TypeName::Record(id));
                    self.cx.program.records.push(def);
                    structs.push((TypeName::Record(id), *s));
                }
            }
        }
        self.matrices(items);
        self.extend_targets(items);
        for (id, s) in &structs {
            let mut fields = Vec::new();
            let mut key = None;
            let mut seen: HashMap<&str, FileSpan> = HashMap::new();
            for (file, f, extension) in struct_fields(s, &items.extends) {
                if let Some(first) = seen.get(f.name.name.as_str()) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("field `{}` is declared twice", f.name.name))
                            .at(file, f.name.span, "declared again here")
                            .also(first.file, first.span, "first declared here"),
                    );
                    continue;
                }
                seen.insert(&f.name.name, FileSpan { file, span: f.name.span });
                if extension && f.is_key {
                    self.push(
                        Diagnostic::error(Code::BadExtend, "an extension cannot change the key")
                            .at(file, f.name.span, "`key` in an `extend`")
                            .help("the key is the one of the declaration being extended"),
                    );
                    continue;
                }
                let ty = self.cx.resolve_type(file, &f.ty);
                if f.is_key {
                    match id {
                        TypeName::Record(_) => {
                            self.push(
                                Diagnostic::error(Code::BadKey, "a record has no key")
                                    .at(file, f.name.span, "`key` on a record field")
                                    .help("records are values without identity; make it an `entity` to give it a key"),
                            );
                        }
                        _ if key.is_some() => {
                            self.push(
                                Diagnostic::error(
                                    Code::BadKey,
                                    format!("entity `{}` has more than one key", s.node.name.name),
                                )
                                .at(file, f.name.span, "second key")
                                .help("an entity is identified by exactly one key field"),
                            );
                        }
                        _ if !matches!(ty, Ty::Text | Ty::Int | Ty::Error) => {
                            let name = self.cx.ty_name(&ty);
                            self.push(
                                Diagnostic::error(
                                    Code::BadKey,
                                    format!("a key must be `Text` or `Int`, found `{name}`"),
                                )
                                .at(file, f.ty.span(), "not a key type"),
                            );
                        }
                        _ => key = Some(fields.len() as u32),
                    }
                }
                fields.push(FieldDef {
                    name: f.name.name.clone(),
                    ty,
                    default: None,
                    span: FileSpan { file, span: f.name.span },
                    docs: f.docs.clone(),
                });
            }
            match id {
                TypeName::Entity(e) => {
                    let def = &mut self.cx.program.entities[e.index()];
                    def.fields = fields;
                    def.key = key;
                }
                TypeName::Record(r) => self.cx.program.records[r.index()].fields = fields,
                _ => {}
            }
        }
        // Defaults are constants of the field's type; enums are known now.
        for (id, s) in &structs {
            for (file, f, _) in struct_fields(s, &items.extends) {
                let Some(default) = &f.default else { continue };
                let def = match id {
                    TypeName::Entity(e) => &self.cx.program.entities[e.index()],
                    TypeName::Record(r) => &self.cx.program.records[r.index()],
                    _ => continue,
                };
                let Some((index, field)) = def.field(&f.name.name) else { continue };
                let want = field.ty.clone();
                let text = if file == s.file { s.text } else { extension_text(&items.extends, file) };
                let mut ck = self.checker(file, text);
                let (ex, ty) = ck.expect(default, &want, false);
                let diags = std::mem::take(&mut ck.diags);
                self.absorb(diags);
                if ty == Ty::Error {
                    continue;
                }
                match const_value(&ex) {
                    Some(v) => match id {
                        TypeName::Entity(e) => {
                            self.cx.program.entities[e.index()].fields[index as usize].default = Some(v)
                        }
                        TypeName::Record(r) => {
                            self.cx.program.records[r.index()].fields[index as usize].default = Some(v)
                        }
                        _ => {}
                    },
                    None => self.push(
                        Diagnostic::error(Code::NotConstant, "a default must be a constant")
                            .at(file, default.span, "computed value")
                            .help("write a literal, a variant or a list of them"),
                    ),
                }
            }
        }
    }

    /// `extend`s whose target is not an enum, record or entity.
    fn extend_targets(&mut self, items: &Items) {
        for x in &items.extends {
            let name = &x.node.name.name;
            match self.cx.types.get(name) {
                Some(TypeName::Enum(_) | TypeName::Entity(_) | TypeName::Record(_)) => {}
                Some(_) => self.push(
                    Diagnostic::error(Code::BadExtend, format!("`{name}` cannot be extended"))
                        .at(x.file, x.node.name.span, "not an enum, record or entity")
                        .help("redeclare a scale or matrix of the same name to replace the stdlib's"),
                ),
                None => {
                    let names: Vec<&str> = self.cx.types.keys().map(String::as_str).collect();
                    let d = Diagnostic::error(Code::UnknownType, format!("unknown type `{name}`"))
                        .at(x.file, x.node.name.span, "nothing of this name to extend")
                        .suggest(name, names, Quote::Code);
                    self.push(d);
                }
            }
        }
    }

    fn matrices(&mut self, items: &Items) {
        for m in &items.matrices {
            let at = FileSpan { file: m.file, span: m.node.name.span };
            if !self.claim(|n| &mut n.types, "type", &m.node.name.name, at) {
                continue;
            }
            let mut axes = Vec::new();
            let (mut min_score, mut max_score) = (1i64, 1i64);
            let mut axes_ok = true;
            for axis in &m.node.axes {
                match self.cx.types.get(&axis.name) {
                    Some(TypeName::Scale(id)) => {
                        let values = &self.cx.program.scales[id.index()].values;
                        let lo = values.iter().map(|(_, v)| *v).min().unwrap_or(0);
                        let hi = values.iter().map(|(_, v)| *v).max().unwrap_or(0);
                        min_score = min_score.saturating_mul(lo);
                        max_score = max_score.saturating_mul(hi);
                        axes.push(*id);
                    }
                    _ => {
                        axes_ok = false;
                        let scales: Vec<&str> = self.cx.program.scales.iter().map(|s| s.decl.name.as_str()).collect();
                        let d = Diagnostic::error(Code::UnknownType, format!("unknown scale `{}`", axis.name))
                            .at(m.file, axis.span, "not a scale")
                            .suggest(&axis.name, scales.iter().copied(), Quote::Code);
                        self.push(d);
                    }
                }
            }
            let mut levels: Vec<&ast::LevelDecl> = Vec::new();
            for level in &m.node.levels {
                if levels.iter().any(|l| l.name.name == level.name.name) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("level `{}` is listed twice", level.name.name)).at(
                            m.file,
                            level.name.span,
                            "listed again here",
                        ),
                    );
                    continue;
                }
                levels.push(level);
            }
            if levels.is_empty() {
                self.push(
                    Diagnostic::error(Code::BadMatrix, format!("matrix `{}` has no levels", m.node.name.name))
                        .at(m.file, m.node.name.span, "no levels")
                        .help("name the levels and their score ranges: `low: 1..4, medium: 5..9, ..`"),
                );
            }
            levels.sort_by_key(|l| (l.low, l.high));
            let mut expected_low = min_score;
            for (position, level) in levels.iter().enumerate() {
                if level.low > level.high {
                    self.push(Diagnostic::error(Code::BadMatrix, format!("level `{}` is empty", level.name.name)).at(
                        m.file,
                        level.span,
                        format!("{} is above {}", level.low, level.high),
                    ));
                    continue;
                }
                // The lowest level may start below the lowest possible score.
                let starts_right = if position == 0 { level.low <= expected_low } else { level.low == expected_low };
                if axes_ok && !starts_right {
                    let message = if level.low > expected_low {
                        format!("scores {}..{} fall in no level", expected_low, level.low - 1)
                    } else {
                        format!("level `{}` overlaps the level below it", level.name.name)
                    };
                    self.push(
                        Diagnostic::error(Code::BadMatrix, message)
                            .at(m.file, level.span, "here")
                            .help("levels must cover every score from the lowest to the highest product, once"),
                    );
                }
                expected_low = level.high.saturating_add(1);
            }
            if axes_ok && !levels.is_empty() && expected_low <= max_score {
                self.push(
                    Diagnostic::error(
                        Code::BadMatrix,
                        format!(
                            "the levels of `{}` end at {}, but scores reach {max_score}",
                            m.node.name.name,
                            expected_low - 1
                        ),
                    )
                    .at(m.file, m.node.name.span, "incomplete levels"),
                );
            }
            let id = MatrixId(self.cx.program.matrices.len() as u32);
            self.cx.types.insert(m.node.name.name.clone(), TypeName::Matrix(id));
            self.cx.program.matrices.push(MatrixDef {
                decl: decl(m.file, m.span, &m.node.name, m.docs),
                axes,
                levels: levels
                    .iter()
                    .map(|l| LevelDef { name: l.name.name.clone(), low: l.low, high: l.high })
                    .collect(),
                appetite: None,
            });
        }
        let mut first: Option<FileSpan> = None;
        for a in &items.appetites {
            let here = FileSpan { file: a.file, span: a.span };
            if let Some(prev) = first {
                self.push(
                    Diagnostic::error(Code::Duplicate, "the risk appetite is declared twice")
                        .at(a.file, a.span, "declared again here")
                        .also(prev.file, prev.span, "first declared here"),
                );
                continue;
            }
            first = Some(here);
            let matrix = match &a.node.matrix {
                Some(name) => match self.cx.types.get(&name.name) {
                    Some(TypeName::Matrix(id)) => Some(*id),
                    _ => {
                        self.push(Diagnostic::error(Code::UnknownType, format!("unknown matrix `{}`", name.name)).at(
                            a.file,
                            name.span,
                            "not a matrix",
                        ));
                        continue;
                    }
                },
                None if self.cx.program.matrices.len() == 1 => Some(MatrixId(0)),
                None if self.cx.program.matrices.is_empty() => {
                    self.push(
                        Diagnostic::error(Code::MissingPart, "an appetite needs a risk matrix")
                            .at(a.file, a.span, "no matrix is declared")
                            .help("declare `matrix RiskLevel = Likelihood * Impact { .. }`"),
                    );
                    continue;
                }
                None => {
                    self.push(
                        Diagnostic::error(Code::MissingPart, "several matrices are declared: name one")
                            .at(a.file, a.span, "which matrix?")
                            .help("write `appetite RiskLevel.medium`"),
                    );
                    continue;
                }
            };
            let Some(matrix) = matrix else { continue };
            let def = &self.cx.program.matrices[matrix.index()];
            match def.levels.iter().position(|l| l.name == a.node.level.name) {
                Some(i) => self.cx.program.matrices[matrix.index()].appetite = Some(i as u32),
                None => {
                    let names: Vec<&str> = def.levels.iter().map(|l| l.name.as_str()).collect();
                    let d = Diagnostic::error(
                        Code::UnknownVariant,
                        format!("`{}` has no level `{}`", def.decl.name, a.node.level.name),
                    )
                    .at(a.file, a.node.level.span, "no such level")
                    .suggest_or(
                        &a.node.level.name,
                        names.iter().copied(),
                        Quote::Code,
                        format!("the levels are: {}", names.join(", ")),
                    );
                    self.push(d);
                }
            }
        }
    }

    // ------------------------------------------------------------ requirements

    fn requirements(&mut self, items: &Items) {
        for r in &items.requirements {
            let at = FileSpan { file: r.file, span: r.node.id.span };
            if !self.claim(|n| &mut n.requirements, "requirement", &r.node.id.id, at) {
                continue;
            }
            self.cx.program.requirements.push(RequirementDef {
                id: r.node.id.id.clone(),
                title: r.node.title.value.clone(),
                parent: r.node.parent.as_ref().map(|p| p.id.clone()),
                span: FileSpan { file: r.file, span: r.span },
                docs: r.docs.cloned(),
            });
        }
        let index: HashMap<String, usize> =
            self.cx.program.requirements.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        for r in &items.requirements {
            let Some(parent) = &r.node.parent else { continue };
            if !index.contains_key(&parent.id) {
                self.unknown_requirement(r.file, parent);
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
                        .at(first.span.file, first.span.span, "part of the cycle");
                        for &i in &cycle[1..] {
                            d = d.also(reqs[i].span.file, reqs[i].span.span, "part of the cycle");
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

    fn unknown_requirement(&mut self, file: FileId, r: &ast::ReqRef) {
        let ids: Vec<&str> = self.cx.program.requirements.iter().map(|r| r.id.as_str()).collect();
        let otherwise = if ids.is_empty() {
            "no requirement is declared; add `use iso42001` to load the ISO/IEC 42001 catalogue"
        } else {
            "declare it with `requirement ID \"title\"`, or check the identifier"
        };
        let d = Diagnostic::error(Code::UnknownRequirement, format!("unknown requirement `{}`", r.id))
            .at(file, r.span, "no such requirement")
            .suggest_or(&r.id, ids.iter().copied(), Quote::Code, otherwise);
        self.push(d);
    }

    fn check_requirements(&mut self, file: FileId, refs: &[ast::ReqRef]) -> Vec<String> {
        let mut out = Vec::new();
        for r in refs {
            if self.cx.program.requirement(&r.id).is_some() {
                out.push(r.id.clone());
            } else {
                self.unknown_requirement(file, r);
            }
        }
        out
    }

    // ------------------------------------------------------------ functions

    fn functions(&mut self, items: &Items) {
        let mut checked = Vec::new();
        for f in &items.fns {
            let at = FileSpan { file: f.file, span: f.node.name.span };
            if !self.claim(|n| &mut n.fns, "function", &f.node.name.name, at) {
                continue;
            }
            let params: Vec<Ty> = f.node.params.iter().map(|(_, t)| self.cx.resolve_type(f.file, t)).collect();
            let id = FnId(self.cx.program.fns.len() as u32);
            self.cx.fns.insert(f.node.name.name.clone(), id);
            self.cx.fn_sigs.push((params.clone(), Ty::Error));
            self.cx.program.fns.push(FnDef {
                decl: decl(f.file, f.span, &f.node.name, f.docs),
                params: f.node.params.iter().map(|(n, _)| n.name.clone()).zip(params).collect(),
                ret: Ty::Error,
                body: Ex::Const(Value::Bool(false)),
                slots: 0,
                decides_on_absent: None,
            });
            checked.push(*f);
        }
        // Calls between functions, by name; a cycle is reported and its
        // members are left untyped (their callers get no cascade of errors).
        let n = checked.len();
        let calls: Vec<Vec<usize>> = checked
            .iter()
            .map(|f| {
                let mut names = Vec::new();
                called_names(&f.node.body, &mut names);
                let mut targets: Vec<usize> =
                    names.iter().filter_map(|c| self.cx.fns.get(c).map(|id| id.index())).collect();
                targets.sort_unstable();
                targets.dedup();
                targets
            })
            .collect();
        let order = topological(n, &calls);
        for cycle in &order.cycles {
            let names: Vec<String> = cycle.iter().map(|&i| format!("`{}`", checked[i].node.name.name)).collect();
            let first = checked[cycle[0]];
            let mut d = Diagnostic::error(
                Code::Cycle,
                format!("functions call each other in a cycle: {} → {}", names.join(" → "), names[0]),
            )
            .at(first.file, first.node.name.span, "part of the cycle")
            .help("the language is total: a function may not call itself, directly or through others");
            for &i in &cycle[1..] {
                d = d.also(checked[i].file, checked[i].node.name.span, "part of the cycle");
            }
            self.push(d);
        }
        for i in order.order {
            let f = checked[i];
            let id = FnId(i as u32);
            let params = self.cx.program.fns[i].params.clone();
            let mut ck = self.checker(f.file, f.text);
            for (name, ty) in &params {
                ck.bind(name, ty.clone());
            }
            let (body, ret) = ck.expr(&f.node.body, None);
            let decides_on_absent = ck.decided_on_absent.first().map(|(_, path)| path.clone());
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            self.cx.fn_sigs[id.index()].1 = ret.clone();
            let def = &mut self.cx.program.fns[i];
            def.ret = ret;
            def.body = body;
            def.slots = slots;
            def.decides_on_absent = decides_on_absent;
        }
    }

    // ------------------------------------------------------------ rules

    fn misplaced(&mut self, file: FileId, header: &ast::RuleHeader, what: &str, forbidden: &[&str]) {
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

    fn rules(&mut self, items: &Items) {
        // Names first: risks and exceptions refer to rules by name.
        let mut accepted = Vec::new();
        for (kind, r) in &items.rules {
            let at = FileSpan { file: r.file, span: r.node.name.span };
            if self.claim(|n| &mut n.rules, "rule", &r.node.name.name, at) {
                accepted.push((*kind, *r));
            }
        }
        for (kind, r) in accepted {
            let what = if kind == RuleKind::Control { "a control" } else { "an audit rule" };
            let _ = what;
            let implements = self.check_requirements(r.file, &r.node.header.implements);
            let clauses = self.check_requirements(r.file, &r.node.header.clauses);
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, r.file, r.text);
            let subject = match &r.node.header.subject {
                Some(s) => {
                    let sub = self.subject_with(&mut ck, s);
                    if sub.is_none() {
                        let diags = std::mem::take(&mut ck.diags);
                        self.absorb(diags);
                        continue;
                    }
                    sub
                }
                None => None,
            };
            let steps = body_steps(&mut ck, &r.node.body, r.text, r.file);
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            let default_severity = Severity::Minor;
            self.cx.program.rules.push(RuleDef {
                decl: decl(r.file, r.span, &r.node.name, r.docs),
                kind,
                title: r.node.title.as_ref().map(|t| t.value.clone()),
                severity: r.node.header.severity.map(|(s, _)| s).unwrap_or(default_severity),
                implements,
                clauses,
                owner: r.node.header.owner.as_ref().map(|t| t.value.clone()),
                subject,
                steps,
                slots,
            });
        }
    }

    fn subject_with(&self, ck: &mut ExprChecker, s: &ast::Subject) -> Option<SubjectDef> {
        // `subject` only reads the context; a shared borrow is enough.
        let this = CheckerRef { cx: self.cx };
        this.subject(ck, s)
    }

    fn risks(&mut self, items: &Items) {
        for r in &items.risks {
            let at = FileSpan { file: r.file, span: r.node.name.span };
            if !self.claim(|n| &mut n.rules, "rule", &r.node.name.name, at) {
                continue;
            }
            self.misplaced(r.file, &r.node.header, "a risk", &["implements"]);
            let axis_names: Vec<&str> = r.node.axes.iter().map(|(a, _)| a.name.as_str()).collect();
            let matrix = match self.cx.program.matrices.len() {
                0 => {
                    self.push(
                        Diagnostic::error(
                            Code::MissingPart,
                            format!("risk `{}` needs a risk matrix", r.node.name.name),
                        )
                        .at(r.file, r.node.name.span, "no matrix is declared")
                        .help("declare scales and `matrix RiskLevel = Likelihood * Impact { .. }`"),
                    );
                    continue;
                }
                1 => MatrixId(0),
                _ => {
                    let found = self.cx.program.matrices.iter().position(|m| {
                        m.axes.iter().all(|s| {
                            axis_names.contains(&axis_name(&self.cx.program.scales[s.index()].decl.name).as_str())
                        })
                    });
                    match found {
                        Some(i) => MatrixId(i as u32),
                        None => {
                            self.push(Diagnostic::error(Code::MissingPart, "no matrix has exactly these axes").at(
                                r.file,
                                r.node.name.span,
                                "which matrix?",
                            ));
                            continue;
                        }
                    }
                }
            };
            let mdef = self.cx.program.matrices[matrix.index()].clone();
            let scale_axes: Vec<(String, ScaleId)> =
                mdef.axes.iter().map(|s| (axis_name(&self.cx.program.scales[s.index()].decl.name), *s)).collect();
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, r.file, r.text);
            let subject = match &r.node.header.subject {
                Some(s) => match self.subject_with(&mut ck, s) {
                    Some(sub) => Some(sub),
                    None => {
                        let diags = std::mem::take(&mut ck.diags);
                        self.absorb(diags);
                        continue;
                    }
                },
                None => None,
            };
            let mut lets = Vec::new();
            for stmt in &r.node.lets {
                if let ast::Stmt::Let { name, value, .. } = stmt {
                    let (ex, ty) = ck.expr(value, None);
                    let slot = ck.bind(&name.name, ty);
                    lets.push((slot, ex));
                }
            }
            let mut axes: Vec<Option<Ex>> = vec![None; scale_axes.len()];
            let mut residual: Vec<Option<Ex>> = vec![None; scale_axes.len()];
            let mut problems = Vec::new();
            for (is_residual, list) in [(false, &r.node.axes), (true, &r.node.residual)] {
                for (axis, value) in list {
                    match scale_axes.iter().position(|(n, _)| *n == axis.name) {
                        Some(i) => {
                            let (ex, _) = ck.expect(value, &Ty::Scale(scale_axes[i].1), true);
                            let slot = if is_residual { &mut residual[i] } else { &mut axes[i] };
                            if slot.is_some() {
                                problems.push(
                                    Diagnostic::error(Code::Duplicate, format!("axis `{}` is given twice", axis.name))
                                        .at(r.file, axis.span, "again here"),
                                );
                            }
                            *slot = Some(ex);
                        }
                        None => {
                            let names: Vec<&str> = scale_axes.iter().map(|(n, _)| n.as_str()).collect();
                            let d = Diagnostic::error(
                                Code::UnknownName,
                                format!("`{}` is not an axis of `{}`", axis.name, mdef.decl.name),
                            )
                            .at(r.file, axis.span, "unknown axis")
                            .suggest_or(
                                &axis.name,
                                names.iter().copied(),
                                Quote::Code,
                                format!("the axes are: {}", names.join(", ")),
                            );
                            problems.push(d);
                        }
                    }
                }
            }
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            self.cx.diags.extend(problems);
            let mut complete = true;
            for (i, (name, _)) in scale_axes.iter().enumerate() {
                if axes[i].is_none() {
                    complete = false;
                    self.push(
                        Diagnostic::error(Code::MissingPart, format!("risk `{}` gives no `{name}`", r.node.name.name))
                            .at(r.file, r.node.name.span, format!("`{name}` is missing"))
                            .help(format!("add `{name}: <value>` to the risk's body")),
                    );
                }
            }
            let mut treated_by = Vec::new();
            for c in &r.node.treated_by {
                if let Some(id) = self.rule_ref(r.file, c) {
                    let rule = &self.cx.program.rules[id.index()];
                    let same_subject = match (&rule.subject, &subject) {
                        (Some(a), Some(b)) => a.entity == b.entity,
                        (None, _) => true,
                        (Some(_), None) => false,
                    };
                    if !same_subject {
                        self.push(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("control `{}` is not about the risk's subject", c.name),
                            )
                            .at(r.file, c.span, "applies to another entity")
                            .also(
                                rule.decl.name_span.file,
                                rule.decl.name_span.span,
                                "declared here",
                            ),
                        );
                    } else {
                        treated_by.push(id);
                    }
                }
            }
            if !complete {
                continue;
            }
            self.cx.program.risks.push(RiskDef {
                decl: decl(r.file, r.span, &r.node.name, r.docs),
                title: r.node.title.as_ref().map(|t| t.value.clone()),
                severity: r.node.header.severity.map(|(s, _)| s).unwrap_or(Severity::Major),
                owner: r.node.header.owner.as_ref().map(|t| t.value.clone()),
                subject,
                lets,
                matrix,
                axes: axes.into_iter().flatten().collect(),
                residual,
                treated_by,
                slots,
            });
        }
    }

    fn appetite_warning(&mut self, items: &Items) {
        let Some(first) = items.risks.first() else { return };
        if self.cx.program.matrices.iter().any(|m| m.appetite.is_some()) || self.cx.program.matrices.is_empty() {
            return;
        }
        self.push(
            Diagnostic::warning(Code::NoAppetite, "risks are declared but no risk appetite is")
                .at(first.file, first.node.name.span, "this risk can never be above appetite")
                .note("without an appetite no risk becomes a finding, however high it is")
                .help("declare the highest acceptable level: `appetite medium`"),
        );
    }

    fn rule_ref(&mut self, file: FileId, name: &ast::Ident) -> Option<RuleId> {
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

    fn objectives(&mut self, items: &Items) {
        for o in &items.objectives {
            let at = FileSpan { file: o.file, span: o.node.name.span };
            if !self.claim(|n| &mut n.rules, "rule", &o.node.name.name, at) {
                continue;
            }
            self.misplaced(o.file, &o.node.header, "an objective", &["implements", "for"]);
            let clauses = self.check_requirements(o.file, &o.node.header.clauses);
            let name = &o.node.name.name;
            let mut parts_ok = true;
            for (what, count) in [("measure", o.node.measures.len()), ("target", o.node.targets.len())] {
                if count == 0 {
                    parts_ok = false;
                    self.push(
                        Diagnostic::error(Code::MissingPart, format!("objective `{name}` has no `{what}`"))
                            .at(o.file, o.node.name.span, format!("`{what}` is missing"))
                            .help(match what {
                                "measure" => "add `measure <expression>`: what is measured",
                                _ => "add `target <= VALUE by DATE`",
                            }),
                    );
                }
            }
            for (what, spans) in [
                ("measure", o.node.measures.iter().map(|m| m.span).collect::<Vec<_>>()),
                ("target", o.node.targets.iter().map(|t| t.span).collect()),
                ("baseline", o.node.baselines.iter().map(|b| b.2).collect()),
                ("history", o.node.histories.iter().map(|h| h.span).collect()),
            ] {
                for span in spans.iter().skip(1) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("objective `{name}` has more than one `{what}`"))
                            .at(o.file, *span, "again here")
                            .also(o.file, spans[0], "first here"),
                    );
                }
            }
            if !parts_ok {
                continue;
            }
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, o.file, o.text);
            let (measure, mt) = ck.expect(&o.node.measures[0], &Ty::Number, true);
            let _ = mt;
            let number =
                |ck: &mut ExprChecker, e: &ast::Expr| -> Option<crate::num::Decimal> {
                    let (ex, ty) = ck.expect(e, &Ty::Number, false);
                    if ty == Ty::Error {
                        return None;
                    }
                    match const_value(&ex).and_then(|v| v.as_decimal()) {
                        Some(n) => Some(n),
                        None => {
                            ck.diags.push(
                                Diagnostic::error(Code::NotConstant, "a baseline or target must be a constant number")
                                    .at(ck_file(ck), e.span, "computed value"),
                            );
                            None
                        }
                    }
                };
            let baseline = o.node.baselines.first().and_then(|(v, d, _)| number(&mut ck, v).map(|n| (n, *d)));
            let t = &o.node.targets[0];
            let target = number(&mut ck, &t.value).map(|n| (t.op, n, t.deadline));
            let history = o.node.histories.first().map(|h| {
                let (source, element, _) = ck.binder_source(&h.binder);
                let slot = ck.bind(&h.binder.var.name, element);
                let filter = h.filter.as_ref().map(|f| ck.expect(f, &Ty::Bool, true).0);
                let (value, _) = ck.expect(&h.value, &Ty::Number, true);
                let (date, _) = ck.expect(&h.date, &Ty::Date, true);
                HistoryDef { slot, source, filter, value, date }
            });
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            let failed = diags.iter().any(Diagnostic::is_error);
            self.absorb(diags);
            let Some(target) = target else { continue };
            if failed {
                continue;
            }
            self.cx.program.objectives.push(ObjectiveDef {
                decl: decl(o.file, o.span, &o.node.name, o.docs),
                title: o.node.title.as_ref().map(|t| t.value.clone()),
                severity: o.node.header.severity.map(|(s, _)| s).unwrap_or(Severity::Minor),
                owner: o.node.header.owner.as_ref().map(|t| t.value.clone()),
                clauses,
                measure,
                baseline,
                target,
                history,
                slots,
            });
        }
    }

    fn exceptions(&mut self, items: &Items) {
        for e in &items.exceptions {
            let at = FileSpan { file: e.file, span: e.node.name.span };
            if !self.claim(|n| &mut n.exceptions, "exception", &e.node.name.name, at) {
                continue;
            }
            let name = &e.node.name.name;
            let Some(waives) = &e.node.waives else {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("exception `{name}` waives nothing"))
                        .at(e.file, e.node.name.span, "no `waives`")
                        .help("add `waives CONTROL for Entity \"key\"`"),
                );
                continue;
            };
            let Some(rule) = self.rule_ref(e.file, waives) else { continue };
            let Some((until, _)) = e.node.until else {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("exception `{name}` never expires"))
                        .at(e.file, e.node.name.span, "no `until`")
                        .note("a waiver without an end date is a permanent gap")
                        .help("add `until YYYY-MM-DD`"),
                );
                continue;
            };
            if e.node.approved_by.is_none() {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("exception `{name}` has no approver"))
                        .at(e.file, e.node.name.span, "no `approved by`")
                        .help("add `approved by \"ROLE\"`"),
                );
                continue;
            }
            let rule_def = &self.cx.program.rules[rule.index()];
            let target =
                match (&rule_def.subject, &e.node.target) {
                    (Some(subject), Some((entity, key))) => {
                        let wanted = &self.cx.program.entities[subject.entity.index()].decl.name;
                        if *wanted != entity.name {
                            let d = Diagnostic::error(
                                Code::TypeMismatch,
                                format!("`{}` applies to `{wanted}`, not `{}`", waives.name, entity.name),
                            )
                            .at(e.file, entity.span, format!("expected `{wanted}`"));
                            self.push(d);
                            continue;
                        }
                        Some((subject.entity, key.value.clone(), FileSpan { file: e.file, span: key.span }))
                    }
                    (Some(subject), None) => {
                        let wanted = self.cx.program.entities[subject.entity.index()].decl.name.clone();
                        self.push(
                            Diagnostic::error(
                                Code::MissingPart,
                                format!("exception `{name}` must name the `{wanted}` it waives"),
                            )
                            .at(e.file, waives.span, "which one?")
                            .help(format!("write `waives {} for {wanted} \"key\"`", waives.name)),
                        );
                        continue;
                    }
                    (None, Some((entity, _))) => {
                        self.push(
                            Diagnostic::error(Code::TypeMismatch, format!("`{}` applies to no entity", waives.name))
                                .at(e.file, entity.span, "remove this"),
                        );
                        continue;
                    }
                    (None, None) => None,
                };
            self.cx.program.exceptions.push(ExceptionDef {
                decl: decl(e.file, e.span, &e.node.name, e.docs),
                rule,
                target,
                until,
                approved_by: e.node.approved_by.as_ref().map(|t| t.value.clone()),
                because: e.node.because.as_ref().map(|t| t.value.clone()),
            });
        }
    }

    fn excludes(&mut self, items: &Items) {
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
                    span: FileSpan { file: x.file, span: x.span },
                });
            }
        }
    }

    /// W0002: every ISO/IEC 42001 Annex A control must be implemented by
    /// some rule or excluded with a justification (clause 6.1.3), or the
    /// Statement of Applicability has a gap. Reported at the project's
    /// `use` that loaded the catalogue.
    fn unaddressed_controls(&mut self, inputs: &[SourceInput]) {
        let Some((file, span)) = inputs.iter().filter(|i| !i.stdlib).find_map(|i| {
            i.ast.items.iter().find_map(|item| match &item.kind {
                ItemKind::Use(u)
                    if ["iso42001", "nist_ai_rmf", "eu_ai_act", "aims"]
                        .iter()
                        .any(|m| u.path == *m || u.path.starts_with(&format!("{m}."))) =>
                {
                    Some((i.file, u.span))
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

    fn maps(&mut self, items: &Items) {
        for m in &items.maps {
            let from = self.check_requirements(m.file, std::slice::from_ref(&m.node.from));
            let to = self.check_requirements(m.file, &m.node.to);
            if let (Some(from), false) = (from.into_iter().next(), to.is_empty()) {
                self.cx.program.maps.push(MapDef { from, to, span: FileSpan { file: m.file, span: m.span } });
            }
        }
    }

    // ------------------------------------------------------------ facts and tests

    fn fact(&mut self, file: FileId, text: &str, f: &ast::FactDecl) -> Option<FactDef> {
        let Some(entity) = self.cx.entity_by_name(&f.entity.name) else {
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, file, text);
            ck.unknown_type(&f.entity, true);
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            return None;
        };
        let def = self.cx.program.entities[entity.index()].clone();
        let cx: &Context = self.cx;
        let mut ck = ExprChecker::new(cx, file, text);
        let (values, ok) = ck.field_values(&def, &f.fields, f.body_span);
        let diags = std::mem::take(&mut ck.diags);
        self.absorb(diags);
        if !ok {
            return None;
        }
        let mut out = Vec::with_capacity(values.len());
        for (ex, init) in values.iter().zip(def.fields.iter()) {
            match const_value(ex) {
                Some(v) => out.push(v),
                None => {
                    let span = f.fields.iter().find(|i| i.name.name == init.name).map_or(f.body_span, |i| i.value.span);
                    self.push(Diagnostic::error(Code::NotConstant, "a fact must be written with constants").at(
                        file,
                        span,
                        "computed value",
                    ));
                    return None;
                }
            }
        }
        Some(FactDef { entity, values: out, span: FileSpan { file, span: f.body_span } })
    }

    fn facts(&mut self, items: &Items) {
        for f in &items.facts {
            if let Some(fact) = self.fact(f.file, f.text, f.node) {
                self.cx.program.facts.push(fact);
            }
        }
    }

    fn tests(&mut self, items: &Items) {
        for t in &items.tests {
            let at = FileSpan { file: t.file, span: t.node.name.span };
            if !self.claim(|n| &mut n.tests, "test", &t.node.name.value, at) {
                continue;
            }
            let given: Vec<FactDef> = t.node.given.iter().filter_map(|g| self.fact(t.file, t.text, g)).collect();
            let mut expects = Vec::new();
            for e in &t.node.expects {
                match e {
                    ast::Expectation::Outcome { rule, outcome, entity, span } => {
                        let Some(id) = self.rule_ref(t.file, rule) else { continue };
                        let kind = match outcome.name.as_str() {
                            "passes" => OutcomeKind::Pass,
                            "fails" => OutcomeKind::Fail,
                            "waived" => OutcomeKind::Waived,
                            _ => OutcomeKind::NotApplicable,
                        };
                        expects.push(ExpectDef::Outcome {
                            rule: id,
                            outcome: kind,
                            entity: entity.as_ref().map(|e| e.value.clone()),
                            span: FileSpan { file: t.file, span: *span },
                        });
                    }
                    ast::Expectation::Risk { risk, entity, level, span } => {
                        let Some(index) = self.cx.program.risks.iter().position(|r| r.decl.name == risk.name) else {
                            self.push(
                                Diagnostic::error(Code::UnknownRule, format!("unknown risk `{}`", risk.name)).at(
                                    t.file,
                                    risk.span,
                                    "no such risk",
                                ),
                            );
                            continue;
                        };
                        let matrix = &self.cx.program.matrices[self.cx.program.risks[index].matrix.index()];
                        let Some(l) = matrix.levels.iter().position(|l| l.name == level.name) else {
                            let names: Vec<&str> = matrix.levels.iter().map(|l| l.name.as_str()).collect();
                            let d = Diagnostic::error(Code::UnknownVariant, format!("no risk level `{}`", level.name))
                                .at(t.file, level.span, "no such level")
                                .help(format!("the levels are: {}", names.join(", ")));
                            self.push(d);
                            continue;
                        };
                        expects.push(ExpectDef::Risk {
                            risk: RiskId(index as u32),
                            entity: entity.as_ref().map(|e| e.value.clone()),
                            level: l as u32,
                            span: FileSpan { file: t.file, span: *span },
                        });
                    }
                    ast::Expectation::Objective { objective, status, span } => {
                        let Some(index) = self.cx.program.objectives.iter().position(|o| o.decl.name == objective.name)
                        else {
                            self.push(
                                Diagnostic::error(Code::UnknownRule, format!("unknown objective `{}`", objective.name))
                                    .at(t.file, objective.span, "no such objective"),
                            );
                            continue;
                        };
                        let Some(st) = ObjectiveStatus::parse(&status.name) else {
                            self.push(
                                Diagnostic::error(
                                    Code::UnknownVariant,
                                    format!("no objective status `{}`", status.name),
                                )
                                .at(t.file, status.span, "no such status")
                                .help("the statuses are: met, on_track, at_risk, missed, no_data"),
                            );
                            continue;
                        };
                        expects.push(ExpectDef::Objective {
                            objective: ObjectiveId(index as u32),
                            status: st,
                            span: FileSpan { file: t.file, span: *span },
                        });
                    }
                }
            }
            self.cx.program.tests.push(TestDef {
                name: t.node.name.value.clone(),
                span: FileSpan { file: t.file, span: t.span },
                as_of: t.node.as_of.map(|(d, _)| d),
                given,
                expects,
            });
        }
    }
}

/// A read-only view of the checker for helpers that run while an
/// `ExprChecker` borrows the context.
struct CheckerRef<'c> {
    cx: &'c Context,
}

impl CheckerRef<'_> {
    fn subject(&self, ck: &mut ExprChecker, s: &ast::Subject) -> Option<SubjectDef> {
        let entity = match self.cx.entity_by_name(&s.entity.name) {
            Some(id) => id,
            None => {
                ck.unknown_type(&s.entity, true);
                return None;
            }
        };
        ck.bind(&s.var.name, Ty::Entity(entity));
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
        Some(SubjectDef { var: s.var.name.clone(), entity, filter })
    }
}

fn ck_file(ck: &ExprChecker) -> FileId {
    ck.file()
}

/// Lowers the `let` and `require` statements of a rule body.
fn body_steps(ck: &mut ExprChecker, body: &[ast::Stmt], text: &str, file: FileId) -> Vec<Step> {
    let mut steps = Vec::new();
    for stmt in body {
        match stmt {
            ast::Stmt::Let { name, value, .. } => {
                let (ex, ty) = ck.expr(value, None);
                let slot = ck.bind(&name.name, ty);
                steps.push(Step::Let { slot, value: ex });
            }
            ast::Stmt::Require { cond, because, span } => {
                let (ex, _) = ck.expect(cond, &Ty::Bool, true);
                steps.push(Step::Require(Requirement {
                    cond: ex,
                    because: because.as_ref().map(|b| b.value.clone()),
                    source: text.get(cond.span.range()).unwrap_or("").to_string(),
                    span: FileSpan { file, span: *span },
                }));
            }
        }
    }
    steps
}

/// Names called in an expression (functions or builtins).
fn called_names(e: &ast::Expr, out: &mut Vec<String>) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || called_names_inner(e, out))
}

fn called_names_inner(e: &ast::Expr, out: &mut Vec<String>) {
    use ast::ExprKind::*;
    match &e.kind {
        Call(f, args) => {
            out.push(f.name.clone());
            args.iter().for_each(|a| called_names(a, out));
        }
        Aggregate { value, binder, filter, .. } => {
            called_names(value, out);
            if let ast::BinderSource::List(l) = &binder.source {
                called_names(l, out);
            }
            if let Some(f) = filter {
                called_names(f, out);
            }
        }
        Field(b, _) | Unary(_, b) | Paren(b) | Is { value: b, .. } => called_names(b, out),
        Binary(_, a, b) | Compare(_, a, b) | Within(a, b) => {
            called_names(a, out);
            called_names(b, out);
        }
        In { value, collection, .. } => {
            called_names(value, out);
            called_names(collection, out);
        }
        List(items) => items.iter().for_each(|a| called_names(a, out)),
        Record(fields) => fields.iter().for_each(|f| called_names(&f.value, out)),
        If { branches, otherwise } => {
            for (c, t) in branches {
                called_names(c, out);
                called_names(t, out);
            }
            called_names(otherwise, out);
        }
        Exists { binder, filter } => {
            if let ast::BinderSource::List(l) = &binder.source {
                called_names(l, out);
            }
            if let Some(f) = filter {
                called_names(f, out);
            }
        }
        All { binder, filter, body } => {
            if let ast::BinderSource::List(l) = &binder.source {
                called_names(l, out);
            }
            if let Some(f) = filter {
                called_names(f, out);
            }
            called_names(body, out);
        }
        Bool(_) | Int(_) | Number(_) | Percent(_) | Text(_) | Date(_) | Duration(_) | Today | Name(_) => {}
    }
}

struct TopoOrder {
    /// Nodes in an order where callees come before callers (cycles left out).
    order: Vec<usize>,
    cycles: Vec<Vec<usize>>,
}

/// Orders a call graph, finding its cycles (iteratively: no recursion on input).
fn topological(n: usize, edges: &[Vec<usize>]) -> TopoOrder {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
        Cyclic,
    }
    let mut mark = vec![Mark::New; n];
    let mut order = Vec::new();
    let mut cycles = Vec::new();
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&target) = edges[node].get(*next) {
                *next += 1;
                match mark[target] {
                    Mark::New => {
                        mark[target] = Mark::Active;
                        stack.push((target, 0));
                    }
                    Mark::Active => {
                        let pos = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let cycle: Vec<usize> = stack[pos..].iter().map(|(n, _)| *n).collect();
                        for &c in &cycle {
                            mark[c] = Mark::Cyclic;
                        }
                        cycles.push(cycle);
                    }
                    Mark::Done | Mark::Cyclic => {}
                }
            } else {
                stack.pop();
                if mark[node] == Mark::Active {
                    // A node that calls into a cycle cannot be typed either.
                    if edges[node].iter().any(|&t| mark[t] == Mark::Cyclic) {
                        mark[node] = Mark::Cyclic;
                    } else {
                        mark[node] = Mark::Done;
                        order.push(node);
                    }
                }
            }
        }
    }
    TopoOrder { order, cycles }
}
