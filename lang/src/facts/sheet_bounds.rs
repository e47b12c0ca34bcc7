//! Memory bounds for crafted workbooks: how many cells `calamine` would
//! lay out in memory for an `.ods` workbook, counted from its
//! `content.xml`, or for an `.xls` workbook, counted from its BIFF
//! records, before `calamine` reads it.
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
//! An `.xls` sheet asks `calamine` to reserve the room its DIMENSIONS
//! record declares (a crafted record asks for terabytes, which aborts the
//! process), then lays out the rectangle from its first cell to its last:
//! both are counted from the records, found in the compound file here.
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

/// Counts the cells the sheets of an `.xls` workbook (BIFF8 in a compound
/// file) would lay out in `calamine`: for each sheet, the room its
/// DIMENSIONS record asks for (reserved before a cell is read) and the
/// rectangle from its first to its last cell (every cell of it laid out).
/// `Ok` when they fit in `max` bytes, or when the bytes are no compound
/// file with a workbook stream (its reader then says what they are).
pub fn check_xls(bytes: &[u8], max: u64) -> Result<(), Refusal> {
    let Some(stream) = workbook_stream(bytes) else { return Ok(()) };
    let cells = biff_cells(&stream);
    if cells.saturating_mul(CELL_BYTES) > max {
        return Err(Refusal::Cells(cells));
    }
    Ok(())
}

fn u16_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The `Workbook` (or `Book`) stream of a compound file.
fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return None;
    }
    let size = match u16_at(bytes, 0x1E)? {
        9 => 512,
        12 => 4096,
        _ => return None,
    };
    let sectors = bytes.len() / size;
    let sector = |i: u32| bytes.get((i as usize + 1) * size..(i as usize + 2) * size);
    // The FAT: its sectors are listed in the header, then in DIFAT sectors.
    let mut fat_sectors: Vec<u32> = (0..109).filter_map(|i| u32_at(bytes, 0x4C + 4 * i)).collect();
    let mut difat = u32_at(bytes, 0x44)?;
    for _ in 0..sectors {
        let Some(s) = sector(difat) else { break };
        fat_sectors.extend((0..size / 4 - 1).filter_map(|i| u32_at(s, 4 * i)));
        difat = u32_at(s, size - 4)?;
    }
    let fat: Vec<u32> = fat_sectors
        .iter()
        .take(u32_at(bytes, 0x2C)? as usize)
        .filter_map(|&i| sector(i))
        .flat_map(|s| s.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    let chain = |start: u32, table: &[u32], limit: usize| {
        let mut ids = Vec::new();
        let mut at = start;
        while (at as usize) < table.len() && ids.len() < limit {
            ids.push(at);
            at = table[at as usize];
        }
        ids
    };
    let read = |start: u32| -> Vec<u8> {
        chain(start, &fat, sectors).into_iter().filter_map(sector).flatten().copied().collect()
    };
    let directory = read(u32_at(bytes, 0x30)?);
    let entries: Vec<&[u8]> = directory.chunks_exact(128).collect();
    let name = |e: &[u8]| {
        let len = (u16_at(e, 64).unwrap_or(0) as usize).min(64);
        let units: Vec<u16> = e[..len].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units).trim_end_matches('\0').to_string()
    };
    let entry =
        entries.iter().find(|e| name(e) == "Workbook").or_else(|| entries.iter().find(|e| name(e) == "Book"))?;
    let (start, length) = (u32_at(entry, 116)?, u32_at(entry, 120)? as usize);
    let mut stream = if length < u32_at(bytes, 0x38)? as usize {
        // A small stream lives in 64-byte sectors of the root's stream.
        let root = read(u32_at(entries.first()?, 116)?);
        let minifat: Vec<u32> =
            read(u32_at(bytes, 0x3C)?).chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        chain(start, &minifat, root.len() / 64 + 1)
            .into_iter()
            .filter_map(|i| root.get(i as usize * 64..i as usize * 64 + 64))
            .flatten()
            .copied()
            .collect()
    } else {
        read(start)
    };
    stream.truncate(length);
    Some(stream)
}

/// The cells the sheets of a BIFF8 workbook stream lay out in `calamine`.
fn biff_cells(stream: &[u8]) -> u64 {
    let mut total: u64 = 0;
    // Per sheet: the DIMENSIONS room, and the first and last cell.
    let mut reserved: u64 = 0;
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    let mut finish = |reserved: &mut u64, bounds: &mut Option<(u32, u32, u32, u32)>| {
        let rectangle = bounds.map_or(0, |(r0, r1, c0, c1)| (r1 - r0 + 1) as u64 * (c1 - c0 + 1) as u64);
        total = total.saturating_add(*reserved).saturating_add(rectangle);
        *reserved = 0;
        *bounds = None;
    };
    let mut at = 0;
    while let (Some(kind), Some(len)) = (u16_at(stream, at), u16_at(stream, at + 2)) {
        let data = stream.get(at + 4..at + 4 + len as usize).unwrap_or(&[]);
        at += 4 + len as usize;
        let mut cell = |row: u32, col: u32| {
            bounds =
                Some(bounds.map_or((row, row, col, col), |(r0, r1, c0, c1)| {
                    (r0.min(row), r1.max(row), c0.min(col), c1.max(col))
                }));
        };
        match kind {
            // BOF: a new substream.
            0x0809 => finish(&mut reserved, &mut bounds),
            // DIMENSIONS, as calamine reads it (its arithmetic wraps).
            0x0200 if data.len() == 14 || data.len() == 10 => {
                let (rf, rl, cf, cl) = if data.len() == 14 {
                    (u32_at(data, 0), u32_at(data, 4), u16_at(data, 8), u16_at(data, 10))
                } else {
                    (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4), u16_at(data, 6))
                };
                let (rf, rl, mut cf, cl) = (rf.unwrap_or(0), rl.unwrap_or(0), cf.unwrap_or(0), cl.unwrap_or(0));
                if cf > 0xFF || cl < cf {
                    cf = 0;
                }
                if rl >= 1 && cl >= 1 {
                    let rows = (rl - 1).wrapping_sub(rf).wrapping_add(1) as u64;
                    let cols = (cl - 1).wrapping_sub(cf).wrapping_add(1) as u64;
                    reserved = reserved.saturating_add(rows.saturating_mul(cols));
                }
            }
            // NUMBER, LABEL, BOOLERR, RK, LABELSST, FORMULA: one cell.
            0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                    cell(row, col);
                }
            }
            // MULRK: cells from its first column to its last.
            0x00BD if data.len() >= 6 => {
                if let (Some(row), Some(first), Some(last)) =
                    (u16_at(data, 0), u16_at(data, 2), u16_at(data, data.len() - 2))
                {
                    cell(row, first);
                    cell(row, last.max(first));
                }
            }
            _ => {}
        }
    }
    finish(&mut reserved, &mut bounds);
    total
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
        let wide = "<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell office:value-type=\"float\" office:value=\"1\" table:number-columns-repeated=\"99999\"/></table:table-row>";
        assert_eq!(count(wide), 16_384 + 1_000_000 * 16_384);
        // Empty rows between values are laid out too.
        let apart = format!("{row}<table:table-row table:number-rows-repeated=\"500000\"/>{row}");
        assert_eq!(count(&apart), 4 + 500_002 * 2);
    }
}
