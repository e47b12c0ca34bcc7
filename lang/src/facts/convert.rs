//! Converting documents and CSV rows into typed rows, checking each value
//! against its field's type and reporting every problem with its place:
//! the slow path of JSON and YAML files (run when `stream` gives up), and
//! the only path of TOML and CSV files.

use std::sync::Arc;

use serde_json::Value as Json;

use super::csv_span;
use super::locate::{json_body, locate, locate_key};
use super::normalise::CellReader;
use super::table::{Header, Layout, Location, Raw, TableRow};
use super::tree::{self, Duplicate};
use super::{FactInput, Format, Origin, Partial, Row, MAX_PROBLEMS_PER_FILE};
use crate::diag::{did_you_mean, Code, Diagnostic, FileId, Quote};
use crate::ir::{EntityId, Program, StructDef, Ty, Value};
use crate::num;
use crate::syntax::ast::Span;
use crate::time::{Date, Duration};

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A key of an object (or table).
    Key(String),
    /// An index in an array.
    Index(usize),
}

fn show_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "the document".into()
    } else {
        out
    }
}

/// Reports problems at a path of one document.
struct Doc<'a> {
    file: FileId,
    format: Format,
    text: &'a str,
    diags: &'a mut Vec<Diagnostic>,
    /// The value readers of each entity's fields, made once per file.
    readers: std::collections::HashMap<String, Arc<[CellReader]>>,
}

impl Doc<'_> {
    fn problem(&mut self, path: &[Seg], code: Code, message: String, label: String, help: Option<String>) {
        let span = self.locate(|format, text| locate(format, text, path));
        self.push(span, path, code, message, label, help);
    }

    /// A problem with the `nth` occurrence of `key` in the object at `path`,
    /// underlining the key.
    #[allow(clippy::too_many_arguments)]
    fn key_problem(
        &mut self,
        path: &[Seg],
        key: &str,
        nth: usize,
        code: Code,
        message: String,
        label: String,
        help: Option<String>,
    ) {
        let span = self.locate(|format, text| locate_key(format, text, path, key, nth));
        let mut full = path.to_vec();
        full.push(Seg::Key(key.to_string()));
        self.push(span, &full, code, message, label, help);
    }

    /// Locating reads the whole document, so only the problems that will
    /// be shown are located; the others are only counted.
    fn locate(&self, find: impl FnOnce(Format, &str) -> Option<Span>) -> Span {
        if self.diags.len() >= MAX_PROBLEMS_PER_FILE {
            return Span::default();
        }
        find(self.format, self.text).unwrap_or_default()
    }

    fn push(&mut self, span: Span, path: &[Seg], code: Code, message: String, label: String, help: Option<String>) {
        let mut d =
            Diagnostic::error(code, message).at_file(self.file, span, label).note(format!("at `{}`", show_path(path)));
        if let Some(h) = help {
            d = d.help(h);
        }
        self.diags.push(d);
    }
}

/// Parses a JSON, YAML or TOML document, with the keys it gives twice.
fn parse_document(
    input: &FactInput,
    text: &str,
    records: &tree::Records,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
) -> Option<(Json, Vec<Duplicate>)> {
    let file = input.file;
    let syntax = |diags: &mut Vec<Diagnostic>, span: Span, message: String, what: &str| {
        diags.push(
            Diagnostic::error(Code::FactSyntax, format!("malformed {what}: {message}"))
                .at_file(file, span, "here")
                .help(format!("the file must be valid {what}")),
        );
    };
    match input.format {
        Format::Json => {
            let (body, shift) = json_body(text);
            let mut de = serde_json::Deserializer::from_str(body);
            match tree::build(&mut de, records).and_then(|built| de.end().map(|()| built)) {
                Ok((v, built)) => Some((v, built.duplicates)),
                Err(e) if e.to_string().contains(tree::TOO_MANY) => {
                    partial.too_many = true;
                    None
                }
                Err(e) => {
                    let at = shift + crate::diag::offset_of(body, e.line(), e.column().max(1));
                    let message = e.to_string();
                    let message = message.split(" at line").next().unwrap_or(&message).to_string();
                    syntax(diags, point(text, at), message, "JSON");
                    None
                }
            }
        }
        Format::Yaml => {
            if let Some(at) = yaml_flow_too_deep(text) {
                let message = format!("collections nested more than {MAX_FLOW_DEPTH} deep");
                syntax(diags, point(text, at), message, "YAML");
                return None;
            }
            match tree::build(serde_yaml_ng::Deserializer::from_str(text), records) {
                Ok((v, built)) => Some((v, built.duplicates)),
                Err(e) if e.to_string().contains(tree::TOO_MANY) => {
                    partial.too_many = true;
                    None
                }
                Err(e) => {
                    let at = e.location().map_or(0, |l| l.index());
                    let message = e.to_string();
                    let message = message.split(" at line").next().unwrap_or(&message).to_string();
                    syntax(diags, point(text, at), message, "YAML");
                    None
                }
            }
        }
        // TOML refuses a key given twice itself.
        Format::Toml => match toml::Deserializer::parse(text).and_then(|d| tree::build(d, records)) {
            Ok((v, built)) => Some((v, built.duplicates)),
            Err(e) if e.to_string().contains(tree::TOO_MANY) => {
                partial.too_many = true;
                None
            }
            Err(e) => {
                let span = e.span().map_or(Span::default(), |r| Span::new(r.start, r.end.max(r.start)));
                syntax(diags, span, e.message().trim().to_string(), "TOML");
                None
            }
        },
        Format::Csv | Format::Spreadsheet | Format::Sqlite | Format::Postgres => None,
    }
}

/// The deepest nesting of YAML flow collections (`[`, `{`) read: the YAML
/// parser's own limit, which it finds only after work quadratic in the
/// depth (100,000 `[` took 52 s).
pub(super) const MAX_FLOW_DEPTH: usize = 128;

/// Where a YAML text first nests flow collections deeper than
/// [`MAX_FLOW_DEPTH`], found in one pass before the parser runs. Brackets
/// inside quotes, comments, block scalars (`|`, `>`) and plain scalars
/// (`a[1]`) do not count: the scan errs towards counting too few (the
/// parser then refuses the rest itself), not towards refusing a valid file.
pub(super) fn yaml_flow_too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Whether a node may start here (after indentation, `- `, `: `, `,`, `[`...).
    let mut node_start = true;
    let indent_at = |at: usize| bytes[at..].iter().take_while(|&&b| b == b' ').count();
    // The indentation of the line being read.
    let mut indent = indent_at(0);
    let line_end = |at: usize| bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| at + n + 1);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next_blank = bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace());
        match c {
            b'\n' => {
                node_start = true;
                indent = indent_at(i + 1);
            }
            b'|' | b'>' if node_start && depth == 0 => {
                // A block scalar: its lines are those indented deeper, and blank ones.
                let mut line = line_end(i);
                while line < bytes.len() {
                    let spaces = indent_at(line);
                    let end = line_end(line);
                    let blank = bytes[line + spaces..end].iter().all(u8::is_ascii_whitespace);
                    if !blank && spaces <= indent {
                        break;
                    }
                    line = end;
                }
                i = line;
                node_start = true;
                indent = if i < bytes.len() { indent_at(i) } else { 0 };
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if node_start => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if c == b'"' => i += 1,
                        b'\'' if c == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        b if b == c => break,
                        _ => {}
                    }
                    i += 1;
                }
                node_start = false;
            }
            b'[' | b'{' if node_start || depth > 0 => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some(i);
                }
                node_start = true;
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                node_start = false;
            }
            b',' if depth > 0 => node_start = true,
            b'-' | b'?' | b':' if next_blank => node_start = true,
            b':' if depth > 0 => node_start = true,
            _ => node_start = false,
        }
        i += 1;
    }
    None
}

/// Whether a key given twice is read as facts: on the `select` path, an
/// entity name, or in a record (not inside the value of an `ignore`d key).
/// Elsewhere the document is not read, by either path.
fn counts(dup: &Duplicate, select: &[&str], input: &FactInput) -> bool {
    let on_select = dup
        .map
        .iter()
        .chain(std::iter::once(&Seg::Key(dup.key.clone())))
        .zip(select)
        .all(|(seg, key)| matches!(seg, Seg::Key(k) if k == key));
    // [select.., entity name?, record index, field key, ..]
    let field_at = select.len() + usize::from(input.mapping.entity.is_none()) + 1;
    let in_ignored =
        dup.map.len() > field_at && matches!(&dup.map[field_at], Seg::Key(k) if input.mapping.ignore.contains(k));
    on_select && !in_ignored
}

/// A one-character span at an offset, clamped to the text.
fn point(text: &str, at: usize) -> Span {
    let at = at.min(text.len());
    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    Span::new(at, end)
}

/// Rows of a JSON, YAML or TOML fact file, reading at most `budget`
/// records (past it, `partial.too_many` is set and nothing is returned).
pub(super) fn document_rows(
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
) -> Vec<(EntityId, Row)> {
    let mut reached = false;
    let details_from = diags.len();
    let rows = read_document(program, input, text, budget, diags, partial, &mut reached);
    summarise_fields(input.file, diags, details_from);
    if !reached {
        // Nothing is known of the keys of records never reached.
        partial.unreadable(input.mapping.entity.as_deref().and_then(|name| program.entity_by_name(name)));
    }
    rows
}

/// Puts a summary of the values of each field that could not be read
/// before their details, when there are more than one (as CSV files have
/// per column): the details stop at 50, the summary counts them all.
fn summarise_fields(file: FileId, diags: &mut Vec<Diagnostic>, details_from: usize) {
    // Field → (count, first problem), in order of first appearance.
    let mut fields: Vec<(String, u64, String)> = Vec::new();
    for d in diags[details_from.min(diags.len())..].iter().filter(|d| d.code == Code::FactType) {
        // Each problem's first note is `at `Sys[3].tier``: its field is the last key.
        let Some(path) = d.notes.first().and_then(|n| n.strip_prefix("at `")).and_then(|n| n.strip_suffix('`')) else {
            continue;
        };
        let field = path.rsplit('.').next().unwrap_or(path).split('[').next().unwrap_or(path).to_string();
        match fields.iter_mut().find(|f| f.0 == field) {
            Some(f) => f.1 += 1,
            None => fields.push((field, 1, format!("{}, at `{path}`", d.message))),
        }
    }
    if fields.iter().map(|f| f.1).sum::<u64>() < 2 {
        return;
    }
    let summaries: Vec<Diagnostic> = fields
        .into_iter()
        .map(|(field, count, first)| {
            let (values, are) = if count == 1 { ("value", "is") } else { ("values", "are") };
            Diagnostic::error(
                Code::FactType,
                format!("field `{field}`: {} {values} {are} wrong (first: {first})", thousands(count)),
            )
            .at_file(file, Span::default(), "this file")
            .help("map the file's phrases to values with `values`, or declare `null` tokens, on this field in aims.toml (docs/facts.md)")
        })
        .collect();
    let at = details_from.min(diags.len());
    diags.splice(at..at, summaries);
}

fn read_document(
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
    reached: &mut bool,
) -> Vec<(EntityId, Row)> {
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        diags.push(
            Diagnostic::error(Code::FactFile, "the fact file is empty")
                .at_file(input.file, Span::default(), "no document here")
                .help(
                    "an empty file is more likely a failed export than an empty inventory; write `[]` for no records",
                ),
        );
        return Vec::new();
    }
    let select: Vec<&str> = match &input.mapping.select {
        Some(s) => s.split('.').filter(|k| !k.is_empty()).collect(),
        None => Vec::new(),
    };
    let records_at = tree::Records { select: &select, by_name: input.mapping.entity.is_none(), budget };
    let Some((document, duplicates)) = parse_document(input, text, &records_at, diags, partial) else {
        return Vec::new();
    };
    let mut doc = Doc { file: input.file, format: input.format, text, diags, readers: Default::default() };
    for dup in duplicates.iter().filter(|dup| counts(dup, &select, input)) {
        doc.key_problem(
            &dup.map,
            &dup.key,
            dup.nth,
            Code::FactSyntax,
            format!("`{}` is given twice", dup.key),
            "given again here".into(),
            Some("only the first would count: remove or rename the repeated key".into()),
        );
    }
    let mut rows = Vec::new();
    let mut path = Vec::new();
    let mut node = &document;
    if let Some(select) = &input.mapping.select {
        for key in select.split('.').filter(|k| !k.is_empty()) {
            match node.get(key) {
                Some(child) => {
                    path.push(Seg::Key(key.to_string()));
                    node = child;
                }
                None => {
                    doc.problem(
                        &path,
                        Code::FactUnknownField,
                        format!("the document has no `{key}`"),
                        format!("`select = \"{select}\"` expects `{key}` here"),
                        None,
                    );
                    return rows;
                }
            }
        }
    }
    if input.format == Format::Toml {
        // The other formats counted the records while parsing.
        let count: usize = match (&input.mapping.entity, node) {
            (Some(_), Json::Array(items)) => items.len(),
            (None, Json::Object(map)) => map.values().map(|v| v.as_array().map_or(0, Vec::len)).sum(),
            _ => 0,
        };
        if count as u64 > budget {
            partial.too_many = true;
            return rows;
        }
    }
    *reached = true;
    match &input.mapping.entity {
        Some(entity_name) => {
            let Some(entity) = program.entity_by_name(entity_name) else {
                let names: Vec<&str> = program.entities.iter().map(|e| e.decl.name.as_str()).collect();
                let help = did_you_mean(entity_name, names.iter().copied(), Quote::Code);
                doc.problem(
                    &[],
                    Code::FactUnknownEntity,
                    format!("unknown entity `{entity_name}`"),
                    "mapped to an undeclared entity".into(),
                    help,
                );
                return rows;
            };
            records(program, &mut doc, entity, node, &path, input, &mut rows, partial);
        }
        None => {
            let Json::Object(map) = node else {
                partial.unreadable(None);
                doc.problem(
                    &path,
                    Code::FactType,
                    "expected an object mapping entity names to lists of records".into(),
                    "not an object".into(),
                    Some("or set `entity = \"Name\"` for this file in aims.toml".into()),
                );
                return rows;
            };
            for (name, node) in map {
                let mut path = path.clone();
                path.push(Seg::Key(name.clone()));
                let Some(entity) = program.entity_by_name(name) else {
                    let names: Vec<&str> = program.entities.iter().map(|e| e.decl.name.as_str()).collect();
                    let help = did_you_mean(name, names.iter().copied(), Quote::Code);
                    doc.problem(
                        &path,
                        Code::FactUnknownEntity,
                        format!("unknown entity `{name}`"),
                        "not declared".into(),
                        help,
                    );
                    continue;
                };
                records(program, &mut doc, entity, node, &path, input, &mut rows, partial);
            }
        }
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn records(
    program: &Program,
    doc: &mut Doc,
    entity: EntityId,
    node: &Json,
    path: &[Seg],
    input: &FactInput,
    rows: &mut Vec<(EntityId, Row)>,
    partial: &mut Partial,
) {
    let Json::Array(items) = node else {
        partial.unreadable(Some(entity));
        doc.problem(
            path,
            Code::FactType,
            format!("expected a list of `{}` records", program.entity(entity).decl.name),
            format!("this is {}", kind(node)),
            None,
        );
        return;
    };
    let def = program.entity(entity);
    let array: Arc<[Seg]> = Arc::from(path);
    for (i, item) in items.iter().enumerate() {
        let mut item_path = path.to_vec();
        item_path.push(Seg::Index(i));
        match struct_values(program, doc, def, item, &item_path, Some(input)) {
            Some(values) => {
                let origin = Origin::File { file: doc.file, format: doc.format, array: array.clone(), index: i as u32 };
                rows.push((entity, Row::new(values.into(), origin)));
            }
            None => {
                let name = |f: &crate::ir::FieldDef| input.mapping.rename.get(&f.name).unwrap_or(&f.name).clone();
                let key = def.key.map(|k| &def.fields[k as usize]).and_then(|field| {
                    let text = match item.get(name(field))? {
                        Json::String(s) => s.clone(),
                        Json::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    scalar_from_text(program, &field.ty, &text).ok()
                });
                partial.record_failed(program, entity, key);
                // The references it holds are still checked (E0306).
                let values: Vec<Value> = def
                    .fields
                    .iter()
                    .map(|field| {
                        let target = match &field.ty {
                            Ty::Entity(t) => *t,
                            Ty::Opt(inner) => match &**inner {
                                Ty::Entity(t) => *t,
                                _ => return Value::Absent,
                            },
                            _ => return Value::Absent,
                        };
                        match item.get(name(field)) {
                            Some(Json::String(s)) => Value::Ref(target, Arc::from(s.as_str())),
                            Some(Json::Number(n)) => Value::Ref(target, Arc::from(n.to_string())),
                            _ => Value::Absent,
                        }
                    })
                    .collect();
                if values.iter().any(|v| matches!(v, Value::Ref(..))) {
                    let origin =
                        Origin::File { file: doc.file, format: doc.format, array: array.clone(), index: i as u32 };
                    partial.failed_rows.push((entity, Row::new(values.into(), origin)));
                }
            }
        }
    }
}

fn kind(node: &Json) -> &'static str {
    match node {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a text",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// The field values of a record or entity, or `None` after reporting problems.
fn struct_values(
    program: &Program,
    doc: &mut Doc,
    def: &StructDef,
    node: &Json,
    path: &[Seg],
    input: Option<&FactInput>,
) -> Option<Vec<Value>> {
    let Json::Object(map) = node else {
        doc.problem(
            path,
            Code::FactType,
            format!("expected a `{}` record", def.decl.name),
            format!("this is {}", kind(node)),
            None,
        );
        return None;
    };
    let rename = |field: &str| -> String {
        input.and_then(|i| i.mapping.rename.get(field).cloned()).unwrap_or_else(|| field.to_string())
    };
    let mut ok = true;
    for key in map.keys() {
        let known = def.fields.iter().any(|f| rename(&f.name) == *key);
        let ignored =
            input.is_some_and(|i| i.mapping.ignore_other_columns || i.mapping.ignore.iter().any(|x| x == key));
        if !known && !ignored {
            let names: Vec<String> = def.fields.iter().map(|f| rename(&f.name)).collect();
            let help = did_you_mean(key, names.iter().map(String::as_str), Quote::Code).unwrap_or_else(|| {
                format!(
                    "the fields of `{}` are: {}; list extra columns under `ignore` in aims.toml",
                    def.decl.name,
                    names.join(", ")
                )
            });
            doc.key_problem(
                path,
                key,
                0,
                Code::FactUnknownField,
                format!("`{}` has no field `{key}`", def.decl.name),
                "unknown field".into(),
                Some(help),
            );
            ok = false;
        }
    }
    let mut values = Vec::with_capacity(def.fields.len());
    let readers: Option<Arc<[CellReader]>> = input.filter(|i| i.mapping.normalises()).map(|i| {
        doc.readers
            .entry(def.decl.name.clone())
            .or_insert_with(|| {
                def.fields.iter().map(|f| CellReader::new(&i.mapping.values, i.mapping.columns.get(&f.name))).collect()
            })
            .clone()
    });
    for (f, field) in def.fields.iter().enumerate() {
        let name = rename(&field.name);
        let mut p = path.to_vec();
        p.push(Seg::Key(name.clone()));
        match map.get(&name) {
            None | Some(Json::Null) => match missing(field) {
                Some(v) => values.push(v),
                None => {
                    let what = if map.contains_key(&name) { "is null" } else { "is missing" };
                    let at = if map.contains_key(&name) { p.as_slice() } else { path };
                    doc.problem(
                        at,
                        Code::FactMissingField,
                        format!("field `{name}` of `{}` {what}", def.decl.name),
                        format!("`{name}` is required"),
                        Some("give it a value, or declare the field optional (`T?`) or with a default".into()),
                    );
                    ok = false;
                }
            },
            Some(Json::String(text)) if readers.as_deref().is_some_and(|r| r.len() > f) => {
                // One reader per field: the guard makes this always found.
                let Some(reader) = readers.as_deref().and_then(|r| r.get(f)) else {
                    ok = false;
                    continue;
                };
                match normalised(program, reader, &field.ty, text) {
                    Some(Ok(v)) => values.push(v),
                    None => match missing(field) {
                        Some(v) => values.push(v),
                        None => {
                            doc.problem(
                                &p,
                                Code::FactMissingField,
                                format!("field `{name}` of `{}` is not recorded (`{}`)", def.decl.name, text.trim()),
                                format!("`{name}` is required"),
                                Some("give it a value, or declare the field optional (`T?`) or with a default".into()),
                            );
                            ok = false;
                        }
                    },
                    // Reported as without the options, on the prepared text.
                    Some(Err(prepared)) => match value(program, doc, &field.ty, &Json::String(prepared), &p) {
                        Some(v) => values.push(v),
                        None => ok = false,
                    },
                }
            }
            Some(v) => match value(program, doc, &field.ty, v, &p) {
                Some(v) => values.push(v),
                None => ok = false,
            },
        }
    }
    ok.then_some(values)
}

/// A text of a document read through the value options: `None` when it
/// means "not recorded", else the value, or the prepared text that is not
/// one.
fn normalised(program: &Program, reader: &CellReader, ty: &Ty, text: &str) -> Option<Result<Value, String>> {
    match ty.definite() {
        Ty::List(el) => {
            let items = reader.items(text);
            if items.is_empty() {
                return None;
            }
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                match reader.scalar(program, el, &item) {
                    Ok(v) => values.push(v),
                    Err(_) => return Some(Err(item.into_owned())),
                }
            }
            Some(Ok(Value::List(values.into())))
        }
        Ty::Record(_) => Some(Err(text.to_string())),
        _ => {
            let prepared = reader.prepare(text)?;
            Some(reader.scalar(program, ty, &prepared).map_err(|_| prepared.into_owned()))
        }
    }
}

/// The value of an absent field: its default, absent, or an empty list.
pub(super) fn missing(field: &crate::ir::FieldDef) -> Option<Value> {
    if let Some(d) = &field.default {
        return Some(d.clone());
    }
    match &field.ty {
        Ty::Opt(_) => Some(Value::Absent),
        Ty::List(_) => Some(Value::List(Arc::from(Vec::new()))),
        _ => None,
    }
}

fn value(program: &Program, doc: &mut Doc, ty: &Ty, node: &Json, path: &[Seg]) -> Option<Value> {
    let wrong = |doc: &mut Doc, expected: String, help: Option<String>| {
        doc.problem(
            path,
            Code::FactType,
            format!("expected {expected}, found {}", kind(node)),
            format!("this should be {expected}"),
            help,
        );
        None
    };
    if let Json::String(text) = node {
        if let Some(value) = text.strip_prefix(tree::NON_FINITE) {
            let expected = expected_name(program, ty);
            doc.problem(
                path,
                Code::FactType,
                format!("expected {expected}, found `{value}`, which is not a finite number"),
                format!("this should be {expected}"),
                Some("NaN and infinities are not values a fact may hold: leave the field out if it is unknown".into()),
            );
            return None;
        }
    }
    match (ty, node) {
        (Ty::Opt(_), Json::Null) => Some(Value::Absent),
        (Ty::Opt(inner), _) => value(program, doc, inner, node, path),
        (Ty::List(el), Json::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let mut p = path.to_vec();
                p.push(Seg::Index(i));
                match value(program, doc, el, item, &p) {
                    Some(v) => out.push(v),
                    None => ok = false,
                }
            }
            ok.then(|| Value::List(out.into()))
        }
        (Ty::List(_), _) => wrong(doc, "a list".into(), None),
        (Ty::Record(id), _) => {
            let def = &program.records[id.index()];
            struct_values(program, doc, def, node, path, None).map(|v| Value::Record(v.into()))
        }
        (Ty::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
        (Ty::Int, Json::Number(n)) => match n.as_i64() {
            Some(i) => Some(Value::Int(i)),
            // JSON's `-0` reaches here as a float.
            None if n.as_f64() == Some(0.0) && n.as_f64().is_some_and(f64::is_sign_negative) => Some(Value::Int(0)),
            None => wrong(doc, "a whole number".into(), None),
        },
        (Ty::Number | Ty::Percent, Json::Number(n)) => match number_value(n) {
            Some(d) if matches!(ty, Ty::Number) => Some(Value::Number(d)),
            Some(d) => Some(Value::Percent(d)),
            None => wrong(doc, "a number within range".into(), Some(num::RANGE_HELP.into())),
        },
        (Ty::Date, Json::Object(map)) if map.len() == 1 && map.contains_key("$__toml_private_datetime") => {
            match map.get("$__toml_private_datetime").and_then(Json::as_str).and_then(Date::parse) {
                Some(d) => Some(Value::Date(d)),
                None => wrong(doc, "a date (YYYY-MM-DD)".into(), Some("give a date without a time".into())),
            }
        }
        (Ty::Error, _) => Some(Value::Absent),
        (_, Json::String(s)) => match scalar_from_text(program, ty, s) {
            Ok(v) => Some(v),
            Err(expected) => {
                let help = match ty {
                    Ty::Enum(_) | Ty::Scale(_) | Ty::Level(_) => {
                        let names = variant_names(program, ty);
                        Some(
                            did_you_mean(s, names.iter().map(String::as_str), Quote::Code)
                                .unwrap_or_else(|| format!("the values are: {}", names.join(", "))),
                        )
                    }
                    _ => None,
                };
                doc.problem(
                    path,
                    Code::FactType,
                    format!("`{s}` is not {expected}"),
                    format!("expected {expected}"),
                    help,
                );
                None
            }
        },
        (Ty::Entity(id), Json::Number(n)) => Some(Value::Ref(*id, Arc::from(n.to_string()))),
        _ => wrong(doc, expected_name(program, ty), None),
    }
}

pub(super) fn variant_names(program: &Program, ty: &Ty) -> Vec<String> {
    match ty {
        Ty::Enum(id) => program.enums[id.index()].variants.clone(),
        Ty::Scale(id) => program.scales[id.index()].values.iter().map(|(n, _)| n.clone()).collect(),
        Ty::Level(id) => program.matrices[id.index()].levels.iter().map(|l| l.name.clone()).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn expected_name(program: &Program, ty: &Ty) -> String {
    match ty {
        Ty::Bool => "true or false".into(),
        Ty::Int => "a whole number".into(),
        Ty::Number => "a number".into(),
        Ty::Percent => "a percentage (0.05 or \"5%\")".into(),
        Ty::Text => "a text".into(),
        Ty::Date => "a date (YYYY-MM-DD)".into(),
        Ty::Duration => "a duration such as \"180 days\"".into(),
        Ty::Enum(id) => format!("a `{}` value", program.enums[id.index()].decl.name),
        Ty::Scale(id) => format!("a `{}` value", program.scales[id.index()].decl.name),
        Ty::Level(id) => format!("a `{}` level", program.matrices[id.index()].decl.name),
        Ty::Entity(id) => format!("the key of a `{}`", program.entities[id.index()].decl.name),
        Ty::Record(id) => format!("a `{}` record", program.records[id.index()].decl.name),
        Ty::List(el) => format!("a list of {}", expected_name(program, el)),
        Ty::Opt(inner) => expected_name(program, inner),
        Ty::EmptyList | Ty::Error => "a value".into(),
    }
}

/// A scalar written as text (all CSV cells, and text values in documents).
pub(super) fn scalar_from_text(program: &Program, ty: &Ty, s: &str) -> Result<Value, String> {
    let expected = || expected_name(program, ty);
    match ty {
        Ty::Opt(inner) => scalar_from_text(program, inner, s),
        Ty::Text => Ok(Value::text(s)),
        Ty::Bool => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(expected()),
        },
        Ty::Int => s.trim().parse::<i64>().map(Value::Int).map_err(|_| expected()),
        Ty::Number => num::parse(s).map(Value::Number).ok_or_else(expected),
        Ty::Percent => {
            let t = s.trim();
            match t.strip_suffix('%') {
                Some(p) => num::parse(p).and_then(num::percent_of).map(Value::Percent).ok_or_else(expected),
                None => num::parse(t).map(Value::Percent).ok_or_else(expected),
            }
        }
        Ty::Date => Date::parse(s.trim()).map(Value::Date).ok_or_else(expected),
        Ty::Duration => {
            let mut parts = s.split_whitespace();
            match (parts.next().and_then(|n| n.parse::<i64>().ok()), parts.next(), parts.next()) {
                (Some(n), Some(unit), None) => Duration::from_unit(n, unit).map(Value::Duration).ok_or_else(expected),
                _ => Err(expected()),
            }
        }
        Ty::Enum(id) => program.enums[id.index()]
            .variants
            .iter()
            .position(|v| v == s.trim())
            .map(|v| Value::Enum(*id, v as u32))
            .ok_or_else(expected),
        Ty::Scale(id) => program.scales[id.index()]
            .values
            .iter()
            .position(|(n, _)| n == s.trim())
            .map(|v| Value::Scale(*id, v as u32))
            .ok_or_else(expected),
        Ty::Level(id) => program.matrices[id.index()]
            .levels
            .iter()
            .position(|l| l.name == s.trim())
            .map(|v| Value::Level(*id, v as u32))
            .ok_or_else(expected),
        Ty::Entity(id) => Ok(Value::Ref(*id, Arc::from(s.trim()))),
        _ => Err(expected()),
    }
}

/// Rows of a CSV fact file: a header row of field names, one entity per
/// row; at most `budget` rows are read (past it, `partial.too_many` is set).
pub(super) fn csv_rows(
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
) -> Vec<(EntityId, Row)> {
    table_rows(csv_read, program, input, text, budget, diags, partial)
}

/// How a table (CSV, a sheet, a database) is read: rows into the vector,
/// and whether every row was read (each good or with its problems reported).
pub(super) type TableReader =
    fn(&Program, &FactInput, &str, u64, &mut Vec<Diagnostic>, &mut Partial, &mut Vec<(EntityId, Row)>) -> bool;

/// The rows `read` gives; when it could not read them all (and not
/// because of the entity budget), the entity is marked unreadable so the
/// checks across records know its keys are incomplete.
pub(super) fn table_rows(
    read: TableReader,
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
) -> Vec<(EntityId, Row)> {
    let mut rows = Vec::new();
    let entity = input.mapping.entity.as_deref().and_then(|name| program.entity_by_name(name));
    let all_read = read(program, input, text, budget, diags, partial, &mut rows);
    if !all_read && !partial.too_many {
        partial.unreadable(entity);
    }
    rows
}

/// The entity a table source is mapped to, or an error: a table must name
/// its entity (`source` says what it is, `noun` how aims.toml calls it).
pub(super) fn mapped_entity(
    program: &Program,
    input: &FactInput,
    source: &str,
    noun: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<EntityId> {
    let file = input.file;
    let Some(entity_name) = &input.mapping.entity else {
        diags.push(
            Diagnostic::error(Code::FactUnknownEntity, format!("{source} must name its entity"))
                .at_file(file, Span::default(), "which entity do these rows describe?")
                .help(format!("set `entity = \"Name\"` for this {noun} in aims.toml")),
        );
        return None;
    };
    let Some(entity) = program.entity_by_name(entity_name) else {
        let names: Vec<&str> = program.entities.iter().map(|e| e.decl.name.as_str()).collect();
        diags.push(
            Diagnostic::error(Code::FactUnknownEntity, format!("unknown entity `{entity_name}`"))
                .at_file(file, Span::default(), "mapped to an undeclared entity")
                .suggest(entity_name, names.iter().copied(), Quote::Code),
        );
        return None;
    };
    Some(entity)
}

/// Column options (`[facts.columns.NAME]`) that name no field of `def`,
/// each an error; whether there were none.
pub(super) fn column_options_known(
    def: &crate::ir::StructDef,
    input: &FactInput,
    noun: &str,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut ok = true;
    for column in input.mapping.columns.keys().filter(|c| !def.fields.iter().any(|f| f.name == **c)) {
        let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
        diags.push(
            Diagnostic::error(
                Code::FactUnknownField,
                format!("`[facts.columns.{column}]`: `{}` has no field `{column}`", def.decl.name),
            )
            .at_file(input.file, Span::default(), format!("options of this {noun} in aims.toml"))
            .suggest_or(
                column,
                names,
                Quote::Code,
                format!("`columns` are named by the entity's fields, not the {noun}'s headers"),
            ),
        );
        ok = false;
    }
    ok
}

/// The header row of a CSV file: its cells are placed in the text.
struct CsvHeader<'a> {
    text: &'a str,
}

impl Header for CsvHeader<'_> {
    fn noun(&self) -> &'static str {
        "file"
    }
    fn span(&self, c: usize) -> Span {
        csv_span::cell_span(self.text, 0, c)
    }
    fn note(&self, _: usize) -> Option<String> {
        None
    }
    fn row(&self) -> (Span, Option<String>) {
        (csv_span::cell_span(self.text, 0, 0), None)
    }
    fn unknown_help(&self) -> &'static str {
        "list extra columns under `ignore` for this file in aims.toml"
    }
    fn skips_unnamed(&self) -> bool {
        false
    }
}

/// A record of a CSV file, placed by its record number and line.
struct CsvRow<'a> {
    text: &'a str,
    record: &'a csv::StringRecord,
    start: usize,
    span: Span,
    read: u64,
    lines: &'a mut LineCursor,
}

impl TableRow for CsvRow<'_> {
    fn cell(&self, c: usize) -> Raw<'_> {
        Raw::Text(self.record.get(c).unwrap_or(""))
    }
    fn span(&self) -> Span {
        self.span
    }
    fn cell_span(&mut self, c: usize) -> Span {
        csv_span::cell_span(self.text, self.start, c)
    }
    fn locate(&mut self, c: Option<usize>) -> Location {
        let at = c.map_or(self.span, |c| self.cell_span(c));
        Location { record: self.read, line: self.lines.line_of(self.text, at.start as usize), place: None }
    }
}

/// Whether every row was read (each good or with its problems reported).
fn csv_read(
    program: &Program,
    input: &FactInput,
    text: &str,
    budget: u64,
    diags: &mut Vec<Diagnostic>,
    partial: &mut Partial,
    rows: &mut Vec<(EntityId, Row)>,
) -> bool {
    let file = input.file;
    let Some(entity) = mapped_entity(program, input, "a CSV fact file", "file", diags) else { return false };
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::error(Code::FactFile, "the fact file is empty")
                .at_file(file, Span::default(), "no header row")
                .help("a CSV fact file starts with a header row of field names"),
        );
        return false;
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) => {
            diags.push(csv_error(file, text, &e));
            return false;
        }
    };
    let header = CsvHeader { text };
    let Some((mut layout, true)) = Layout::new(program, input, entity, &headers, &header, "CSV", diags) else {
        return false;
    };
    let mut all_read = true;
    let mut read = 0u64;
    let mut lines = LineCursor::default();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                read += 1;
                if read > budget {
                    partial.too_many = true;
                    return false;
                }
                diags.push(csv_error(file, text, &e));
                all_read = false;
                continue;
            }
        }
        read += 1;
        if read > budget {
            partial.too_many = true;
            return false;
        }
        let start = csv_span::record_start(text, record.position().map_or(0, |p| p.byte() as usize));
        let span = csv_span::record_span(text, start);
        let mut row = CsvRow { text, record: &record, start, span, read, lines: &mut lines };
        layout.read_row(&mut row, diags, partial, rows);
    }
    layout.finish(&header, diags);
    all_read
}

/// `1204` → `1,204`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The 1-based line of byte offsets that only grow, counted from where
/// the last one was (counting from the start for each would be quadratic).
#[derive(Default)]
struct LineCursor {
    offset: usize,
    line: usize,
}

impl LineCursor {
    fn line_of(&mut self, text: &str, at: usize) -> usize {
        let at = at.min(text.len());
        if at < self.offset {
            *self = LineCursor::default();
        }
        self.line += text.as_bytes()[self.offset..at].iter().filter(|&&b| b == b'\n').count();
        self.offset = at;
        self.line + 1
    }
}

fn csv_error(file: FileId, text: &str, e: &csv::Error) -> Diagnostic {
    let at = csv_span::record_start(text, e.position().map_or(0, |p| p.byte() as usize));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("a row has {len} cells where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "a cell is not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    Diagnostic::error(Code::FactSyntax, format!("malformed CSV: {message}"))
        .at_file(file, csv_span::record_span(text, at), "this row")
        .help("every row needs one cell per header column; quote cells that contain commas")
}

/// A JSON number as an exact decimal: integers exactly, floats from their
/// shortest text; `None` when it is not a finite number in range.
fn number_value(n: &serde_json::Number) -> Option<num::Decimal> {
    if let Some(i) = n.as_i64() {
        return Some(num::from_int(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(num::Decimal::from(u));
    }
    n.as_f64().and_then(num::from_f64)
}
