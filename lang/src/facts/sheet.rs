//! Spreadsheets (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) read with
//! `calamine` into a table view (see [`super::grid`]): one sheet, its
//! header row and the range of cells the `[[facts]]` source chooses.
//!
//! An `.xlsx` sheet is read cell by cell, so a sheet whose few cells lie
//! far apart (`A1` and `XFD1048576`) costs what its cells cost, not the
//! rectangle between them; the other formats are read whole by `calamine`.
//! Every reader stops once the view passes the fact file limit, and an
//! `.ods` file whose repeated rows and columns would lay out more cells
//! than that limit holds is refused before it is read
//! ([`super::sheet_bounds`]).

use std::io::Cursor;

use calamine::{Data, DataRef, ExcelDateTime, Reader, Xlsx};

use super::grid::{column_letters, Cell, Grid, Meta};
use super::sheet_bounds::{Refusal, CELL_BYTES};
use crate::time::Date;

/// Which cells of a workbook hold the facts (`sheet`, `header_row` and
/// `range` of a `[[facts]]` source).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SheetOptions {
    /// The sheet's name; the first sheet when not given.
    pub sheet: Option<String>,
    /// The header row (1-based); the first row of the range that holds a
    /// value when not given.
    pub header_row: Option<u32>,
    /// The cells, as `B3:F200`; the whole sheet when not given.
    pub range: Option<String>,
}

/// Why a workbook gave no table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SheetError {
    /// The bytes are not a workbook calamine reads.
    #[error("it is not a spreadsheet that can be read ({0})")]
    NotWorkbook(String),
    /// No sheet of that name.
    #[error("it has no sheet `{name}`; its sheets are: {}", .sheets.join(", "))]
    NoSheet {
        /// The name asked for.
        name: String,
        /// The sheets there are.
        sheets: Vec<String>,
    },
    /// A workbook without sheets.
    #[error("it has no sheet")]
    NoSheets,
    /// A range that is not `A1:F20`.
    #[error("`range = \"{0}\"` is not a range of cells such as \"B3:F200\"")]
    BadRange(String),
    /// No header row (an empty sheet or range, or `header_row` outside it).
    #[error("{0}")]
    NoHeader(String),
    /// A sheet that does not read.
    #[error("sheet `{sheet}` cannot be read: {reason}")]
    Unreadable {
        /// The sheet.
        sheet: String,
        /// calamine's reason.
        reason: String,
    },
    /// The view grew past the limit.
    #[error("its cells hold more than the limit of {0} bytes")]
    TooLarge(u64),
    /// Its sheets, read whole, would lay out more cells than the limit
    /// holds (repeated rows and columns of an `.ods` file one by one, the
    /// room an `.xls` file's records declare).
    #[error(
        "its sheets would lay out {cells} cells in memory, more than the limit of {limit} bytes holds at {CELL_BYTES} bytes a cell"
    )]
    Sprawling {
        /// The cells counted.
        cells: u64,
        /// The limit (`max_fact_bytes`).
        limit: u64,
    },
}

/// A rectangle of cells, 0-based and inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Area {
    top: u32,
    left: u32,
    bottom: u32,
    right: u32,
}

impl Area {
    const ALL: Area = Area { top: 0, left: 0, bottom: u32::MAX, right: u32::MAX };

    fn parse(text: &str) -> Option<Area> {
        let (a, b) = text.trim().split_once(':')?;
        let (top, left) = corner(a)?;
        let (bottom, right) = corner(b)?;
        (top <= bottom && left <= right).then_some(Area { top, left, bottom, right })
    }

    fn holds(&self, (row, column): (u32, u32)) -> bool {
        (self.top..=self.bottom).contains(&row) && (self.left..=self.right).contains(&column)
    }
}

/// `B3` → (2, 1), 0-based row and column.
fn corner(text: &str) -> Option<(u32, u32)> {
    let text = text.trim().replace('$', "");
    let split = text.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = text.split_at(split);
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut column: u32 = 0;
    for c in letters.chars() {
        column = column * 26 + (c.to_ascii_uppercase() as u32 - 'A' as u32 + 1);
    }
    let row: u32 = digits.parse().ok()?;
    ((1..=1_048_576).contains(&row) && column <= 16_384).then(|| (row - 1, column - 1))
}

/// Reads the table a `[[facts]]` source chooses from a workbook's bytes,
/// as its text view; `max` bounds the view's size.
pub fn read(bytes: &[u8], options: &SheetOptions, max: u64) -> Result<String, SheetError> {
    let area = match &options.range {
        Some(range) => Area::parse(range).ok_or_else(|| SheetError::BadRange(range.clone()))?,
        None => Area::ALL,
    };
    let mut cells = Cells { area, list: Vec::new(), size: 0, max };
    let sheet = match Xlsx::new(Cursor::new(bytes)) {
        Ok(mut workbook) => {
            let sheet = choose(workbook.sheet_names(), options)?;
            let unreadable =
                |e: calamine::XlsxError| SheetError::Unreadable { sheet: sheet.clone(), reason: e.to_string() };
            let mut reader = workbook.worksheet_cells_reader(&sheet).map_err(unreadable)?;
            while let Some(cell) = reader.next_cell().map_err(unreadable)? {
                cells.push(cell.get_position(), from_ref(cell.get_value()))?;
            }
            sheet
        }
        Err(_) => {
            // calamine reads an .ods file whole, repeated cells laid out one
            // by one; an .xls file asks for the room its records declare.
            let checked =
                super::sheet_bounds::check_ods(bytes, max).and_then(|()| super::sheet_bounds::check_xls(bytes, max));
            match checked {
                Ok(()) => {}
                Err(Refusal::TooLarge) => return Err(SheetError::TooLarge(max)),
                Err(Refusal::Cells(cells)) => return Err(SheetError::Sprawling { cells, limit: max }),
            }
            let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
                .map_err(|e| SheetError::NotWorkbook(e.to_string()))?;
            let sheet = choose(workbook.sheet_names(), options)?;
            let range = workbook
                .worksheet_range(&sheet)
                .map_err(|e| SheetError::Unreadable { sheet: sheet.clone(), reason: e.to_string() })?;
            for (row, column, value) in range.used_cells() {
                let (top, left) = range.start().unwrap_or_default();
                cells.push((top + row as u32, left + column as u32), from_data(value))?;
            }
            sheet
        }
    };
    Ok(grid(sheet, cells.list, options.header_row, area)?.to_view())
}

/// The cells read, within the area, with the view's size so far.
struct Cells {
    area: Area,
    list: Vec<((u32, u32), Cell)>,
    size: u64,
    max: u64,
}

impl Cells {
    fn push(&mut self, at: (u32, u32), cell: Cell) -> Result<(), SheetError> {
        if cell.is_empty() || !self.area.holds(at) {
            return Ok(());
        }
        self.size += Grid::view_size(std::slice::from_ref(&cell)) as u64;
        if self.size > self.max {
            return Err(SheetError::TooLarge(self.max));
        }
        self.list.push((at, cell));
        Ok(())
    }
}

fn choose(names: Vec<String>, options: &SheetOptions) -> Result<String, SheetError> {
    match &options.sheet {
        Some(name) => names
            .iter()
            .find(|n| n.as_str() == name.as_str())
            .cloned()
            .ok_or_else(|| SheetError::NoSheet { name: name.clone(), sheets: names.clone() }),
        None => names.into_iter().next().ok_or(SheetError::NoSheets),
    }
}

/// A cell at its (row, column), 0-based.
type Placed = ((u32, u32), Cell);

/// The grid of the cells read: the header row, then each row below it
/// that holds a value (an empty row is no record).
fn grid(
    sheet: String,
    mut cells: Vec<((u32, u32), Cell)>,
    header_row: Option<u32>,
    area: Area,
) -> Result<Grid, SheetError> {
    cells.sort_by_key(|(at, _)| *at);
    let header = match header_row {
        Some(0) => return Err(SheetError::NoHeader("`header_row` counts from 1, as the sheet does".into())),
        Some(row) if row - 1 < area.top || row - 1 > area.bottom => {
            return Err(SheetError::NoHeader(format!("`header_row = {row}` is outside the range")));
        }
        Some(row) => row - 1,
        None => match cells.first() {
            Some(((row, _), _)) => *row,
            None => return Err(SheetError::NoHeader(format!("sheet `{sheet}` has no value in the cells read"))),
        },
    };
    let header_cells: Vec<&((u32, u32), Cell)> = cells.iter().filter(|((r, _), _)| *r == header).collect();
    if header_cells.is_empty() {
        return Err(SheetError::NoHeader(format!("row {} of sheet `{sheet}` is empty: it has no header", header + 1)));
    }
    let left = if area.left > 0 {
        area.left
    } else {
        cells.iter().filter(|((r, _), _)| *r >= header).map(|((_, c), _)| *c).min().unwrap_or(0)
    };
    let line = |cells: Vec<((u32, u32), Cell)>| {
        let width = cells.iter().map(|((_, c), _)| (c - left) as usize + 1).max().unwrap_or(0);
        let mut out = vec![Cell::Empty; width];
        for ((_, c), cell) in cells {
            out[(c - left) as usize] = cell;
        }
        out
    };
    let mut rows: Vec<(u32, Vec<Cell>)> = Vec::new();
    let mut header_line = Vec::new();
    let mut current: Option<(u32, Vec<Placed>)> = None;
    for ((row, column), cell) in cells.into_iter().filter(|((r, _), _)| *r >= header) {
        match &mut current {
            Some((r, list)) if *r == row => list.push(((row, column), cell)),
            _ => {
                if let Some((r, list)) = current.take() {
                    if r == header {
                        header_line = line(list);
                    } else {
                        rows.push((r + 1, line(list)));
                    }
                }
                current = Some((row, vec![((row, column), cell)]));
            }
        }
    }
    if let Some((r, list)) = current {
        if r == header {
            header_line = line(list);
        } else {
            rows.push((r + 1, line(list)));
        }
    }
    Ok(Grid {
        meta: Meta { sheet: Some(sheet), first_column: left, ..Meta::default() },
        header: (header + 1, header_line),
        rows,
    })
}

fn from_ref(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Int(n) => Cell::Int(*n),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text(s.to_string()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(d) => date_time(d),
        DataRef::DateTimeIso(s) => iso(s),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
        DataRef::Empty => Cell::Empty,
    }
}

fn from_data(value: &Data) -> Cell {
    match value {
        Data::Int(n) => Cell::Int(*n),
        Data::Float(f) => Cell::Float(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => date_time(d),
        Data::DateTimeIso(s) => iso(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
        Data::Empty => Cell::Empty,
    }
}

/// A date cell: a date at midnight, else a date and time.
fn date_time(d: &ExcelDateTime) -> Cell {
    if d.is_duration() {
        return Cell::Unreadable(format!("a duration of {} days", d.as_f64()));
    }
    let (year, month, day, hour, minute, second, milli) = d.to_ymd_hms_milli();
    match Date::from_ymd(year.into(), month.into(), day.into()) {
        Some(date) if (hour, minute, second, milli) == (0, 0, 0, 0) => Cell::Date(date),
        Some(date) => Cell::DateTime(format!("{date}T{hour:02}:{minute:02}:{second:02}")),
        None => Cell::Unreadable(format!("a date serial number {} out of range", d.as_f64())),
    }
}

/// An ISO date or date and time (OpenDocument).
fn iso(s: &str) -> Cell {
    match Date::parse(s) {
        Some(date) => Cell::Date(date),
        None => match s.split_once('T') {
            Some((day, time))
                if time.trim_start_matches(['0', ':']).trim_start_matches('.').trim_matches('0').is_empty() =>
            {
                Date::parse(day).map_or_else(|| Cell::DateTime(s.to_string()), Cell::Date)
            }
            _ => Cell::DateTime(s.to_string()),
        },
    }
}

/// `Inventory!B3`, for messages about a workbook.
pub fn cell_name(sheet: &str, row: u32, column: u32) -> String {
    format!("{sheet}!{}{}", column_letters(column), row + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_in_a1_notation() {
        assert_eq!(Area::parse("B3:F200"), Some(Area { top: 2, left: 1, bottom: 199, right: 5 }));
        assert_eq!(Area::parse("$a$1:$XFD$1048576"), Some(Area { top: 0, left: 0, bottom: 1_048_575, right: 16_383 }));
        for bad in ["B3", "F200:B3", "3B:F2", "A0:B2", "XFE1:XFE2", "ABCD1:A2", "", "A1:B99999999999"] {
            assert_eq!(Area::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage_is_no_workbook() {
        let options = SheetOptions::default();
        for bytes in [
            &b""[..],
            b"PK\x03\x04garbage",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 not a compound file",
            b"id,tier\na,low\n",
        ] {
            assert!(matches!(read(bytes, &options, 1 << 20), Err(SheetError::NotWorkbook(_))), "{bytes:?}");
        }
    }

    #[test]
    fn iso_dates_at_midnight_are_dates() {
        assert!(matches!(iso("2026-01-31"), Cell::Date(_)));
        assert!(matches!(iso("2026-01-31T00:00:00"), Cell::Date(_)));
        assert!(matches!(iso("2026-01-31T10:30:00"), Cell::DateTime(_)));
    }
}
