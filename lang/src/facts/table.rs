//! One reader for every tabular source: a CSV file, a sheet of a workbook,
//! a database table or query. Each gives a header row and rows of cells
//! (the text of a CSV cell, or a typed cell of a sheet or a database); this
//! module maps the header to the entity's fields (`rename`, `ignore`,
//! `ignore_other_columns`, a composite `key`) and converts each row into a
//! fact through the mapping options, in data-quality mode
//! (`bad_values = "unknown"`) too. The sources differ only in where a cell
//! is ([`TableRow::locate`]): `record 6, line 9` in a CSV file,
//! `Inventory!B17` in a sheet, `row 12, column `x` of query …` in a
//! database.

use std::borrow::Cow;
use std::sync::Arc;

use super::convert::{expected_name, missing, scalar_from_text, thousands, variant_names};
use super::grid::Cell;
use super::normalise::{CellReader, PercentFormat};
use super::{quality, FactInput, Origin, Partial, Row};
use crate::diag::{Code, Diagnostic, FileId, Quote};
use crate::ir::{EntityId, Program, StructDef, Ty, Value};
use crate::num;
use crate::syntax::ast::Span;
use crate::time::Date;

/// A cell as its table gives it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Raw<'a> {
    /// The text of a CSV cell.
    Text(&'a str),
    /// A typed cell of a sheet or a database.
    Typed(&'a Cell),
}

impl Raw<'_> {
    /// The cell as text (none when it holds nothing that reads as text).
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Raw::Text(s) => Some(Cow::Borrowed(s)),
            Raw::Typed(cell) => cell.text().map(Cow::Owned),
        }
    }
}

/// Where a cell (or a row) is.
pub(super) struct Location {
    /// The record, counted from 1 (the header not counted).
    pub record: u64,
    /// The line of the source's text the cell starts on.
    pub line: usize,
    /// How the source names the place (`Inventory!B17`, `row 3, column
    /// `n` of table `systems``); none for a CSV file, whose places are
    /// named by record and line.
    pub place: Option<String>,
}

impl Location {
    /// `record 6, line 9, column `X`` (CSV), or the place.
    fn of_column(&self, column: &str) -> String {
        match &self.place {
            Some(place) => place.clone(),
            None => format!("record {}, line {}, column `{column}`", self.record, self.line),
        }
    }

    /// `record 6, line 9` (CSV), or the place.
    fn short(&self) -> String {
        match &self.place {
            Some(place) => place.clone(),
            None => format!("record {}, line {}", self.record, self.line),
        }
    }
}

/// The header row of a table, as its source places it.
pub(super) trait Header {
    /// How aims.toml calls the source: `file` (CSV) or `source`.
    fn noun(&self) -> &'static str;
    /// The span of header cell `c`.
    fn span(&self, c: usize) -> Span;
    /// Where header cell `c` is, when the source names places.
    fn note(&self, c: usize) -> Option<String>;
    /// The span of the header row, and where it is.
    fn row(&self) -> (Span, Option<String>);
    /// What fixes an unknown column.
    fn unknown_help(&self) -> &'static str;
    /// Whether a column without a name is passed over (sheets and
    /// databases refuse its values later) rather than refused as a name.
    fn skips_unnamed(&self) -> bool;
}

/// A row of a table.
pub(super) trait TableRow {
    /// Cell `c` (empty past the row's end).
    fn cell(&self, c: usize) -> Raw<'_>;
    /// The row's span.
    fn span(&self) -> Span;
    /// The span of cell `c`, the row's when it has no such cell.
    fn cell_span(&mut self, c: usize) -> Span;
    /// Where cell `c` is (or the row, for none).
    fn locate(&mut self, c: Option<usize>) -> Location;
}

/// What a problem shows: its value, the kind of cell it is in (none for a
/// text), what was expected.
type Bad = (String, &'static str, String);

/// The header of a table mapped to an entity's fields, and the readers
/// that convert its rows.
pub(super) struct Layout<'a> {
    program: &'a Program,
    input: &'a FactInput,
    entity: EntityId,
    def: &'a StructDef,
    /// The column of each field.
    pub columns: Vec<Option<usize>>,
    /// The key field and its parts, for a composite `key`.
    composite: Option<(u32, Vec<u32>)>,
    /// The options each field is read with.
    pub readers: Vec<CellReader>,
    percents: Vec<PercentFormat>,
    lenient: bool,
    /// How a record field is refused: `CSV` or `a table`.
    format: &'static str,
    /// Per field: how many values could not be read, the first, what was expected.
    bad: Vec<(u64, String, String)>,
    details_from: usize,
}

impl<'a> Layout<'a> {
    /// Maps `headers` (trimmed) to the fields of `entity`: the layout and
    /// whether the header is right (each problem reported), or `None` when
    /// the `key` option cannot be used.
    pub(super) fn new(
        program: &'a Program,
        input: &'a FactInput,
        entity: EntityId,
        headers: &[String],
        header: &dyn Header,
        format: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Layout<'a>, bool)> {
        let file = input.file;
        let def = program.entity(entity);
        let rename = |field: &str| input.mapping.rename.get(field).cloned().unwrap_or_else(|| field.to_string());
        let mut columns: Vec<Option<usize>> = vec![None; def.fields.len()];
        let mut ok = true;
        let mut seen = std::collections::HashSet::new();
        let ignored = |header: &str| {
            input.mapping.ignore.iter().any(|x| x == header)
                || (input.mapping.ignore_other_columns && !def.fields.iter().any(|f| rename(&f.name) == header))
        };
        for (c, name) in headers.iter().enumerate() {
            if name.is_empty() && header.skips_unnamed() {
                continue;
            }
            let with_note = |d: Diagnostic| match header.note(c) {
                Some(at) => d.note(at),
                None => d,
            };
            if !seen.insert(name.as_str()) && !ignored(name) {
                diags.push(
                    with_note(
                        Diagnostic::error(Code::FactSyntax, format!("the column `{name}` is given twice")).at_file(
                            file,
                            header.span(c),
                            "given again here",
                        ),
                    )
                    .help("only one of the two would count: remove or rename the repeated column"),
                );
                ok = false;
                continue;
            }
            match def.fields.iter().position(|f| rename(&f.name) == *name) {
                Some(f) => columns[f] = Some(c),
                None if ignored(name) => {}
                None => {
                    let names: Vec<String> = def.fields.iter().map(|f| rename(&f.name)).collect();
                    diags.push(
                        with_note(
                            Diagnostic::error(
                                Code::FactUnknownField,
                                format!("`{}` has no field `{name}`", def.decl.name),
                            )
                            .at_file(file, header.span(c), "unknown column"),
                        )
                        .suggest_or(
                            name,
                            names.iter().map(String::as_str),
                            Quote::Code,
                            header.unknown_help(),
                        ),
                    );
                    ok = false;
                }
            }
        }
        let composite = match composite_key(def, input, &columns, header.noun()) {
            Ok(composite) => composite,
            Err(d) => {
                diags.push(*d);
                return None;
            }
        };
        let made = |f: usize| composite.as_ref().is_some_and(|(k, _)| *k as usize == f);
        for (f, field) in def.fields.iter().enumerate() {
            if columns[f].is_none() && missing(field).is_none() && !made(f) {
                let (span, at) = header.row();
                let mut d = Diagnostic::error(
                    Code::FactMissingField,
                    format!("no column for the required field `{}`", field.name),
                )
                .at_file(file, span, "header row");
                if let Some(at) = at {
                    d = d.note(format!("the header is {at}"));
                }
                diags.push(d.help(format!("add a `{}` column", rename(&field.name))));
                ok = false;
            }
        }
        ok &= super::convert::column_options_known(def, input, header.noun(), diags);
        let readers: Vec<CellReader> = def
            .fields
            .iter()
            .map(|f| CellReader::new(&input.mapping.values, input.mapping.columns.get(&f.name)))
            .collect();
        let percents = def
            .fields
            .iter()
            .map(|f| {
                let column = input.mapping.columns.get(&f.name);
                column
                    .and_then(|c| c.percent_format.as_deref())
                    .or(input.mapping.values.percent_format.as_deref())
                    .and_then(|p| PercentFormat::parse(p).ok())
                    .unwrap_or_default()
            })
            .collect();
        let layout = Layout {
            program,
            input,
            entity,
            def,
            columns,
            composite,
            readers,
            percents,
            lenient: input.mapping.bad_values == quality::BadValues::Unknown,
            format,
            bad: vec![(0, String::new(), String::new()); def.fields.len()],
            details_from: diags.len(),
        };
        Some((layout, ok))
    }

    /// Whether field `f` is made by the composite `key`.
    fn made(&self, f: usize) -> bool {
        self.composite.as_ref().is_some_and(|(k, _)| *k as usize == f)
    }

    /// The column of field `f` as the source names it.
    fn column_name(&self, f: usize) -> String {
        let name = &self.def.fields[f].name;
        self.input.mapping.rename.get(name).cloned().unwrap_or_else(|| name.clone())
    }

    /// Field `f` of a cell.
    fn convert(&self, f: usize, raw: Raw) -> Option<Result<Value, Bad>> {
        let ty = &self.def.fields[f].ty;
        match raw {
            Raw::Text(s) => from_text(self.program, &self.readers[f], ty, s, self.format),
            Raw::Typed(cell) => typed(self.program, &self.readers[f], self.percents[f], ty, cell, self.format),
        }
    }

    /// Reads one row into `rows` (or reports its problems, and marks its
    /// key as one that failed); `diags` gets every problem of the row.
    pub(super) fn read_row(
        &mut self,
        row: &mut impl TableRow,
        diags: &mut Vec<Diagnostic>,
        partial: &mut Partial,
        rows: &mut Vec<(EntityId, Row)>,
    ) {
        let (program, def, file) = (self.program, self.def, self.input.file);
        let mut values = Vec::with_capacity(def.fields.len());
        let mut row_ok = true;
        for (f, field) in def.fields.iter().enumerate() {
            if self.made(f) {
                // Made from its parts once they are read.
                values.push(Value::Absent);
                continue;
            }
            let column = self.columns[f];
            // A field without a column reads as a cell past the row's end.
            let raw = row.cell(column.unwrap_or(usize::MAX));
            let Some(parsed) = self.convert(f, raw) else {
                let text = raw.text().map(|t| t.trim().to_string()).unwrap_or_default();
                match missing(field) {
                    Some(v) => values.push(v),
                    None if self.lenient && def.key != Some(f as u32) => {
                        let at = row.locate(column);
                        let problem = if text.is_empty() { "is empty" } else { "means not recorded" };
                        let problem = format!("{problem}, but `{}` is required", field.name);
                        values.push(self.unreadable(partial, f, at, text, problem));
                    }
                    None => {
                        let message = if text.is_empty() {
                            format!("field `{}` is empty", field.name)
                        } else {
                            format!("field `{}` is not recorded (`{text}`)", field.name)
                        };
                        let span = span_of(row, column);
                        let mut d = Diagnostic::error(Code::FactMissingField, message).at_file(file, span, "required");
                        if let Some(place) = row.locate(column).place {
                            d = d.note(place);
                        }
                        diags.push(d.help("give it a value, or declare the field optional (`T?`)"));
                        row_ok = false;
                    }
                }
                continue;
            };
            match parsed {
                Ok(v) => values.push(v),
                Err((value, _, expected)) if self.lenient && def.key != Some(f as u32) => {
                    let at = row.locate(column);
                    values.push(self.unreadable(partial, f, at, value, format!("is not {expected}")));
                }
                Err((value, kind, expected)) => {
                    let at = row.locate(column);
                    let first = &mut self.bad[f];
                    first.0 += 1;
                    if first.0 == 1 {
                        first.1 = format!("`{value}`{kind}, {}", at.short());
                        first.2 = expected.clone();
                    }
                    let span = span_of(row, column);
                    let mut d = Diagnostic::error(Code::FactType, format!("`{value}`{kind} is not {expected}"))
                        .at_file(file, span, format!("expected {expected}"))
                        .note(at.of_column(&self.column_name(f)));
                    let ty = match field.ty.definite() {
                        Ty::List(el) => el.definite().clone(),
                        t => t.clone(),
                    };
                    if matches!(ty, Ty::Enum(_) | Ty::Scale(_) | Ty::Level(_)) {
                        let names = variant_names(program, &ty);
                        // The nearest of the values and of the phrases mapped to them.
                        let nearest = crate::diag::closest(
                            &value,
                            names.iter().map(String::as_str).chain(self.readers[f].phrases()),
                        );
                        d = d.help(match nearest {
                            Some(n) if names.iter().any(|v| v == n) => Quote::Code.did_you_mean(n),
                            Some(phrase) => Quote::Text.did_you_mean(phrase),
                            None => format!("the values are: {}", names.join(", ")),
                        });
                    }
                    diags.push(d);
                    row_ok = false;
                }
            }
        }
        if let (Some((key_field, parts)), true) = (&self.composite, row_ok) {
            match super::identity::composite(program, parts, &values) {
                Ok(key) => values[*key_field as usize] = Value::Text(key),
                Err(part) => {
                    let field = &def.fields[part as usize];
                    let column = self.columns[part as usize];
                    let span = span_of(row, column);
                    let at = row.locate(column);
                    diags.push(
                        Diagnostic::error(
                            Code::IncompleteKey,
                            format!("the key of this `{}` is incomplete: `{}` is not recorded", def.decl.name, field.name),
                        )
                        .at_file(file, span, "a part of the key")
                        .note(format!("{}; the key is made of {}", at.short(), parts_list(def, parts)))
                        .help("give every part of the key a value: a fact without a key cannot be named in findings or exceptions"),
                    );
                    row_ok = false;
                }
            }
        }
        let origin = Origin::Row { file, span: row.span() };
        if row_ok {
            rows.push((self.entity, Row::new(values.into(), origin)));
            return;
        }
        let text_of = |f: usize| -> Option<String> {
            let text = row.cell(self.columns[f]?).text()?.into_owned();
            (!text.trim().is_empty()).then_some(text)
        };
        let key =
            def.key.and_then(|k| scalar_from_text(program, &def.fields[k as usize].ty, &text_of(k as usize)?).ok());
        partial.record_failed(program, self.entity, key);
        // The references it holds are still checked (E0306).
        let refs: Vec<Value> = def
            .fields
            .iter()
            .enumerate()
            .map(|(f, field)| match field.ty.definite() {
                Ty::Entity(_) => text_of(f)
                    .and_then(|cell| scalar_from_text(program, &field.ty, &cell).ok())
                    .unwrap_or(Value::Absent),
                _ => Value::Absent,
            })
            .collect();
        if refs.iter().any(|v| matches!(v, Value::Ref(..))) {
            partial.failed_rows.push((self.entity, Row::new(refs.into(), origin)));
        }
    }

    /// A cell read as unknown in data-quality mode, listed.
    fn unreadable(&self, partial: &mut Partial, f: usize, at: Location, value: String, problem: String) -> Value {
        let cell = quality::BadCell { record: at.record, line: at.line, value, problem, place: at.place };
        let column = self.column_name(f);
        partial.quality.unreadable(
            (self.input.file, &self.def.decl.name),
            (f as u32, &self.def.fields[f].name, &column),
            cell,
        )
    }

    /// Puts a summary of the values of each column that could not be read
    /// before their details, when there are more than one.
    pub(super) fn finish(self, header: &dyn Header, diags: &mut Vec<Diagnostic>) {
        if self.bad.iter().map(|b| b.0).sum::<u64>() < 2 {
            return;
        }
        let file: FileId = self.input.file;
        let noun = header.noun();
        let summaries: Vec<Diagnostic> = self
            .bad
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 > 0)
            .map(|(f, (count, first, expected))| {
                let (values, are) = if *count == 1 { ("value", "is") } else { ("values", "are") };
                let at = self.columns[f].map_or_else(|| header.row().0, |c| header.span(c));
                Diagnostic::error(
                    Code::FactType,
                    format!(
                        "column `{}`: {} {values} {are} not {expected} (first: {first})",
                        self.column_name(f),
                        thousands(*count)
                    ),
                )
                .at_file(file, at, "this column")
                .help(format!("map the {noun}'s phrases to values with `values`, or declare `null` tokens, on this column in aims.toml (docs/facts.md)"))
            })
            .collect();
        let at = self.details_from.min(diags.len());
        diags.splice(at..at, summaries);
    }
}

/// The span of cell `column` of a row, the row's for none.
fn span_of(row: &mut impl TableRow, column: Option<usize>) -> Span {
    match column {
        Some(c) => row.cell_span(c),
        None => row.span(),
    }
}

/// The key field and its parts, when the source builds the key from
/// several fields (`key = [..]`); an error (E0330) when the option cannot
/// be: the entity has no `Text` key field, a part is no field, or the key
/// field is also a column.
fn composite_key(
    def: &StructDef,
    input: &FactInput,
    columns: &[Option<usize>],
    noun: &str,
) -> Result<Option<(u32, Vec<u32>)>, Box<Diagnostic>> {
    let names = &input.mapping.key;
    if names.is_empty() {
        return Ok(None);
    }
    let options = format!("options of this {noun} in aims.toml");
    let refuse = |message: String, help: String| {
        Err(Box::new(
            Diagnostic::error(Code::IncompleteKey, message).at_file(input.file, Span::default(), &options).help(help),
        ))
    };
    let entity = &def.decl.name;
    let Some(key_field) = def.key.filter(|k| def.fields[*k as usize].ty == Ty::Text) else {
        return refuse(
            format!("`key` of this source: `{entity}` has no `Text` key field for the composite key"),
            format!("declare one in `{entity}` (`id: Text key`): the composite key is its value"),
        );
    };
    let parts = match super::identity::key_parts(def, names) {
        Ok(parts) => parts,
        Err(name) => {
            let fields: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
            let d = Diagnostic::error(
                Code::IncompleteKey,
                format!("`key` of this source: `{entity}` has no field `{name}`"),
            )
            .at_file(input.file, Span::default(), &options)
            .suggest_or(name, fields, Quote::Code, "`key` names the entity's fields");
            return Err(Box::new(d));
        }
    };
    let key_name = &def.fields[key_field as usize].name;
    if parts.contains(&key_field) {
        return refuse(
            format!("`key` of this source names the key field `{key_name}` itself"),
            "name the fields whose values make the key".into(),
        );
    }
    if columns[key_field as usize].is_some() {
        return refuse(
            format!("`{key_name}` is a column of this {noun} and made by `key` too"),
            format!("remove `key`, or `ignore` the column `{key_name}`"),
        );
    }
    Ok(Some((key_field, parts)))
}

/// `` `agency` and `name` ``.
fn parts_list(def: &StructDef, parts: &[u32]) -> String {
    let names: Vec<String> = parts.iter().map(|p| format!("`{}`", def.fields[*p as usize].name)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// A typed cell read as a field's type: `None` when it is not recorded.
fn typed(
    program: &Program,
    reader: &CellReader,
    percent: PercentFormat,
    ty: &Ty,
    cell: &Cell,
    format: &str,
) -> Option<Result<Value, Bad>> {
    let def = ty.definite();
    let expected = || expected_name(program, def);
    let number = match cell {
        Cell::Int(n) => Some(num::from_int(*n)),
        Cell::Float(f) => num::from_f64(*f),
        Cell::Decimal(d) => Some(*d),
        _ => None,
    };
    let native = match (def, cell) {
        (_, Cell::Empty) => return None,
        (_, Cell::Unreadable(what)) => return Some(Err((what.clone(), "", expected()))),
        (_, Cell::Text(s)) => return from_text(program, reader, ty, s, format),
        (Ty::Bool, Cell::Bool(b)) => Some(Value::Bool(*b)),
        (Ty::Bool, _) if number == Some(num::from_int(0)) => Some(Value::Bool(false)),
        (Ty::Bool, _) if number == Some(num::from_int(1)) => Some(Value::Bool(true)),
        (Ty::Int, Cell::Int(n)) => Some(Value::Int(*n)),
        (Ty::Int, Cell::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(Value::Int(*f as i64)),
        (Ty::Int, Cell::Decimal(d)) if d.fract().is_zero() => d.normalize().to_string().parse().ok().map(Value::Int),
        (Ty::Number, _) if number.is_some() => number.map(Value::Number),
        (Ty::Percent, _) if number.is_some() => match percent {
            PercentFormat::Points => number.and_then(num::percent_of).map(Value::Percent),
            _ => number.map(Value::Percent),
        },
        (Ty::Date, Cell::Date(d)) => Some(Value::Date(*d)),
        (Ty::Date, Cell::DateTime(s)) => match s.strip_suffix("T00:00:00").and_then(Date::parse) {
            Some(d) => Some(Value::Date(d)),
            None => {
                return Some(Err((s.clone(), cell.kind(), "a date without a time of day".into())));
            }
        },
        (Ty::Entity(id), Cell::Int(_) | Cell::Float(_)) => cell.text().map(|t| Value::Ref(*id, Arc::from(t))),
        _ => None,
    };
    if let Some(v) = native {
        return Some(Ok(v));
    }
    // Any other pairing is read as the cell's text: a value map may name
    // it (`values = { "1" = "low" }`), a `null` token may name `#N/A`.
    let text = cell.text()?;
    Some(from_text(program, reader, ty, &text, format)?.map_err(|(value, _, expected)| (value, cell.kind(), expected)))
}

/// A text cell read through the mapping options: `None` when it is not
/// recorded.
fn from_text(program: &Program, reader: &CellReader, ty: &Ty, cell: &str, format: &str) -> Option<Result<Value, Bad>> {
    match ty.definite() {
        Ty::List(el) => {
            let items = reader.items(cell);
            if items.is_empty() {
                return None;
            }
            Some(
                items
                    .iter()
                    .map(|s| reader.scalar(program, el, s).map_err(|e| (s.to_string(), "", e)))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|v| Value::List(v.into())),
            )
        }
        Ty::Record(_) => {
            Some(Err((cell.trim().to_string(), "", format!("a record (records cannot be written in {format})"))))
        }
        _ => reader.prepare(cell).map(|s| reader.scalar(program, ty, &s).map_err(|e| (cell.trim().to_string(), "", e))),
    }
}
