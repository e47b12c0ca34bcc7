//! The JSON report (`aims-report/1`) written straight from the evaluation.
//!
//! The layout is serde_json's pretty one (two-space indentation, `"key":
//! value`, `[]` and `{}` when empty) but for the two long lists: each
//! finding and each rule's outcome is one line, in serde_json's compact
//! form. A report of 100,000 systems is two million outcomes; on a line
//! each they are a third fewer bytes to write, and one `grep` or `diff`
//! line per outcome. `lang/tests/report_json.rs` holds the bytes to that
//! layout of what serde writes for [`Report`]. What makes it fast on two
//! million outcomes:
//!
//! - no view per outcome or finding: the evaluation's outcomes are read in
//!   key order and what a failure shares with the other failures of its
//!   requirement (condition, location, observed paths, message) is made
//!   once per rule ([`FailureTexts`]);
//! - a string is scanned for the bytes JSON escapes and copied whole when
//!   it has none ([`escape_into`]);
//! - everything goes into one buffer, handed to the writer in blocks of
//!   64 KiB, not piece by piece through `&mut dyn Write`;
//! - the findings and the rules' outcomes are cut into parts of 1,024
//!   (a rule is one part with `--outcomes failing`), made on every core
//!   and written in order; the sections after the rules are one part
//!   more, made while the rules' last parts are written.
//!
//! The small parts (summary, risks, objectives, exceptions, SoA, gap,
//! matrices, diagnostics) go through serde, indented to their place.

use std::io::{self, Write};
use std::ops::Range;

use serde::Serialize;

use super::outcomes::FailureTexts;
use super::{source_name, Report, RuleView, ShownOutcomes};
use crate::ir::{OutcomeKind, RuleKind};

/// Bytes gathered before they are handed to the writer.
const BLOCK: usize = 1 << 16;

/// What JSON escapes: 0 for a byte written as it is, else the letter after
/// the backslash (`u` for `\u00XX`). As `serde_json` escapes.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// `text` as a JSON string, quotes included, appended to `out`: the runs of
/// bytes that need no escape are copied whole.
pub fn escape_into(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs an escape.
        if let Some(word) = bytes.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            if !needs_escape(u64::from_le_bytes(eight)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape = ESCAPE[b as usize];
        i += 1;
        if escape == 0 {
            continue;
        }
        let at = i - 1;
        out.extend_from_slice(&bytes[start..at]);
        match escape {
            b'u' => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xF) as usize]]),
            letter => out.extend_from_slice(&[b'\\', letter]),
        }
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether one of the eight bytes of `word` is a control character (below
/// 0x20), a quote or a backslash (a byte of 0x80 or more never counts).
fn needs_escape(word: u64) -> bool {
    use aims_syntax::bytes::{has_byte, has_byte_below};
    has_byte_below(word, 0x20) || has_byte(word, b'"') || has_byte(word, b'\\')
}

/// The buffer the report is written into, handed on block by block; a
/// part made on another thread ([`super::ordered`]) has no writer and
/// gathers its bytes whole.
struct Out<'w> {
    buf: Vec<u8>,
    sink: Option<&'w mut dyn Write>,
}

impl<'w> Out<'w> {
    fn new(sink: &'w mut dyn Write) -> Out<'w> {
        Out { buf: Vec::with_capacity(BLOCK + 4096), sink: Some(sink) }
    }

    /// A part's bytes, gathered whole.
    fn part() -> Out<'static> {
        Out { buf: Vec::with_capacity(BLOCK + 4096), sink: None }
    }

    /// Hands the buffer on once it holds a block.
    fn block(&mut self) -> io::Result<()> {
        if self.buf.len() >= BLOCK {
            if let Some(sink) = &mut self.sink {
                sink.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// Hands on what the buffer holds, leaving the writer for parts made
    /// elsewhere.
    fn flush(&mut self) -> io::Result<&mut dyn Write> {
        let sink = self.sink.as_deref_mut().ok_or_else(|| io::Error::other("a part has no writer"))?;
        sink.write_all(&self.buf)?;
        self.buf.clear();
        Ok(sink)
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn string(&mut self, text: &str) {
        escape_into(&mut self.buf, text);
    }

    fn number(&mut self, n: usize) {
        let _ = write!(self.buf, "{n}");
    }

    fn boolean(&mut self, b: bool) {
        self.raw(if b { b"true" } else { b"false" });
    }

    /// A line break and the indentation of `level`.
    fn line(&mut self, level: usize) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + 2 * level, b' ');
    }

    /// The start of a member of an object or array at `level`: a comma
    /// unless it is the first, a line break, the indentation.
    fn member(&mut self, first: bool, level: usize) {
        if !first {
            self.buf.push(b',');
        }
        self.line(level);
    }

    /// `"name": ` as a member of an object at `level` (a name of the
    /// report's shape: nothing in it to escape).
    fn key(&mut self, first: bool, level: usize, name: &str) {
        self.member(first, level);
        self.buf.push(b'"');
        self.raw(name.as_bytes());
        self.raw(b"\": ");
    }

    /// `"name":` as a member of an object written on one line, in
    /// serde_json's compact form (a comma unless it is the first).
    fn flat_key(&mut self, first: bool, name: &str) {
        if !first {
            self.buf.push(b',');
        }
        self.buf.push(b'"');
        self.raw(name.as_bytes());
        self.raw(b"\":");
    }

    /// An array of strings whose members are at `level`.
    fn strings(&mut self, level: usize, items: &[String]) {
        if items.is_empty() {
            return self.raw(b"[]");
        }
        self.raw(b"[");
        for (i, item) in items.iter().enumerate() {
            self.member(i == 0, level);
            self.string(item);
        }
        self.line(level - 1);
        self.raw(b"]");
    }

    /// A value through serde, pretty, as if it were written at `level`
    /// ([`Pretty`]); what serde writes is handed on block by block, so a
    /// large part, the gap analysis's lists of failing entities, is never
    /// held whole.
    fn serde<T: Serialize + ?Sized>(&mut self, level: usize, value: &T) -> io::Result<()> {
        let mut serializer = serde_json::Serializer::with_formatter(Blocks(self), Pretty { level, has_value: false });
        value.serialize(&mut serializer)?;
        Ok(())
    }
}

/// What serde writes, into the buffer, handed on once it holds a block.
struct Blocks<'o, 'w>(&'o mut Out<'w>);

impl Write for Blocks<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.raw(bytes);
        self.0.block()?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The layout of `serde_json`'s `PrettyFormatter` (two spaces, `"key":
/// value`, `[]` and `{}` when empty), starting at `level` instead of the
/// left margin, each line break written with its indentation at once.
struct Pretty {
    level: usize,
    /// Whether the array or object being written has a member yet.
    has_value: bool,
}

impl Pretty {
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            new_line(writer, self.level)?;
        }
        writer.write_all(bracket)
    }

    fn member<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        new_line(writer, self.level)
    }
}

/// A line break and the indentation of `level`, in one write when it fits.
fn new_line<W: ?Sized + Write>(writer: &mut W, level: usize) -> io::Result<()> {
    const LINE: &[u8; 65] = b"\n                                                                ";
    let mut spaces = 2 * level;
    let first = spaces.min(LINE.len() - 1);
    writer.write_all(&LINE[..1 + first])?;
    spaces -= first;
    while spaces > 0 {
        let run = spaces.min(LINE.len() - 1);
        writer.write_all(&LINE[1..1 + run])?;
        spaces -= run;
    }
    Ok(())
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.member(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.member(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Findings per part of the `findings` array made on one thread.
const FINDINGS_PER_PART: usize = 1_024;

/// Outcomes per part of a rule's `outcomes` array made on one thread.
const OUTCOMES_PER_PART: usize = 1_024;

/// Writes `report` as `aims-report/1` JSON, ending with a newline; with
/// [`ShownOutcomes::Failing`] each rule lists only its failing outcomes.
/// The findings and the rules, nearly all of the bytes, are made in parts
/// on several threads and written in order ([`super::ordered`]).
pub(super) fn write(report: &Report, sink: &mut dyn Write, shown: ShownOutcomes) -> io::Result<()> {
    let threads = crate::eval::threads(None);
    let mut out = Out::new(sink);
    out.raw(b"{");
    out.key(true, 1, "schema");
    out.string(report.schema);
    out.key(false, 1, "project");
    out.string(&report.project);
    out.key(false, 1, "as_of");
    out.string(&report.as_of);
    out.key(false, 1, "summary");
    out.serde(1, &report.summary)?;
    out.key(false, 1, "findings");
    if report.findings.is_empty() {
        out.raw(b"[]");
    } else {
        out.raw(b"[");
        let parts: Vec<Range<usize>> = ranges(0..report.findings.len(), FINDINGS_PER_PART).collect();
        super::ordered::write_ordered(out.flush()?, threads, &parts, |range| {
            let mut part = Out::part();
            findings(&mut part, report, range.clone());
            Ok(part.buf)
        })?;
        out.line(1);
        out.raw(b"]");
    }
    out.key(false, 1, "rules");
    if report.rules.is_empty() {
        out.raw(b"[]");
        tail(&mut out, report)?;
        return out.flush().map(|_| ());
    }
    out.raw(b"[");
    // Only failing outcomes: few, and the array opens at the first of
    // them, wherever it is; the rule is one part.
    let per_part = if shown == ShownOutcomes::Failing { usize::MAX } else { OUTCOMES_PER_PART };
    let mut parts: Vec<Part> = report
        .rules
        .iter()
        .enumerate()
        .flat_map(|(index, rule)| {
            let ranges: Vec<Range<usize>> = rule.outcomes.parts(per_part);
            let last = ranges.len() - 1;
            ranges
                .into_iter()
                .enumerate()
                .map(move |(k, range)| Part::Rule(RulePart { rule, index, range, head: k == 0, tail: k == last }))
        })
        .collect();
    // The sections after the rules (the gap analysis's lists of failing
    // entities run to megabytes) are made on a thread of their own while
    // the rules' last parts are written.
    parts.push(Part::Tail);
    super::ordered::write_ordered(out.flush()?, threads, &parts, |part| {
        let mut out = Out::part();
        match part {
            Part::Rule(part) => rule_part(&mut out, part, shown),
            Part::Tail => {
                out.line(1);
                out.raw(b"]");
                tail(&mut out, report)?;
            }
        }
        Ok(out.buf)
    })
}

/// The sections after `rules`, and the end of the report.
fn tail(out: &mut Out, report: &Report) -> io::Result<()> {
    out.key(false, 1, "risks");
    out.serde(1, &report.risks)?;
    out.key(false, 1, "objectives");
    out.serde(1, &report.objectives)?;
    out.key(false, 1, "exceptions");
    out.serde(1, &report.exceptions)?;
    if !report.soa.is_empty() {
        out.key(false, 1, "soa");
        out.serde(1, &report.soa)?;
    }
    if let Some(gap) = &report.gap {
        out.key(false, 1, "gap");
        out.serde(1, gap)?;
    }
    if !report.matrices.is_empty() {
        out.key(false, 1, "matrices");
        out.serde(1, &report.matrices)?;
    }
    if !report.diagnostics.is_empty() {
        out.key(false, 1, "diagnostics");
        out.serde(1, &report.diagnostics)?;
    }
    if let Some(quality) = &report.data_quality {
        out.key(false, 1, "data_quality");
        out.serde(1, quality)?;
    }
    if !report.measurements.is_empty() {
        out.key(false, 1, "measurements");
        out.serde(1, &report.measurements)?;
    }
    out.line(0);
    out.raw(b"}\n");
    Ok(())
}

/// `whole` cut into ranges of `per_part` (the last one shorter).
fn ranges(whole: Range<usize>, per_part: usize) -> impl Iterator<Item = Range<usize>> {
    let end = whole.end;
    whole.step_by(per_part.max(1)).map(move |start| start..end.min(start.saturating_add(per_part)))
}

/// The findings of `range` of the report's list, each on a line of its own
/// at level 2 (the first of the list opens the array).
fn findings(out: &mut Out, report: &Report, range: Range<usize>) {
    // Consecutive findings mostly share their rule's name, a message and a
    // location (the same allocations): each is escaped once per run of them.
    let (mut name, mut message, mut location) = (Escaped::default(), Escaped::default(), Escaped::default());
    let mut location_text = String::new();
    for (i, f, at) in report.findings.raw_range(range) {
        out.member(i == 0, 2);
        out.raw(b"{");
        out.flat_key(true, "severity");
        out.string(f.severity.as_str());
        out.flat_key(false, "source");
        out.string(source_name(f.source));
        out.flat_key(false, "name");
        out.raw(name.of(&f.name));
        if let Some(entity) = &f.entity {
            out.flat_key(false, "entity");
            out.string(entity);
        }
        if let Some(label) = report.findings.label(i) {
            out.flat_key(false, "label");
            out.string(label);
        }
        out.flat_key(false, "message");
        out.raw(message.of(&f.message));
        out.flat_key(false, "location");
        let at_address = at.map_or(std::ptr::null(), |at| std::ptr::from_ref(at).cast::<u8>());
        out.raw(location.of_address(at_address, |text| {
            location_text.clear();
            if let Some(at) = at {
                use std::fmt::Write as _;
                let _ = write!(location_text, "{at}");
            }
            escape_into(text, &location_text);
        }));
        out.raw(b"}");
    }
}

/// The JSON of the last text escaped, known by the address of its
/// allocation (texts shared behind an `Arc` are the same text).
#[derive(Default)]
struct Escaped {
    address: Option<*const u8>,
    json: Vec<u8>,
}

impl Escaped {
    /// The JSON of `text`, escaped unless it was the last one.
    fn of(&mut self, text: &std::sync::Arc<str>) -> &[u8] {
        self.of_address(text.as_ptr(), |json| escape_into(json, text))
    }

    /// The JSON of whatever lives at `address`, made by `escape` unless it
    /// was the last one.
    fn of_address(&mut self, address: *const u8, escape: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        if self.address != Some(address) {
            self.json.clear();
            escape(&mut self.json);
            self.address = Some(address);
        }
        &self.json
    }
}

/// A part of the report from the `rules` array on, made on one thread.
enum Part<'r> {
    /// Some outcomes of a rule.
    Rule(RulePart<'r>),
    /// The end of the `rules` array and every section after it.
    Tail,
}

/// A part of the `rules` array: the outcomes of `range` (positions in key
/// order) of one rule, with the rule's head before the first part and its
/// end after the last.
struct RulePart<'r> {
    rule: &'r RuleView,
    /// The rule's position in the report.
    index: usize,
    range: Range<usize>,
    head: bool,
    tail: bool,
}

/// One part of a rule's object at level 2.
fn rule_part(out: &mut Out, part: &RulePart, shown: ShownOutcomes) {
    let rule = part.rule;
    if part.head {
        out.member(part.index == 0, 2);
        rule_head(out, rule);
        out.key(false, 3, "outcomes");
    }
    let mut texts = rule.outcomes.failure_texts();
    let (keys, ends) = rule.outcomes.keys_json();
    // Every outcome is shown, or the part is the rule's only one: the
    // array opens with the first outcome shown of the part.
    let mut first = part.range.start == 0;
    for (i, o) in part.range.clone().zip(rule.outcomes.raw_range(part.range.clone())) {
        if shown == ShownOutcomes::Failing && o.kind != OutcomeKind::Fail {
            continue;
        }
        if first {
            out.raw(b"[");
        }
        out.member(first, 4);
        first = false;
        out.raw(b"{");
        out.flat_key(true, "entity");
        let start = i.checked_sub(1).and_then(|p| ends.get(p)).map_or(0, |&end| end as usize);
        match ends.get(i).and_then(|&end| keys.get(start..end as usize)) {
            Some(key) => out.raw(key),
            None => out.string(&o.key),
        }
        out.flat_key(false, "status");
        out.raw(match o.kind {
            OutcomeKind::Pass => b"\"pass\"",
            OutcomeKind::Fail => b"\"fail\"",
            OutcomeKind::Waived => b"\"waived\"",
            OutcomeKind::NotApplicable => b"\"not_applicable\"",
        });
        if let Some(exception) = rule.outcomes.waived_by(o) {
            out.flat_key(false, "waived_by");
            out.string(exception);
        }
        if !o.failures.is_empty() {
            out.flat_key(false, "failures");
            out.raw(b"[");
            for (i, f) in o.failures.iter().enumerate() {
                failure_json(out, &mut texts, f, i == 0);
            }
            out.raw(b"]");
        }
        out.raw(b"}");
    }
    if part.tail {
        if first {
            out.raw(b"[]");
        } else {
            out.line(3);
            out.raw(b"]");
        }
        out.line(2);
        out.raw(b"}");
    }
}

/// A rule's object up to its outcomes, at level 2.
fn rule_head(out: &mut Out, rule: &RuleView) {
    out.raw(b"{");
    out.key(true, 3, "name");
    out.string(&rule.name);
    out.key(false, 3, "kind");
    out.string(match rule.kind {
        RuleKind::Control => "control",
        RuleKind::Audit => "audit",
    });
    if let Some(title) = &rule.title {
        out.key(false, 3, "title");
        out.string(title);
    }
    out.key(false, 3, "severity");
    out.string(rule.severity.as_str());
    if !rule.implements.is_empty() {
        out.key(false, 3, "implements");
        out.strings(4, &rule.implements);
    }
    if !rule.clauses.is_empty() {
        out.key(false, 3, "clauses");
        out.strings(4, &rule.clauses);
    }
    out.key(false, 3, "location");
    out.string(&rule.location.to_string());
    out.key(false, 3, "counts");
    out.raw(b"{");
    for (i, (name, n)) in [
        ("pass", rule.counts.pass),
        ("fail", rule.counts.fail),
        ("waived", rule.counts.waived),
        ("not_applicable", rule.counts.not_applicable),
    ]
    .into_iter()
    .enumerate()
    {
        out.key(i == 0, 4, name);
        out.number(n);
    }
    out.line(3);
    out.raw(b"}");
}

/// One failure's object, on its outcome's line.
fn failure_json(out: &mut Out, texts: &mut FailureTexts, f: &crate::eval::Failure, first: bool) {
    if !first {
        out.raw(b",");
    }
    out.raw(b"{");
    out.flat_key(true, "require");
    out.raw(&texts.require(f).json);
    out.flat_key(false, "message");
    out.raw(&texts.message(f).json);
    out.flat_key(false, "no_evidence");
    out.boolean(matches!(f.reason, crate::eval::FailReason::NoEvidence(_)));
    out.flat_key(false, "location");
    out.raw(&texts.location(f).json);
    out.flat_key(false, "observed");
    out.raw(b"[");
    let mut first = true;
    texts.observed(f, |path, value| {
        out.raw(if first { b"{" } else { b",{" });
        first = false;
        out.flat_key(true, "path");
        out.raw(&path.json);
        out.flat_key(false, "value");
        out.string(value);
        out.raw(b"}");
    });
    out.raw(b"]");
    out.raw(b"}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn a_text_is_escaped_again_once_another_comes_between() {
        let (a, b) = (std::sync::Arc::<str>::from("a \"b\""), std::sync::Arc::<str>::from("c"));
        let same_as_a = a.clone();
        let mut escaped = Escaped::default();
        let mut calls = 0;
        let mut json = |text: &std::sync::Arc<str>| {
            let before = escaped.address;
            let json = escaped.of(text).to_vec();
            calls += usize::from(escaped.address != before);
            json
        };
        assert_eq!(json(&a), br#""a \"b\"""#.to_vec());
        assert_eq!(json(&same_as_a), br#""a \"b\"""#.to_vec(), "the same allocation: not escaped again");
        assert_eq!(json(&b), br#""c""#.to_vec());
        assert_eq!(json(&a), br#""a \"b\"""#.to_vec());
        assert_eq!(calls, 3);
    }

    fn pretty_at(level: usize, value: &serde_json::Value) -> String {
        let mut sink: Vec<u8> = Vec::new();
        let mut out = Out::new(&mut sink);
        let written = out.serde(level, value).and_then(|()| out.flush().map(|_| ()));
        assert!(written.is_ok(), "{written:?}");
        String::from_utf8(sink).unwrap_or_default()
    }

    /// What goes through serde is laid out as `to_string_pretty` lays it
    /// out, every line after the first indented to the level it is at,
    /// however deep (past the 32 levels one write of indentation covers).
    #[test]
    fn serde_values_are_pretty_printed_as_serde_json_does_at_any_level() {
        use serde_json::json;
        let deep = (0..40).fold(json!([1, {}]), |inner, i| json!({"k": [inner, [], i]}));
        let values = [
            json!(null),
            json!([]),
            json!({}),
            json!({"a": [], "b": {}, "c": [1, "x\ny \"q\"", {"d": null, "e": [[], {}]}], "f": 2.5}),
            deep,
        ];
        for value in values {
            let reference = serde_json::to_string_pretty(&value).unwrap_or_default();
            for level in [0, 1, 3, 33] {
                let indented = reference.replace('\n', &format!("\n{}", "  ".repeat(level)));
                assert_eq!(pretty_at(level, &value), indented, "level {level}");
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "plain",
            "a \"quoted\" \\ path",
            "\u{0}\u{1f}\u{7f}\t\n\r\u{8}\u{c}",
            "é ✓ \u{2028}",
            "eight ok then a \"quote\" after sixteen bytes\\",
            "ÿÿÿÿÿÿÿÿ\u{1}",
        ] {
            assert_eq!(escaped(text), serde_json::to_string(text).unwrap_or_default(), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(text in any::<String>()) {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap_or_default());
        }

        #[test]
        fn control_heavy_strings_too(text in "[\\x00-\\x1f\"\\\\a-z\u{80}-\u{10ffff}]{0,40}") {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap_or_default());
        }
    }
}
