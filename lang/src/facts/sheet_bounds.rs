//! Memory bounds for crafted workbooks: how many cells `calamine` would
//! lay out in memory for an `.ods` workbook, counted from its
//! `content.xml` before `calamine` reads it.
//!
//! `calamine` reads every sheet of an `.ods` file whole, and expands
//! `table:number-columns-repeated` and `table:number-rows-repeated` into
//! one cell each (up to 16,384 columns and 1,048,576 rows, then up to 100
//! million cells per sheet): a file of a few kilobytes can ask for
//! gigabytes. This module walks the XML as `calamine` does, without
//! laying anything out, and counts the cells it would: the loader refuses
//! a workbook whose count passes the fact file limit (`max_fact_bytes`) at
//! [`CELL_BYTES`] a cell, before a byte of it is allocated.
//!
//! (An `.xlsx` sheet is read cell by cell, so its size is what its cells
//! are; see [`super::sheet`].)

use std::io::{BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Bytes `calamine` keeps for a cell it lays out: the value and the text
/// of its formula, both while reading and in the sheet's range.
pub const CELL_BYTES: u64 = 64;

/// `calamine`'s bounds on a sheet of an `.ods` file.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

/// Why an `.ods` workbook is refused before it is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Its `content.xml` is larger than the limit.
    TooLarge,
    /// Its sheets lay out this many cells.
    Cells(u64),
}

/// Counts the cells the sheets of an `.ods` workbook would lay out; `Ok`
/// when they fit in `max` bytes, or when the bytes are no `.ods` file (its
/// reader then says what they are).
pub fn check_ods(bytes: &[u8], max: u64) -> Result<(), Refusal> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return Ok(()) };
    let is_ods = match zip.by_name("mimetype") {
        Ok(mut entry) => {
            let mut kind = String::new();
            let _ = (&mut entry).take(256).read_to_string(&mut kind);
            kind.trim() == "application/vnd.oasis.opendocument.spreadsheet"
        }
        Err(_) => false,
    };
    if !is_ods {
        return Ok(());
    }
    let Ok(entry) = zip.by_name("content.xml") else { return Ok(()) };
    if entry.size() > max {
        return Err(Refusal::TooLarge);
    }
    let mut counted = entry.take(max.saturating_add(1));
    let cells = cells(&mut counted);
    if counted.limit() == 0 {
        return Err(Refusal::TooLarge);
    }
    if cells.saturating_mul(CELL_BYTES) > max {
        return Err(Refusal::Cells(cells));
    }
    Ok(())
}

/// One sheet as `calamine` lays it out, counted.
#[derive(Default)]
struct Sheet {
    /// Rows of the sheet so far (repeats counted), capped as `calamine` caps them.
    rows: u64,
    /// Cells kept while reading: each row's cells up to its last value.
    read: u64,
    /// The first and last column holding a value.
    columns: Option<(u64, u64)>,
    /// Rows (repeats counted) from the first row holding a value to the
    /// last, and the rows since that last one.
    span: u64,
    since_last: u64,
    started: bool,
}

impl Sheet {
    /// The cells it lays out: those read, and the range's rectangle.
    fn cells(&self) -> u64 {
        let width = self.columns.map_or(0, |(first, last)| last + 1 - first);
        self.read.saturating_add(self.span.saturating_mul(width))
    }
}

/// One row being read.
#[derive(Default)]
struct RowCount {
    repeats: u64,
    pushed: u64,
    pending: u64,
    values: Option<(u64, u64)>,
}

/// The cells of every sheet of a `content.xml`; an XML error ends the
/// count (`calamine` then refuses the file as it is).
fn cells(xml: &mut impl Read) -> u64 {
    let mut reader = Reader::from_reader(BufReader::new(xml));
    let mut buf = Vec::new();
    let mut total: u64 = 0;
    let mut sheet: Option<Sheet> = None;
    let mut row: Option<RowCount> = None;
    loop {
        buf.clear();
        let (element, empty) = match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(e)) => {
                match e.name().as_ref() {
                    b"table:table-row" => {
                        if let (Some(s), Some(r)) = (&mut sheet, row.take()) {
                            end_row(s, r);
                        }
                    }
                    b"table:table" => {
                        if let Some(s) = sheet.take() {
                            total = total.saturating_add(s.cells());
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        match element.name().as_ref() {
            b"table:table" if !empty => sheet = Some(Sheet::default()),
            b"table:table-row" => {
                if let Some(s) = &mut sheet {
                    let asked = number(&element, b"table:number-rows-repeated");
                    let repeats = asked.min(MAX_ROWS.saturating_sub(s.rows));
                    s.rows += repeats;
                    let r = RowCount { repeats, ..RowCount::default() };
                    if empty {
                        end_row(s, r);
                    } else {
                        row = Some(r);
                    }
                }
            }
            b"table:table-cell" | b"table:covered-table-cell" => {
                if let Some(r) = &mut row {
                    let value = !empty
                        || element.try_get_attribute(b"office:value-type").ok().flatten().is_some()
                        || element.try_get_attribute(b"table:formula").ok().flatten().is_some();
                    let pending = r.pending.min(MAX_COLUMNS.saturating_sub(r.pushed));
                    r.pushed += pending;
                    r.pending = 0;
                    let repeats =
                        number(&element, b"table:number-columns-repeated").min(MAX_COLUMNS.saturating_sub(r.pushed));
                    if value {
                        if repeats > 0 {
                            let (first, last) = (r.pushed, r.pushed + repeats - 1);
                            r.values = Some(r.values.map_or((first, last), |(f, _)| (f, last)));
                        }
                        r.pushed += repeats;
                    } else {
                        r.pending = repeats;
                    }
                }
            }
            _ => {}
        }
    }
    total
}

/// A row's cells, added to its sheet.
fn end_row(sheet: &mut Sheet, row: RowCount) {
    sheet.read = sheet.read.saturating_add(row.pushed);
    match row.values {
        Some((first, last)) => {
            sheet.columns = Some(sheet.columns.map_or((first, last), |(f, l)| (f.min(first), l.max(last))));
            if sheet.started {
                sheet.span = sheet.span.saturating_add(sheet.since_last);
            }
            sheet.started = true;
            sheet.span = sheet.span.saturating_add(row.repeats);
            sheet.since_last = 0;
        }
        None if sheet.started => sheet.since_last = sheet.since_last.saturating_add(row.repeats),
        None => {}
    }
}

/// A repeat count attribute (1 when absent or not a number).
fn number(element: &BytesStart, name: &[u8]) -> u64 {
    element
        .try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| std::str::from_utf8(&a.value).ok().and_then(|v| v.trim().parse().ok()))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(rows: &str) -> u64 {
        let xml = format!(
            "<office:document-content><table:table table:name=\"S\">{rows}</table:table></office:document-content>"
        );
        cells(&mut xml.as_bytes())
    }

    const VALUE: &str = "<table:table-cell office:value-type=\"string\"><text:p>x</text:p></table:table-cell>";

    #[test]
    fn cells_are_counted_as_calamine_lays_them_out() {
        // Two rows of two values: read, then the 2 × 2 range.
        let row = format!("<table:table-row>{VALUE}{VALUE}</table:table-row>");
        assert_eq!(count(&row.repeat(2)), 4 + 4);
        // Trailing empty cells and rows, as LibreOffice writes them, cost nothing.
        let tail = "<table:table-row table:number-rows-repeated=\"1048570\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>";
        let padded = format!("<table:table-row>{VALUE}<table:table-cell table:number-columns-repeated=\"1000\"/></table:table-row>{tail}");
        assert_eq!(count(&padded), 1 + 1);
        // Repeated values are laid out one by one: a row of 16,384 values
        // repeated a million times.
        let wide = format!(
            "<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell office:value-type=\"float\" office:value=\"1\" table:number-columns-repeated=\"99999\"/></table:table-row>"
        );
        assert_eq!(count(&wide), 16_384 + 1_000_000 * 16_384);
        // Empty rows between values are laid out too.
        let apart = format!("{row}<table:table-row table:number-rows-repeated=\"500000\"/>{row}");
        assert_eq!(count(&apart), 4 + 500_002 * 2);
    }
}
