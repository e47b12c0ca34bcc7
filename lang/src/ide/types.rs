//! The checked program's declarations looked up by name, for the
//! analyses: which type a name denotes, which types have a variant of a
//! given name, the fields of a record or entity. Lookups only: what a name
//! in the text stands for and the types of expressions come from the
//! source map `sema` records.

use std::collections::HashMap;

use crate::ir::{EnumId, FieldDef, MatrixId, Program, RecordId, ScaleId, StructDef, Ty};

/// Name lookups over one program.
pub struct Types<'p> {
    pub program: &'p Program,
    by_name: HashMap<&'p str, Ty>,
    variants: HashMap<&'p str, Vec<Ty>>,
}

impl<'p> Types<'p> {
    pub fn new(program: &'p Program) -> Types<'p> {
        let mut by_name: HashMap<&str, Ty> = HashMap::new();
        let mut variants: HashMap<&str, Vec<Ty>> = HashMap::new();
        for (i, e) in program.enums.iter().enumerate() {
            let ty = Ty::Enum(EnumId(i as u32));
            by_name.insert(&e.decl.name, ty.clone());
            for v in &e.variants {
                variants.entry(v).or_default().push(ty.clone());
            }
        }
        for (i, s) in program.scales.iter().enumerate() {
            let ty = Ty::Scale(ScaleId(i as u32));
            by_name.insert(&s.decl.name, ty.clone());
            for (v, _) in &s.values {
                variants.entry(v).or_default().push(ty.clone());
            }
        }
        for (i, m) in program.matrices.iter().enumerate() {
            let ty = Ty::Level(MatrixId(i as u32));
            by_name.insert(&m.decl.name, ty.clone());
            for l in &m.levels {
                variants.entry(&l.name).or_default().push(ty.clone());
            }
        }
        for (i, r) in program.records.iter().enumerate() {
            by_name.insert(&r.decl.name, Ty::Record(RecordId(i as u32)));
        }
        for (i, e) in program.entities.iter().enumerate() {
            by_name.insert(&e.decl.name, Ty::Entity(crate::ir::EntityId(i as u32)));
        }
        Types { program, by_name, variants }
    }

    /// The declared type of that name (not the builtins).
    pub fn named(&self, name: &str) -> Option<&Ty> {
        self.by_name.get(name)
    }

    /// The types that have a variant, value or level of that name.
    pub fn with_variant(&self, name: &str) -> &[Ty] {
        self.variants.get(name).map_or(&[], Vec::as_slice)
    }

    /// The variants of an enum, the values of a scale, the levels of a matrix.
    pub fn variant_names(&self, ty: &Ty) -> Vec<&'p str> {
        let p = self.program;
        match ty {
            Ty::Enum(id) => p.enums.get(id.index()).map_or(Vec::new(), |e| e.variants.iter().map(|v| &**v).collect()),
            Ty::Scale(id) => {
                p.scales.get(id.index()).map_or(Vec::new(), |s| s.values.iter().map(|(n, _)| &**n).collect())
            }
            Ty::Level(id) => {
                p.matrices.get(id.index()).map_or(Vec::new(), |m| m.levels.iter().map(|l| &*l.name).collect())
            }
            _ => Vec::new(),
        }
    }

    /// The record or entity behind a type (through `?` and references).
    pub fn structure(&self, ty: &Ty) -> Option<&'p StructDef> {
        match ty.definite() {
            Ty::Entity(id) => self.program.entities.get(id.index()),
            Ty::Record(id) => self.program.records.get(id.index()),
            _ => None,
        }
    }

    /// A field of a record or entity type.
    pub fn field(&self, ty: &Ty, name: &str) -> Option<(&'p StructDef, &'p FieldDef)> {
        let def = self.structure(ty)?;
        def.field(name).map(|(_, f)| (def, f))
    }

    /// The name of a type as written (`Date?`, `[Dataset]`).
    pub fn name(&self, ty: &Ty) -> String {
        self.program.ty_name(ty)
    }

    /// The declared name of an enum, scale or matrix type.
    pub fn owner_name(&self, ty: &Ty) -> Option<&'p str> {
        let p = self.program;
        match ty.definite() {
            Ty::Enum(id) => p.enums.get(id.index()).map(|d| &*d.decl.name),
            Ty::Scale(id) => p.scales.get(id.index()).map(|d| &*d.decl.name),
            Ty::Level(id) => p.matrices.get(id.index()).map(|d| &*d.decl.name),
            Ty::Record(id) => p.records.get(id.index()).map(|d| &*d.decl.name),
            Ty::Entity(id) => p.entities.get(id.index()).map(|d| &*d.decl.name),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        let parse = crate::syntax::parse(text);
        let inputs = [crate::sema::SourceInput {
            file: crate::diag::FileId(0),
            text,
            ast: &parse.file,
            offset: 0,
            stdlib: false,
        }];
        crate::sema::check(&inputs).program
    }

    #[test]
    fn names_variants_and_fields_are_found() {
        let p = program(
            "enum Tier { low, high }\nscale Impact { minor: 1, high: 2 }\nrecord Ev { ok: Bool }\n\
             entity S { id: Text key, tier: Tier, evidence: [Ev] }\n",
        );
        let types = Types::new(&p);
        let s = types.named("S").cloned().expect("S is declared");
        assert_eq!(types.with_variant("high").len(), 2, "an enum and a scale both have `high`");
        let (owner, field) = types.field(&s, "evidence").expect("S.evidence");
        assert_eq!(owner.decl.name, "S");
        assert_eq!(types.name(&field.ty), "[Ev]");
        assert!(types.field(&s.clone().optional(), "tier").is_some(), "fields are read through `?`");
        assert_eq!(types.variant_names(types.named("Tier").expect("Tier")), vec!["low", "high"]);
    }
}
