//! The `ActionPlan` records of `aims.records`: an action that puts a clause
//! or control in place, with its owner and due date. The gap analysis shows
//! the open action of a row as its remediation; the Statement of
//! Applicability shows a control that is not implemented yet and has an
//! open action as `planned`, with the due date, overdue after it.

use serde::Serialize;

use crate::facts::Facts;
use crate::ir::Program;

/// One open action (no `completed_on`) for a clause or control.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// The record's key.
    pub action: String,
    /// What is to be done, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who owns it (the `Person`'s key), when recorded.
    pub owner: Option<String>,
    /// The day it is due (`YYYY-MM-DD`).
    pub due: String,
    /// The due date is before the report's date and the action is still open.
    pub overdue: bool,
}

/// The open actions of a program's facts, by the clause or control they are for.
#[derive(Clone, Debug, Default)]
pub struct ActionPlans {
    open: Vec<(String, Action)>,
}

impl ActionPlans {
    /// Reads every `ActionPlan` without a `completed_on`; none when the
    /// policies do not load `aims.records`.
    pub fn read(program: &Program, facts: &dyn Facts, as_of: &str) -> ActionPlans {
        let Some(entity) = program.entity_by_name("ActionPlan") else { return ActionPlans::default() };
        let field = |row: u32, name: &str| -> Option<String> {
            let (index, _) = program.entity(entity).field(name)?;
            super::soa_detail::show(program, facts.values(entity, row)?.get(index as usize)?)
        };
        let mut open = Vec::new();
        for row in 0..facts.len(entity) {
            if field(row, "completed_on").is_some() {
                continue;
            }
            let (Some(requirement), Some(due)) = (field(row, "requirement"), field(row, "due")) else { continue };
            let action = Action {
                action: facts.key_of(program, entity, row).to_string(),
                description: field(row, "description"),
                owner: field(row, "owner"),
                overdue: due.as_str() < as_of,
                due,
            };
            open.push((requirement.trim().to_string(), action));
        }
        ActionPlans { open }
    }

    /// The open action for a clause or control that falls due first (the
    /// first recorded among those due the same day).
    pub fn for_requirement(&self, id: &str) -> Option<&Action> {
        self.open.iter().filter(|(r, _)| r == id).map(|(_, a)| a).min_by(|a, b| a.due.cmp(&b.due))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_actions_are_read_by_requirement_and_the_earliest_due_wins() {
        let policy = r#"
use aims
fact Person { id: "kim", name: "Kim" }
fact ActionPlan { id: "ap-1", requirement: "9.2", owner: "kim", due: 2026-09-30 }
fact ActionPlan { id: "ap-2", requirement: "9.2", due: 2026-03-31 }
fact ActionPlan { id: "ap-3", requirement: "A.6.2.8", due: 2026-01-31, completed_on: 2026-01-20 }
"#;
        let engine = crate::Engine::from_texts("p.aims", policy, &[]).expect("the policy loads");
        let plans = ActionPlans::read(engine.program(), &engine.facts(), "2026-06-30");
        let first = plans.for_requirement("9.2").expect("an open action for 9.2");
        assert_eq!((first.action.as_str(), first.due.as_str(), first.overdue), ("ap-2", "2026-03-31", true));
        assert_eq!(first.owner, None);
        assert!(plans.for_requirement("A.6.2.8").is_none(), "a completed action is not open");
        let later = ActionPlans::read(engine.program(), &engine.facts(), "2026-03-31");
        assert!(!later.for_requirement("9.2").expect("open").overdue, "due today is not overdue");
    }
}
