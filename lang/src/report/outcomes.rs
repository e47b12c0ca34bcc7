//! A rule's outcomes as the report shows them, made one at a time.
//!
//! A report lists every outcome: two million of them for 20 rules over
//! 100,000 systems. Held as views they were the largest part of `aims
//! check`'s memory; [`OutcomeViews`] keeps the evaluation's shared outcome
//! lists instead, with what it takes to describe a failure (the rule's
//! requirements and their locations, the program to show values), and
//! makes each [`OutcomeView`], failures included, when it is rendered or
//! serialized. [`FindingViews`] does the same for the findings.
//!
//! The report writers (`json.rs`, `text.rs`) and the gap analysis make no
//! view at all: they read the outcomes in key order (`OutcomeViews::raw`)
//! and what a failure shows from a [`FailureTexts`], made once per rule.

use std::ops::Range;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::{FailureView, FindingView, Location, Observed, OutcomeView};
use crate::eval::{self, FailReason, Failure};
use crate::ir::{OutcomeKind, Program, Requirement, Unknown};

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
    /// Their keys in key order, shared with the other rules over the same rows.
    keys: Arc<KeyOrder>,
    rule: Arc<RuleContext>,
}

/// The keys of a rule's outcomes in key order. Every rule over the same
/// entity has outcomes for the same rows, whose keys are the same shared
/// strings: their order is found once, and their JSON made once, for all
/// of those rules (reading a key's text is a cache miss per outcome).
#[derive(Default)]
pub(super) struct KeyOrder {
    /// Positions in the outcomes in key order; `None` when that is their order.
    order: Option<Vec<u32>>,
    /// The keys as JSON strings in key order, one after the other, and
    /// where each one ends; made when the first of the rules is written.
    json: std::sync::OnceLock<(Vec<u8>, Vec<u32>)>,
}

/// The key orders found so far while a report is built, by the outcome
/// lists they were found for.
#[derive(Default)]
pub(super) struct KeyOrders(Vec<(eval::Outcomes, bool, Arc<KeyOrder>)>);

impl KeyOrders {
    /// The key order of `outcomes`: one found already for outcomes with the
    /// very same keys (the same strings, not equal ones, at every
    /// position, so no key's text is read), else found now.
    fn of(&mut self, outcomes: &eval::Outcomes, numeric: bool) -> Arc<KeyOrder> {
        if let Some((_, _, keys)) = self.0.iter().find(|(known, n, _)| *n == numeric && known.same_keys(outcomes)) {
            return keys.clone();
        }
        let cmp = |a: &str, b: &str| eval::cmp_keys(numeric, a, b);
        let sorted = outcomes.iter().zip(outcomes.iter().skip(1)).all(|(a, b)| cmp(&a.key, &b.key).is_le());
        let order = (!sorted).then(|| {
            let mut order: Vec<u32> = (0..outcomes.len() as u32).collect();
            order.sort_by(|&a, &b| cmp(outcomes.at(a as usize).key.as_str(), outcomes.at(b as usize).key.as_str()));
            order
        });
        let keys = Arc::new(KeyOrder { order, json: std::sync::OnceLock::new() });
        self.0.push((outcomes.clone(), numeric, keys.clone()));
        keys
    }
}

/// Where [`OutcomeViews::locate`] stands in a rule's outcomes: at the
/// start by default.
#[derive(Default)]
pub(super) struct Cursor {
    /// The next position in key order, when the rows are not in key order.
    position: usize,
    /// The next failure record, when they are.
    failing: eval::FailingCursor,
}

impl Cursor {
    /// Moves past the outcome the cursor is on (only one of the two
    /// positions is in use for a rule).
    fn advance(&mut self) {
        self.position += 1;
        self.failing.advance();
    }
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
    pub(super) fn new(outcomes: eval::Outcomes, rule: RuleContext, known: &mut KeyOrders) -> OutcomeViews {
        let keys = known.of(&outcomes, rule.numeric_keys);
        OutcomeViews { outcomes, keys, rule: Arc::new(rule) }
    }

    /// The keys as JSON strings, in key order, one after the other, and
    /// where each ends (made once for every rule over the same rows).
    pub(super) fn keys_json(&self) -> (&[u8], &[u32]) {
        let (text, ends) = self.keys.json.get_or_init(|| {
            let mut text = Vec::new();
            let mut ends = Vec::with_capacity(self.len());
            for o in self.raw() {
                super::json::escape_into(&mut text, &o.key);
                ends.push(text.len() as u32);
            }
            (text, ends)
        });
        (text, ends)
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
        match &self.keys.order {
            // In order already: walk the chunks, no lookup per outcome.
            None => Box::new(self.outcomes.iter().map(|o| self.view_of(o))),
            Some(order) => Box::new(order.iter().map(|&p| self.view(p as usize))),
        }
    }

    /// The views of the outcomes whose kind is kept, in key order (the
    /// others are skipped without a view).
    pub(super) fn views_where<'a>(
        &'a self,
        keep: impl Fn(OutcomeKind) -> bool + 'a,
    ) -> impl Iterator<Item = OutcomeView> + 'a {
        self.raw().filter(move |o| keep(o.kind)).map(|o| self.view_of(o))
    }

    /// The view of the outcome for an entity key (`-` for a rule without
    /// a subject).
    pub fn find(&self, key: &str) -> Option<OutcomeView> {
        self.position_of(key).map(|p| self.view(p))
    }

    /// The position in `outcomes` of the outcome for a key.
    fn position_of(&self, key: &str) -> Option<usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let position = self.position(mid);
            match eval::cmp_keys(self.rule.numeric_keys, self.outcomes.at(position).key.as_str(), key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(position),
            }
        }
        None
    }

    /// The outcome for `key` when the keys asked for come in key order (a
    /// rule's findings, one per failing outcome): the next failing outcome
    /// from `cursor` is checked first, and `cursor` moves past it; any
    /// other key is looked up. Reading every finding of a rule this way
    /// costs one pass over its failing outcomes (over all of them when
    /// the rows are not in key order), not a search per finding.
    pub(super) fn locate(&self, cursor: &mut Cursor, key: &str) -> Option<eval::OutcomeRef<'_>> {
        // A finding shares its outcome's key: the same string, whose text
        // need not be read to know it.
        let same = |outcome: &eval::OutcomeRef<'_>| {
            let found = outcome.key.as_str();
            (std::ptr::eq(found.as_ptr(), key.as_ptr()) && found.len() == key.len()) || found == key
        };
        while let Some(outcome) = self.next_failing(cursor) {
            if outcome.kind == OutcomeKind::Fail {
                if !same(&outcome) {
                    break;
                }
                cursor.advance();
                return Some(outcome);
            }
            cursor.advance();
        }
        self.position_of(key).map(|p| self.outcomes.at(p))
    }

    /// The failing outcome (waived or not) the cursor is on, or else the
    /// next one in key order, the cursor left on it: in row order only the
    /// failure records are read.
    fn next_failing(&self, cursor: &mut Cursor) -> Option<eval::OutcomeRef<'_>> {
        if self.keys.order.is_none() {
            return self.outcomes.next_failing(&mut cursor.failing).map(|(_, outcome)| outcome);
        }
        while cursor.position < self.len() {
            let outcome = self.outcomes.at(self.position(cursor.position));
            if matches!(outcome.kind, OutcomeKind::Fail | OutcomeKind::Waived) {
                return Some(outcome);
            }
            cursor.position += 1;
        }
        None
    }

    /// Where the rule's requirement `index` is.
    pub(super) fn requirement_location(&self, index: usize) -> Option<Location> {
        self.rule.locations.get(index).cloned()
    }

    /// Every outcome in key order, as the evaluation holds it: no view made.
    pub(super) fn raw(&self) -> Box<dyn Iterator<Item = eval::OutcomeRef<'_>> + '_> {
        match &self.keys.order {
            None => Box::new(self.outcomes.iter()),
            Some(order) => Box::new(order.iter().map(|&p| self.outcomes.at(p as usize))),
        }
    }

    /// The outcomes of `range` of the positions in key order, as
    /// [`OutcomeViews::raw`] gives them.
    pub(super) fn raw_range(&self, range: Range<usize>) -> Box<dyn Iterator<Item = eval::OutcomeRef<'_>> + '_> {
        match &self.keys.order {
            None => Box::new(self.outcomes.iter_from(range.start).take(range.len())),
            Some(order) => {
                let range = range.start.min(order.len())..range.end.min(order.len());
                Box::new(order[range].iter().map(|&p| self.outcomes.at(p as usize)))
            }
        }
    }

    /// The positions in key order cut into parts of `per_part` outcomes,
    /// for writing on several threads; one empty part when there is no
    /// outcome.
    pub(super) fn parts(&self, per_part: usize) -> Vec<Range<usize>> {
        let per_part = per_part.max(1);
        let mut parts: Vec<Range<usize>> = (0..self.len())
            .step_by(per_part)
            .map(|start| start..self.len().min(start.saturating_add(per_part)))
            .collect();
        if parts.is_empty() {
            parts.push(0..0);
        }
        parts
    }

    /// How many outcomes there are of each kind, indexed by
    /// `OutcomeKind as usize`.
    pub(super) fn counts(&self) -> [usize; 4] {
        self.outcomes.counts()
    }

    /// The failing outcomes (waived or not) in key order; in row order
    /// only the failure records are read.
    pub(super) fn failing(&self) -> Box<dyn Iterator<Item = eval::OutcomeRef<'_>> + '_> {
        match &self.keys.order {
            None => Box::new(self.outcomes.failing()),
            Some(_) => Box::new(self.raw().filter(|o| matches!(o.kind, OutcomeKind::Fail | OutcomeKind::Waived))),
        }
    }

    /// The name of the exception that waived an outcome, when one did.
    pub(super) fn waived_by(&self, outcome: eval::OutcomeRef<'_>) -> Option<&str> {
        outcome.waived_by.and_then(|e| self.rule.program.exceptions.get(e as usize)).map(|e| e.decl.name.as_str())
    }

    /// What the failures of this rule show, made once for all of them.
    pub(super) fn failure_texts(&self) -> FailureTexts<'_> {
        FailureTexts::new(&self.rule)
    }

    fn position(&self, i: usize) -> usize {
        match &self.keys.order {
            Some(order) => order[i] as usize,
            None => i,
        }
    }

    fn view(&self, position: usize) -> OutcomeView {
        self.view_of(self.outcomes.at(position))
    }

    fn view_of(&self, outcome: eval::OutcomeRef<'_>) -> OutcomeView {
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
            entity: outcome.key.to_key(),
            status: outcome.kind,
            waived_by: outcome
                .waived_by
                .and_then(|e| rule.program.exceptions.get(e as usize))
                .map(|e| e.decl.name.clone()),
            failures,
        }
    }
}

lazy_list!(OutcomeViews);

/// What every failure of one rule shares, made once per rule (per part of a
/// JSON report) while a report is written: each requirement's condition,
/// location, observed paths and message when violated. A failure adds only
/// its own values.
pub(super) struct FailureTexts<'r> {
    rule: &'r RuleContext,
    requirements: Vec<RequirementTexts>,
    /// What a failure outside the requirements (of the `where`) shares:
    /// nothing.
    outside: RequirementTexts,
    /// The last "no evidence" message made per requirement, with its reason:
    /// the same missing fact reads the same for every entity.
    no_evidence: Vec<Option<(Arc<Unknown>, Text)>>,
    /// The message of a failure outside the requirements.
    other: Text,
    /// The observed value being shown: one buffer for every value of every
    /// failure, not a string made for each.
    shown: String,
}

/// A text a failure shows, as written and as a JSON string (quotes
/// included): a requirement's texts are shared by all of its failures (a
/// report of 100,000 systems shows 279,366), so both forms are made once.
#[derive(Default)]
pub(super) struct Text {
    pub(super) plain: String,
    pub(super) json: Vec<u8>,
}

impl Text {
    fn new(plain: String) -> Text {
        let mut json = Vec::with_capacity(plain.len() + 2);
        super::json::escape_into(&mut json, &plain);
        Text { plain, json }
    }
}

/// What every failure of one requirement shows alike.
#[derive(Default)]
struct RequirementTexts {
    require: Text,
    location: Text,
    /// The paths the requirement observes, as written, in the order of a
    /// failure's values.
    paths: Vec<Text>,
    violated: Text,
}

impl<'r> FailureTexts<'r> {
    fn new(rule: &'r RuleContext) -> FailureTexts<'r> {
        let requirements: Vec<RequirementTexts> = rule
            .requirements
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let violated = Failure { index: i, reason: FailReason::Violated, values: Default::default() };
                RequirementTexts {
                    require: Text::new(r.source.to_string()),
                    location: Text::new(rule.locations.get(i).map(ToString::to_string).unwrap_or_default()),
                    paths: eval::observed_paths(&rule.program, r)
                        .into_iter()
                        .map(|p| Text::new(p.into_owned()))
                        .collect(),
                    violated: Text::new(eval::failure_message(Some(r), &violated)),
                }
            })
            .collect();
        let no_evidence = std::iter::repeat_with(|| None).take(requirements.len()).collect();
        let outside = RequirementTexts {
            require: Text::new(String::new()),
            location: Text::new(String::new()),
            ..RequirementTexts::default()
        };
        FailureTexts { rule, requirements, outside, no_evidence, other: Text::default(), shown: String::new() }
    }

    /// The texts `failure`'s requirement shares with its other failures.
    fn requirement(&self, failure: &Failure) -> &RequirementTexts {
        self.requirements.get(failure.index).unwrap_or(&self.outside)
    }

    /// The condition as written (empty outside the requirements).
    pub(super) fn require(&self, failure: &Failure) -> &Text {
        &self.requirement(failure).require
    }

    /// Where the failed `require` is, `file:line:column` (empty when unknown).
    pub(super) fn location(&self, failure: &Failure) -> &Text {
        &self.requirement(failure).location
    }

    /// Why it failed, in one line (as `eval::failure_message` says it).
    pub(super) fn message(&mut self, failure: &Failure) -> &Text {
        let requirement = self.rule.requirements.get(failure.index);
        match (&failure.reason, requirement) {
            (FailReason::Violated, Some(_)) => &self.requirements[failure.index].violated,
            (FailReason::NoEvidence(why), Some(_)) => {
                let slot = &mut self.no_evidence[failure.index];
                if slot.as_ref().is_some_and(|(seen, _)| seen != why) {
                    *slot = None;
                }
                &slot.get_or_insert_with(|| (why.clone(), Text::new(eval::failure_message(requirement, failure)))).1
            }
            (_, None) => {
                self.other = Text::new(eval::failure_message(None, failure));
                &self.other
            }
        }
    }

    /// The values the condition read, each (path as written, value as shown)
    /// handed to `each`, in order.
    pub(super) fn observed(&mut self, failure: &Failure, mut each: impl FnMut(&Text, &str)) {
        let Some(requirement) = self.requirements.get(failure.index) else { return };
        for (path, value) in requirement.paths.iter().zip(&failure.values) {
            self.shown.clear();
            eval::write_observed(&self.rule.program, value, &mut self.shown);
            each(path, &self.shown);
        }
    }
}

/// The findings as the report shows them: the evaluation's own list, shared,
/// and where each one points; each [`FindingView`] is made when rendered.
#[derive(Clone, Default)]
pub struct FindingViews {
    findings: eval::Findings,
    /// Per finding, the index of its location in `locations`.
    at: Vec<u32>,
    locations: Vec<Option<Location>>,
    /// Per finding, the label of its fact (`label` in aims.toml); empty
    /// when no finding has one.
    labels: Vec<Option<Arc<str>>>,
}

impl FindingViews {
    /// Views of `findings`, each where `locate(finding)` says it is and with
    /// the label of its fact, if any: both made in one pass.
    pub(super) fn new(
        findings: eval::Findings,
        mut locate: impl FnMut(&eval::Finding) -> (Option<Location>, Option<Arc<str>>),
    ) -> FindingViews {
        let mut locations: Vec<Option<Location>> = Vec::new();
        let mut index: std::collections::HashMap<Option<Location>, u32> = std::collections::HashMap::new();
        let mut last: Option<u32> = None;
        // Empty until a finding has a label: most reports have none.
        let mut labels: Vec<Option<Arc<str>>> = Vec::new();
        let at = findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (place, label) = locate(f);
                if label.is_some() {
                    labels.resize(i, None);
                    labels.push(label);
                }
                // Consecutive findings of a rule mostly point at the same `require`.
                if let Some(last) = last.filter(|&l| locations[l as usize] == place) {
                    return last;
                }
                let at = *index.entry(place).or_insert_with_key(|place| {
                    locations.push(place.clone());
                    (locations.len() - 1) as u32
                });
                last = Some(at);
                at
            })
            .collect();
        FindingViews { findings, at, locations, labels }
    }

    /// The label of finding `i`, when its fact has one.
    pub(super) fn label(&self, i: usize) -> Option<&str> {
        self.labels.get(i).and_then(Option::as_deref)
    }

    /// How many findings there are.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// Whether there is no finding.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Every finding as the evaluation holds it, with its location: no view made.
    pub(super) fn raw(&self) -> impl Iterator<Item = (&eval::Finding, Option<&Location>)> + '_ {
        self.findings.iter().zip(&self.at).map(|(f, at)| (f, self.locations.get(*at as usize).and_then(Option::as_ref)))
    }

    /// The findings of `range` of the list, as [`FindingViews::raw`] gives
    /// them, each with its position.
    pub(super) fn raw_range(
        &self,
        range: Range<usize>,
    ) -> impl Iterator<Item = (usize, &eval::Finding, Option<&Location>)> + '_ {
        let range = range.start.min(self.len())..range.end.min(self.len());
        // Each entity's key is an allocation of its own: writing the
        // findings one after the other waited on every one.
        let findings = crate::prefetch::ahead(self.findings.range(range.clone()), |f| {
            if let Some(entity) = &f.entity {
                crate::prefetch::slice(entity.as_bytes());
            }
        });
        range
            .clone()
            .zip(findings)
            .zip(&self.at[range])
            .map(move |((i, f), at)| (i, f, self.locations.get(*at as usize).and_then(Option::as_ref)))
    }

    /// Every finding's view, in the evaluation's order.
    pub fn iter(&self) -> impl Iterator<Item = FindingView> + '_ {
        self.findings.iter().zip(&self.at).enumerate().map(|(i, (f, at))| FindingView {
            severity: f.severity,
            source: f.source,
            name: f.name.to_string(),
            entity: f.entity.as_ref().map(|e| e.to_string()),
            label: self.label(i).map(str::to_string),
            message: f.message.to_string(),
            location: self.locations.get(*at as usize).cloned().flatten(),
        })
    }
}

lazy_list!(FindingViews);
