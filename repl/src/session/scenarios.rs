//! Scenarios: named lists of edits, saved, loaded and compared.

use std::fmt::Write as _;

use aims_lang::diag::{Code, Diagnostic, Quote};

use super::{count, span, timed, Edit, Session};
use crate::diff::Diff;
use crate::parse::Spanned;

impl Session {
    /// The edits of a scenario: `initial` (none), `current`, or a saved one.
    fn scenario(&self, input: &str, name: &Spanned<String>) -> Result<Vec<Edit>, String> {
        match (self.scenarios.get(&name.value), name.value.as_str()) {
            (Some(edits), _) => Ok(edits.clone()),
            (None, "initial") => Ok(Vec::new()),
            (None, "current") => Ok(self.edits.clone()),
            (None, other) => {
                let mut d = Diagnostic::error(Code::UnknownName, format!("no scenario is named `{other}`"))
                    .at_file(self.repl_file(), span(&name.span), "not saved")
                    .note("`initial` is the project as loaded and `current` the edits applied now");
                let names = self.scenarios.keys().map(String::as_str).chain(["initial", "current"]);
                d = d.suggest_or(other, names, Quote::Code, "save one with `:scenario save NAME`");
                Err(self.error_at(input, d))
            }
        }
    }

    pub(super) fn scenario_save(&mut self, input: &str, name: Spanned<String>) -> String {
        if name.value == "initial" || name.value == "current" {
            let d = Diagnostic::error(Code::Duplicate, format!("`{}` is a reserved scenario name", name.value))
                .at_file(self.repl_file(), span(&name.span), "reserved")
                .note("`initial` is the project as loaded and `current` the edits applied now");
            return self.error_at(input, d);
        }
        let replaced = self.scenarios.insert(name.value.clone(), self.edits.clone()).is_some();
        format!(
            "{} scenario {} ({})\n",
            if replaced { "replaced" } else { "saved" },
            name.value,
            count(self.edits.len(), "edit")
        )
    }

    pub(super) fn scenario_load(&mut self, input: &str, name: Spanned<String>) -> String {
        let edits = match self.scenario(input, &name) {
            Ok(edits) => edits,
            Err(text) => return text,
        };
        let before = self.evaluated();
        let problems = self.replay_as_current(&edits);
        let after = self.evaluated();
        let head = format!("loaded scenario {} ({})\n{problems}", name.value, count(self.edits.len(), "edit"));
        self.answer(head, Diff::between(before.side(), after.side()))
    }

    pub(super) fn scenario_compare(&mut self, input: &str, a: Spanned<String>, b: Spanned<String>) -> String {
        let (edits_a, edits_b) = match (self.scenario(input, &a), self.scenario(input, &b)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(text), _) | (_, Err(text)) => return text,
        };
        // Both scenarios are applied in turn to the working engine (sharing
        // the memoized results of whatever neither touches), which then
        // goes back to where it was.
        let now = timed(&mut self.spent, || self.engine.checkpoint());
        let (edits, undo) = (std::mem::take(&mut self.edits), std::mem::take(&mut self.undo));
        let problems_a = self.replay_as_current(&edits_a);
        let first = self.evaluated();
        let problems_b = self.replay_as_current(&edits_b);
        let second = self.evaluated();
        timed(&mut self.spent, || self.engine.restore(&now));
        (self.edits, self.undo) = (edits, undo);
        let head = format!(
            "scenario {} ({}) → scenario {} ({})\n{problems_a}{problems_b}",
            a.value,
            count(edits_a.len(), "edit"),
            b.value,
            count(edits_b.len(), "edit"),
        );
        self.answer(head, Diff::between(first.side(), second.side()))
    }

    pub(super) fn scenario_list(&self) -> String {
        if self.scenarios.is_empty() {
            return "no saved scenarios (`:scenario save NAME` saves the current edits)\n".into();
        }
        let mut out = String::new();
        for (name, edits) in &self.scenarios {
            let _ = writeln!(out, "{name}  ({})", count(edits.len(), "edit"));
            for e in edits {
                let _ = writeln!(out, "    {}", e.describe());
            }
        }
        out
    }
}
