//! [`Findings`]: an evaluation's findings as the shared groups they were
//! made in, read as one ordered list.
//!
//! Each rule's findings are made (and memoized by the incremental
//! database) as one group in key order, and the groups of different
//! declarations never interleave, so the evaluation's sorted list is
//! their concatenation. Copying the 268,500 findings of 100,000 systems
//! into one list was a tenth of a first evaluation, on one thread; the
//! list is the groups themselves instead, shared with the memos and the
//! reports.

use std::ops::Range;
use std::sync::Arc;

use super::Finding;

/// An ordered list of findings held as shared groups (none of them
/// empty): cloning it clones one pointer per group.
#[derive(Clone, Default)]
pub struct Findings {
    groups: Vec<Arc<Vec<Finding>>>,
    /// `ends[i]`: how many findings the groups up to `i` hold.
    ends: Vec<usize>,
}

impl Findings {
    /// The concatenation of `groups`, in their order.
    pub fn from_groups(groups: impl IntoIterator<Item = Arc<Vec<Finding>>>) -> Findings {
        let mut findings = Findings::default();
        for group in groups {
            if group.is_empty() {
                continue;
            }
            findings.ends.push(findings.len() + group.len());
            findings.groups.push(group);
        }
        findings
    }

    /// How many findings there are.
    pub fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Whether there is no finding.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Finding `i` of the list.
    pub fn get(&self, i: usize) -> Option<&Finding> {
        let group = self.group_of(i);
        self.groups.get(group)?.get(i - self.start_of(group))
    }

    /// The group holding position `i` (the number of groups for a
    /// position past the end).
    fn group_of(&self, i: usize) -> usize {
        self.ends.partition_point(|&end| end <= i)
    }

    /// The position of the first finding of group `group`.
    fn start_of(&self, group: usize) -> usize {
        group.checked_sub(1).map_or(0, |before| self.ends[before])
    }

    /// The position of the first finding `pred` is false for, the list
    /// being partitioned by it (true for every finding before those it is
    /// false for), as [`slice::partition_point`].
    pub fn partition_point(&self, mut pred: impl FnMut(&Finding) -> bool) -> usize {
        // The groups whose last finding is true are true throughout.
        let group = self.groups.partition_point(|g| g.last().is_some_and(&mut pred));
        self.start_of(group) + self.groups.get(group).map_or(0, |g| g.partition_point(pred))
    }

    /// The findings in order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0..self.len())
    }

    /// The findings of `range` of the list (cut to its length), in order.
    pub fn range(&self, range: Range<usize>) -> Iter<'_> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        let group = self.group_of(start);
        Iter { findings: self, group, offset: start - self.start_of(group), left: end - start }
    }

    /// The findings as one list of their own.
    pub fn to_vec(&self) -> Vec<Finding> {
        self.iter().cloned().collect()
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(findings: Vec<Finding>) -> Findings {
        Findings::from_groups([Arc::new(findings)])
    }
}

impl std::ops::Index<usize> for Findings {
    type Output = Finding;
    fn index(&self, i: usize) -> &Finding {
        match self.get(i) {
            Some(finding) => finding,
            None => panic!("finding {i} of a list of {}", self.len()),
        }
    }
}

/// Two lists are equal when they hold equal findings in the same order,
/// however they are grouped.
impl PartialEq for Findings {
    fn eq(&self, other: &Findings) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The findings of a [`Findings`] (or of a range of it), in order.
#[derive(Clone)]
pub struct Iter<'a> {
    findings: &'a Findings,
    group: usize,
    /// The next finding's position in its group.
    offset: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Finding;

    fn next(&mut self) -> Option<&'a Finding> {
        if self.left == 0 {
            return None;
        }
        let group = self.findings.groups.get(self.group)?;
        let finding = group.get(self.offset)?;
        self.left -= 1;
        self.offset += 1;
        if self.offset == group.len() {
            self.group += 1;
            self.offset = 0;
        }
        Some(finding)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::FindingSource;
    use crate::syntax::ast::Severity;

    fn finding(n: usize) -> Finding {
        Finding {
            severity: Severity::Major,
            source: FindingSource::Control,
            name: Arc::from(format!("rule{n}")),
            entity: None,
            message: Arc::from("m"),
            require: None,
        }
    }

    fn grouped(sizes: &[usize]) -> (Findings, Vec<Finding>) {
        let mut all = Vec::new();
        let mut groups = Vec::new();
        for &size in sizes {
            let group: Vec<Finding> = (all.len()..all.len() + size).map(finding).collect();
            all.extend(group.iter().cloned());
            groups.push(Arc::new(group));
        }
        (Findings::from_groups(groups), all)
    }

    #[test]
    fn groups_read_as_their_concatenation_by_position_range_and_iteration() {
        for sizes in [&[][..], &[0], &[3], &[2, 0, 1], &[1, 1, 1], &[0, 4, 0, 2, 0]] {
            let (findings, all) = grouped(sizes);
            assert_eq!(findings.len(), all.len(), "{sizes:?}");
            assert_eq!(findings.is_empty(), all.is_empty());
            assert_eq!(findings.to_vec(), all);
            assert_eq!(findings.iter().len(), all.len());
            for i in 0..all.len() + 2 {
                assert_eq!(findings.get(i), all.get(i), "{sizes:?} at {i}");
            }
            for start in 0..all.len() + 2 {
                for end in 0..all.len() + 2 {
                    let expected: Vec<&Finding> = all.get(start..end.min(all.len())).unwrap_or(&[]).iter().collect();
                    let range = findings.range(start..end);
                    assert_eq!(range.len(), expected.len(), "{sizes:?} {start}..{end}");
                    assert_eq!(range.collect::<Vec<_>>(), expected, "{sizes:?} {start}..{end}");
                }
            }
        }
    }

    #[test]
    fn a_partition_point_is_the_concatenations() {
        for sizes in [&[][..], &[3], &[2, 0, 1], &[1, 1, 1], &[0, 4, 0, 2, 0]] {
            let (findings, all) = grouped(sizes);
            for cut in 0..=all.len() {
                let before = |f: &Finding| all[..cut].contains(f);
                assert_eq!(findings.partition_point(before), cut, "{sizes:?} cut at {cut}");
                assert_eq!(findings.partition_point(before), all.partition_point(before));
            }
        }
    }

    #[test]
    fn lists_are_equal_when_their_findings_are_whatever_their_groups() {
        let (split, all) = grouped(&[2, 1, 3]);
        assert_eq!(split, Findings::from(all.clone()));
        let (shorter, _) = grouped(&[2, 1, 2]);
        assert_ne!(split, shorter);
        let mut changed = all;
        changed[4].message = Arc::from("other");
        assert_ne!(split, Findings::from(changed));
    }
}
