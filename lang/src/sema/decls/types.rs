//! Enums, records and entities, with their `extend`s: names, variants,
//! fields, keys and defaults.

use std::collections::HashMap;

use super::{decl, struct_fields, Checker, Items};
use crate::diag::{Code, Diagnostic, FileSpan, Quote};
use crate::ir::*;
use crate::sema::{const_value, TypeName};
use crate::syntax::ast::Span;

impl Checker<'_, '_> {
    pub(super) fn types(&mut self, items: &Items) {
        for e in &items.enums {
            let at = e.file.span(e.node.name.span);
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
            let at = s.file.span(s.node.name.span);
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
                let at = s.file.span(s.node.name.span);
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
            for (file, f, extension, _) in struct_fields(s, &items.extends) {
                if let Some(first) = seen.get(f.name.name.as_str()) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("field `{}` is declared twice", f.name.name))
                            .at(file, f.name.span, "declared again here")
                            .also_file(first.file, first.span, "first declared here"),
                    );
                    continue;
                }
                seen.insert(&f.name.name, file.span(f.name.span));
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
                    span: file.span(f.name.span),
                    docs: f.docs.clone(),
                    measure: None,
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
            for (file, f, _, text) in struct_fields(s, &items.extends) {
                let Some(default) = &f.default else { continue };
                let def = match id {
                    TypeName::Entity(e) => &self.cx.program.entities[e.index()],
                    TypeName::Record(r) => &self.cx.program.records[r.index()],
                    _ => continue,
                };
                let Some((index, field)) = def.field(&f.name.name) else { continue };
                let want = field.ty.clone();
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
    pub(super) fn extend_targets(&mut self, items: &Items) {
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
}
