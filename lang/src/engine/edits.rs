//! What-if edits and expressions typed by a person (at the REPL, or in an
//! embedding service's form): evaluate an expression against the current
//! facts and date, and say why an edit was refused as diagnostics that
//! point at what was typed.
//!
//! The engine checks an edit once, when it applies it; an [`EditError`]
//! says what was wrong, and [`Engine::edit_diagnostics`] turns it into the
//! diagnostics to show, placed on the parts of the typed text (an
//! [`EditSite`]), with a "did you mean" where a name was misspelt.

use crate::diag::{Code, Diagnostic, FileId, FileSpan, Quote};
use crate::eval::{self, Env};
use crate::ir::{EntityId, Value};
use crate::syntax::ast::Span;

use super::{EditError, Engine};

/// The file that diagnostics of a piece of typed text (a value, a record)
/// point into before they are placed: their spans are relative to the piece.
pub(crate) const NO_FILE: FileId = FileId(u32::MAX);

/// One part of an edit as typed, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Typed<'a> {
    /// The text of the part (a key without its quotes).
    pub text: &'a str,
    /// Where it was typed, in [`EditSite::file`].
    pub span: Span,
}

/// Where the parts of an edit were typed, so that its diagnostics point there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditSite<'a> {
    /// The caller's file that holds the typed text (the REPL's `<repl>`).
    pub file: FileId,
    /// The entity's name.
    pub entity: Typed<'a>,
    /// The key of the fact edited (not for an added fact).
    pub key: Option<Typed<'a>>,
    /// The field set or unset.
    pub field: Option<Typed<'a>>,
    /// The value set, or the record added.
    pub value: Option<Typed<'a>>,
}

/// An expression evaluated: its value, and the value as the language writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// The value.
    pub value: Value,
    /// The value written as in the language (`true`, `"text"`, `[1, 2]`).
    pub shown: String,
}

/// Diagnostics of a piece of typed text, moved from [`NO_FILE`] (relative to
/// the piece) to where the piece was typed.
fn relocate(mut diagnostics: Vec<Diagnostic>, file: FileId, offset: usize) -> Vec<Diagnostic> {
    let shift = |at: &mut FileSpan| {
        if at.file == NO_FILE {
            at.file = file;
            at.span = Span::new(at.span.start as usize + offset, at.span.end as usize + offset);
        }
    };
    for d in &mut diagnostics {
        if let Some(p) = &mut d.primary {
            shift(&mut p.at);
        }
        for l in &mut d.secondary {
            shift(&mut l.at);
        }
        if let Some(f) = &mut d.fix {
            shift(&mut f.at);
        }
    }
    diagnostics
}

impl Engine {
    /// Parses, checks and evaluates an expression against the facts as of
    /// the current date. Diagnostics point into `file` (the caller's name
    /// for `text`).
    pub fn eval_expression(&self, file: FileId, text: &str) -> Result<Evaluated, Vec<Diagnostic>> {
        let program = self.program();
        let expression = crate::sema::expression(program, file, text, None)?;
        let facts = self.facts();
        // Within the project's limits, and stopped by its interrupt handle.
        let spent = crate::eval::budget::Spent::with_interrupt(self.interrupt_handle());
        let env = Env::new(program, &facts, self.as_of())
            .with_budget(self.budget(), spent)
            .with_measured(self.ws.measured(&self.db).clone());
        let mut frame = vec![Value::Absent; expression.slots.max(1) as usize];
        let value = env.eval(&expression.ex, &mut frame);
        let shown = eval::show(&env, &value);
        Ok(Evaluated { value, shown })
    }

    /// The keys of an entity's facts, in order.
    pub fn keys(&self, entity: EntityId) -> Vec<String> {
        let program = self.program();
        let facts = self.facts();
        (0..crate::facts::Facts::len(&facts, entity))
            .map(|r| crate::facts::Facts::key_of(&facts, program, entity, r).to_string())
            .collect()
    }

    /// Why an edit typed at `site` was refused, as diagnostics placed on
    /// what was typed. Call it before any other edit: the names it
    /// suggests are the engine's as they stand.
    pub fn edit_diagnostics(&self, error: &EditError, site: &EditSite) -> Vec<Diagnostic> {
        let program = self.program();
        let file = site.file;
        let at = |typed: Option<Typed>| typed.map_or(Span::new(0, 0), |t| t.span);
        let entity_id = program.entity_by_name(site.entity.text);
        let d = match error {
            EditError::UnknownEntity(name) => {
                let d = Diagnostic::error(Code::UnknownType, format!("unknown entity `{name}`")).at_file(
                    file,
                    site.entity.span,
                    "not an entity",
                );
                d.suggest(name, program.entities.iter().map(|e| e.decl.name.as_str()), Quote::Code)
            }
            EditError::UnknownKey { entity, key }
                if site.key.is_some_and(|k| k.text == key) && entity == site.entity.text =>
            {
                let d = Diagnostic::error(Code::UnknownName, format!("`{entity}` has no fact with the key {key:?}"))
                    .at_file(file, at(site.key), "no such key");
                let keys = entity_id.map(|id| self.keys(id)).unwrap_or_default();
                d.suggest(key, keys.iter().map(String::as_str), Quote::Literal)
            }
            EditError::UnknownKey { .. } => {
                Diagnostic::error(Code::UnknownName, error.to_string()).at_file(file, at(site.key), "no such key")
            }
            EditError::MissingReference { entity, key, span } => {
                // The span is in the value's text: placed where it was typed.
                let value = at(site.value);
                let place =
                    Span::new(value.start as usize + span.start as usize, value.start as usize + span.end as usize);
                let label = match site.field {
                    Some(field) => format!("`{}` refers to a missing `{entity}`", field.text),
                    None => format!("refers to a missing `{entity}`"),
                };
                let d = Diagnostic::error(Code::FactMissingRef, format!("no `{entity}` has the key {key:?}"))
                    .at_file(file, place, label);
                let keys = program.entity_by_name(entity).map(|id| self.keys(id)).unwrap_or_default();
                d.suggest_or(
                    key,
                    keys.iter().map(String::as_str),
                    Quote::Literal,
                    format!("add the `{entity}` first (`:add {entity} {{ .. }}`), or correct the key"),
                )
            }
            EditError::UnknownField { entity, field } => {
                let d = Diagnostic::error(Code::UnknownField, format!("`{entity}` has no field `{field}`")).at_file(
                    file,
                    at(site.field),
                    "no such field",
                );
                let fields = entity_id.map(|id| program.entity(id).fields.iter().map(|f| f.name.as_str()));
                d.suggest(field, fields.into_iter().flatten(), Quote::Code)
            }
            EditError::UnknownMeasure(name) => {
                let d =
                    Diagnostic::error(Code::UnknownName, format!("no measure of the organisation is named `{name}`"))
                        .at_file(file, site.entity.span, "not a measure");
                let measures = program.measures.iter().filter(|m| m.field().is_none()).map(|m| m.decl.name.as_str());
                d.suggest_or(
                    name,
                    measures,
                    Quote::Code,
                    "`:set MEASURE = VALUE` sets a measure declared without `for`; \
                     a fact's field is `:set ENTITY \"KEY\".FIELD = VALUE`"
                        .to_string(),
                )
            }
            EditError::KeyField(field) => {
                Diagnostic::error(Code::TypeMismatch, format!("`{field}` is the key of `{}`", site.entity.text))
                    .at_file(file, at(site.field), "the key cannot be set")
                    .help("`:remove` the fact and `:add` it with another key")
            }
            EditError::NotOptional(field) => {
                let ty = entity_id
                    .and_then(|id| program.entity(id).field(field))
                    .map_or_else(|| "?".to_string(), |(_, f)| program.ty_name(&f.ty));
                Diagnostic::error(Code::TypeMismatch, format!("`{field}` is not optional, so it cannot be unset"))
                    .at_file(file, at(site.field), format!("this field is a `{ty}`"))
                    .help("`:set` it to another value instead")
            }
            EditError::DuplicateKey { entity, key } => {
                Diagnostic::error(Code::FactDuplicateKey, format!("a `{entity}` with the key {key:?} already exists"))
                    .at_file(file, at(site.value), "a fact with this key exists")
            }
            EditError::Invalid(diagnostics) => {
                // A value is checked against its field's type; a record is a fact.
                let measure = program.measures.iter().find_map(|m| match &m.target {
                    crate::ir::MeasureTarget::Organisation { ty } if m.decl.name == site.entity.text => Some(ty),
                    _ => None,
                });
                let label = match (entity_id, site.field, measure) {
                    (Some(id), Some(field), _) => program.entity(id).field(field.text).map_or_else(
                        || "invalid".to_string(),
                        |(_, f)| format!("expected a `{}`", program.ty_name(&f.ty)),
                    ),
                    (None, None, Some(ty)) => format!("expected a `{}`", program.ty_name(ty)),
                    _ => "in this fact".to_string(),
                };
                let piece = at(site.value);
                return relocate(diagnostics.clone(), file, piece.start as usize)
                    .into_iter()
                    .map(|d| if d.primary.is_none() { d.at_file(file, piece, label.as_str()) } else { d })
                    .collect();
            }
        };
        let mut out = vec![d];
        // A value typed for a fact that does not exist may be wrong too:
        // say so now, not after the key is corrected.
        if let (EditError::UnknownKey { .. }, Some(field), Some(value)) = (error, site.field, site.value) {
            let ty = entity_id.and_then(|id| program.entity(id).field(field.text)).map(|(_, f)| f.ty.clone());
            let wrong = ty.and_then(|ty| match crate::sema::constant(program, &ty, value.text) {
                Err(diagnostics) => Some(EditError::Invalid(diagnostics)),
                Ok(constant) => self.check_references(&constant).err(),
            });
            if let Some(wrong) = wrong {
                out.extend(self.edit_diagnostics(&wrong, site));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Format, Mapping};

    const POLICY: &str = "entity S { id: Text key, ok: Bool, note: Text? }\ncontrol c for s: S { require s.ok }\n";
    const FACTS: &str = r#"{ "S": [ { "id": "alpha", "ok": false } ] }"#;
    const TYPED: FileId = FileId(7);

    fn engine() -> Engine {
        Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)]).expect("loads")
    }

    fn part(line: &str, text: &'static str) -> Typed<'static> {
        let start = line.find(text).expect("the part is on the line");
        Typed { text, span: Span::new(start, start + text.len()) }
    }

    #[test]
    fn an_expression_is_checked_and_evaluated_against_the_facts() {
        let engine = engine();
        let evaluated = engine.eval_expression(TYPED, "count(s for s: S where not s.ok)").expect("checks");
        assert_eq!(evaluated.shown, "1");
        let errors = engine.eval_expression(TYPED, "count(s for s: S where s.nope)").expect_err("no such field");
        assert_eq!(errors[0].code, Code::UnknownField);
        assert_eq!(errors[0].primary.as_ref().map(|l| l.at.file), Some(TYPED));
    }

    #[test]
    fn a_refused_edit_points_at_what_was_typed() {
        let mut engine = engine();
        let line = ":set Ss \"alpha\".ok = true";
        let site = EditSite {
            file: TYPED,
            entity: part(line, "Ss"),
            key: Some(part(line, "alpha")),
            field: Some(part(line, "ok")),
            value: Some(part(line, "true")),
        };
        let error = engine.set_field("Ss", "alpha", "ok", "true").expect_err("no entity `Ss`");
        let d = &engine.edit_diagnostics(&error, &site)[0];
        assert_eq!(d.code, Code::UnknownType);
        assert_eq!(d.help.as_deref(), Some("did you mean `S`?"));
        assert_eq!(d.primary.as_ref().map(|l| l.at.span), Some(site.entity.span));

        let line = ":set S \"alpha\".ok = 3";
        let site = EditSite {
            entity: part(line, "S"),
            key: Some(part(line, "alpha")),
            field: Some(part(line, "ok")),
            value: Some(part(line, "3")),
            ..site
        };
        let error = engine.set_field("S", "alpha", "ok", "3").expect_err("a number is not a Bool");
        assert!(matches!(&error, EditError::Invalid(d) if d[0].code == Code::TypeMismatch), "{error:?}");
        let d = &engine.edit_diagnostics(&error, &site)[0];
        let at = d.primary.as_ref().expect("placed");
        assert_eq!((at.at.file, at.at.span), (TYPED, site.value.map_or(Span::new(0, 0), |v| v.span)));

        let error = engine.unset_field("S", "alpha", "ok").expect_err("not optional");
        let d = &engine.edit_diagnostics(&error, &site)[0];
        assert_eq!(d.primary.as_ref().map(|l| l.message.as_str()), Some("this field is a `Bool`"));
    }

    #[test]
    fn a_missing_reference_is_placed_on_its_key_with_a_suggestion() {
        const POLICY: &str =
            "entity P { id: Text key }\nentity S { id: Text key, owners: [P] }\ncontrol c for s: S { require true }\n";
        const FACTS: &str =
            r#"{ "P": [ { "id": "p-chen" }, { "id": "p-okafor" } ], "S": [ { "id": "a", "owners": [] } ] }"#;
        let mut engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)])
            .expect("loads");
        let line = ":set S \"a\".owners = [\"p-chen\", \"p-chn\"]";
        let value = part(line, "[\"p-chen\", \"p-chn\"]");
        let site = EditSite {
            file: TYPED,
            entity: part(line, "S"),
            key: Some(part(line, "a")),
            field: Some(part(line, "owners")),
            value: Some(value),
        };
        let error = engine.set_field("S", "a", "owners", value.text).expect_err("p-chn is not a P");
        assert!(matches!(&error, EditError::MissingReference { key, .. } if key == "p-chn"), "{error:?}");
        let d = &engine.edit_diagnostics(&error, &site)[0];
        assert_eq!(d.code, Code::FactMissingRef);
        assert_eq!(d.help.as_deref(), Some("did you mean \"p-chen\"?"));
        let start = line.rfind("\"p-chn\"").expect("typed");
        assert_eq!(d.primary.as_ref().map(|l| l.at.span), Some(Span::new(start, start + "\"p-chn\"".len())));
        assert!(engine.evaluation().rules[0].outcomes.iter().all(|o| o.kind == crate::ir::OutcomeKind::Pass));
    }

    #[test]
    fn a_wrong_key_and_a_wrong_value_are_both_reported() {
        const POLICY: &str =
            "entity P { id: Text key }\nentity S { id: Text key, owner: P }\ncontrol c for s: S { require true }\n";
        const FACTS: &str = r#"{ "P": [ { "id": "p-chen" } ], "S": [ { "id": "a", "owner": "p-chen" } ] }"#;
        let mut engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)])
            .expect("loads");
        let line = ":set S \"x\".owner = \"p-chn\"";
        let site = EditSite {
            file: TYPED,
            entity: part(line, "S"),
            key: Some(part(line, "x")),
            field: Some(part(line, "owner")),
            value: Some(part(line, "\"p-chn\"")),
        };
        let error = engine.set_field("S", "x", "owner", "\"p-chn\"").expect_err("no fact x");
        let codes: Vec<Code> = engine.edit_diagnostics(&error, &site).iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::UnknownName, Code::FactMissingRef]);
        let line = ":set S \"x\".owner = \"p-chen\"";
        let site = EditSite { value: Some(part(line, "\"p-chen\"")), ..site };
        let error = engine.set_field("S", "x", "owner", "\"p-chen\"").expect_err("no fact x");
        assert_eq!(engine.edit_diagnostics(&error, &site).len(), 1, "a right value adds nothing");
    }

    #[test]
    fn a_record_with_a_syntax_error_is_refused_with_its_place() {
        let mut engine = engine();
        let line = ":add S { id: \"b\", ok: }";
        let record = part(line, "{ id: \"b\", ok: }");
        let site = EditSite { file: TYPED, entity: part(line, "S"), key: None, field: None, value: Some(record) };
        let error = engine.add_fact("S", record.text).expect_err("a syntax error");
        let d = &engine.edit_diagnostics(&error, &site)[0];
        assert_eq!(d.code, Code::Syntax);
        let at = d.primary.as_ref().expect("placed").at.span;
        assert!(at.start >= record.span.start && at.end <= record.span.end, "{at:?} inside {:?}", record.span);
    }
}
