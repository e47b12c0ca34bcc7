//! Risks: their matrix, axes, residual levels and treatments.

use super::{decl, Checker, Items};
use crate::diag::{Code, Diagnostic, Quote};
use crate::ir::*;
use crate::sema::expr::ExprChecker;
use crate::sema::source_map::LocalKind;
use crate::sema::{axis_name, Context};
use crate::syntax::ast::{self, Severity, Span};

impl Checker<'_, '_> {
    pub(super) fn risks(&mut self, items: &Items) {
        for r in &items.risks {
            let at = r.file.span(r.node.name.span);
            if !self.claim(|n| &mut n.rules, "rule", &r.node.name.name, at) {
                continue;
            }
            self.misplaced(r.file, &r.node.header, "a risk", &["implements"]);
            let clauses = self.check_requirements(r.file, &r.node.header.clauses);
            let axis_names: Vec<&str> = r.node.axes.iter().map(|(a, _)| a.name.as_str()).collect();
            let matrix = match self.cx.program.matrices.len() {
                0 => {
                    self.push(
                        Diagnostic::error(
                            Code::MissingPart,
                            format!("risk `{}` needs a risk matrix", r.node.name.name),
                        )
                        .at(r.file, r.node.name.span, "no matrix is declared")
                        .help("declare scales and `matrix RiskLevel = Likelihood * Impact { .. }`"),
                    );
                    continue;
                }
                1 => MatrixId(0),
                _ => {
                    let found = self.cx.program.matrices.iter().position(|m| {
                        m.axes.iter().all(|s| {
                            axis_names.contains(&axis_name(&self.cx.program.scales[s.index()].decl.name).as_str())
                        })
                    });
                    match found {
                        Some(i) => MatrixId(i as u32),
                        None => {
                            self.push(Diagnostic::error(Code::MissingPart, "no matrix has exactly these axes").at(
                                r.file,
                                r.node.name.span,
                                "which matrix?",
                            ));
                            continue;
                        }
                    }
                }
            };
            let mdef = self.cx.program.matrices[matrix.index()].clone();
            let scale_axes: Vec<(String, ScaleId)> =
                mdef.axes.iter().map(|s| (axis_name(&self.cx.program.scales[s.index()].decl.name), *s)).collect();
            let cx: &Context = self.cx;
            let mut ck = ExprChecker::new(cx, r.file, r.text);
            let subject = match &r.node.header.subject {
                Some(s) => match self.subject_with(&mut ck, s) {
                    Some(sub) => Some(sub),
                    None => {
                        let diags = std::mem::take(&mut ck.diags);
                        self.absorb(diags);
                        continue;
                    }
                },
                None => None,
            };
            let mut lets = Vec::new();
            for stmt in &r.node.lets {
                if let ast::Stmt::Let { name, value, span } = stmt {
                    let (ex, ty) = ck.expr(value, None);
                    let slot = ck.bind(name, LocalKind::Let, ty, Span { start: span.end, end: span.end });
                    lets.push((slot, ex));
                }
            }
            let mut axes: Vec<Option<Ex>> = vec![None; scale_axes.len()];
            let mut residual: Vec<Option<Ex>> = vec![None; scale_axes.len()];
            let mut problems = Vec::new();
            for (is_residual, list) in [(false, &r.node.axes), (true, &r.node.residual)] {
                for (axis, value) in list {
                    match scale_axes.iter().position(|(n, _)| *n == axis.name) {
                        Some(i) => {
                            let (ex, _) = ck.expect(value, &Ty::Scale(scale_axes[i].1), true);
                            let slot = if is_residual { &mut residual[i] } else { &mut axes[i] };
                            if slot.is_some() {
                                problems.push(
                                    Diagnostic::error(Code::Duplicate, format!("axis `{}` is given twice", axis.name))
                                        .at(r.file, axis.span, "again here"),
                                );
                            }
                            *slot = Some(ex);
                        }
                        None => {
                            let names: Vec<&str> = scale_axes.iter().map(|(n, _)| n.as_str()).collect();
                            let d = Diagnostic::error(
                                Code::UnknownName,
                                format!("`{}` is not an axis of `{}`", axis.name, mdef.decl.name),
                            )
                            .at(r.file, axis.span, "unknown axis")
                            .suggest_or(
                                &axis.name,
                                names.iter().copied(),
                                Quote::Code,
                                format!("the axes are: {}", names.join(", ")),
                            );
                            problems.push(d);
                        }
                    }
                }
            }
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            self.cx.diags.extend(problems);
            let mut complete = true;
            for (i, (name, _)) in scale_axes.iter().enumerate() {
                if axes[i].is_none() {
                    complete = false;
                    self.push(
                        Diagnostic::error(Code::MissingPart, format!("risk `{}` gives no `{name}`", r.node.name.name))
                            .at(r.file, r.node.name.span, format!("`{name}` is missing"))
                            .help(format!("add `{name}: <value>` to the risk's body")),
                    );
                }
            }
            let mut treated_by = Vec::new();
            for c in &r.node.treated_by {
                if let Some(id) = self.rule_ref(r.file, c) {
                    let rule = &self.cx.program.rules[id.index()];
                    let same_subject = match (&rule.subject, &subject) {
                        (Some(a), Some(b)) => a.entity == b.entity,
                        (None, _) => true,
                        (Some(_), None) => false,
                    };
                    if !same_subject {
                        self.push(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("control `{}` is not about the risk's subject", c.name),
                            )
                            .at(r.file, c.span, "applies to another entity")
                            .also_file(
                                rule.decl.name_span.file,
                                rule.decl.name_span.span,
                                "declared here",
                            ),
                        );
                    } else {
                        treated_by.push(id);
                    }
                }
            }
            if !complete {
                continue;
            }
            self.cx.program.risks.push(RiskDef {
                decl: decl(r.file, r.span, &r.node.name, r.docs),
                title: r.node.title.as_ref().map(|t| t.value.clone()),
                severity: r.node.header.severity.map(|(s, _)| s).unwrap_or(Severity::Major),
                owner: r.node.header.owner.as_ref().map(|t| t.value.clone()),
                clauses,
                subject,
                lets,
                matrix,
                axes: axes.into_iter().flatten().collect(),
                residual,
                treated_by,
                slots,
            });
        }
    }

    pub(super) fn appetite_warning(&mut self, items: &Items) {
        let Some(first) = items.risks.first() else { return };
        if self.cx.program.matrices.iter().any(|m| m.appetite.is_some()) || self.cx.program.matrices.is_empty() {
            return;
        }
        self.push(
            Diagnostic::warning(Code::NoAppetite, "risks are declared but no risk appetite is")
                .at(first.file, first.node.name.span, "this risk can never be above appetite")
                .note("without an appetite no risk becomes a finding, however high it is")
                .help("declare the highest acceptable level: `appetite medium`"),
        );
    }
}
