//! A rule's outcomes as the report shows them, made one at a time.
//!
//! A report lists every outcome: two million of them for 20 rules over
//! 100,000 systems. Held as views they were the largest part of `aims
//! check`'s memory; [`OutcomeViews`] keeps the evaluation's shared outcome
//! lists instead, with what it takes to describe a failure (the rule's
//! requirements and their locations, the program to show values), and
//! makes each [`OutcomeView`], failures included, when it is rendered or
//! serialized. [`FindingViews`] does the same for the findings.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::{FailureView, FindingView, Location, Observed, OutcomeView};
use crate::eval::{self, FailReason};
use crate::ir::{Program, Requirement};

/// A list whose views are made when read (`len` and `iter`) serializes,
/// compares and prints as the list of its views.
macro_rules! lazy_list {
    ($list:ty) => {
        impl Serialize for $list {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.len()))?;
                for view in self.iter() {
                    seq.serialize_element(&view)?;
                }
                seq.end()
            }
        }

        impl PartialEq for $list {
            fn eq(&self, other: &$list) -> bool {
                self.len() == other.len() && self.iter().eq(other.iter())
            }
        }

        impl std::fmt::Debug for $list {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }
    };
}

/// The outcomes of one rule, in entity-key order.
#[derive(Clone)]
pub struct OutcomeViews {
    outcomes: eval::Outcomes,
    /// Positions in `outcomes` in key order; `None` when that is their order.
    order: Option<Vec<u32>>,
    rule: Arc<RuleContext>,
}

/// What describing an outcome of one rule takes.
#[derive(Clone)]
pub(super) struct RuleContext {
    pub program: Arc<Program>,
    pub requirements: Vec<Requirement>,
    /// Where each requirement is.
    pub locations: Vec<Location>,
    /// Whether the subject's keys are `Int`s, ordered as numbers.
    pub numeric_keys: bool,
}

impl OutcomeViews {
    /// Views of a rule's outcomes.
    pub(super) fn new(outcomes: eval::Outcomes, rule: RuleContext) -> OutcomeViews {
        let numeric = rule.numeric_keys;
        let cmp = |a: &str, b: &str| eval::cmp_keys(numeric, a, b);
        let sorted = outcomes.iter().zip(outcomes.iter().skip(1)).all(|(a, b)| cmp(&a.key, &b.key).is_le());
        let order = (!sorted).then(|| {
            let mut order: Vec<u32> = (0..outcomes.len() as u32).collect();
            order.sort_by(|&a, &b| cmp(&outcomes[a as usize].key, &outcomes[b as usize].key));
            order
        });
        OutcomeViews { outcomes, order, rule: Arc::new(rule) }
    }

    /// How many outcomes the rule has.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether the rule has no outcome.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Every outcome's view, in key order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = OutcomeView> + '_> {
        match &self.order {
            // In order already: walk the chunks, no lookup per outcome.
            None => Box::new(self.outcomes.iter().map(|o| self.view_of(o))),
            Some(order) => Box::new(order.iter().map(|&p| self.view(p as usize))),
        }
    }

    /// The view of the outcome for an entity key (`-` for a rule without
    /// a subject).
    pub fn find(&self, key: &str) -> Option<OutcomeView> {
        self.position_of(key).map(|p| self.view(p))
    }

    /// Where the first failed requirement of the outcome for a key is.
    pub(super) fn first_failure_location(&self, key: &str) -> Option<Location> {
        let failure = self.outcomes[self.position_of(key)?].failures.first()?;
        self.rule.locations.get(failure.index).cloned()
    }

    /// The position in `outcomes` of the outcome for a key.
    fn position_of(&self, key: &str) -> Option<usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let position = self.position(mid);
            match eval::cmp_keys(self.rule.numeric_keys, &self.outcomes[position].key, key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(position),
            }
        }
        None
    }

    fn position(&self, i: usize) -> usize {
        match &self.order {
            Some(order) => order[i] as usize,
            None => i,
        }
    }

    fn view(&self, position: usize) -> OutcomeView {
        self.view_of(&self.outcomes[position])
    }

    fn view_of(&self, outcome: &eval::Outcome) -> OutcomeView {
        let rule = &*self.rule;
        let failures = outcome
            .failures
            .iter()
            .map(|f| {
                let requirement = rule.requirements.get(f.index);
                FailureView {
                    require: requirement.map(|r| r.source.clone()).unwrap_or_default(),
                    message: eval::failure_message(requirement, f),
                    no_evidence: matches!(f.reason, FailReason::NoEvidence(_)),
                    location: rule.locations.get(f.index).cloned(),
                    observed: f
                        .observed(&rule.program, requirement)
                        .into_iter()
                        .map(|(path, value)| Observed { path, value })
                        .collect(),
                }
            })
            .collect();
        OutcomeView {
            entity: outcome.key.clone(),
            status: outcome.kind,
            waived_by: outcome.waived_by.and_then(|e| rule.program.exceptions.get(e)).map(|e| e.decl.name.clone()),
            failures,
        }
    }
}

lazy_list!(OutcomeViews);

/// The findings as the report shows them: the evaluation's own list, shared,
/// and where each one points; each [`FindingView`] is made when rendered.
#[derive(Clone, Default)]
pub struct FindingViews {
    findings: Arc<Vec<eval::Finding>>,
    /// Per finding, the index of its location in `locations`.
    at: Vec<u32>,
    locations: Vec<Option<Location>>,
}

impl FindingViews {
    /// Views of `findings`, each at `location(finding)`.
    pub(super) fn new(
        findings: Arc<Vec<eval::Finding>>,
        mut location: impl FnMut(&eval::Finding) -> Option<Location>,
    ) -> FindingViews {
        let mut locations: Vec<Option<Location>> = Vec::new();
        let mut index: std::collections::HashMap<Option<Location>, u32> = std::collections::HashMap::new();
        let at = findings
            .iter()
            .map(|f| {
                let place = location(f);
                *index.entry(place).or_insert_with_key(|place| {
                    locations.push(place.clone());
                    (locations.len() - 1) as u32
                })
            })
            .collect();
        FindingViews { findings, at, locations }
    }

    /// How many findings there are.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// Whether there is no finding.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Every finding's view, in the evaluation's order.
    pub fn iter(&self) -> impl Iterator<Item = FindingView> + '_ {
        self.findings.iter().zip(&self.at).map(|(f, at)| FindingView {
            severity: f.severity,
            source: f.source,
            name: f.name.clone(),
            entity: f.entity.as_ref().map(|e| e.to_string()),
            message: f.message.clone(),
            location: self.locations.get(*at as usize).cloned().flatten(),
        })
    }
}

lazy_list!(FindingViews);
