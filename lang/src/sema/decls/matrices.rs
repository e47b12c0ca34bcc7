//! Scales, risk matrices and the risk appetite.

use super::{decl, Checker, Items};
use crate::diag::{Code, Diagnostic, FileSpan, Quote};
use crate::ir::*;
use crate::sema::TypeName;
use crate::syntax::ast::{self};

impl Checker<'_, '_> {
    pub(super) fn matrices(&mut self, items: &Items) {
        for m in &items.matrices {
            let at = m.file.span(m.node.name.span);
            if !self.claim(|n| &mut n.types, "type", &m.node.name.name, at) {
                continue;
            }
            let mut axes = Vec::new();
            let (mut min_score, mut max_score) = (1i64, 1i64);
            let mut axes_ok = true;
            for axis in &m.node.axes {
                match self.cx.types.get(&axis.name) {
                    Some(TypeName::Scale(id)) => {
                        let values = &self.cx.program.scales[id.index()].values;
                        let lo = values.iter().map(|(_, v)| *v).min().unwrap_or(0);
                        let hi = values.iter().map(|(_, v)| *v).max().unwrap_or(0);
                        min_score = min_score.saturating_mul(lo);
                        max_score = max_score.saturating_mul(hi);
                        axes.push(*id);
                    }
                    _ => {
                        axes_ok = false;
                        let scales: Vec<&str> = self.cx.program.scales.iter().map(|s| s.decl.name.as_str()).collect();
                        let d = Diagnostic::error(Code::UnknownType, format!("unknown scale `{}`", axis.name))
                            .at(m.file, axis.span, "not a scale")
                            .suggest(&axis.name, scales.iter().copied(), Quote::Code);
                        self.push(d);
                    }
                }
            }
            let mut levels: Vec<&ast::LevelDecl> = Vec::new();
            for level in &m.node.levels {
                if levels.iter().any(|l| l.name.name == level.name.name) {
                    self.push(
                        Diagnostic::error(Code::Duplicate, format!("level `{}` is listed twice", level.name.name)).at(
                            m.file,
                            level.name.span,
                            "listed again here",
                        ),
                    );
                    continue;
                }
                levels.push(level);
            }
            if levels.is_empty() {
                self.push(
                    Diagnostic::error(Code::BadMatrix, format!("matrix `{}` has no levels", m.node.name.name))
                        .at(m.file, m.node.name.span, "no levels")
                        .help("name the levels and their score ranges: `low: 1..4, medium: 5..9, ..`"),
                );
            }
            levels.sort_by_key(|l| (l.low, l.high));
            let mut expected_low = min_score;
            for (position, level) in levels.iter().enumerate() {
                if level.low > level.high {
                    self.push(Diagnostic::error(Code::BadMatrix, format!("level `{}` is empty", level.name.name)).at(
                        m.file,
                        level.span,
                        format!("{} is above {}", level.low, level.high),
                    ));
                    continue;
                }
                // The lowest level may start below the lowest possible score.
                let starts_right = if position == 0 { level.low <= expected_low } else { level.low == expected_low };
                if axes_ok && !starts_right {
                    let message = if level.low > expected_low {
                        format!("scores {}..{} fall in no level", expected_low, level.low - 1)
                    } else {
                        format!("level `{}` overlaps the level below it", level.name.name)
                    };
                    self.push(
                        Diagnostic::error(Code::BadMatrix, message)
                            .at(m.file, level.span, "here")
                            .help("levels must cover every score from the lowest to the highest product, once"),
                    );
                }
                expected_low = level.high.saturating_add(1);
            }
            if axes_ok && !levels.is_empty() && expected_low <= max_score {
                self.push(
                    Diagnostic::error(
                        Code::BadMatrix,
                        format!(
                            "the levels of `{}` end at {}, but scores reach {max_score}",
                            m.node.name.name,
                            expected_low - 1
                        ),
                    )
                    .at(m.file, m.node.name.span, "incomplete levels"),
                );
            }
            let id = MatrixId(self.cx.program.matrices.len() as u32);
            self.cx.types.insert(m.node.name.name.clone(), TypeName::Matrix(id));
            self.cx.program.matrices.push(MatrixDef {
                decl: decl(m.file, m.span, &m.node.name, m.docs),
                axes,
                levels: levels
                    .iter()
                    .map(|l| LevelDef { name: l.name.name.clone(), low: l.low, high: l.high })
                    .collect(),
                appetite: None,
            });
        }
        let mut first: Option<FileSpan> = None;
        for a in &items.appetites {
            let here = a.file.span(a.span);
            if let Some(prev) = first {
                self.push(
                    Diagnostic::error(Code::Duplicate, "the risk appetite is declared twice")
                        .at(a.file, a.span, "declared again here")
                        .also_file(prev.file, prev.span, "first declared here"),
                );
                continue;
            }
            first = Some(here);
            let matrix = match &a.node.matrix {
                Some(name) => match self.cx.types.get(&name.name) {
                    Some(TypeName::Matrix(id)) => Some(*id),
                    _ => {
                        self.push(Diagnostic::error(Code::UnknownType, format!("unknown matrix `{}`", name.name)).at(
                            a.file,
                            name.span,
                            "not a matrix",
                        ));
                        continue;
                    }
                },
                None if self.cx.program.matrices.len() == 1 => Some(MatrixId(0)),
                None if self.cx.program.matrices.is_empty() => {
                    self.push(
                        Diagnostic::error(Code::MissingPart, "an appetite needs a risk matrix")
                            .at(a.file, a.span, "no matrix is declared")
                            .help("declare `matrix RiskLevel = Likelihood * Impact { .. }`"),
                    );
                    continue;
                }
                None => {
                    self.push(
                        Diagnostic::error(Code::MissingPart, "several matrices are declared: name one")
                            .at(a.file, a.span, "which matrix?")
                            .help("write `appetite RiskLevel.medium`"),
                    );
                    continue;
                }
            };
            let Some(matrix) = matrix else { continue };
            let def = &self.cx.program.matrices[matrix.index()];
            match def.levels.iter().position(|l| l.name == a.node.level.name) {
                Some(i) => self.cx.program.matrices[matrix.index()].appetite = Some(i as u32),
                None => {
                    let names: Vec<&str> = def.levels.iter().map(|l| l.name.as_str()).collect();
                    let d = Diagnostic::error(
                        Code::UnknownVariant,
                        format!("`{}` has no level `{}`", def.decl.name, a.node.level.name),
                    )
                    .at(a.file, a.node.level.span, "no such level")
                    .suggest_or(
                        &a.node.level.name,
                        names.iter().copied(),
                        Quote::Code,
                        format!("the levels are: {}", names.join(", ")),
                    );
                    self.push(d);
                }
            }
        }
    }
}
