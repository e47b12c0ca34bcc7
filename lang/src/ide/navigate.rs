//! Go to definition and find references.

use crate::diag::{FileId, FileSpan};

use super::{Symbol, World};

/// Where the name at `offset` is declared: in the policy files, else (a
/// requirement of the standard library) where the program has it.
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
        Symbol::Requirement(id) => world.program().requirement(id).map(|r| r.span).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Every occurrence of the name at `offset`, the declarations included or not.
pub fn references(world: World, file: FileId, offset: u32, include_declaration: bool) -> Vec<FileSpan> {
    let Some(reference) = world.reference_at(file, offset) else { return Vec::new() };
    world
        .occurrences(&reference.symbol)
        .into_iter()
        .filter(|(_, r)| include_declaration || !r.is_definition)
        .map(|(file, r)| FileSpan { file, span: r.span })
        .collect()
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
    }
}
