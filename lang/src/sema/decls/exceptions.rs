//! Exceptions: which rule they waive, for whom, until when.

use super::{decl, Checker, Items};
use crate::diag::{Code, Diagnostic};
use crate::ir::*;

impl Checker<'_, '_> {
    pub(super) fn exceptions(&mut self, items: &Items) {
        for e in &items.exceptions {
            let at = e.file.span(e.node.name.span);
            if !self.claim(|n| &mut n.exceptions, "exception", &e.node.name.name, at) {
                continue;
            }
            let name = &e.node.name.name;
            let Some(waives) = &e.node.waives else {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("exception `{name}` waives nothing"))
                        .at(e.file, e.node.name.span, "no `waives`")
                        .help("add `waives CONTROL for Entity \"key\"`"),
                );
                continue;
            };
            let Some(rule) = self.rule_ref(e.file, waives) else { continue };
            let Some((until, _)) = e.node.until else {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("exception `{name}` never expires"))
                        .at(e.file, e.node.name.span, "no `until`")
                        .note("a waiver without an end date is a permanent gap")
                        .help("add `until YYYY-MM-DD`"),
                );
                continue;
            };
            if e.node.approved_by.is_none() {
                self.push(
                    Diagnostic::error(Code::MissingPart, format!("exception `{name}` has no approver"))
                        .at(e.file, e.node.name.span, "no `approved by`")
                        .help("add `approved by \"ROLE\"`"),
                );
                continue;
            }
            let rule_def = &self.cx.program.rules[rule.index()];
            let target =
                match (&rule_def.subject, &e.node.target) {
                    (Some(subject), Some((entity, key))) => {
                        let wanted = &self.cx.program.entities[subject.entity.index()].decl.name;
                        if *wanted != entity.name {
                            let d = Diagnostic::error(
                                Code::TypeMismatch,
                                format!("`{}` applies to `{wanted}`, not `{}`", waives.name, entity.name),
                            )
                            .at(e.file, entity.span, format!("expected `{wanted}`"));
                            self.push(d);
                            continue;
                        }
                        Some((subject.entity, key.value.clone(), e.file.span(key.span)))
                    }
                    (Some(subject), None) => {
                        let wanted = self.cx.program.entities[subject.entity.index()].decl.name.clone();
                        self.push(
                            Diagnostic::error(
                                Code::MissingPart,
                                format!("exception `{name}` must name the `{wanted}` it waives"),
                            )
                            .at(e.file, waives.span, "which one?")
                            .help(format!("write `waives {} for {wanted} \"key\"`", waives.name)),
                        );
                        continue;
                    }
                    (None, Some((entity, _))) => {
                        self.push(
                            Diagnostic::error(Code::TypeMismatch, format!("`{}` applies to no entity", waives.name))
                                .at(e.file, entity.span, "remove this"),
                        );
                        continue;
                    }
                    (None, None) => None,
                };
            self.cx.program.exceptions.push(ExceptionDef {
                decl: decl(e.file, e.span, &e.node.name, e.docs),
                rule,
                target,
                until,
                approved_by: e.node.approved_by.as_ref().map(|t| t.value.clone()),
                because: e.node.because.as_ref().map(|t| t.value.clone()),
            });
        }
    }
}
