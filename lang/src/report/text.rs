//! The text report, written as it is made.
//!
//! Counts first, the exceptions in force, then the findings grouped by the
//! declaration that raised them, each with the values its failed `require`s
//! read. A finding's outcome is found by walking its rule's outcomes in key
//! order alongside the rule's findings (`OutcomeViews::locate`). Each
//! group's text is made on one of several threads, every key, name,
//! message and observed value in it made [`terminal_safe_line`] as it is
//! written (a debug assertion holds the whole group to [`terminal_safe`]);
//! the header and the data-quality section are made safe whole.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::outcomes::FailureTexts;
use super::{count, source_name, Report, ShownEntity};
use crate::diag::{terminal_safe, terminal_safe_line};

/// Writes the text report of `report` to `sink`: the header, then each
/// declaration's findings, made on several threads and written in order
/// ([`super::ordered`]).
pub(super) fn write(report: &Report, sink: &mut dyn Write) -> io::Result<()> {
    let mut head = String::new();
    header(&mut head, report);
    sink.write_all(terminal_safe(&head).as_bytes())?;
    let findings: Vec<_> = report.findings.raw().map(|(f, _)| f).collect();
    let context = Context {
        report,
        findings: &findings,
        rules: report.rules.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect(),
        titles: report.titles(),
    };
    let threads = crate::eval::threads(None);
    super::ordered::write_ordered(sink, threads, &groups(report), |group| {
        let mut text = String::new();
        context.group(&mut text, group);
        // Every text a group shows from the policy or the facts was made
        // safe on its own (`terminal_safe_line`, stricter than
        // `terminal_safe`), so the group is not scanned again whole (that
        // was a scan of the whole report, a tenth of writing it).
        debug_assert!(matches!(terminal_safe(&text), std::borrow::Cow::Borrowed(_)), "{text}");
        Ok(text.into_bytes())
    })?;
    if let Some(quality) = &report.data_quality {
        let mut text = String::new();
        data_quality(&mut text, quality);
        sink.write_all(terminal_safe(&text).as_bytes())?;
    }
    Ok(())
}

/// The findings of one declaration: its name, what it is, and the
/// positions of its findings in the report's list.
struct Group<'r> {
    name: &'r str,
    source: &'static str,
    members: Vec<u32>,
}

/// The findings grouped by name, the groups in order of first appearance
/// (consecutive findings of one name join their group without a lookup).
fn groups(report: &Report) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut last: Option<usize> = None;
    for (i, (f, _)) in report.findings.raw().enumerate() {
        let g = match last.filter(|&g| groups[g].name == &*f.name) {
            Some(g) => g,
            None => *group_of.entry(&*f.name).or_insert_with(|| {
                groups.push(Group { name: &f.name, source: source_name(f.source), members: Vec::new() });
                groups.len() - 1
            }),
        };
        groups[g].members.push(i as u32);
        last = Some(g);
    }
    groups
}

/// What every group's text reads.
struct Context<'r> {
    report: &'r Report,
    findings: &'r [&'r crate::eval::Finding],
    rules: HashMap<&'r str, usize>,
    titles: HashMap<&'r str, &'r str>,
}

impl Context<'_> {
    /// The text of one group: its heading, then each finding with the
    /// values its failed `require`s read.
    fn group(&self, out: &mut String, group: &Group) {
        let report = self.report;
        let name = group.name;
        let _ = write!(out, "\n{} {}", group.source, terminal_safe_line(name));
        if let Some(t) = self.titles.get(name) {
            let _ = write!(out, ": {}", terminal_safe_line(t));
        }
        out.push('\n');
        let rule = self.rules.get(name).map(|&r| &report.rules[r]);
        let mut texts: Option<FailureTexts> = rule.map(|r| r.outcomes.failure_texts());
        let mut cursor = super::outcomes::Cursor::default();
        let mut seen = String::new();
        let mut traces: Vec<String> = Vec::new();
        let mut entity = String::new();
        let mut message = SafeMessage::default();
        for &i in &group.members {
            let f = self.findings[i as usize];
            let _ = write!(out, "  {:<11} ", f.severity.as_str());
            if let Some(shown) = ShownEntity::of(f.entity.as_deref(), report.findings.label(i as usize)) {
                entity.clear();
                let _ = write!(entity, "{shown}");
                out.push_str(&terminal_safe_line(&entity));
                out.push_str(": ");
            }
            out.push_str(message.of(&f.message));
            out.push('\n');
            // A rule of the organisation has its one outcome under `-`.
            let key = f.entity.as_deref().unwrap_or("-");
            let outcome = rule.and_then(|r| r.outcomes.locate(&mut cursor, key));
            let (Some(o), Some(texts)) = (outcome, texts.as_mut()) else { continue };
            for failure in o.failures {
                seen.clear();
                traces.clear();
                texts.observed(failure, |path, value| {
                    if !seen.is_empty() {
                        seen.push_str(", ");
                    }
                    seen.push_str(&path.plain);
                    seen.push_str(" = ");
                    seen.push_str(value);
                    if let Some(rule) = rule {
                        traces.extend(report.measured_trace(rule, key, &path.plain));
                    }
                });
                if !seen.is_empty() {
                    out.push_str("              saw ");
                    out.push_str(&terminal_safe_line(&seen));
                    out.push_str(" (");
                    out.push_str(&terminal_safe_line(&texts.location(failure).plain));
                    out.push_str(")\n");
                }
                for trace in &traces {
                    let _ = writeln!(out, "              measured: {}", terminal_safe_line(trace));
                }
            }
        }
    }
}

/// The terminal-safe form of the last message shown, known by the
/// address of its text: a rule's findings mostly share one message (the
/// same allocation), which is then made safe once, not once per finding.
#[derive(Default)]
struct SafeMessage {
    address: Option<(*const u8, usize)>,
    text: String,
}

impl SafeMessage {
    fn of(&mut self, message: &std::sync::Arc<str>) -> &str {
        let address = (message.as_ptr(), message.len());
        if self.address != Some(address) {
            self.text.clear();
            self.text.push_str(&terminal_safe_line(message));
            self.address = Some(address);
        }
        &self.text
    }
}

/// The data-quality section: every cell read as unknown, by column.
fn data_quality(out: &mut String, quality: &crate::facts::quality::DataQuality) {
    let line = |text: &str| terminal_safe_line(text).into_owned();
    let cells = quality.cells() as usize;
    let _ = writeln!(
        out,
        "\ndata quality: {} could not be read and {} unknown",
        count(cells, "cell", "cells"),
        if cells == 1 { "is" } else { "are" }
    );
    for column in &quality.columns {
        let _ = writeln!(
            out,
            "  {}, column `{}` ({}.{}): {}",
            line(&column.file),
            line(&column.column),
            line(&column.entity),
            line(&column.field),
            count(column.count as usize, "cell", "cells")
        );
        for cell in &column.cells {
            let _ = writeln!(out, "    {}: `{}` {}", line(&cell.location()), line(&cell.value), line(&cell.problem));
        }
    }
}

/// The counts and the exceptions.
fn header(out: &mut String, report: &Report) {
    let line = |text: &str| terminal_safe_line(text).into_owned();
    let s = &report.summary;
    let _ = writeln!(out, "{} as of {}", line(&report.project), report.as_of);
    let _ = writeln!(
        out,
        "  {}, {}: {} pass, {} fail, {} waived, {} not applicable",
        count(s.controls, "control", "controls"),
        count(s.audits, "audit rule", "audit rules"),
        s.outcomes.pass,
        s.outcomes.fail,
        s.outcomes.waived,
        s.outcomes.not_applicable
    );
    let _ = writeln!(
        out,
        "  {}: {} major, {} minor, {}",
        count(s.findings.total, "finding", "findings"),
        s.findings.major,
        s.findings.minor,
        count(s.findings.observation, "observation", "observations"),
    );
    if !report.exceptions.is_empty() {
        let _ = writeln!(out, "  {}:", count(report.exceptions.len(), "exception", "exceptions"));
        for x in &report.exceptions {
            let _ = writeln!(out, "    {}", line(&x.summary()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SafeMessage;
    use std::sync::Arc;

    #[test]
    fn a_message_is_made_safe_again_once_another_comes_between() {
        let forged: Arc<str> = Arc::from("line one\nforged line \u{1b}[31m");
        let same = forged.clone();
        let other: Arc<str> = Arc::from("plain");
        let mut message = SafeMessage::default();
        let safe = message.of(&forged).to_string();
        assert!(!safe.contains('\n') && !safe.contains('\u{1b}'), "{safe:?}");
        assert_eq!(message.of(&same), safe, "the same text: made safe once");
        assert_eq!(message.of(&other), "plain");
        assert_eq!(message.of(&forged), safe);
    }
}
