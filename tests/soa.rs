//! `aims soa` in the formats an auditor reads: snapshots of the text,
//! Markdown and HTML statements of the hr-screening example (which has a
//! partially implemented control with an action plan), the spreadsheet read
//! back cell by cell (frozen header, filters, an auditor's notes column,
//! document control on its own sheet), a planned control with its due date
//! and overdue flag, and byte-identical output for the same inputs.

mod common;

use std::io::{Cursor, Read};

use calamine::{Data, Range, Reader, Xlsx};
use common::{aims, stdout};

fn soa(project: &str, format: &str) -> String {
    let out = aims(&["soa", project, "--format", format]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    stdout(&out)
}

#[test]
fn the_statement_in_text_markdown_and_html() {
    for format in ["text", "markdown", "html"] {
        let text = soa("examples/hr-screening", format);
        // The as-of date and the meaning of "nothing to check" are in every view.
        assert!(text.contains("2026-04-01"), "{format}");
        if format != "text" {
            assert!(text.contains("this is not an exclusion"), "{format}");
        }
        insta::assert_snapshot!(format!("soa_hr_screening_{format}"), text);
    }
}

#[test]
fn the_html_statement_is_self_contained() {
    let html = soa("examples/credit-scoring", "html");
    assert!(html.contains("default-src 'none'"));
    for outside in ["<script", "<link", "src=", "http://", "https://", "url("] {
        assert!(!html.contains(outside), "{outside}");
    }
    // The planned control shows its due date, flagged overdue.
    assert!(
        html.contains("<td class=\"status-overdue\">planned, due 2026-10-15 (OVERDUE)</td>"),
        "{}",
        html.lines().find(|l| l.contains("data-control=\"A.4.6\"")).unwrap_or_default()
    );
}

fn xlsx(project: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("soa.xlsx");
    let out = aims(&["soa", project, "--format", "xlsx", "--output", path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    std::fs::read(path).expect("the workbook")
}

fn cell(range: &Range<Data>, row: usize, col: usize) -> String {
    range.get((row, col)).map(|d| d.to_string()).unwrap_or_default()
}

fn find_row(range: &Range<Data>, id: &str) -> usize {
    (0..range.height()).find(|r| cell(range, *r, 1) == id).unwrap_or_else(|| panic!("no row {id}"))
}

#[test]
fn the_spreadsheet_has_a_row_per_control_and_document_control_on_its_own_sheet() {
    let bytes = xlsx("examples/credit-scoring");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).expect("an xlsx workbook");
    assert_eq!(book.sheet_names(), ["Statement", "Document control"]);
    let sheet = book.worksheet_range("Statement").expect("the statement");
    let header: Vec<String> = (0..14).map(|c| cell(&sheet, 0, c)).collect();
    assert_eq!(header[..3], ["Section", "Id", "Control"]);
    assert_eq!(header[13], "Auditor's notes");
    // 38 Annex A controls; this example declares no control of its own.
    assert_eq!(sheet.height(), 1 + 38);
    let planned = find_row(&sheet, "A.4.6");
    assert_eq!(cell(&sheet, planned, 4), "included");
    assert_eq!(cell(&sheet, planned, 6), "planned, OVERDUE");
    assert_eq!(cell(&sheet, planned, 7), "2026-10-15");
    assert_eq!(cell(&sheet, planned, 8), "failing");
    assert!(cell(&sheet, planned, 9).contains("ap-oversight-training"));
    let excluded = (1..sheet.height()).find(|r| cell(&sheet, *r, 4) == "excluded").expect("an exclusion");
    assert!(!cell(&sheet, excluded, 5).is_empty(), "an exclusion is justified");
    for r in 1..sheet.height() {
        assert!(!cell(&sheet, r, 5).is_empty(), "row {r} has a justification");
        assert!(!cell(&sheet, r, 10).is_empty(), "row {r} has evidence");
        assert_eq!(cell(&sheet, r, 13), "", "the notes column is left for the auditor");
    }
    let control = book.worksheet_range("Document control").expect("document control");
    let value = |label: &str| {
        (0..control.height()).find(|r| cell(&control, *r, 0) == label).map(|r| cell(&control, r, 1)).unwrap_or_default()
    };
    assert_eq!(value("record"), "doc-soa-2026");
    assert_eq!(value("approval date"), "2026-03-02");
    assert_eq!(value("as of"), "2026-11-01");
    assert!(value("nothing to check").contains("not an exclusion"));
    // The header is frozen and every column has a filter.
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").expect("sheet 1").read_to_string(&mut xml).expect("xml");
    assert!(xml.contains("ySplit=\"1\"") && xml.contains("state=\"frozen\""), "frozen header");
    assert!(xml.contains("<autoFilter ref=\"A1:N39\""), "filters on every column");
}

#[test]
fn the_same_inputs_give_the_same_spreadsheet_byte_for_byte() {
    let first = xlsx("examples/hr-screening");
    // Past a clock second: a creation time taken from the clock would differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = xlsx("examples/hr-screening");
    assert!(first == second, "the workbook depends on the time it was written");
    for format in ["text", "markdown", "html", "json"] {
        assert_eq!(soa("examples/hr-screening", format), soa("examples/hr-screening", format), "{format}");
    }
}
