//! Facts written in policy files, and `test` declarations with their
//! givens and expectations.

use super::{Checker, Items};
use crate::diag::{Anchor, Code, Diagnostic};
use crate::ir::*;
use crate::sema::expr::ExprChecker;
use crate::sema::{const_value, Context};
use crate::syntax::ast::{self};

impl Checker<'_, '_> {
    pub(super) fn fact(&mut self, file: Anchor, text: &str, f: &ast::FactDecl) -> Option<FactDef> {
        let Some(entity) = self.cx.entity_by_name(&f.entity.name) else {
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, file, text);
            ck.unknown_type(&f.entity, true);
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            return None;
        };
        let def = self.cx.program.entities[entity.index()].clone();
        let cx: &Context = self.cx;
        let mut ck = ExprChecker::new(cx, file, text);
        let (values, ok) = ck.field_values(&def, &f.fields, f.body_span);
        let diags = std::mem::take(&mut ck.diags);
        self.absorb(diags);
        if !ok {
            return None;
        }
        let mut out = Vec::with_capacity(values.len());
        for (ex, init) in values.iter().zip(def.fields.iter()) {
            match const_value(ex) {
                Some(v) => out.push(v),
                None => {
                    let span = f.fields.iter().find(|i| i.name.name == init.name).map_or(f.body_span, |i| i.value.span);
                    self.push(Diagnostic::error(Code::NotConstant, "a fact must be written with constants").at(
                        file,
                        span,
                        "computed value",
                    ));
                    return None;
                }
            }
        }
        Some(FactDef { entity, values: out, span: file.span(f.body_span) })
    }

    pub(super) fn facts(&mut self, items: &Items) {
        for f in &items.facts {
            if let Some(fact) = self.fact(f.file, f.text, f.node) {
                self.cx.program.facts.push(fact);
            }
        }
    }

    pub(super) fn tests(&mut self, items: &Items) {
        for t in &items.tests {
            let at = t.file.span(t.node.name.span);
            if !self.claim(|n| &mut n.tests, "test", &t.node.name.value, at) {
                continue;
            }
            let given: Vec<FactDef> = t.node.given.iter().filter_map(|g| self.fact(t.file, t.text, g)).collect();
            let mut expects = Vec::new();
            for e in &t.node.expects {
                match e {
                    ast::Expectation::Outcome { rule, outcome, entity, span } => {
                        let Some(id) = self.rule_ref(t.file, rule) else { continue };
                        let kind = match outcome.name.as_str() {
                            "passes" => OutcomeKind::Pass,
                            "fails" => OutcomeKind::Fail,
                            "waived" => OutcomeKind::Waived,
                            _ => OutcomeKind::NotApplicable,
                        };
                        expects.push(ExpectDef::Outcome {
                            rule: id,
                            outcome: kind,
                            entity: entity.as_ref().map(|e| e.value.clone()),
                            span: t.file.span(*span),
                        });
                    }
                    ast::Expectation::Risk { risk, entity, level, span } => {
                        let Some(index) = self.cx.program.risks.iter().position(|r| r.decl.name == risk.name) else {
                            self.push(
                                Diagnostic::error(Code::UnknownRule, format!("unknown risk `{}`", risk.name)).at(
                                    t.file,
                                    risk.span,
                                    "no such risk",
                                ),
                            );
                            continue;
                        };
                        let matrix = &self.cx.program.matrices[self.cx.program.risks[index].matrix.index()];
                        let Some(l) = matrix.levels.iter().position(|l| l.name == level.name) else {
                            let names: Vec<&str> = matrix.levels.iter().map(|l| l.name.as_str()).collect();
                            let d = Diagnostic::error(Code::UnknownVariant, format!("no risk level `{}`", level.name))
                                .at(t.file, level.span, "no such level")
                                .help(format!("the levels are: {}", names.join(", ")));
                            self.push(d);
                            continue;
                        };
                        expects.push(ExpectDef::Risk {
                            risk: RiskId(index as u32),
                            entity: entity.as_ref().map(|e| e.value.clone()),
                            level: l as u32,
                            span: t.file.span(*span),
                        });
                    }
                    ast::Expectation::Objective { objective, status, span } => {
                        let Some(index) = self.cx.program.objectives.iter().position(|o| o.decl.name == objective.name)
                        else {
                            self.push(
                                Diagnostic::error(Code::UnknownRule, format!("unknown objective `{}`", objective.name))
                                    .at(t.file, objective.span, "no such objective"),
                            );
                            continue;
                        };
                        let Some(st) = ObjectiveStatus::parse(&status.name) else {
                            self.push(
                                Diagnostic::error(
                                    Code::UnknownVariant,
                                    format!("no objective status `{}`", status.name),
                                )
                                .at(t.file, status.span, "no such status")
                                .help("the statuses are: met, on_track, at_risk, missed, no_data"),
                            );
                            continue;
                        };
                        expects.push(ExpectDef::Objective {
                            objective: ObjectiveId(index as u32),
                            status: st,
                            span: t.file.span(*span),
                        });
                    }
                }
            }
            self.cx.program.tests.push(TestDef {
                name: t.node.name.value.clone(),
                span: t.file.span(t.span),
                as_of: t.node.as_of.map(|(d, _)| d),
                given,
                expects,
            });
        }
    }
}
