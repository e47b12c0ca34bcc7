//! The text report, written as it is made.
//!
//! Counts first, the exceptions in force, then the findings grouped by the
//! declaration that raised them, each with the values its failed `require`s
//! read. A finding's outcome is found by walking its rule's outcomes in key
//! order alongside the rule's findings (`OutcomeViews::locate`), and the
//! text goes to the writer in blocks, each made [`terminal_safe`] on the
//! way (it escapes character by character, so a block at a time is the
//! whole text at once).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::outcomes::FailureTexts;
use super::{count, source_name, Report};
use crate::diag::{terminal_safe, terminal_safe_line};

/// Characters gathered before they are handed to the writer.
const BLOCK: usize = 1 << 16;

/// The text gathered so far and where it goes.
struct Out<'w> {
    text: String,
    sink: &'w mut dyn Write,
}

impl Out<'_> {
    fn block(&mut self, force: bool) -> io::Result<()> {
        if force || self.text.len() >= BLOCK {
            self.sink.write_all(terminal_safe(&self.text).as_bytes())?;
            self.text.clear();
        }
        Ok(())
    }
}

/// Writes the text report of `report` to `sink`.
pub(super) fn write(report: &Report, sink: &mut dyn Write) -> io::Result<()> {
    let mut out = Out { text: String::with_capacity(BLOCK + 4096), sink };
    header(&mut out.text, report);
    // The findings grouped by name, the groups in order of first appearance
    // (consecutive findings of one name join their group without a lookup).
    let mut groups: Vec<(&str, &'static str, Vec<u32>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut last: Option<usize> = None;
    for (i, (f, _)) in report.findings.raw().enumerate() {
        let g = match last.filter(|&g| groups[g].0 == &*f.name) {
            Some(g) => g,
            None => *group_of.entry(&*f.name).or_insert_with(|| {
                groups.push((&*f.name, source_name(f.source), Vec::new()));
                groups.len() - 1
            }),
        };
        groups[g].2.push(i as u32);
        last = Some(g);
    }
    let findings: Vec<_> = report.findings.raw().map(|(f, _)| f).collect();
    let rules: HashMap<&str, usize> = report.rules.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
    let titles = report.titles();
    let mut seen = String::new();
    let mut traces: Vec<String> = Vec::new();
    for (name, source, members) in groups {
        let _ = write!(out.text, "\n{source} {}", terminal_safe_line(name));
        if let Some(t) = titles.get(name) {
            let _ = write!(out.text, ": {}", terminal_safe_line(t));
        }
        out.text.push('\n');
        let rule = rules.get(name).map(|&r| &report.rules[r]);
        let mut texts: Option<FailureTexts> = rule.map(|r| r.outcomes.failure_texts());
        let mut cursor = super::outcomes::Cursor::default();
        for i in members {
            let f = findings[i as usize];
            let _ = write!(out.text, "  {:<11} ", f.severity.as_str());
            if let Some(entity) = super::shown_entity(f.entity.as_deref(), report.findings.label(i as usize)) {
                let _ = write!(out.text, "{}: ", terminal_safe_line(&entity));
            }
            let _ = writeln!(out.text, "{}", terminal_safe_line(&f.message));
            // A rule of the organisation has its one outcome under `-`.
            let key = f.entity.as_deref().unwrap_or("-");
            let outcome = rule.and_then(|r| r.outcomes.locate(&mut cursor, key));
            if let (Some(o), Some(texts)) = (outcome, texts.as_mut()) {
                for failure in o.failures {
                    seen.clear();
                    traces.clear();
                    texts.observed(failure, |path, value| {
                        if !seen.is_empty() {
                            seen.push_str(", ");
                        }
                        let _ = write!(seen, "{path} = {value}");
                        if let Some(rule) = rule {
                            traces.extend(report.measured_trace(rule, key, path));
                        }
                    });
                    if !seen.is_empty() {
                        let _ = writeln!(
                            out.text,
                            "              saw {} ({})",
                            terminal_safe_line(&seen),
                            terminal_safe_line(texts.location(failure))
                        );
                    }
                    for trace in &traces {
                        let _ = writeln!(out.text, "              measured: {}", terminal_safe_line(trace));
                    }
                }
            }
            out.block(false)?;
        }
    }
    if let Some(quality) = &report.data_quality {
        data_quality(&mut out.text, quality);
    }
    out.block(true)
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
