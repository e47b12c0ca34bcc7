//! The readiness verdicts of a gap analysis: would a certification body's
//! stage 1 audit find the AIMS ready for stage 2, and would stage 2 end in
//! a recommendation for certification? And the change since a previous gap
//! analysis (`aims gap --baseline FILE`).
//!
//! What each stage needs follows ISO/IEC 17021-1 practice (9.3.1.2 for
//! stage 1, 9.3.1.3 and 9.4.9/9.5 for stage 2); `docs/gap.md` says the same:
//!
//! - **Stage 1** reviews the documented information and whether the AIMS is
//!   ready to be audited: the scope (4.3), the AI policy (5.2), the risk
//!   criteria and the risk assessment, risk treatment and impact assessment
//!   processes (6.1.1 to 6.1.4), the AI objectives (6.2), an internal audit
//!   (9.2.1, 9.2.2) and a management review (9.3.1 to 9.3.3) carried out;
//!   and a Statement of Applicability that covers every Annex A control
//!   (none "not addressed"). Each of these rows must pass.
//! - **Stage 2** audits implementation and effectiveness: stage 1 ready, no
//!   clause or included control whose gap an auditor would grade as a major
//!   nonconformity, and an open action plan (the correction a body accepts)
//!   for every gap graded minor. Observations block nothing.

use serde::Serialize;

use super::gap::{Gap, GapRow, GapStatus};
use crate::syntax::ast::Severity;

/// The clauses stage 1 looks at: documented information, internal audit
/// and management review.
pub const STAGE1_CLAUSES: [&str; 12] =
    ["4.3", "5.2", "6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.2", "9.2.1", "9.2.2", "9.3.1", "9.3.2", "9.3.3"];

/// What stage 1 needs, in words.
pub const STAGE1_NEEDS: &str = "the documented scope, AI policy, risk criteria, risk and impact assessment and treatment processes and AI objectives (4.3, 5.2, 6.1.1-6.1.4, 6.2), an internal audit and a management review carried out (9.2, 9.3), and every Annex A control included or excluded";

/// What stage 2 needs, in words.
pub const STAGE2_NEEDS: &str =
    "stage 1 ready, no clause or included control graded major, and an open action plan for every gap graded minor";

/// A readiness verdict for one stage of the certification audit.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Nothing blocks it.
    pub ready: bool,
    /// What the stage needs.
    pub needs: &'static str,
    /// What blocks it, in row order.
    pub blockers: Vec<Blocker>,
}

/// One thing that blocks a stage.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Blocker {
    /// The clause or control (`stage 1` when stage 1 blocks stage 2).
    pub id: String,
    /// Why it blocks.
    pub reason: String,
}

fn verdict(needs: &'static str, blockers: Vec<Blocker>) -> Verdict {
    Verdict { ready: blockers.is_empty(), needs, blockers }
}

fn blocker(r: &GapRow, why: &str) -> Blocker {
    Blocker { id: r.id.clone(), reason: format!("{why}: {}", super::one_line(&r.found, 140)) }
}

/// The stage 1 verdict.
pub fn stage1(clauses: &[GapRow], controls: &[GapRow]) -> Verdict {
    let mut blockers = Vec::new();
    for r in clauses.iter().filter(|r| STAGE1_CLAUSES.contains(&r.id.as_str())) {
        if r.status != GapStatus::Passing {
            blockers.push(blocker(r, r.status.as_str()));
        }
    }
    for r in controls.iter().filter(|r| r.status == GapStatus::NotAddressed) {
        blockers.push(blocker(r, "the Statement of Applicability neither includes nor excludes it"));
    }
    verdict(STAGE1_NEEDS, blockers)
}

/// The stage 2 verdict.
pub fn stage2(clauses: &[GapRow], controls: &[GapRow], stage1: &Verdict) -> Verdict {
    let mut blockers = Vec::new();
    if !stage1.ready {
        blockers.push(Blocker {
            id: "stage 1".to_string(),
            reason: match stage1.blockers.len() {
                1 => "stage 1 is not ready (1 blocker)".to_string(),
                n => format!("stage 1 is not ready ({n} blockers)"),
            },
        });
    }
    for r in clauses.iter().chain(controls) {
        match r.grade {
            Some(Severity::Major) => blockers.push(blocker(r, "major")),
            Some(Severity::Minor) if r.remediation.is_none() => blockers.push(blocker(r, "minor, no open action plan")),
            _ => {}
        }
    }
    verdict(STAGE2_NEEDS, blockers)
}

/// The schema name of `aims gap --format json`, which a baseline must carry.
pub const SCHEMA: &str = "aims-gap/2";

/// A previous gap analysis, read from `aims gap --format json` output.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    as_of: String,
    percent: Option<f64>,
    stage1: bool,
    stage2: bool,
    rows: Vec<(String, String)>,
}

impl Baseline {
    /// Reads a baseline, refusing anything but the JSON of `aims gap` in
    /// this version: the message says what the file is instead.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("it is not JSON ({e}); give the output of `aims gap --format json`"))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(format!(
                    "it is `{other}`, not `{SCHEMA}`: give the output of `aims gap --format json` of this version"
                ))
            }
            None => return Err(format!("it has no `schema`: give the output of `aims gap --format json` ({SCHEMA})")),
        }
        let gap = value.get("gap").ok_or_else(|| format!("`{SCHEMA}` without a `gap` object"))?;
        let mut rows = Vec::new();
        for list in ["clauses", "controls"] {
            let items = gap.get(list).and_then(|l| l.as_array()).ok_or_else(|| format!("`gap.{list}` is missing"))?;
            for item in items {
                let (Some(id), Some(status)) =
                    (item.get("id").and_then(|v| v.as_str()), item.get("status").and_then(|v| v.as_str()))
                else {
                    return Err(format!("a row of `gap.{list}` has no `id` or `status`"));
                };
                rows.push((id.to_string(), status.to_string()));
            }
        }
        let ready = |stage: &str| gap.get(stage).and_then(|s| s.get("ready")).and_then(|r| r.as_bool());
        Ok(Baseline {
            as_of: value.get("as_of").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
            percent: gap.get("overall").and_then(|o| o.get("percent")).and_then(|p| p.as_f64()),
            stage1: ready("stage1").ok_or("`gap.stage1.ready` is missing")?,
            stage2: ready("stage2").ok_or("`gap.stage2.ready` is missing")?,
            rows,
        })
    }
}

/// What changed since a baseline.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Change {
    /// The baseline's date.
    pub baseline_as_of: String,
    /// Overall readiness then and now (percent).
    pub readiness_was: Option<f64>,
    /// Overall readiness now.
    pub readiness_now: Option<f64>,
    /// Stage 1 ready then and now.
    pub stage1: (bool, bool),
    /// Stage 2 ready then and now.
    pub stage2: (bool, bool),
    /// Every clause and control whose status changed, in row order.
    pub rows: Vec<RowChange>,
}

/// A row whose status changed.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RowChange {
    /// The clause or control.
    pub id: String,
    /// Its status in the baseline (`new` when the baseline has no such row).
    pub was: String,
    /// Its status now.
    pub now: String,
    /// `improved`, `regressed` or `changed`.
    pub direction: &'static str,
}

/// How far from passing a status is (lower is better).
fn rank(status: &str) -> Option<u8> {
    match status {
        "passing" | "excluded" => Some(0),
        "no_evidence" => Some(1),
        "failing" => Some(2),
        "not_addressed" => Some(3),
        _ => None,
    }
}

/// The change from a baseline to a gap analysis.
pub fn compare(baseline: &Baseline, gap: &Gap) -> Change {
    let mut rows = Vec::new();
    for r in gap.clauses.iter().chain(&gap.controls) {
        let now = serde_json::to_value(r.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let was = baseline.rows.iter().find(|(id, _)| *id == r.id).map_or("new".to_string(), |(_, s)| s.clone());
        if was == now {
            continue;
        }
        let direction = match (rank(&was), rank(&now)) {
            (Some(a), Some(b)) if b < a => "improved",
            (Some(a), Some(b)) if b > a => "regressed",
            _ => "changed",
        };
        rows.push(RowChange { id: r.id.clone(), was, now, direction });
    }
    Change {
        baseline_as_of: baseline.as_of.clone(),
        readiness_was: baseline.percent,
        readiness_now: gap.overall.percent,
        stage1: (baseline.stage1, gap.stage1.ready),
        stage2: (baseline.stage2, gap.stage2.ready),
        rows,
    }
}

/// The change as text, after the gap analysis.
pub fn change_text(change: &Change) -> String {
    use std::fmt::Write as _;
    let pct = |p: Option<f64>| p.map_or("n/a".to_string(), |p| format!("{p:.1}%"));
    let ready = |b: bool| if b { "ready" } else { "not ready" };
    let mut out = String::new();
    let _ = writeln!(out, "Since the baseline of {}", change.baseline_as_of);
    let _ = writeln!(out, "  readiness {} -> {}", pct(change.readiness_was), pct(change.readiness_now));
    let _ = writeln!(out, "  stage 1 {} -> {}", ready(change.stage1.0), ready(change.stage1.1));
    let _ = writeln!(out, "  stage 2 {} -> {}", ready(change.stage2.0), ready(change.stage2.1));
    if change.rows.is_empty() {
        out.push_str("  no clause or control changed status\n");
    }
    for r in &change.rows {
        let _ = writeln!(
            out,
            "  {:<9} {:<9} {} -> {}",
            r.id,
            r.direction,
            r.was.replace('_', " "),
            r.now.replace('_', " ")
        );
    }
    out
}

/// A verdict as text lines.
pub fn verdict_text(name: &str, v: &Verdict) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "  {name}: {}", if v.ready { "ready" } else { "not ready" });
    let _ = writeln!(out, "    needs {}", v.needs);
    for b in &v.blockers {
        let _ = writeln!(out, "    blocked by {}: {}", b.id, b.reason);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::action_plan::Action;

    fn row(id: &str, status: GapStatus, grade: Option<Severity>, planned: bool) -> GapRow {
        GapRow {
            id: id.to_string(),
            title: String::new(),
            group: String::new(),
            expects: String::new(),
            status,
            found: format!("found for {id}"),
            grade,
            remediation: planned.then(|| Action {
                action: "ap".into(),
                description: None,
                owner: None,
                due: "2026-12-31".into(),
                overdue: false,
            }),
            implemented_by: Vec::new(),
            evidenced_by: Vec::new(),
            failing: Default::default(),
            missing: Vec::new(),
            justification: None,
        }
    }

    fn passing_clauses() -> Vec<GapRow> {
        STAGE1_CLAUSES.iter().map(|id| row(id, GapStatus::Passing, None, false)).collect()
    }

    #[test]
    fn stage1_needs_every_documentation_audit_and_review_clause_and_a_complete_soa() {
        let controls = vec![row("A.2.2", GapStatus::Excluded, None, false)];
        assert!(stage1(&passing_clauses(), &controls).ready);
        // A clause stage 1 does not review may fail.
        let mut clauses = passing_clauses();
        clauses.push(row("7.3", GapStatus::Failing, Some(Severity::Major), false));
        assert!(stage1(&clauses, &controls).ready);
        // One reviewed clause without evidence blocks it.
        clauses[7] = row("9.2.1", GapStatus::NoEvidence, Some(Severity::Minor), false);
        let v = stage1(&clauses, &controls);
        assert_eq!(v.blockers.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["9.2.1"]);
        assert!(v.blockers[0].reason.contains("found for 9.2.1"), "{}", v.blockers[0].reason);
        // A control neither included nor excluded blocks it.
        let gap = vec![row("A.2.3", GapStatus::NotAddressed, Some(Severity::Major), false)];
        assert!(!stage1(&passing_clauses(), &gap).ready);
    }

    #[test]
    fn stage2_is_blocked_by_a_major_gap_and_by_a_minor_one_without_an_action_plan() {
        let clauses = passing_clauses();
        let s1 = stage1(&clauses, &[]);
        let minor_planned = [row("A.7.4", GapStatus::NoEvidence, Some(Severity::Minor), true)];
        assert!(stage2(&clauses, &minor_planned, &s1).ready, "an accepted correction plan is enough");
        let observation = [row("A.7.4", GapStatus::Failing, Some(Severity::Observation), false)];
        assert!(stage2(&clauses, &observation, &s1).ready, "observations block nothing");
        let minor = [row("A.7.4", GapStatus::NoEvidence, Some(Severity::Minor), false)];
        assert!(!stage2(&clauses, &minor, &s1).ready);
        let major = [row("A.7.4", GapStatus::Failing, Some(Severity::Major), true)];
        let v = stage2(&clauses, &major, &s1);
        assert_eq!(v.blockers.len(), 1, "a plan does not lift a major gap");
        // Stage 1 not ready blocks stage 2 too.
        let mut failing = clauses.clone();
        failing[0] = row("4.3", GapStatus::Failing, Some(Severity::Observation), false);
        let s1 = stage1(&failing, &[]);
        assert_eq!(stage2(&failing, &[], &s1).blockers[0].id, "stage 1");
    }

    #[test]
    fn a_baseline_of_another_format_or_version_is_refused() {
        assert!(Baseline::parse("not json").unwrap_err().contains("not JSON"));
        let old = r#"{"schema": "aims-gap/1", "gap": {"clauses": [], "controls": []}}"#;
        assert!(Baseline::parse(old).unwrap_err().contains("`aims-gap/1`, not `aims-gap/2`"));
        let soa = r#"{"schema": "aims-soa/2", "rows": []}"#;
        assert!(Baseline::parse(soa).unwrap_err().contains("aims-soa/2"));
        assert!(Baseline::parse(r#"{"project": "x"}"#).unwrap_err().contains("no `schema`"));
        let ok = r#"{"schema": "aims-gap/2", "as_of": "2026-01-01", "gap": {"clauses": [{"id": "4.3", "status": "failing"}],
            "controls": [{"id": "A.2.2", "status": "passing"}], "overall": {"percent": 50.0},
            "stage1": {"ready": false}, "stage2": {"ready": false}}}"#;
        let baseline = Baseline::parse(ok).expect("a baseline");
        assert_eq!(baseline.rows.len(), 2);
    }
}
