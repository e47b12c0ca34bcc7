//! Whether loaded facts still fit the program: the one rule the REPL and
//! the language server both follow (they used to have one each, and the
//! two disagreed).
//!
//! Facts are stored as values indexed by the program's declarations: a
//! field by its position in its entity, an enum value by its variant's
//! position, a record by its type's index. They stay valid while every
//! entity is declared as it was and every type they can hold keeps its
//! index and shape. Declarations added after the existing ones (a new
//! enum, a new record, typed at the REPL) move nothing, so the facts still
//! fit; a changed entity, or a type inserted before another, does not.

use std::sync::Arc;

use crate::ir::Program;

/// The types of a program (span-free), as facts were loaded for them.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema(pub(crate) Arc<Program>);

/// Whether `now` starts with every item of `then`, unchanged.
fn extends<T: PartialEq>(then: &[T], now: &[T]) -> bool {
    now.len() >= then.len() && now[..then.len()] == *then
}

impl Schema {
    /// Whether facts loaded for this schema still fit the program of `now`.
    pub fn fits(&self, now: &Schema) -> bool {
        let (then, now) = (&*self.0, &*now.0);
        then.entities == now.entities
            && extends(&then.records, &now.records)
            && extends(&then.enums, &now.enums)
            && extends(&then.scales, &now.scales)
            && extends(&then.matrices, &now.matrices)
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::facts::{Format, Mapping};
    use crate::Engine;

    const POLICY: &str = "enum Tier { low, high }\nentity S { id: Text key, tier: Tier }\ncontrol c for s: S { require s.tier == high }\n";
    const FACTS: &str = r#"{ "S": [ { "id": "a", "tier": "low" } ] }"#;

    fn engine() -> Engine {
        Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)]).expect("loads")
    }

    #[test]
    fn a_type_declared_after_the_others_keeps_the_facts() {
        let mut engine = engine();
        assert!(engine.facts_fit());
        engine.add_policy("more.aims", "enum Colour { red, blue }\nrecord R { x: Int }\n").expect("fits");
        assert!(engine.facts_fit());
    }

    #[test]
    fn a_changed_entity_or_enum_does_not() {
        let mut engine = engine();
        let errors = engine.add_policy("more.aims", "extend S { note: Text? }\n").expect_err("an entity changed");
        assert_eq!(errors[0].code, Code::Io);
        let file = engine.policy_files()[0];
        let reordered = POLICY.replace("{ low, high }", "{ high, low }");
        engine.set_policy_text(file, &reordered).expect_err("the variants moved");
        assert!(engine.facts_fit(), "a refused edit keeps the program the facts fit");
    }
}
