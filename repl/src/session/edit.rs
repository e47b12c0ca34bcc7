//! A what-if edit as the session records it (for `:undo`, `:reload` and
//! scenarios), applied to an engine and described as it would be typed.

use aims_lang::engine::EditError;
use aims_lang::report::explain::one_line;
use aims_lang::Date;
use aims_lang::Engine;

use super::{declared, quote};

/// A what-if edit, as recorded for undo, reload and scenarios.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// `:set ENTITY "KEY".FIELD = VALUE`: one field of one fact.
    Set {
        /// The fact's entity.
        entity: String,
        /// The fact's key.
        key: String,
        /// The field set.
        field: String,
        /// The new value, as typed.
        value: String,
    },
    /// `:unset ENTITY "KEY".FIELD`: one field of one fact made absent.
    Unset {
        /// The fact's entity.
        entity: String,
        /// The fact's key.
        key: String,
        /// The field made absent.
        field: String,
    },
    /// `:add ENTITY { ... }`: a new fact.
    Add {
        /// The new fact's entity.
        entity: String,
        /// The fact's record, as typed.
        record: String,
    },
    /// `:remove ENTITY "KEY"`: a fact taken away.
    Remove {
        /// The fact's entity.
        entity: String,
        /// The fact's key.
        key: String,
    },
    /// A measure of the organisation given a value (or none).
    Measure {
        /// The measure.
        name: String,
        /// Its value, as typed; `None`: not measured.
        value: Option<String>,
    },
    /// `:as-of DATE`: the evaluation date.
    AsOf(Date),
    /// Declarations typed at the prompt, added as the policy file `file`.
    Declare {
        /// The policy file's name.
        file: String,
        /// The declarations' text.
        text: String,
    },
}

impl Edit {
    /// Applies the edit; for `Add`, returns the key of the new fact. A
    /// refused declaration's diagnostics are an [`EditError::Invalid`].
    pub(super) fn apply(&self, engine: &mut Engine) -> Result<Option<String>, EditError> {
        match self {
            Edit::Set { entity, key, field, value } => engine.set_field(entity, key, field, value).map(|()| None),
            Edit::Unset { entity, key, field } => engine.unset_field(entity, key, field).map(|()| None),
            Edit::Add { entity, record } => engine.add_fact(entity, record).map(Some),
            Edit::Remove { entity, key } => engine.remove_fact(entity, key).map(|()| None),
            Edit::Measure { name, value } => engine.set_measure(name, value.as_deref()).map(|()| None),
            Edit::AsOf(date) => {
                engine.set_as_of(*date);
                Ok(None)
            }
            Edit::Declare { file, text } => engine.add_policy(file, text).map(|_| None).map_err(EditError::Invalid),
        }
    }

    /// The edit as it would be typed.
    pub fn describe(&self) -> String {
        match self {
            Edit::Set { entity, key, field, value } => format!(":set {entity} {}.{field} = {value}", quote(key)),
            Edit::Unset { entity, key, field } => format!(":unset {entity} {}.{field}", quote(key)),
            Edit::Add { entity, record } => format!(":add {entity} {}", one_line(record)),
            Edit::Remove { entity, key } => format!(":remove {entity} {}", quote(key)),
            Edit::Measure { name, value: Some(value) } => format!(":set {name} = {value}"),
            Edit::Measure { name, value: None } => format!(":unset {name}"),
            Edit::AsOf(date) => format!(":as-of {date}"),
            Edit::Declare { file, text } => format!("{} ({file})", declared(text)),
        }
    }
}
