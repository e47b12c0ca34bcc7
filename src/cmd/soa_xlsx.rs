//! `aims soa --format xlsx`: the Statement of Applicability as a workbook
//! an auditor can annotate. The sheet "Statement" has one row per control
//! (the catalogue's, then the organisation's own) with a frozen header, a
//! filter on every column and an empty, unlocked "Auditor's notes" column;
//! the sheet "Document control" holds the statement's record, version,
//! owner, approver, approval date and as-of date, what the words mean, and
//! the totals.
//!
//! The same inputs give the same file byte for byte: the workbook's
//! creation date is the statement's as-of date (the library's zip entries
//! carry a fixed time already), and nothing else in it depends on the clock.

use aims_lang::report::soa::Framework;
use aims_lang::report::soa_detail::{SoaEntry, Statement};
use aims_lang::report::soa_views;
use aims_lang::Date;
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

/// The columns of the "Statement" sheet, with their widths.
pub const COLUMNS: [(&str, f64); 14] = [
    ("Section", 12.0),
    ("Id", 10.0),
    ("Control", 36.0),
    ("Objective", 10.0),
    ("Decision", 10.0),
    ("Justification", 60.0),
    ("Implementation", 20.0),
    ("Due", 12.0),
    ("Test result", 14.0),
    ("Note", 40.0),
    ("Evidence", 50.0),
    ("Checked by", 28.0),
    ("Waivers", 40.0),
    ("Auditor's notes", 40.0),
];

/// The workbook's bytes.
pub fn workbook(project: &str, framework: Framework, statement: &Statement, as_of: Date) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let (year, month, day) = as_of.ymd();
    let created = ExcelDateTime::from_ymd(year as u16, month as u8, day as u8)?;
    book.set_properties(
        &DocProperties::new()
            .set_title(format!("Statement of Applicability: {project} ({})", framework.name()))
            .set_subject("ISO/IEC 42001 clause 6.1.3")
            .set_author("aims")
            .set_creation_datetime(&created),
    );
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xF3F5F7)).set_text_wrap();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let notes = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_unlocked()
        .set_background_color(Color::RGB(0xFFF8DC));

    let sheet = book.add_worksheet();
    sheet.set_name("Statement")?;
    for (col, (name, width)) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &header)?;
        sheet.set_column_width(col as u16, *width)?;
    }
    let entries = statement
        .rows
        .iter()
        .map(|e| (framework.name(), e))
        .chain(statement.organisation_controls.iter().map(|e| ("organisation", e)));
    let mut row = 0u32;
    for (section, e) in entries {
        row += 1;
        for (col, value) in cells(section, e).iter().enumerate() {
            sheet.write_string_with_format(row, col as u16, value, &wrap)?;
        }
        sheet.write_blank(row, (COLUMNS.len() - 1) as u16, &notes)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, row, (COLUMNS.len() - 1) as u16)?;

    let control = book.add_worksheet();
    control.set_name("Document control")?;
    control.set_column_width(0, 22)?;
    control.set_column_width(1, 90)?;
    let mut line = 0u32;
    for (label, value) in soa_views::document_control(statement) {
        control.write_string_with_format(line, 0, label, &header)?;
        control.write_string_with_format(line, 1, &value, &wrap)?;
        line += 1;
    }
    line += 1;
    control.write_string_with_format(line, 0, "Reading the statement", &header)?;
    for (word, meaning) in soa_views::LEGEND {
        line += 1;
        control.write_string(line, 0, word)?;
        control.write_string_with_format(line, 1, meaning.replace('`', ""), &wrap)?;
    }
    line += 2;
    control.write_string_with_format(line, 0, "Totals", &header)?;
    control.write_string_with_format(line, 1, soa_views::totals(statement), &wrap)?;
    book.save_to_buffer()
}

/// The cells of one row, in the order of [`COLUMNS`] but the last.
fn cells(section: &str, e: &SoaEntry) -> Vec<String> {
    let r = &e.row;
    let waivers: Vec<String> = e.waivers.iter().map(|w| w.to_string()).collect();
    vec![
        section.to_string(),
        r.id.clone(),
        r.title.clone(),
        r.parent.clone().unwrap_or_default(),
        if r.applicable { "included" } else { "excluded" }.to_string(),
        r.justification.clone(),
        match (r.implementation, &r.plan) {
            (Some(i), Some(p)) if p.overdue => format!("{}, OVERDUE", i.as_str()),
            (Some(i), _) => i.as_str().to_string(),
            (None, _) => "excluded".to_string(),
        },
        r.plan.as_ref().map(|p| p.due.clone()).unwrap_or_default(),
        r.status.as_str().to_string(),
        r.note.clone().unwrap_or_default(),
        soa_views::evidence(e).join("\n"),
        r.implemented_by.join(", "),
        waivers.join("\n"),
    ]
}
