//! Objectives: measure, baseline, target and history.

use super::rules::ck_file;
use super::{decl, Checker, Items};
use crate::diag::{Code, Diagnostic};
use crate::ir::*;
use crate::sema::expr::ExprChecker;
use crate::sema::source_map::LocalKind;
use crate::sema::{const_value, Context};
use crate::syntax::ast::{self, Severity};

impl Checker<'_, '_> {
    pub(super) fn objectives(&mut self, items: &Items) {
        for o in &items.objectives {
            let at = o.file.span(o.node.name.span);
            if !self.claim(|n| &mut n.rules, "rule", &o.node.name.name, at) {
                continue;
            }
            self.misplaced(o.file, &o.node.header, "an objective", &["implements", "for"]);
            let clauses = self.check_requirements(o.file, &o.node.header.clauses);
            let name = &o.node.name.name;
            let mut parts_ok = true;
            for (what, count) in [("measure", o.node.measures.len()), ("target", o.node.targets.len())] {
                if count == 0 {
                    parts_ok = false;
                    self.push(
                        Diagnostic::error(Code::MissingPart, format!("objective `{name}` has no `{what}`"))
                            .at(o.file, o.node.name.span, format!("`{what}` is missing"))
                            .help(match what {
                                "measure" => "add `measure <expression>`: what is measured",
                                _ => "add `target <= VALUE by DATE`",
                            }),
                    );
                }
            }
            for (what, spans) in [
                ("measure", o.node.measures.iter().map(|m| m.span).collect::<Vec<_>>()),
                ("target", o.node.targets.iter().map(|t| t.span).collect()),
                ("baseline", o.node.baselines.iter().map(|b| b.2).collect()),
                ("history", o.node.histories.iter().map(|h| h.span).collect()),
            ] {
                for span in spans.iter().skip(1) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("objective `{name}` has more than one `{what}`"))
                            .at(o.file, *span, "again here")
                            .also(o.file, spans[0], "first here"),
                    );
                }
            }
            if !parts_ok {
                continue;
            }
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, o.file, o.text);
            let (measure, mt) = ck.expect(&o.node.measures[0], &Ty::Number, true);
            let _ = mt;
            let number =
                |ck: &mut ExprChecker, e: &ast::Expr| -> Option<crate::num::Decimal> {
                    let (ex, ty) = ck.expect(e, &Ty::Number, false);
                    if ty == Ty::Error {
                        return None;
                    }
                    match const_value(&ex).and_then(|v| v.as_decimal()) {
                        Some(n) => Some(n),
                        None => {
                            ck.diags.push(
                                Diagnostic::error(Code::NotConstant, "a baseline or target must be a constant number")
                                    .at(ck_file(ck), e.span, "computed value"),
                            );
                            None
                        }
                    }
                };
            let baseline = o.node.baselines.first().and_then(|(v, d, _)| number(&mut ck, v).map(|n| (n, *d)));
            let t = &o.node.targets[0];
            let target = number(&mut ck, &t.value).map(|n| (t.op, n, t.deadline));
            let history = o.node.histories.first().map(|h| {
                let (source, element, _) = ck.binder_source(&h.binder);
                let slot = ck.bind(&h.binder.var, LocalKind::Binder, element, h.span);
                let filter = h.filter.as_ref().map(|f| ck.expect(f, &Ty::Bool, true).0);
                let (value, _) = ck.expect(&h.value, &Ty::Number, true);
                let (date, _) = ck.expect(&h.date, &Ty::Date, true);
                HistoryDef { slot, source, filter, value, date }
            });
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            let failed = diags.iter().any(Diagnostic::is_error);
            self.absorb(diags);
            let Some(target) = target else { continue };
            if failed {
                continue;
            }
            self.cx.program.objectives.push(ObjectiveDef {
                decl: decl(o.file, o.span, &o.node.name, o.docs),
                title: o.node.title.as_ref().map(|t| t.value.clone()),
                severity: o.node.header.severity.map(|(s, _)| s).unwrap_or(Severity::Minor),
                owner: o.node.header.owner.as_ref().map(|t| t.value.clone()),
                clauses,
                measure,
                baseline,
                target,
                history,
                slots,
            });
        }
    }
}
