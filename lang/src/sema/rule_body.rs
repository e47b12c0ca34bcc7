//! One control or audit rule checked on its own: the unit the database
//! re-checks when a rule is edited (see `db::check_rule`).

use std::sync::Arc;

use super::source_map::SourceMap;
use crate::diag::Diagnostic;
use crate::ir::{Step, SubjectDef};

/// What checking a rule's header and body gives, with spans relative to
/// the anchor it was checked at; [`RuleBody::placed_at`] moves it to where
/// the rule is written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleBody {
    /// The declared requirements it implements.
    pub implements: Vec<String>,
    /// The declared clauses it supports.
    pub clauses: Vec<String>,
    /// Subject, steps and frame size; `None` when the subject could not be
    /// checked (the rule is then left out of the program).
    pub checked: Option<(Option<SubjectDef>, Arc<[Step]>, u32)>,
    /// Its diagnostics, in the order the checker found them. The label of
    /// an unknown field at the type it was looked up in is the program's to
    /// place: a rule checked on its own knows the type, not where it is
    /// written now.
    pub diagnostics: Vec<Diagnostic>,
    /// What the names of its header and body resolved to, recorded while
    /// it was checked: its share of the rule's file's source map (empty
    /// when the checker recorded into the program's context directly).
    pub model: Arc<SourceMap>,
}

impl RuleBody {
    /// This body, checked at offset 0 of its declaration, for the
    /// declaration starting `offset` bytes into its file: the one place its
    /// spans become ranges of the file.
    pub fn placed_at(mut self, offset: u32) -> RuleBody {
        if offset == 0 {
            return self;
        }
        let place = |at: &mut crate::diag::FileSpan| at.span = at.span.at(offset);
        for d in &mut self.diagnostics {
            d.primary.iter_mut().for_each(|l| place(&mut l.at));
            d.secondary.iter_mut().for_each(|l| place(&mut l.at));
            d.fix.iter_mut().for_each(|f| place(&mut f.at));
        }
        if let Some((_, steps, _)) = &mut self.checked {
            let mut placed = steps.to_vec();
            for step in &mut placed {
                if let Step::Require(r) = step {
                    place(&mut r.span);
                }
            }
            *steps = placed.into();
        }
        self.model = Arc::new(Arc::unwrap_or_clone(self.model).placed_at(offset));
        self
    }
}
