//! JUnit XML, for CI systems that show test results (GitLab, Jenkins,
//! Azure DevOps, GitHub test reporters).
//!
//! One `testsuite` per control or audit rule and one `testcase` per entity
//! it applies to: a failing outcome is a `failure` with the reason (what
//! each failing `require` saw), a waived or not-applicable one is
//! `skipped`. Risks above appetite and objectives off track are suites of
//! their own, so every finding of the report shows up as a failure.

use std::fmt::Write as _;

use super::{OutcomeKind, Report, ShownOutcomes};

/// Text made safe for XML (and HTML): markup escaped; control characters,
/// a carriage return and bidirectional overrides shown as visible escapes
/// (`\u{1b}`, `\r`, `\u{202e}`) as in the text report, so that a key
/// from the facts can neither be silently altered (XML 1.0 forbids most
/// control characters) nor reorder what a CI page or a browser shows.
pub(super) fn xml_escape(text: &str) -> String {
    let text = crate::diag::terminal_safe(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

struct Case {
    name: String,
    failure: Option<(String, String)>,
    skipped: Option<String>,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

impl Report {
    /// The report as JUnit XML.
    pub fn to_junit(&self) -> String {
        self.to_junit_with(ShownOutcomes::All)
    }

    /// [`Report::to_junit`] with a test case per outcome `shown` (with
    /// [`ShownOutcomes::Failing`], the failing ones only).
    pub fn to_junit_with(&self, shown: ShownOutcomes) -> String {
        let mut suites: Vec<Suite> = Vec::new();
        for rule in &self.rules {
            let kind = if matches!(rule.kind, crate::ir::RuleKind::Audit) { "audit" } else { "control" };
            let cases = rule
                .outcomes
                .views_where(|kind| shown == ShownOutcomes::All || kind == OutcomeKind::Fail)
                .map(|o| {
                    let mut case = Case { name: o.entity.to_string(), failure: None, skipped: None };
                    match o.status {
                        OutcomeKind::Fail => {
                            let mut details = String::new();
                            for f in &o.failures {
                                // The message quotes the condition already.
                                let _ = writeln!(details, "{}: {}", super::location::text(&f.location), f.message);
                                for seen in &f.observed {
                                    let _ = writeln!(details, "  saw {} = {}", seen.path, seen.value);
                                }
                            }
                            let message = o.failures.first().map_or("fails".to_string(), |f| f.message.clone());
                            case.failure = Some((message, details));
                        }
                        OutcomeKind::Waived => {
                            case.skipped =
                                Some(format!("waived by {}", o.waived_by.as_deref().unwrap_or("an exception")))
                        }
                        OutcomeKind::NotApplicable => case.skipped = Some("not applicable".into()),
                        OutcomeKind::Pass => {}
                    }
                    case
                })
                .collect();
            suites.push(Suite { name: format!("{kind}.{}", rule.name), cases });
        }
        for risk in &self.risks {
            let cases = risk
                .entries
                .iter()
                .map(|e| Case {
                    name: e.entity.clone(),
                    failure: e.above_appetite.then(|| {
                        (
                            format!("residual risk {} is above the appetite", e.residual.level),
                            format!("inherent {} ({}), treatment {}", e.inherent.level, e.inherent.score, e.treatment),
                        )
                    }),
                    skipped: None,
                })
                .collect();
            suites.push(Suite { name: format!("risk.{}", risk.name), cases });
        }
        for o in &self.objectives {
            let off = !matches!(o.status, crate::ir::ObjectiveStatus::Met | crate::ir::ObjectiveStatus::OnTrack);
            let finding =
                self.findings.iter().find(|f| f.name == o.name && f.source == crate::eval::FindingSource::Objective);
            let case = Case {
                name: o.name.clone(),
                failure: (off || finding.is_some()).then(|| {
                    let message = finding.map_or_else(|| o.status.as_str().to_string(), |f| f.message.clone());
                    (message, format!("target {}", o.target))
                }),
                skipped: None,
            };
            suites.push(Suite { name: format!("objective.{}", o.name), cases: vec![case] });
        }

        let total: usize = suites.iter().map(|s| s.cases.len()).sum();
        let failures: usize = suites.iter().flat_map(|s| &s.cases).filter(|c| c.failure.is_some()).count();
        let skipped: usize = suites.iter().flat_map(|s| &s.cases).filter(|c| c.skipped.is_some()).count();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
            xml_escape(&format!("aims {} as of {}", self.project, self.as_of))
        );
        for suite in &suites {
            let failures = suite.cases.iter().filter(|c| c.failure.is_some()).count();
            let skipped = suite.cases.iter().filter(|c| c.skipped.is_some()).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
                xml_escape(&suite.name),
                suite.cases.len()
            );
            for case in &suite.cases {
                let head = format!(
                    "    <testcase name=\"{}\" classname=\"{}\"",
                    xml_escape(&case.name),
                    xml_escape(&suite.name)
                );
                match (&case.failure, &case.skipped) {
                    (Some((message, details)), _) => {
                        let _ = writeln!(
                            out,
                            "{head}>\n      <failure message=\"{}\" type=\"finding\">{}</failure>\n    </testcase>",
                            xml_escape(message),
                            xml_escape(details)
                        );
                    }
                    (None, Some(why)) => {
                        let _ =
                            writeln!(out, "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>", xml_escape(why));
                    }
                    (None, None) => {
                        let _ = writeln!(out, "{head}/>");
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_handles_markup_and_forbidden_characters() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}'"), "a&lt;b &amp; &quot;c&quot;\\u{1}&#39;");
        assert_eq!(xml_escape("e\u{1b}[31m\u{7}\r\u{202E}x\ny"), "e\\u{1b}[31m\\u{7}\\r\\u{202e}x\ny");
    }
}
