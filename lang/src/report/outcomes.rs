//! A rule's outcomes as the report shows them, made one at a time.
//!
//! A report lists every outcome: two million of them for 20 rules over
//! 100,000 systems. Held as views they were the largest part of `aims
//! check`'s memory; [`OutcomeViews`] keeps the evaluation's shared outcome
//! lists instead, with the views of the failing outcomes (their messages
//! and locations), and makes each [`OutcomeView`] when it is rendered or
//! serialized.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::{FailureView, OutcomeView};
use crate::eval::{self, Outcome};

/// The outcomes of one rule, in entity-key order.
#[derive(Clone, Default)]
pub struct OutcomeViews {
    outcomes: eval::Outcomes,
    /// Positions in `outcomes` in key order; `None` when that is their order.
    order: Option<Vec<u32>>,
    /// The failures' views of each failing outcome, by position.
    failures: Vec<(u32, Vec<FailureView>)>,
    /// The names of the program's exceptions, for `waived_by`.
    exceptions: Arc<Vec<String>>,
}

impl OutcomeViews {
    /// Views of `outcomes`; `failures` makes the failure views of one
    /// outcome (called for the outcomes that have failures).
    pub(super) fn new(
        outcomes: eval::Outcomes,
        exceptions: Arc<Vec<String>>,
        mut failures: impl FnMut(&Outcome) -> Vec<FailureView>,
    ) -> OutcomeViews {
        let sorted = outcomes.iter().zip(outcomes.iter().skip(1)).all(|(a, b)| a.key <= b.key);
        let order = (!sorted).then(|| {
            let mut order: Vec<u32> = (0..outcomes.len() as u32).collect();
            order.sort_by(|&a, &b| outcomes[a as usize].key.cmp(&outcomes[b as usize].key));
            order
        });
        let failures = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.failures.is_empty())
            .map(|(i, o)| (i as u32, failures(o)))
            .collect();
        OutcomeViews { outcomes, order, failures, exceptions }
    }

    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Every outcome's view, in key order.
    pub fn iter(&self) -> impl Iterator<Item = OutcomeView> + '_ {
        (0..self.len()).map(|i| self.view(self.position(i)))
    }

    /// The view of the outcome for an entity key (`-` for a rule without
    /// a subject).
    pub fn find(&self, key: &str) -> Option<OutcomeView> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let position = self.position(mid);
            match (*self.outcomes[position].key).cmp(key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(self.view(position)),
            }
        }
        None
    }

    /// The failure views, to rewrite their locations.
    pub(super) fn failures_mut(&mut self) -> impl Iterator<Item = &mut FailureView> {
        self.failures.iter_mut().flat_map(|(_, f)| f.iter_mut())
    }

    fn position(&self, i: usize) -> usize {
        match &self.order {
            Some(order) => order[i] as usize,
            None => i,
        }
    }

    fn view(&self, position: usize) -> OutcomeView {
        let outcome = &self.outcomes[position];
        let failures = match self.failures.binary_search_by_key(&(position as u32), |(p, _)| *p) {
            Ok(at) => self.failures[at].1.clone(),
            Err(_) => Vec::new(),
        };
        OutcomeView {
            entity: outcome.key.clone(),
            status: outcome.kind,
            waived_by: outcome.waived_by.and_then(|e| self.exceptions.get(e)).cloned(),
            failures,
        }
    }
}

impl Serialize for OutcomeViews {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for view in self.iter() {
            seq.serialize_element(&view)?;
        }
        seq.end()
    }
}

impl PartialEq for OutcomeViews {
    fn eq(&self, other: &OutcomeViews) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for OutcomeViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
