//! Questions typed at the prompt: an expression, a control's outcomes,
//! one outcome and its `:why` trace, a risk, an objective.

use aims_lang::diag::{Code, Diagnostic, Quote};
use aims_lang::report::explain::View;
use aims_lang::syntax::Span;

use super::{quote, span, timed, Session};
use crate::parse::Spanned;

impl Session {
    fn unknown_key(&self, input: &str, what: &str, key: &Spanned<String>, keys: &[String]) -> String {
        let mut d =
            Diagnostic::error(Code::UnknownName, format!("{what} has no fact with the key {}", quote(&key.value)))
                .at_file(self.repl_file(), span(&key.span), "no such key");
        d.set_suggestion(&key.value, keys.iter().map(String::as_str), Quote::Literal);
        self.error_at(input, d)
    }

    pub(super) fn why(&mut self, input: &str, rule: Spanned<String>, key: Option<Spanned<String>>) -> String {
        let evaluation = self.evaluation();
        let program = self.engine.program();
        let Some(id) = program.rule_by_name(&rule.value) else {
            return self.unknown_rule(input, &rule, ":why explains controls and audits");
        };
        let view = View {
            program,
            sources: self.engine.sources(),
            evaluation: &evaluation,
            measurements: self.engine.measurements(),
        };
        let def = program.rule(id);
        let key_text = match (&def.subject, &key) {
            (None, _) => "-".to_string(),
            (Some(_), Some(k)) => k.value.clone(),
            (Some(subject), None) => {
                let at = input.trim_end().len();
                let entity = &program.entity(subject.entity).decl.name;
                let d =
                    Diagnostic::error(Code::Syntax, format!("`{}` is checked per `{entity}`: which one?", rule.value))
                        .at_file(self.repl_file(), Span::new(at, at), format!("expected the key of a `{entity}` here"))
                        .help(format!(
                            "for instance `:why {} {}`",
                            rule.value,
                            view.keys(id).first().map_or("KEY", |k| k)
                        ));
                return self.error_at(input, d);
            }
        };
        match view.find(id, &key_text) {
            Some(outcome) => view.why(id, outcome),
            None => {
                let keys = view.keys(id);
                let key = key.unwrap_or(Spanned { value: key_text, span: 0..0 });
                self.unknown_key(input, &format!("`{}`", rule.value), &key, &keys)
            }
        }
    }

    fn unknown_rule(&self, input: &str, name: &Spanned<String>, note: &str) -> String {
        let program = self.engine.program();
        let mut d = Diagnostic::error(Code::UnknownRule, format!("no control or audit is named `{}`", name.value))
            .at_file(self.repl_file(), span(&name.span), "not a control or audit")
            .note(note);
        d.set_suggestion(&name.value, program.rules.iter().map(|r| r.decl.name.as_str()), Quote::Code);
        self.error_at(input, d)
    }

    /// `NAME on KEY` where NAME is neither a rule nor a risk.
    fn unknown_rule_or_risk(&self, input: &str, name: &Spanned<String>) -> String {
        let program = self.engine.program();
        let names = program
            .rules
            .iter()
            .map(|r| r.decl.name.as_str())
            .chain(program.risks.iter().map(|r| r.decl.name.as_str()));
        let d = Diagnostic::error(Code::UnknownRule, format!("no control, audit or risk is named `{}`", name.value))
            .at_file(self.repl_file(), span(&name.span), "not a control, audit or risk")
            .note("`NAME on KEY` shows one outcome of a control, audit or risk")
            .suggest(&name.value, names, Quote::Code);
        self.error_at(input, d)
    }

    /// A name typed on its own that the expression checker does not know:
    /// it may be a misspelt control, risk or objective (not values, so the
    /// checker does not offer them), so the suggestion looks at those too.
    fn unknown_bare_name(&self, input: &str, name: &Spanned<String>, mut diagnostics: Vec<Diagnostic>) -> String {
        let on_the_name = |d: &Diagnostic| {
            d.code == Code::UnknownName && d.primary.as_ref().is_some_and(|p| p.at.span == span(&name.span))
        };
        if let [d] = diagnostics.as_mut_slice() {
            if on_the_name(d) {
                let v = self.vocabulary();
                let shown = v.rules.iter().map(|(n, _)| n.as_str()).chain(v.risks.iter().map(String::as_str));
                let names: Vec<&str> = shown
                    .chain(v.objectives.iter().map(String::as_str))
                    .chain(v.functions.iter().map(String::as_str))
                    .chain(v.entities.iter().map(|(n, _, _)| n.as_str()))
                    .chain(v.value_types.iter().flat_map(|(_, values)| values.iter().map(String::as_str)))
                    .collect();
                d.set_suggestion(&name.value, names, Quote::Code);
            }
        }
        self.render(input, &diagnostics, None)
    }

    pub(super) fn named(&mut self, input: &str, name: Spanned<String>, key: Option<Spanned<String>>) -> String {
        let evaluation = self.evaluation();
        let program = self.engine.program();
        let view = View {
            program,
            sources: self.engine.sources(),
            evaluation: &evaluation,
            measurements: self.engine.measurements(),
        };
        if let Some(id) = program.rule_by_name(&name.value) {
            let Some(key) = key else { return view.rule(id) };
            return match view.find(id, &key.value) {
                Some(outcome) => view.one(id, outcome),
                None => self.unknown_key(input, &format!("`{}`", name.value), &key, &view.keys(id)),
            };
        }
        if let Some(i) = program.risks.iter().position(|r| r.decl.name == name.value) {
            let id = aims_lang::ir::RiskId(i as u32);
            if let Some(k) = &key {
                let keys: Vec<String> = evaluation
                    .risks
                    .get(i)
                    .map(|r| r.entries.iter().map(|e| e.key.to_string()).collect())
                    .unwrap_or_default();
                if !keys.contains(&k.value) {
                    return self.unknown_key(input, &format!("risk `{}`", name.value), k, &keys);
                }
            }
            return view.risk(id, key.as_ref().map(|k| k.value.as_str()));
        }
        if let Some(i) = program.objectives.iter().position(|o| o.decl.name == name.value) {
            if key.is_none() {
                return view.objective(aims_lang::ir::ObjectiveId(i as u32));
            }
        }
        if key.is_some() {
            return self.unknown_rule_or_risk(input, &name);
        }
        let file = self.repl_file();
        let evaluated = timed(&mut self.spent, || self.engine.eval_expression(file, input));
        match evaluated {
            Err(diagnostics) => self.unknown_bare_name(input, &name, diagnostics),
            Ok(evaluated) => format!("{}\n", evaluated.shown),
        }
    }

    pub(super) fn expression(&mut self, input: &str) -> String {
        let file = self.repl_file();
        let evaluated = timed(&mut self.spent, || self.engine.eval_expression(file, input));
        match evaluated {
            Err(diagnostics) => self.render(input, &diagnostics, None),
            Ok(evaluated) => format!("{}\n", evaluated.shown),
        }
    }
}
