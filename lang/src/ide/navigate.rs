//! Go to definition and find references.
//!
//! A requirement identifier (`A.6.2.4`, `9.2.1`), wherever the language
//! takes one (`implements`, `clause`, `exclude`, `map`, a requirement's
//! `in`), is declared where the program took its declaration from: a
//! policy file or, as a rule, a stdlib module ([`requirement_declaration`],
//! the one rule, which hover reads too through `Program::requirement`).

use crate::db::{self, SourceFile};
use crate::diag::{FileId, FileSpan};
use crate::syntax::ast::ItemKind;

use super::{Symbol, World};

/// Where the name at `offset` is declared: in the policy files, else (a
/// requirement of the standard library) in the stdlib module declaring it.
pub fn definition(world: World, file: FileId, offset: u32) -> Vec<FileSpan> {
    let Some(reference) = world.reference_at(file, offset) else { return Vec::new() };
    if let Symbol::Local { file, at, .. } = &reference.symbol {
        return vec![FileSpan { file: *file, span: *at }];
    }
    let found = world.definitions(&reference.symbol);
    if !found.is_empty() {
        return found;
    }
    match &reference.symbol {
        Symbol::Requirement(id) => requirement_declaration(world, id).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The identifier in the declaration of a requirement, as the program has
/// it: in a policy file or a stdlib module; `None` if it is not declared.
pub(crate) fn requirement_declaration(world: World, id: &str) -> Option<FileSpan> {
    let declared = world.program().requirement(id)?.span;
    let db = world.db;
    let stdlib = world.ws.stdlib(db).iter().map(|(_, f)| *f);
    let source: Option<SourceFile> = world.policy_files().chain(stdlib).find(|f| f.id(db) == declared.file.0);
    // The program keeps the whole declaration; the identifier is in its syntax.
    let identifier = source.and_then(|source| {
        db::parse_file(db, source).file.items.iter().find_map(|item| match &item.kind {
            ItemKind::Requirement(r) if r.id.id == id && item.absolute(item.span).start <= declared.span.start => {
                Some(item.absolute(r.id.span))
                    .filter(|at| declared.span.start <= at.start && at.end <= declared.span.end)
            }
            _ => None,
        })
    });
    Some(FileSpan { file: declared.file, span: identifier.unwrap_or(declared.span) })
}

/// Every occurrence of the name at `offset`, the declarations included or
/// not (a requirement's declaration in a stdlib module too).
pub fn references(world: World, file: FileId, offset: u32, include_declaration: bool) -> Vec<FileSpan> {
    let Some(reference) = world.reference_at(file, offset) else { return Vec::new() };
    let found = world.occurrences(&reference.symbol);
    let mut out: Vec<FileSpan> = found
        .iter()
        .filter(|(_, r)| include_declaration || !r.is_definition)
        .map(|(file, r)| FileSpan { file: *file, span: r.span })
        .collect();
    if let Symbol::Requirement(id) = &reference.symbol {
        if include_declaration && !found.iter().any(|(_, r)| r.is_definition) {
            out.splice(0..0, requirement_declaration(world, id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{engine, offset};

    const SCHEMA: &str = "entity System { id: Text key, live: Bool }\n";
    const RULES: &str = "control c for s: System where s.live { require s.live }\nexception e waives c for System \"x\" until 2026-01-01 approved by \"me\"\n";

    #[test]
    fn definitions_and_references_cross_files() {
        let (engine, ids) = engine(&[("schema.aims", SCHEMA), ("rules.aims", RULES)]);
        let world = World::new(engine.db(), engine.workspace());
        let (schema, rules) = (ids[0], ids[1]);

        let found = definition(world, rules, offset(RULES, "live {", 0, 1));
        assert_eq!(found, vec![FileSpan { file: schema, span: crate::syntax::ast::Span::new(30, 34) }]);

        let uses = references(world, rules, offset(RULES, "System", 0, 0), false);
        assert_eq!(uses.len(), 2, "`for s: System` and the exception's `for System`: {uses:?}");
        let all = references(world, schema, offset(SCHEMA, "System", 0, 0), true);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].file, schema);

        let waived = definition(world, rules, offset(RULES, "waives c", 0, 7));
        assert_eq!(waived.len(), 1);
        assert_eq!(&RULES[waived[0].span.range()], "c");
    }

    #[test]
    fn a_variable_is_found_in_its_declaration_only() {
        let (engine, ids) = engine(&[("schema.aims", SCHEMA), ("rules.aims", RULES)]);
        let world = World::new(engine.db(), engine.workspace());
        let uses = references(world, ids[1], offset(RULES, "s.live", 1, 0), true);
        assert_eq!(uses.len(), 3, "the binding and two uses: {uses:?}");
        assert!(definition(world, ids[1], 0).is_empty(), "no name at the keyword");
        assert!(definition(world, FileId(99), 0).is_empty(), "an unknown file has no names");
    }

    #[test]
    fn a_requirement_of_the_standard_library_is_found_there() {
        let text = "use iso42001\ncontrol c implements A.6.2.4 { require true }\n";
        let (engine, ids) = engine(&[("rules.aims", text)]);
        let world = World::new(engine.db(), engine.workspace());
        let found = definition(world, ids[0], offset(text, "A.6.2.4", 0, 2));
        assert_eq!(found.len(), 1);
        assert!(engine.sources().name(found[0].file).starts_with("<stdlib>/iso42001"));
        let declared = &engine.sources().text(found[0].file)[found[0].span.range()];
        assert_eq!(declared, "A.6.2.4", "the identifier in its declaration");
    }

    /// Every place the language takes a requirement identifier.
    const EVERY_PLACE: &str = "use iso42001\n\
control c implements A.6.2.4, A.9.2 clause 9.2.1 { require true }\n\
audit a clause 4.1 { require true }\n\
risk r clause 6.1 { likelihood: 1 impact: 1 }\n\
exclude A.10.3 because \"no suppliers\"\n\
requirement X.1 \"Ours\" in 8\n\
map X.1 to 8.1\n";

    #[test]
    fn every_requirement_identifier_leads_to_its_declaration() {
        let (engine, ids) = engine(&[("rules.aims", EVERY_PLACE)]);
        let world = World::new(engine.db(), engine.workspace());
        for id in ["A.6.2.4", "A.9.2", "9.2.1", "4.1", "6.1", "A.10.3", "8", "8.1"] {
            let at = offset(EVERY_PLACE, &format!(" {id}"), 0, 2);
            let found = definition(world, ids[0], at);
            assert_eq!(found.len(), 1, "{id}: {found:?}");
            let name = engine.sources().name(found[0].file);
            assert!(name.starts_with("<stdlib>/iso42001/"), "{id} in {name}");
            assert_eq!(&engine.sources().text(found[0].file)[found[0].span.range()], id);
        }
        // A requirement of the policy is found in the policy, from `map` too.
        let found = definition(world, ids[0], offset(EVERY_PLACE, "map X.1", 0, 5));
        assert_eq!(
            found,
            vec![FileSpan {
                file: ids[0],
                span: crate::syntax::ast::Span::new(
                    EVERY_PLACE.find("X.1 \"Ours").expect("declared"),
                    EVERY_PLACE.find("X.1 \"Ours").expect("declared") + 3,
                )
            }]
        );
    }

    #[test]
    fn references_of_a_stdlib_requirement_include_its_declaration_when_asked() {
        let text = "use iso42001\ncontrol c implements A.6.2.4 { require true }\naudit a implements A.6.2.4 { require true }\n";
        let (engine, ids) = engine(&[("rules.aims", text)]);
        let world = World::new(engine.db(), engine.workspace());
        let at = offset(text, "A.6.2.4", 1, 1);
        let uses = references(world, ids[0], at, false);
        assert_eq!(uses.iter().map(|u| u.file).collect::<Vec<_>>(), vec![ids[0], ids[0]]);
        let all = references(world, ids[0], at, true);
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(&engine.sources().text(all[0].file)[all[0].span.range()], "A.6.2.4");
        assert_ne!(all[0].file, ids[0], "declared in the stdlib");
    }
}
