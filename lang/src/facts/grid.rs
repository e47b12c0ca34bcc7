//! Tables read from spreadsheets and databases: the typed cells of a sheet,
//! a database table or a query, held as a text view in [`Sources`] like any
//! other fact file, and loaded into entities through the same mapping
//! options as CSV.
//!
//! The view is written by the readers (`sheet`, `sql`) and read back here:
//! one line per row of the source, each a JSON array of its cells (a text
//! is a JSON string, a number a JSON number, `null` an empty cell, and a
//! date `{"date": "2026-01-31"}`), and a last line holding what the
//! locations need (the sheet's name, the first column, the query). For a
//! sheet, line N is the sheet's row N, so the line a diagnostic names is
//! the row a spreadsheet program shows; for a query, line 1 is the header
//! and line N + 1 is the result's row N. Keeping the cells as text in
//! [`Sources`] means the loader, the incremental database and the editor
//! see a table exactly as they see a CSV file, and the snippet under a
//! problem shows the row as it was read.
//!
//! [`Sources`]: crate::diag::Sources

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::convert::{expected_name, mapped_entity, table_rows, thousands};
use super::table::{Header, Layout, Location, Raw, TableRow};
use super::{FactInput, Partial, Row};
use crate::diag::{Code, Diagnostic};
use crate::ir::{EntityId, Program, Ty};
use crate::num;
use crate::syntax::ast::Span;
use crate::time::Date;

/// One cell as its source typed it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// No value.
    Empty,
    /// A text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A floating-point number (every number of a spreadsheet).
    Float(f64),
    /// An exact decimal (a database's `NUMERIC`).
    Decimal(num::Decimal),
    /// A boolean.
    Bool(bool),
    /// A date.
    Date(Date),
    /// A date with a time of day, as ISO 8601 text.
    DateTime(String),
    /// A spreadsheet's error value, such as `#N/A`: read as its text, so
    /// that `null` tokens may name it.
    Error(String),
    /// A value no field can hold, described (a binary value, a text that
    /// is not UTF-8, a type the reader does not know).
    Unreadable(String),
}

impl Cell {
    /// The cell as text, as a field of another type reads it.
    pub(super) fn text(&self) -> Option<String> {
        Some(match self {
            Cell::Empty | Cell::Unreadable(_) => return None,
            Cell::Text(s) | Cell::DateTime(s) | Cell::Error(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Cell::Float(f) => f.to_string(),
            Cell::Decimal(d) => d.normalize().to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => d.to_string(),
        })
    }

    /// What kind of cell it is, for messages (none for a text).
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Cell::Int(_) | Cell::Float(_) | Cell::Decimal(_) => " (a number)",
            Cell::Bool(_) => " (a boolean)",
            Cell::Date(_) => " (a date)",
            Cell::DateTime(_) => " (a date and time)",
            Cell::Error(_) => " (an error value of the spreadsheet)",
            _ => "",
        }
    }

    fn to_json(&self) -> Json {
        let tagged = |tag: &str, value: Json| Json::Object([(tag.to_string(), value)].into_iter().collect());
        match self {
            Cell::Empty => Json::Null,
            Cell::Text(s) => Json::String(s.clone()),
            Cell::Int(n) => Json::from(*n),
            Cell::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Json::Number(n),
                None => tagged("unreadable", Json::String(format!("`{f}`, which is not a finite number"))),
            },
            Cell::Decimal(d) => tagged("decimal", Json::String(d.to_string())),
            Cell::Bool(b) => Json::Bool(*b),
            Cell::Date(d) => tagged("date", Json::String(d.to_string())),
            Cell::DateTime(s) => tagged("datetime", Json::String(s.clone())),
            Cell::Error(s) => tagged("error", Json::String(s.clone())),
            Cell::Unreadable(s) => tagged("unreadable", Json::String(s.clone())),
        }
    }

    fn from_json(json: &Json) -> Option<Cell> {
        Some(match json {
            Json::Null => Cell::Empty,
            Json::String(s) => Cell::Text(s.clone()),
            Json::Bool(b) => Cell::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Cell::Int(i),
                None => Cell::Float(n.as_f64()?),
            },
            Json::Object(map) if map.len() == 1 => {
                let (tag, value) = map.iter().next()?;
                let text = value.as_str()?.to_string();
                match tag.as_str() {
                    "decimal" => Cell::Decimal(text.parse().ok()?),
                    "date" => Cell::Date(Date::parse(&text)?),
                    "datetime" => Cell::DateTime(text),
                    "error" => Cell::Error(text),
                    "unreadable" => Cell::Unreadable(text),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// Whether the cell holds a value.
    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }
}

/// Where a table came from, for the locations of its problems.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// The sheet's name, for a spreadsheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The sheet's column of the first cell of each line (0 for `A`).
    #[serde(default)]
    pub first_column: u32,
    /// What was read, for a database: "table `systems`" or "query `SELECT …`".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The database's type of each column (empty for a spreadsheet, and
    /// for a column whose type the database does not declare).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

/// A table as its reader found it: a header row and rows of typed cells,
/// each at its line of the view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// Where it came from.
    pub meta: Meta,
    /// The line (1-based) of the header row, and its names.
    pub header: (u32, Vec<Cell>),
    /// The rows, each at its line, lines growing.
    pub rows: Vec<(u32, Vec<Cell>)>,
}

impl Grid {
    /// Bytes of the view so far, roughly: readers stop at their limit.
    pub fn view_size(cells: &[Cell]) -> usize {
        cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) | Cell::DateTime(s) | Cell::Error(s) | Cell::Unreadable(s) => s.len() + 16,
                _ => 24,
            })
            .sum::<usize>()
            + 3
    }

    /// The text view held in [`crate::diag::Sources`].
    pub fn to_view(&self) -> String {
        let mut out = String::new();
        let mut line = 1;
        let header = std::iter::once((self.header.0, &self.header.1));
        for (at, cells) in header.chain(self.rows.iter().map(|(l, c)| (*l, c))) {
            while line < at {
                out.push('\n');
                line += 1;
            }
            out.push('[');
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&cell.to_json().to_string());
            }
            out.push_str("]\n");
            line += 1;
        }
        let _ = writeln!(out, "{}", serde_json::to_string(&self.meta).unwrap_or_default());
        out
    }
}

/// A line of the view: its line number, its cells and their spans.
struct Line {
    number: u32,
    span: Span,
    cells: Vec<(Cell, Span)>,
}

/// Splits a view back into its header, rows and meta; `Err` names the
/// line that is not one the readers write.
fn parse_view(text: &str) -> Result<(Meta, Line, Vec<Line>), (usize, usize)> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches(['\n', '\r']);
        if !body.trim().is_empty() {
            lines.push((i as u32 + 1, offset, body));
        }
        offset += line.len();
    }
    let Some((_, meta_at, meta)) = lines.pop() else { return Err((0, 0)) };
    let meta: Meta = serde_json::from_str(meta).map_err(|_| (meta_at, meta_at + meta.len()))?;
    let mut parsed = Vec::with_capacity(lines.len());
    for (number, at, body) in lines {
        let cells = split_cells(body).ok_or((at, at + body.len()))?;
        let mut typed = Vec::with_capacity(cells.len());
        for (start, end) in cells {
            let json: Json = serde_json::from_str(&body[start..end]).map_err(|_| (at + start, at + end))?;
            let cell = Cell::from_json(&json).ok_or((at + start, at + end))?;
            typed.push((cell, Span::new(at + start, at + end)));
        }
        parsed.push(Line { number, span: Span::new(at, at + body.len()), cells: typed });
    }
    if parsed.is_empty() {
        return Err((0, 0));
    }
    let header = parsed.remove(0);
    Ok((meta, header, parsed))
}

/// The byte ranges of the cells of a `[a, b, …]` line (None if it is not one).
fn split_cells(line: &str) -> Option<Vec<(usize, usize)>> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let mut cells = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0i32, false, false, 1);
    for (i, b) in inner.bytes().enumerate() {
        let i = i + 1;
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => {
                cells.push(trimmed(line, start, i)?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_string || depth != 0 {
        return None;
    }
    if !inner.trim().is_empty() || !cells.is_empty() {
        cells.push(trimmed(line, start, line.len() - 1)?);
    }
    Some(cells)
}

fn trimmed(line: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let piece = line.get(start..end)?;
    let lead = piece.len() - piece.trim_start().len();
    let s = start + lead;
    let e = s + piece.trim().len();
    (s < e).then_some((s, e))
}

/// `0` → `A`, `27` → `AB`.
pub fn column_letters(mut column: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A sheet's name as a reference writes it: quoted when not a plain word.
fn sheet_ref(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

/// What the locations of one table need.
struct Places<'m> {
    meta: &'m Meta,
    header_line: u32,
    headers: Vec<String>,
}

impl Places<'_> {
    /// `Inventory!B17`, or `row 3, column `tier` of query `…``.
    fn cell(&self, line: u32, column: usize) -> String {
        match &self.meta.sheet {
            Some(sheet) => {
                format!("{}!{}{line}", sheet_ref(sheet), column_letters(self.meta.first_column + column as u32))
            }
            None => format!(
                "row {}, column `{}` of {}",
                line.saturating_sub(self.header_line),
                self.headers.get(column).map_or("", String::as_str),
                self.source()
            ),
        }
    }

    /// `Inventory!17` as a spreadsheet names a row, or `row 3 of query …`.
    fn row(&self, line: u32) -> String {
        match &self.meta.sheet {
            Some(sheet) => format!("row {line} of sheet {}", sheet_ref(sheet)),
            None => format!("row {} of {}", line.saturating_sub(self.header_line), self.source()),
        }
    }

    fn source(&self) -> &str {
        self.meta.query.as_deref().unwrap_or("the query")
    }
}

/// What a column's declared type can become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Text,
    Integer,
    Real,
    Bool,
    Date,
    Timestamp,
    Binary,
    /// A type no field can read (a database's `uuid`, `json`, arrays…).
    Other,
    /// Not declared, or a name that says nothing (SQLite's `NUMERIC`).
    Unknown,
}

fn class_of(declared: &str) -> Class {
    let t = declared.trim().to_ascii_lowercase();
    let t = t.split('(').next().unwrap_or("").trim();
    match t {
        "" | "numeric" | "any" => Class::Unknown,
        "bool" | "boolean" => Class::Bool,
        "date" => Class::Date,
        "timestamp" | "timestamptz" | "datetime" | "timestamp with time zone" | "timestamp without time zone" => {
            Class::Timestamp
        }
        "real" | "float" | "double" | "double precision" | "float4" | "float8" | "decimal" => Class::Real,
        "blob" | "bytea" => Class::Binary,
        "text" | "name" | "bpchar" | "citext" | "clob" => Class::Text,
        "uuid" | "json" | "jsonb" | "xml" | "interval" | "time" | "timetz" | "money" | "inet" | "cidr" => Class::Other,
        _ if t.contains("int") => Class::Integer,
        _ if t.contains("char") || t.contains("text") || t.contains("clob") => Class::Text,
        _ if t.starts_with('_') || t.ends_with("[]") => Class::Other,
        _ => Class::Unknown,
    }
}

/// Whether a column of a declared class can hold a field's values.
fn fits(class: Class, ty: &Ty, maps_values: bool) -> bool {
    let ty = ty.definite();
    match class {
        Class::Text | Class::Unknown => true,
        Class::Binary | Class::Other => false,
        _ if matches!(ty, Ty::Text | Ty::Error) => true,
        Class::Integer => match ty {
            Ty::Bool | Ty::Int | Ty::Number | Ty::Percent | Ty::Entity(_) => true,
            Ty::Enum(_) | Ty::Scale(_) | Ty::Level(_) => maps_values,
            _ => false,
        },
        Class::Real => matches!(ty, Ty::Int | Ty::Number | Ty::Percent),
        Class::Bool => matches!(ty, Ty::Bool),
        Class::Date | Class::Timestamp => matches!(ty, Ty::Date),
    }
}

/// Rows of a table (a sheet, a database table or a query), read through
/// the mapping as a CSV file's are; at most `budget` rows.
pub(super) fn rows(
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
) -> Vec<(EntityId, Row)> {
    table_rows(read, program, input, text, budget, diags, partial)
}

/// The header row of a sheet or a database's result.
struct GridHeader<'a> {
    line: &'a Line,
    places: &'a Places<'a>,
}

impl Header for GridHeader<'_> {
    fn noun(&self) -> &'static str {
        "source"
    }
    fn span(&self, c: usize) -> Span {
        self.line.cells.get(c).map_or(self.line.span, |(_, s)| *s)
    }
    fn note(&self, c: usize) -> Option<String> {
        Some(format!("{} (header)", self.places.cell(self.line.number, c)))
    }
    fn row(&self) -> (Span, Option<String>) {
        (self.line.span, Some(self.places.row(self.line.number)))
    }
    fn unknown_help(&self) -> &'static str {
        "list extra columns under `ignore` for this source in aims.toml, or set `ignore_other_columns = true`"
    }
    fn skips_unnamed(&self) -> bool {
        true
    }
}

/// A row of a sheet or a database's result, placed as its source places it.
struct GridRow<'a> {
    line: &'a Line,
    places: &'a Places<'a>,
    read: u64,
}

/// The cell past a row's end.
static EMPTY: Cell = Cell::Empty;

impl TableRow for GridRow<'_> {
    fn cell(&self, c: usize) -> Raw<'_> {
        Raw::Typed(self.line.cells.get(c).map_or(&EMPTY, |(cell, _)| cell))
    }
    fn span(&self) -> Span {
        self.line.span
    }
    fn cell_span(&mut self, c: usize) -> Span {
        self.line.cells.get(c).map(|(_, s)| *s).filter(|s| s.start != s.end).unwrap_or(self.line.span)
    }
    fn locate(&mut self, c: Option<usize>) -> Location {
        let number = self.line.number;
        let place = c.map_or_else(|| self.places.row(number), |c| self.places.cell(number, c));
        Location { record: self.read, line: number as usize, place: Some(place) }
    }
}

fn read(
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
    rows: &mut Vec<(EntityId, Row)>,
) -> bool {
    let file = input.file;
    let Some(entity) = mapped_entity(program, input, "a spreadsheet or database source", "source", diags) else {
        return false;
    };
    let (meta, header, lines) = match parse_view(text) {
        Ok(parsed) => parsed,
        Err((start, end)) => {
            diags.push(
                Diagnostic::error(Code::FactSyntax, "the table read from this source is malformed")
                    .at_file(file, Span::new(start, end), "not a row of cells")
                    .help("the view of a spreadsheet or database is written by aims: read the source again"),
            );
            return false;
        }
    };
    let def = program.entity(entity);
    let headers: Vec<String> =
        header.cells.iter().map(|(c, _)| c.text().unwrap_or_default().trim().to_string()).collect();
    let places = Places { meta: &meta, header_line: header.number, headers: headers.clone() };
    let head = GridHeader { line: &header, places: &places };
    let Some((mut layout, mut ok)) = Layout::new(program, input, entity, &headers, &head, "a table", diags) else {
        return false;
    };
    // The declared type of each column against its field (databases).
    for (f, field) in def.fields.iter().enumerate() {
        let Some(c) = layout.columns[f] else { continue };
        let Some(declared) = meta.types.get(c).filter(|t| !t.is_empty()) else { continue };
        let class = class_of(declared);
        if !fits(class, &field.ty, layout.readers[f].phrases().next().is_some()) {
            let expected = expected_name(program, field.ty.definite());
            let help = if class == Class::Binary {
                "a binary column cannot be read: leave it out of the query, or ignore it".to_string()
            } else {
                format!(
                    "convert it in the query (`CAST({} AS TEXT)`), or change the type of `{}`",
                    headers[c], field.name
                )
            };
            diags.push(
                Diagnostic::error(
                    Code::FactColumnType,
                    format!(
                        "column `{}` of {} is `{declared}`, which cannot hold {expected} (field `{}.{}`)",
                        headers[c],
                        places.source(),
                        def.decl.name,
                        field.name
                    ),
                )
                .at_file(file, head.span(c), format!("`{declared}`"))
                .help(help),
            );
            ok = false;
        }
    }
    // Cells of columns without a header: nothing is dropped unseen.
    let named = |c: usize| headers.get(c).is_some_and(|h| !h.is_empty());
    let stray = lines.iter().find_map(|l| {
        l.cells
            .iter()
            .enumerate()
            .find(|(c, (cell, _))| !named(*c) && !cell.is_empty())
            .map(|(c, (_, span))| (l.number, c, *span))
    });
    if let Some((line, c, span)) = stray {
        let count: usize = lines
            .iter()
            .map(|l| l.cells.iter().enumerate().filter(|(c, (cell, _))| !named(*c) && !cell.is_empty()).count())
            .sum();
        diags.push(
            Diagnostic::error(
                Code::FactSyntax,
                format!("{} holds a value, but its column has no header", places.cell(line, c)),
            )
            .at_file(file, span, "no header above this cell")
            .note(format!("{} cells of columns without a header hold values", thousands(count as u64)))
            .help(
                "give the column a header (and `ignore` it if it is not a field), or set `range` to the table's cells",
            ),
        );
        ok = false;
    }
    if !ok {
        return false;
    }
    for (read, line) in lines.iter().enumerate() {
        if read as u64 >= budget {
            partial.too_many = true;
            return false;
        }
        let mut row = GridRow { line, places: &places, read: read as u64 + 1 };
        layout.read_row(&mut row, diags, partial, rows);
    }
    layout.finish(&head, diags);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_spreadsheets_letter_them() {
        let letters: Vec<String> =
            [0, 1, 25, 26, 27, 51, 52, 701, 702, 16383].into_iter().map(column_letters).collect();
        assert_eq!(letters, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]);
        assert_eq!(sheet_ref("Inventory"), "Inventory");
        assert_eq!(sheet_ref("AI systems"), "'AI systems'");
        assert_eq!(sheet_ref("O'Neil"), "'O''Neil'");
    }

    #[test]
    fn a_view_reads_back_as_it_was_written() {
        let grid = Grid {
            meta: Meta { sheet: Some("S".into()), first_column: 1, ..Meta::default() },
            header: (2, vec![Cell::Text("id".into()), Cell::Text("n, \"x\"".into())]),
            rows: vec![
                (3, vec![Cell::Text("a]".into()), Cell::Int(3)]),
                (5, vec![Cell::Date(Date::parse("2026-01-31").unwrap_or_else(|| panic!("date"))), Cell::Float(1.5)]),
                (
                    6,
                    vec![
                        Cell::Bool(true),
                        Cell::Error("#N/A".into()),
                        Cell::Empty,
                        Cell::DateTime("2026-01-31T10:00:00".into()),
                    ],
                ),
                (
                    7,
                    vec![Cell::Decimal("12.50".parse().unwrap_or_default()), Cell::Unreadable("a binary value".into())],
                ),
            ],
        };
        let view = grid.to_view();
        assert!(view.starts_with("\n[\"id\", \"n, \\\"x\\\"\"]\n[\"a]\", 3]\n\n[{\"date\""), "{view}");
        let (meta, header, lines) = parse_view(&view).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(meta, grid.meta);
        assert_eq!((header.number, header.cells.len()), (2, 2));
        let back: Vec<(u32, Vec<Cell>)> =
            lines.iter().map(|l| (l.number, l.cells.iter().map(|(c, _)| c.clone()).collect())).collect();
        assert_eq!(back, grid.rows);
        // Every cell's span is its JSON text.
        let line = &lines[0];
        assert_eq!(&view[line.cells[0].1.start as usize..line.cells[0].1.end as usize], "\"a]\"");
        // Malformed lines are refused, never a panic.
        for bad in [
            "",
            "[1, 2\n{}\n",
            "[\"a]\n{}\n",
            "x\n{}\n",
            "[1,,2]\n{}\n",
            "[{\"date\": \"no\"}]\n{}\n",
            "[1]\nnot json\n",
        ] {
            assert!(parse_view(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn declared_types_are_classed() {
        let cases = [
            ("INTEGER", Class::Integer),
            ("int8", Class::Integer),
            ("VARCHAR(20)", Class::Text),
            ("character varying", Class::Text),
            ("BOOLEAN", Class::Bool),
            ("timestamptz", Class::Timestamp),
            ("BLOB", Class::Binary),
            ("uuid", Class::Other),
            ("NUMERIC", Class::Unknown),
            ("float8", Class::Real),
        ];
        for (name, class) in cases {
            assert_eq!(class_of(name), class, "{name}");
        }
        assert!(fits(Class::Integer, &Ty::Bool, false));
        assert!(!fits(Class::Integer, &Ty::Date, false));
        assert!(fits(Class::Date, &Ty::Text, false));
        assert!(!fits(Class::Binary, &Ty::Text, false));
    }
}
