//! Code actions that write declarations: an `exclude` for an Annex A
//! control nothing implements, an `exception` for a failing entity.
//! (The "did you mean" fixes come with their diagnostics.)

use crate::diag::{FileId, Sources};
use crate::ir::{Program, Ty};
use crate::report::soa::{self, Framework, SoaStatus};
use crate::syntax::ast::{ItemKind, Span};
use crate::time::Date;

use super::{TextEdit, World};

/// How long a new exception runs, from the evaluation date.
pub const EXCEPTION_DAYS: i64 = 90;

/// The Annex A controls that no rule implements and no `exclude` excludes:
/// (identifier, title). Empty when the program does not `use iso42001`.
pub fn not_addressed(program: &Program, sources: &Sources) -> Vec<(String, String)> {
    soa::statement(program, sources, &[], Framework::Iso42001)
        .into_iter()
        .filter(|row| row.status == SoaStatus::NotAddressed)
        .map(|row| (row.id, row.title))
        .collect()
}

/// A requirement identifier as written in a policy (quoted unless plain).
fn requirement_literal(id: &str) -> String {
    let plain = !id.is_empty()
        && id.split(['.', '-', '_']).all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
    if plain {
        id.to_string()
    } else {
        text_literal(id)
    }
}

/// A text literal with its escapes.
fn text_literal(text: &str) -> String {
    crate::syntax::quote(text)
}

/// Text that appends `declaration` to the end of a file, a blank line before it.
fn append(file: FileId, text: &str, declaration: &str) -> TextEdit {
    let end = text.len();
    let separator = if text.is_empty() || text.ends_with("\n\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    TextEdit { file, span: Span::new(end, end), text: format!("{separator}{declaration}\n") }
}

/// Appends `exclude ID because ".."` to a file.
pub fn exclude(file: FileId, text: &str, id: &str, title: &str) -> TextEdit {
    let because = text_literal(&format!("TODO: why {id} ({title}) does not apply"));
    append(file, text, &format!("exclude {}\n  because {because}", requirement_literal(id)))
}

/// An exception for a failing entity of a rule, written after the rule's
/// declaration; `None` if the rule is not declared in that file.
pub fn exception(world: World, file: FileId, rule: &str, key: &str, as_of: Date) -> Option<TextEdit> {
    let program = world.program();
    let def = program.rules.iter().find(|r| r.decl.name == rule)?;
    let text = world.text(file)?;
    let item = world.parse(file)?.file.items.iter().find(|item| match &item.kind {
        ItemKind::Control(r) | ItemKind::Audit(r) => r.name.name == rule,
        _ => false,
    })?;
    let mut name = format!("{rule}_{}", sanitize(key));
    let mut n = 2;
    while program.exceptions.iter().any(|e| e.decl.name == name) {
        name = format!("{rule}_{}_{n}", sanitize(key));
        n += 1;
    }
    let waives = match &def.subject {
        Some(subject) => format!("{rule} for {} {}", program.ty_name(&Ty::Entity(subject.entity)), text_literal(key)),
        None => rule.to_string(),
    };
    let until = as_of.add_days(EXCEPTION_DAYS);
    let because = text_literal(&format!("TODO: why {key} may fail `{rule}` until then"));
    let declaration = format!(
        "\n\nexception {name}\n  waives {waives}\n  until {until}\n  approved by \"TODO: who approves\"\n  because {because}"
    );
    let end = (item.absolute(item.span).end as usize).min(text.len());
    // After the declaration's last line, not inside a trailing comment.
    let at = text[end..].find('\n').map_or(text.len(), |i| end + i);
    Some(TextEdit { file, span: Span::new(at, at), text: declaration })
}

/// A key made into the tail of a name.
fn sanitize(key: &str) -> String {
    let cleaned: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let trimmed = cleaned.trim_matches('_');
    if trimmed.is_empty() {
        "entity".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::engine;

    fn apply(text: &str, edit: &TextEdit) -> String {
        let mut out = text.to_string();
        out.replace_range(edit.span.range(), &edit.text);
        out
    }

    #[test]
    fn unaddressed_annex_a_controls_can_be_excluded() {
        let text = "use iso42001\ncontrol c implements A.6.2.4 { require true }";
        let (engine, ids) = engine(&[("p.aims", text)]);
        let open = not_addressed(engine.program(), engine.sources());
        assert!(open.len() > 30, "most of Annex A is open: {}", open.len());
        assert!(!open.iter().any(|(id, _)| id == "A.6.2.4"), "implemented");
        let (id, title) = &open[0];
        let edited = apply(text, &exclude(ids[0], text, id, title));
        assert!(
            edited.ends_with("\"\n") && edited.contains(&format!("\n\nexclude {id}\n  because \"TODO")),
            "{edited}"
        );
        assert!(crate::syntax::parse(&edited).errors.is_empty(), "{edited}");

        let (engine, _) = crate::ide::test_support::engine(&[("p.aims", "control c { require true }")]);
        assert!(not_addressed(engine.program(), engine.sources()).is_empty(), "no catalogue, no rows");
    }

    #[test]
    fn an_exception_is_written_after_the_failing_control() {
        let text = "entity S { id: Text key }\ncontrol c for s: S { require false } // trailing\nexception c_x waives c for S \"x\" until 2026-01-01 approved by \"me\"\n";
        let (engine, ids) = engine(&[("p.aims", text)]);
        let world = World::new(engine.db(), engine.workspace());
        let as_of = Date::parse("2026-01-01").expect("date");
        let edit = exception(world, ids[0], "c", "x", as_of).expect("c is in the file");
        let edited = apply(text, &edit);
        assert!(
            edited.contains("// trailing\n\nexception c_x_2\n  waives c for S \"x\"\n  until 2026-04-01\n"),
            "{edited}"
        );
        assert!(crate::syntax::parse(&edited).errors.is_empty(), "{edited}");
        assert!(exception(world, ids[0], "nope", "x", as_of).is_none());
    }

    #[test]
    fn an_exception_for_a_key_with_line_breaks_and_quotes_stays_one_literal() {
        let key = "a\nb\r\"c\\d\te";
        let text = "entity S { id: Text key }\ncontrol c for s: S { require false }\n";
        let (engine, ids) = engine(&[("p.aims", text)]);
        let world = World::new(engine.db(), engine.workspace());
        let as_of = Date::parse("2026-01-01").expect("date");
        let edit = exception(world, ids[0], "c", key, as_of).expect("c is in the file");
        let edited = apply(text, &edit);
        let parse = crate::syntax::parse(&edited);
        assert!(parse.errors.is_empty(), "{edited}\n{:?}", parse.errors);
        let Some(ItemKind::Exception(e)) = parse.file.items.last().map(|i| &i.kind) else { panic!("{edited}") };
        assert_eq!(e.target.as_ref().map(|(_, k)| k.value.as_str()), Some(key), "the key reads back");
        let because = e.because.as_ref().map(|b| b.value.clone()).unwrap_or_default();
        assert!(because.contains(key), "{because:?}");
        assert_eq!(edited.lines().count(), text.lines().count() + 6, "no line break inside a literal:\n{edited}");
    }

    #[test]
    fn quoting_round_trips_every_escape() {
        for text in ["", "plain", "a\"b", "back\\slash", "new\nline", "cr\ronly", "tab\t", "\u{1b}[31m é"] {
            let quoted = crate::syntax::quote(text);
            let parsed = crate::syntax::parse_expr(&quoted).expect("a literal");
            assert_eq!(parsed.kind, crate::syntax::ast::ExprKind::Text(text.into()), "{quoted}");
        }
    }
}
