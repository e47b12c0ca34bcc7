//! Rename: every occurrence of a name across the policy files, refused
//! when the new name is not a name or would clash with one that exists.
//! A refusal is a [`Diagnostic`] (code E0601) like every other error a
//! user sees; the language server answers with its message.

use crate::diag::{Code, Diagnostic, FileId};
use crate::syntax::ast::Span;

use super::{is_identifier, Symbol, TextEdit, World};

/// Why a rename was refused: a diagnostic, boxed (it is large, and the
/// answer that is not refused should not carry its size).
pub type Refusal = Box<Diagnostic>;

/// A refused rename, with why.
fn refused(message: impl Into<String>) -> Refusal {
    Box::new(Diagnostic::error(Code::RenameRefused, message))
}

/// A refused rename of the name at `span` in `file`, with why.
fn refused_at(message: impl Into<String>, file: FileId, span: Span) -> Refusal {
    Box::new(Diagnostic::error(Code::RenameRefused, message).at_file(file, span, "this name"))
}

/// The name at `offset`, if it can be renamed: its span and its text.
pub fn prepare(world: World, file: FileId, offset: u32) -> Result<(Span, String), Refusal> {
    let reference = world.reference_at(file, offset).ok_or_else(|| refused("no name to rename here"))?;
    if world.definitions(&reference.symbol).is_empty() {
        let what = match &reference.symbol {
            Symbol::Requirement(_) => "is declared by the standard library",
            _ => "is not declared in the policy files",
        };
        let message = format!("`{}` {what}, so it cannot be renamed", reference.symbol.name());
        return Err(refused_at(message, file, reference.span));
    }
    Ok((reference.span, reference.symbol.name().to_string()))
}

/// The edits that rename the name at `offset` to `new_name`.
pub fn rename(world: World, file: FileId, offset: u32, new_name: &str) -> Result<Vec<TextEdit>, Refusal> {
    prepare(world, file, offset)?;
    let Some(reference) = world.reference_at(file, offset) else {
        return Err(refused("no name to rename here"));
    };
    let symbol = &reference.symbol;
    if new_name == symbol.name() {
        return Ok(Vec::new());
    }
    valid_name(symbol, new_name).map_err(|d| Box::new(d.at_file(file, reference.span, "this name")))?;
    if let Some(clash) = clash(world, symbol, new_name) {
        return Err(refused_at(clash, file, reference.span));
    }
    let mut edits: Vec<TextEdit> = world
        .occurrences(symbol)
        .into_iter()
        .map(|(file, r)| TextEdit { file, span: r.span, text: new_name.to_string() })
        .collect();
    edits.sort_by_key(|e| (e.file, e.span.start));
    edits.dedup();
    Ok(edits)
}

/// Whether `new_name` is a name of the symbol's kind; a refusal without a
/// place (the caller knows it).
fn valid_name(symbol: &Symbol, new_name: &str) -> Result<(), Refusal> {
    if let Symbol::Requirement(_) = symbol {
        let ok = !new_name.is_empty()
            && new_name
                .split(['.', '-', '_'])
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
        return if ok {
            Ok(())
        } else {
            Err(refused(format!(
                "`{new_name}` is not a requirement identifier (letters and digits joined by `.`, `-` or `_`)"
            )))
        };
    }
    if !is_identifier(new_name) {
        return Err(refused(format!(
            "`{new_name}` is not a name: a letter or `_`, then letters, digits or `_`, and not a keyword"
        )));
    }
    if matches!(symbol, Symbol::Type(_)) && crate::builtins::builtin_type(new_name).is_some() {
        return Err(refused(format!("`{new_name}` is a builtin type")));
    }
    Ok(())
}

/// What the new name would clash with, if anything.
fn clash(world: World, symbol: &Symbol, new_name: &str) -> Option<String> {
    let program = world.program();
    let declared = |candidate: Symbol| !world.definitions(&candidate).is_empty();
    match symbol {
        Symbol::Type(_) => {
            let exists =
                declared(Symbol::Type(new_name.into())) || super::types::Types::new(program).named(new_name).is_some();
            exists.then(|| format!("a type named `{new_name}` already exists"))
        }
        Symbol::Rule(_) => {
            let exists = declared(Symbol::Rule(new_name.into()))
                || program.rules.iter().any(|r| r.decl.name == new_name)
                || program.risks.iter().any(|r| r.decl.name == new_name)
                || program.objectives.iter().any(|o| o.decl.name == new_name);
            exists.then(|| format!("a control, audit, risk or objective named `{new_name}` already exists"))
        }
        Symbol::Function(_) => (declared(Symbol::Function(new_name.into()))
            || program.fns.iter().any(|f| f.decl.name == new_name))
        .then(|| format!("a function named `{new_name}` already exists")),
        Symbol::Measure(_) => (declared(Symbol::Measure(new_name.into()))
            || program.measures.iter().any(|m| m.decl.name == new_name))
        .then(|| format!("a measure named `{new_name}` already exists")),
        Symbol::Exception(_) => (declared(Symbol::Exception(new_name.into()))
            || program.exceptions.iter().any(|e| e.decl.name == new_name))
        .then(|| format!("an exception named `{new_name}` already exists")),
        Symbol::Requirement(_) => (declared(Symbol::Requirement(new_name.into()))
            || program.requirement(new_name).is_some())
        .then(|| format!("a requirement `{new_name}` already exists")),
        Symbol::Field { owner, .. } => declared(Symbol::Field { owner: owner.clone(), name: new_name.into() })
            .then(|| format!("`{owner}` already has a field `{new_name}`")),
        Symbol::Variant { owner, .. } => {
            if declared(Symbol::Variant { owner: owner.clone(), name: new_name.into() }) {
                return Some(format!("`{owner}` already has `{new_name}`"));
            }
            let types = super::types::Types::new(program);
            let others: Vec<String> = types
                .with_variant(new_name)
                .iter()
                .filter_map(|t| types.owner_name(t))
                .map(|n| format!("`{n}`"))
                .collect();
            (!others.is_empty()).then(|| {
                format!("{} already has `{new_name}`: bare uses of it would become ambiguous", others.join(", "))
            })
        }
        Symbol::Local { file, at, .. } => {
            let index = world.index(*file)?;
            let local = index.local(*at)?;
            // Any variable visible where this one is, or any value of that
            // name, would be shadowed or would shadow.
            let shadowed = index
                .locals
                .iter()
                .any(|l| l.name == new_name && l.scope.start <= local.scope.end && local.scope.start <= l.scope.end);
            let types = super::types::Types::new(program);
            if shadowed {
                Some(format!("a variable named `{new_name}` is already in scope"))
            } else if !types.with_variant(new_name).is_empty() {
                Some(format!("`{new_name}` is a value of an enum, scale or matrix: the variable would hide it"))
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{engine, offset};

    const SCHEMA: &str = "enum Status { planned, deployed }\nentity System { id: Text key, status: Status }\n";
    const RULES: &str =
        "use iso42001\ncontrol live implements A.6.2.4 for s: System where s.status == deployed { require true }\n\
control other { require true }\nexception e waives live for System \"x\" until 2026-01-01 approved by \"me\"\n";

    fn run(file: usize, needle: &str, new_name: &str) -> Result<Vec<(usize, String)>, Refusal> {
        let (engine, ids) = engine(&[("schema.aims", SCHEMA), ("rules.aims", RULES)]);
        let world = World::new(engine.db(), engine.workspace());
        let text = [SCHEMA, RULES][file];
        let edits = rename(world, ids[file], offset(text, needle, 0, 1), new_name)?;
        Ok(edits
            .into_iter()
            .map(|e| (e.file.0 as usize, [SCHEMA, RULES][e.file.0 as usize][e.span.range()].to_string()))
            .collect())
    }

    #[test]
    fn a_rename_reaches_every_file() {
        let edits = run(0, "System {", "AISystem").expect("a valid rename");
        assert_eq!(edits, vec![(0, "System".into()), (1, "System".into()), (1, "System".into())]);
        let edits = run(1, "live implements", "live_systems").expect("a valid rename");
        assert_eq!(edits.len(), 2, "the control and the exception's `waives`: {edits:?}");
    }

    #[test]
    fn a_clash_is_refused() {
        let err = run(1, "live implements", "other").expect_err("`other` exists");
        assert!(err.message.contains("already exists"), "{}", err.message);
        let err = run(0, "planned", "deployed").expect_err("a variant of the same enum");
        assert!(err.message.contains("already has"), "{}", err.message);
        let err = run(1, "s: System", "planned").expect_err("a variable hiding a variant");
        assert!(err.message.contains("hide"), "{}", err.message);
    }

    #[test]
    fn a_refusal_is_a_diagnostic_with_its_code_at_the_name() {
        let err = run(1, "live implements", "other").expect_err("`other` exists");
        assert_eq!(err.code, Code::RenameRefused);
        assert_eq!(err.message, "a control, audit, risk or objective named `other` already exists");
        let at = err.primary.expect("at the name");
        assert_eq!(&RULES[at.at.span.range()], "live");
    }

    #[test]
    fn a_bad_name_or_a_library_name_is_refused() {
        assert!(run(0, "System {", "not").is_err(), "a keyword");
        assert!(run(0, "System {", "Text").is_err(), "a builtin type");
        assert!(run(0, "System {", "9lives").is_err());
        let err = run(1, "A.6.2.4", "B.1").expect_err("declared by the library");
        assert!(err.message.contains("standard library"), "{}", err.message);
    }
}
