//! Data-quality mode: a `[[facts]]` source with `bad_values = "unknown"`
//! is loaded even when some of its cells cannot be read. Each such cell
//! becomes an unknown value that names it ([`Unknown::Unreadable`]), so a
//! rule that reads it fails for want of evidence, and is listed here,
//! grouped by column with counts, for the report's data-quality section
//! and a warning (W0031). Nothing is dropped: every bad cell is listed.
//!
//! What no mode reads past stays an error: a malformed row, a key (or a
//! part of a composite key) that cannot be read, a reference to a missing
//! fact.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::diag::{Code, Diagnostic, FileId, Sources};
use crate::ir::{Unknown, Value};

/// What to do with a value that cannot be read as its field's type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BadValues {
    /// Refuse the facts (the default): nothing is evaluated.
    #[default]
    Refuse,
    /// Read the cell as unknown, list it, and check the rest.
    Unknown,
}

impl BadValues {
    /// The mode named in `aims.toml` (`"refuse"`, `"unknown"`).
    pub fn named(name: &str) -> Option<BadValues> {
        match name.trim() {
            "refuse" => Some(BadValues::Refuse),
            "unknown" => Some(BadValues::Unknown),
            _ => None,
        }
    }
}

/// Every cell that could not be read, by file and column.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DataQuality {
    /// One entry per column with a bad cell, by file (in load order) and
    /// column (in the entity's field order).
    pub columns: Vec<ColumnQuality>,
}

impl DataQuality {
    /// Whether every cell was read.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
    /// How many cells could not be read.
    pub fn cells(&self) -> u64 {
        self.columns.iter().map(|c| c.count).sum()
    }
}

/// The bad cells of one column of one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnQuality {
    /// The file, relative to the project folder.
    pub file: String,
    /// The entity its records are.
    pub entity: String,
    /// The column as the file names it.
    pub column: String,
    /// The entity's field it is read as.
    pub field: String,
    /// How many of its cells could not be read.
    pub count: u64,
    /// Every one of them, in file order.
    pub cells: Vec<BadCell>,
}

/// One cell that could not be read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadCell {
    /// The record, counted from 1 (the header not counted).
    pub record: u64,
    /// The line the cell starts on.
    pub line: usize,
    /// The cell as written (trimmed).
    pub value: String,
    /// What is wrong: `not a Bool`, `empty, but required`.
    pub problem: String,
    /// Where a spreadsheet or a database has the cell (`Inventory!B17`,
    /// `row 12, column `x` of query `…``); none for a CSV file, whose
    /// cells are placed by record and line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl BadCell {
    /// `record 6, line 9` (CSV), or the place.
    pub fn location(&self) -> String {
        match &self.place {
            Some(place) => place.clone(),
            None => format!("record {}, line {}", self.record, self.line),
        }
    }
}

/// The bad cells of one column, before its file is named.
#[derive(Debug)]
struct Cells {
    entity: String,
    column: String,
    field: String,
    cells: Vec<BadCell>,
}

/// The bad cells met while reading, before the files are named.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    /// (file, field) → its bad cells.
    columns: BTreeMap<(FileId, u32), Cells>,
    /// The files in the order they were read.
    order: Vec<FileId>,
}

impl Collector {
    /// Records a bad cell and returns the unknown value that stands for it.
    pub(crate) fn unreadable(
        &mut self,
        (file, entity): (FileId, &str),
        (field_index, field, column): (u32, &str, &str),
        cell: BadCell,
    ) -> Value {
        let message = match &cell.place {
            Some(place) => format!("`{}` {}, {place}", cell.value, cell.problem),
            None => format!(
                "`{}` {}, record {}, line {}, column `{column}`",
                cell.value, cell.problem, cell.record, cell.line
            ),
        };
        if !self.order.contains(&file) {
            self.order.push(file);
        }
        self.columns
            .entry((file, field_index))
            .or_insert_with(|| Cells {
                entity: entity.to_string(),
                column: column.to_string(),
                field: field.to_string(),
                cells: Vec::new(),
            })
            .cells
            .push(cell);
        Value::Unknown(Arc::new(Unknown::Unreadable(Arc::from(message))))
    }

    /// The bad cells by file and column, and a warning (W0031) per file.
    pub(crate) fn finish(self, sources: &Sources) -> (DataQuality, Vec<Diagnostic>) {
        let mut quality = DataQuality::default();
        let mut warnings = Vec::new();
        for file in &self.order {
            let name = sources.relative(*file).to_string();
            let of_file: Vec<ColumnQuality> = self
                .columns
                .iter()
                .filter(|((f, _), _)| f == file)
                .map(|(_, c)| ColumnQuality {
                    file: name.clone(),
                    entity: c.entity.clone(),
                    column: c.column.clone(),
                    field: c.field.clone(),
                    count: c.cells.len() as u64,
                    cells: c.cells.clone(),
                })
                .collect();
            let total: u64 = of_file.iter().map(|c| c.count).sum();
            let mut d = Diagnostic::warning(
                Code::UnreadableCells,
                format!(
                    "`{}`: {} could not be read; they are unknown, and the rules that read them fail for want of evidence",
                    sources.name(*file),
                    crate::report::count(total as usize, "cell", "cells")
                ),
            );
            for column in &of_file {
                let first = &column.cells[0];
                d = d.note(format!(
                    "column `{}`: {} (first: `{}` {}, {})",
                    column.column,
                    crate::report::count(column.count as usize, "cell", "cells"),
                    first.value,
                    first.problem,
                    first.location()
                ));
            }
            warnings.push(d.help(
                "the report's data-quality section lists every cell; map the file's phrases with `values` or `null` (docs/facts.md)",
            ));
            quality.columns.extend(of_file);
        }
        (quality, warnings)
    }
}
