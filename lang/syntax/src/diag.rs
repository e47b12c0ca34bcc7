//! Diagnostics: the one type every stage reports problems with.
//!
//! A [`Diagnostic`] has a stable code (`E0102`), a severity, a one-line
//! message, a primary label, secondary labels, notes and a help line. The
//! message style follows cedar's: lowercase, no trailing period, the user's
//! input in backticks. Rendering for a terminal ([`render`]) uses ariadne
//! with byte offsets; the language server and the JSON report convert the
//! same value.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::syntax::ast::Span;

mod suggest;
pub use suggest::{did_you_mean, Quote};

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal;)*) => {
        /// A stable diagnostic code. `docs/errors.md` lists every one with an example.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }
        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];
            /// The code as printed, e.g. `E0102`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $text,)* }
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar.
    Syntax = "E0001";
    /// A literal is malformed: an impossible date, a bad escape, a number out of range.
    BadLiteral = "E0002";
    /// Expressions nest deeper than the limit.
    TooDeep = "E0003";
    /// A source file is not valid UTF-8.
    NotUtf8 = "E0004";
    /// A source file is larger than the limit.
    TooLarge = "E0005";
    /// A name is not declared.
    UnknownName = "E0101";
    /// A field does not exist on the entity or record.
    UnknownField = "E0102";
    /// A type name is not declared.
    UnknownType = "E0103";
    /// Two declarations share a name.
    Duplicate = "E0104";
    /// Definitions refer to each other in a cycle.
    Cycle = "E0105";
    /// A requirement identifier is not declared.
    UnknownRequirement = "E0106";
    /// A module named by `use` does not exist.
    UnknownModule = "E0107";
    /// A name is not a variant of the expected enum or scale.
    UnknownVariant = "E0108";
    /// A control named by an exception, a risk or a test does not exist.
    UnknownRule = "E0109";
    /// A clause is not allowed on this kind of declaration.
    MisplacedClause = "E0110";
    /// An `extend` names something it cannot extend, or adds the wrong kind of member.
    BadExtend = "E0111";
    /// An expression has the wrong type.
    TypeMismatch = "E0201";
    /// An optional value is used where a definite one is required.
    UnhandledOptional = "E0202";
    /// A function is called with the wrong number of arguments.
    WrongArity = "E0203";
    /// An operator does not apply to the operand types.
    BadOperand = "E0204";
    /// A risk matrix is malformed: levels overlap, leave gaps or miss the scores.
    BadMatrix = "E0205";
    /// A risk, objective or exception lacks a part it needs.
    MissingPart = "E0206";
    /// An exclusion has no justification.
    ExcludeWithoutReason = "E0207";
    /// An entity has more than one key field, or a key that is not `Text` or `Int`.
    BadKey = "E0208";
    /// A value is not constant where a constant is required.
    NotConstant = "E0209";
    /// A `measure` cannot be computed as written: not a metric, a
    /// condition a log query cannot express, no join on the entity's key.
    BadMeasure = "E0210";
    /// A fact file is not well-formed JSON, YAML, TOML or CSV.
    FactSyntax = "E0301";
    /// A fact has a field its entity does not declare.
    FactUnknownField = "E0302";
    /// A fact value has the wrong type.
    FactType = "E0303";
    /// A fact lacks a field that has no default.
    FactMissingField = "E0304";
    /// Two facts of one entity share a key.
    FactDuplicateKey = "E0305";
    /// A fact refers to an entity that does not exist.
    FactMissingRef = "E0306";
    /// A fact file names an entity type that is not declared.
    FactUnknownEntity = "E0307";
    /// A fact file is empty, not UTF-8 or too large.
    FactFile = "E0308";
    /// An exception names an entity that is not in the facts.
    ExceptionUnknownEntity = "E0309";
    /// The facts hold more entities than the `max_entities` limit.
    TooManyFacts = "E0310";
    /// A part of a composite key (`key = [..]` in aims.toml) is not recorded.
    IncompleteKey = "E0330";
    /// The `label` of a fact source names no field of its entity.
    BadLabel = "E0331";
    /// A spreadsheet cannot be read: not a workbook, no such sheet, a bad
    /// range or header row, or more than the limit.
    FactSheet = "E0350";
    /// A database cannot be read: it does not open, its table or query
    /// fails, or the variable naming the connection is not set.
    FactDatabase = "E0351";
    /// A database column's type cannot hold its field's values.
    FactColumnType = "E0352";
    /// A log's column is missing, or its type cannot hold its field's values.
    LogSchema = "E0360";
    /// A log cannot be read: a file is not Parquet, CSV or NDJSON as said, or the query fails.
    LogRead = "E0361";
    /// The cluster of `[cluster]` cannot run the measures: no scheduler
    /// answers, no executor takes the job in time, or the job fails.
    Cluster = "E0362";
    /// Evaluating an outcome took more steps than the `eval_steps` limit.
    EvalBudget = "E0501";
    /// An editor's rename is refused: no name there, not a valid name, or a clash.
    RenameRefused = "E0601";
    /// `aims.toml` is malformed.
    ProjectConfig = "E0401";
    /// A file or folder cannot be read.
    Io = "E0402";
    /// The project declares nothing to evaluate.
    EmptyProject = "E0403";
    /// A path leaves the project folder.
    OutsideProject = "E0404";
    /// Risks are declared but no appetite: no risk can ever be above it.
    NoAppetite = "W0001";
    /// An ISO/IEC 42001 Annex A control is neither implemented nor excluded.
    UnaddressedControl = "W0002";
    /// A requirement is excluded, yet a project rule implements it.
    ExcludedButImplemented = "W0003";
    /// A text literal is compared with a field that holds no such value in the facts.
    UnmatchedLiteral = "W0004";
    /// Facts of an entity without a key field are identical: told apart by their order.
    IdenticalFacts = "W0030";
    /// Cells of a source read with `bad_values = "unknown"` could not be read.
    UnreadableCells = "W0031";
}

impl serde::Serialize for Code {
    /// A code serialises as it is printed (`"E0102"`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something that stops the project from being evaluated.
    Error,
    /// Something probably wrong that does not stop evaluation.
    Warning,
    /// Information only: nothing is wrong.
    Note,
}

impl Level {
    /// The word printed before the code (`error`, `warning`, `note`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// Identifies a file in a [`Sources`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A span in a known file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileSpan {
    /// The file the span is in.
    pub file: FileId,
    /// The bytes of the text it covers.
    pub span: Span,
}

/// Where a declaration starts: its file, and the offset the spans of its
/// syntax tree are relative to. The checker reports through an anchor, so
/// a span of the tree becomes a range of the file in this one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Anchor {
    /// The file the declaration is in.
    pub file: FileId,
    /// Where the declaration starts in its file, in bytes.
    pub offset: u32,
}

impl Anchor {
    /// The anchor of a whole file: spans under it are ranges of the file.
    /// There is no conversion from a [`FileId`]: a span of the syntax tree
    /// is relative to its declaration, and placing it at the file's start
    /// would put it in the wrong place, so each caller says which it has.
    pub fn start_of(file: FileId) -> Anchor {
        Anchor { file, offset: 0 }
    }
    /// The anchor of a declaration of `file`.
    pub fn of(file: FileId, item: &crate::syntax::ast::Item) -> Anchor {
        Anchor { file, offset: item.offset }
    }
    /// A span of the declaration as a range of its file.
    pub fn span(self, span: Span) -> FileSpan {
        FileSpan { file: self.file, span: span.at(self.offset) }
    }
}

/// A message attached to a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The text the label points at.
    pub at: FileSpan,
    /// What the label says there (may be empty).
    pub message: String,
}

/// A suggested edit: replace the text at a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// What the edit does, as an editor's quick fix lists it.
    pub title: String,
    /// The text replaced.
    pub at: FileSpan,
    /// The new text.
    pub replacement: String,
}

/// One problem found in a policy, a fact file or the project.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The stable code, documented in `docs/errors.md`.
    pub code: Code,
    /// Error, warning or note.
    pub level: Level,
    /// The one-line message.
    pub message: String,
    /// The main place the diagnostic points at; `None` for a problem with no place (a missing file).
    pub primary: Option<Label>,
    /// Other places that explain it (a first declaration, a type's origin).
    pub secondary: Vec<Label>,
    /// Extra context, one line each, printed after the snippet.
    pub notes: Vec<String>,
    /// How to fix it, when there is a hint.
    pub help: Option<String>,
    /// An edit that fixes it, for editors' quick fixes.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// The diagnostic of a syntax error in `file`.
    pub fn from_syntax(file: FileId, error: &crate::syntax::SyntaxError) -> Diagnostic {
        let d = Diagnostic::error(error.code, error.message.clone()).at_file(file, error.span, error.label.clone());
        match &error.help {
            Some(help) => d.help(help.clone()),
            None => d,
        }
    }

    /// An error with a message and no location yet.
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            level: Level::Error,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
            fix: None,
        }
    }
    /// A warning with a message and no location yet.
    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { level: Level::Warning, ..Diagnostic::error(code, message) }
    }
    /// Sets the primary label: `span` relative to `anchor` (a [`FileId`]
    /// for a span that is already a range of the file).
    pub fn at(mut self, anchor: Anchor, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label { at: anchor.span(span), message: label.into() });
        self
    }
    /// Labels a range of a whole file (`span` counted from the file's
    /// start, not from a declaration): facts, `aims.toml`, and places the
    /// program already holds as [`FileSpan`]s.
    pub fn at_file(self, file: FileId, span: Span, label: impl Into<String>) -> Diagnostic {
        self.at(Anchor::start_of(file), span, label)
    }
    /// Adds a secondary label on a range of a whole file (see [`Diagnostic::at_file`]).
    pub fn also_file(self, file: FileId, span: Span, label: impl Into<String>) -> Diagnostic {
        self.also(Anchor::start_of(file), span, label)
    }
    /// Adds a secondary label (`span` relative to `anchor`).
    pub fn also(mut self, anchor: Anchor, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label { at: anchor.span(span), message: label.into() });
        self
    }
    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    /// Attaches a suggested edit.
    pub fn fix(mut self, title: impl Into<String>, at: FileSpan, replacement: impl Into<String>) -> Diagnostic {
        self.fix = Some(Fix { title: title.into(), at, replacement: replacement.into() });
        self
    }
    /// Whether the diagnostic is an error (and so stops evaluation).
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// A loaded text file: a policy, a fact file or `aims.toml`.
#[derive(Clone, Debug)]
pub struct SourceText {
    /// The path as shown to the user (relative to the project when possible).
    pub name: String,
    /// The name relative to the project folder, set once when the file is
    /// read: what reports and `aims test`/`aims explain` print, whatever
    /// folder the project was read from.
    pub relative: Arc<str>,
    /// The whole text of the file: the `String` it was read into, shared,
    /// not copied (a fact file can be hundreds of megabytes).
    pub text: Arc<String>,
    /// Where its lines start, computed at the first lookup: a file with
    /// many diagnostics or rules locates each in O(log lines).
    lines: std::sync::OnceLock<Arc<LineIndex>>,
}

impl SourceText {
    /// The index of the lines of the text.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| Arc::new(LineIndex::new(&self.text)))
    }
}

/// The table of every file a diagnostic may point into.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceText>,
}

impl Sources {
    /// An empty table.
    pub fn new() -> Sources {
        Sources::default()
    }
    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let name = name.into();
        let relative = Arc::from(name.as_str());
        self.add_in_project(name, relative, text)
    }
    /// Adds a file of a project: `name` as shown on a terminal (the
    /// project folder as given included), `relative` to the project folder.
    pub fn add_in_project(&mut self, name: impl Into<String>, relative: Arc<str>, text: impl Into<String>) -> FileId {
        self.files.push(SourceText {
            name: name.into(),
            relative,
            text: Arc::new(text.into()),
            lines: Default::default(),
        });
        FileId(self.files.len() as u32 - 1)
    }
    /// The file of an id; the id must come from this table (another's may be out of range and panic).
    pub fn get(&self, id: FileId) -> &SourceText {
        &self.files[id.0 as usize]
    }
    /// The name of a file as shown to the user.
    pub fn name(&self, id: FileId) -> &str {
        &self.get(id).name
    }
    /// The file's name relative to the project folder (see [`SourceText::relative`]).
    pub fn relative(&self, id: FileId) -> &Arc<str> {
        &self.get(id).relative
    }
    /// The text of a file.
    pub fn text(&self, id: FileId) -> &str {
        &self.get(id).text
    }
    /// Replaces a file's text (the id stays valid).
    pub fn set_text(&mut self, id: FileId, text: impl Into<String>) {
        let file = &mut self.files[id.0 as usize];
        file.text = Arc::new(text.into());
        file.lines = Default::default();
    }
    /// How many files the table holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }
    /// Whether the table holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// Every file with its id.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceText)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: FileId, offset: u32) -> (usize, usize) {
        let file = self.get(id);
        file.lines().line_col(&file.text, offset as usize)
    }
}

/// Where the lines of a text start. A line ends at `\n`, `\r\n` or a lone
/// `\r`, as in editors and the Language Server Protocol: a policy line
/// that an editor shows is a line for the parser, the diagnostics and the
/// language server alike.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of the line starts of a text.
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = Vec::with_capacity(bytes.len() / 32 + 1);
        starts.push(0);
        // The language server indexes the whole document after every
        // keystroke: a vectorised search for the two break bytes.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let breaks = bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n');
            if breaks {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// The line starts, given up (what an index of another kind keeps).
    pub fn into_starts(self) -> Vec<usize> {
        self.starts
    }

    /// Byte offsets of the starts of the lines, the first being 0.
    pub fn starts(&self) -> &[usize] {
        &self.starts
    }

    /// 0-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// 1-based line and column (in characters) of a byte offset in `text`,
    /// the text this index was made of.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line(offset);
        let start = self.starts.get(line).copied().unwrap_or(0).min(offset);
        (line + 1, text[start..offset].chars().count() + 1)
    }
}

/// Splits a text into lines, each with its line break (`\n`, `\r\n` or a
/// lone `\r`, see [`LineIndex`]).
pub fn split_lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => break,
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    break;
                }
                b'\r' => break,
                _ => i += 1,
            }
        }
        let end = (i + 1).min(bytes.len());
        let line = &text[start..end];
        start = end;
        Some(line)
    })
}

/// 1-based line and column (in characters) of a byte offset in `text`.
/// Each call reads the text up to the offset: for many lookups in one
/// text, use a [`LineIndex`] (as [`Sources::line_col`] does).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    // The character after the offset decides whether a `\r` just before it
    // is a line break of its own or half of `\r\n`.
    let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
    LineIndex::new(&text[..end]).line_col(text, offset)
}

/// Byte offset of a 1-based line and column (in characters), clamped to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let within = rest[..line_end].char_indices().nth(column.saturating_sub(1)).map_or(line_end, |(i, _)| i);
    start + within
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// How to render diagnostics for a terminal.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Use ANSI colours (only when the output is a terminal: the caller knows).
    pub color: bool,
}

/// Renders diagnostics with source snippets, one after another.
pub fn render(diagnostics: &[Diagnostic], sources: &Sources, options: RenderOptions) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render_one(diagnostic, sources, options));
    }
    out
}

type AriadneSpan = (String, std::ops::Range<usize>);

fn render_one(diagnostic: &Diagnostic, sources: &Sources, options: RenderOptions) -> String {
    use ariadne::{Color, Config, IndexType, Label as ALabel, Report, ReportKind};

    let diagnostic = &safe_diagnostic(diagnostic);
    let kind = match diagnostic.level {
        Level::Error => ReportKind::Error,
        Level::Warning => ReportKind::Warning,
        Level::Note => ReportKind::Advice,
    };
    let Some(primary) = &diagnostic.primary else {
        // Nothing to point at: a plain header with the notes.
        let mut out = format!("{}[{}]: {}\n", diagnostic.level.as_str(), diagnostic.code.as_str(), diagnostic.message);
        for note in &diagnostic.notes {
            let _ = writeln!(out, "  = note: {note}");
        }
        if let Some(help) = &diagnostic.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        return out;
    };
    // Each file is shown through a window on the lines its labels touch,
    // long lines cut around the labels: the output stays small however
    // large the file or long its lines.
    let mut labels_by_file: Vec<(FileId, Vec<usize>)> = Vec::new();
    for label in std::iter::once(primary).chain(&diagnostic.secondary) {
        let text = sources.text(label.at.file);
        let start = floor_char_boundary(text, (label.at.span.start as usize).min(text.len()));
        let end = floor_char_boundary(text, (label.at.span.end as usize).min(text.len())).max(start);
        match labels_by_file.iter_mut().find(|(f, _)| *f == label.at.file) {
            Some((_, points)) => points.extend([start, end]),
            None => labels_by_file.push((label.at.file, vec![start, end])),
        }
    }
    let windows: Vec<(FileId, Window)> = labels_by_file
        .into_iter()
        .map(|(file, points)| {
            let source = sources.get(file);
            (file, Window::new(&source.text, source.lines(), &points))
        })
        .collect();
    let window_of = |file: FileId| windows.iter().find(|(f, _)| *f == file).map(|(_, w)| w);
    let span_of = |label: &Label| -> AriadneSpan {
        let text = sources.text(label.at.file);
        let start = floor_char_boundary(text, (label.at.span.start as usize).min(text.len()));
        let end = floor_char_boundary(text, (label.at.span.end as usize).min(text.len())).max(start);
        let range = match window_of(label.at.file) {
            Some(w) => w.map(start)..w.map(end),
            None => start..end,
        };
        (terminal_safe_line(sources.name(label.at.file)).into_owned(), range)
    };
    // ariadne shows the labels of one file in one section only while they
    // come in line order, and heads every section of the primary label's
    // file with the primary label's line: a label earlier in that file
    // would get a section headed with the wrong line. So the labels go in
    // order of file (the primary's first), then position.
    let labels: Vec<&Label> = std::iter::once(primary).chain(&diagnostic.secondary).collect();
    let mut files: Vec<FileId> = Vec::new();
    for label in &labels {
        if !files.contains(&label.at.file) {
            files.push(label.at.file);
        }
    }
    let place = |l: &Label| (files.iter().position(|f| *f == l.at.file), l.at.span.start);
    let order = |l: &Label| labels.iter().filter(|other| place(other) < place(l)).count() as i32;
    let primary_span = span_of(primary);
    let mut report = Report::<AriadneSpan>::build(kind, primary_span.clone())
        .with_config(Config::default().with_color(options.color).with_index_type(IndexType::Byte))
        .with_code(diagnostic.code.as_str())
        .with_message(&diagnostic.message)
        .with_label(
            ALabel::new(primary_span).with_message(&primary.message).with_color(Color::Red).with_order(order(primary)),
        );
    for label in &diagnostic.secondary {
        report = report.with_label(
            ALabel::new(span_of(label)).with_message(&label.message).with_color(Color::Blue).with_order(order(label)),
        );
    }
    for note in &diagnostic.notes {
        report = report.with_note(note);
    }
    if let Some(help) = &diagnostic.help {
        report = report.with_help(help);
    }
    let mut shown = std::collections::HashMap::new();
    for (file, window) in &windows {
        shown.insert(terminal_safe_line(sources.name(*file)).into_owned(), ariadne::Source::from(window.text.clone()));
    }
    let cache =
        ariadne::FnCache::new(|name: &String| Err::<String, String>(format!("no source `{name}`"))).with_sources(shown);
    let mut buffer = Vec::new();
    let written = report.finish().write(cache, &mut buffer);
    match written {
        Ok(()) => {
            let mut out = String::from_utf8_lossy(&buffer).into_owned();
            // ariadne names the place by the window; a cut line moves the
            // column, so the header gets the place in the file back.
            // (ariadne names every group of the primary's file by the
            // primary's place, and a group of another file by its first label.)
            for (i, label) in std::iter::once(primary).chain(&diagnostic.secondary).enumerate() {
                if i > 0 && label.at.file == primary.at.file {
                    continue;
                }
                let Some(window) = window_of(label.at.file) else { continue };
                let name = terminal_safe_line(sources.name(label.at.file));
                let offset = floor_char_boundary(sources.text(label.at.file), label.at.span.start as usize);
                let shown = window.line_col(window.map(offset));
                let real = sources.line_col(label.at.file, offset as u32);
                if shown != real {
                    let from = format!("{name}:{}:{}", shown.0, shown.1);
                    let to = format!("{name}:{}:{}", real.0, real.1);
                    out = if i == 0 { out.replace(&from, &to) } else { out.replacen(&from, &to, 1) };
                }
            }
            let numbering: Vec<(String, usize, usize)> = windows
                .iter()
                .map(|(file, w)| (format!("─[ {}:", terminal_safe_line(sources.name(*file))), w.first_line, w.lines))
                .collect();
            renumber(&out, &numbering)
        }
        Err(_) => format!("{}[{}]: {}\n", diagnostic.level.as_str(), diagnostic.code.as_str(), diagnostic.message),
    }
}

/// The diagnostic's own texts (which quote facts and file names) made
/// [`terminal_safe_line`], each on its line; the source lines are made
/// [`printable`] apart.
fn safe_diagnostic(d: &Diagnostic) -> Diagnostic {
    let line = |text: &str| terminal_safe_line(text).into_owned();
    let label = |l: &Label| Label { at: l.at, message: line(&l.message) };
    Diagnostic {
        message: line(&d.message),
        primary: d.primary.as_ref().map(label),
        secondary: d.secondary.iter().map(label).collect(),
        notes: d.notes.iter().map(|n| line(n)).collect(),
        help: d.help.as_deref().map(line),
        ..d.clone()
    }
}

/// A line longer than this (in bytes) is cut around the labels on it.
pub const MAX_SHOWN_LINE: usize = 240;
/// How much of a cut line is shown on either side of a label's start or end.
const CONTEXT: usize = 80;
/// Lines between two labels shown in full when at most this many; beyond,
/// the lines without a label are shown empty.
const MAX_GAP_LINES: usize = 20;

/// The part of a file a diagnostic shows: the lines from its first label
/// to its last, long lines cut around the labels with `…`, made printable.
struct Window {
    text: String,
    /// The 0-based number of the window's first line in the file.
    first_line: usize,
    /// How many lines the window has.
    lines: usize,
    /// Kept pieces: (start in the file, end in the file, start in `text`).
    pieces: Vec<(usize, usize, usize)>,
}

impl Window {
    fn new(text: &str, lines: &LineIndex, points: &[usize]) -> Window {
        let lo = points.iter().copied().min().unwrap_or(0);
        let hi = points.iter().copied().max().unwrap_or(0);
        let (first, last) = (lines.line(lo), lines.line(hi));
        let starts = lines.starts();
        let mut window = Window { text: String::new(), first_line: first, lines: last - first + 1, pieces: Vec::new() };
        for line in first..=last {
            let start = starts[line];
            let next = starts.get(line + 1).copied().unwrap_or(text.len());
            let content = text[start..next].trim_end_matches(['\n', '\r']);
            let end = start + content.len();
            let mut on_line: Vec<usize> = points.iter().copied().filter(|&p| p >= start && p <= end).collect();
            on_line.sort_unstable();
            if on_line.is_empty() && last - first > MAX_GAP_LINES {
                window.keep(text, start, start);
            } else if content.len() <= MAX_SHOWN_LINE {
                window.keep(text, start, end);
            } else {
                if on_line.is_empty() {
                    on_line.push(start);
                }
                // Ranges around each point, merged when they touch.
                let mut ranges: Vec<(usize, usize)> = Vec::new();
                for p in on_line {
                    let a = floor_char_boundary(text, p.saturating_sub(CONTEXT).max(start));
                    let b = floor_char_boundary(text, (p + CONTEXT).min(end));
                    match ranges.last_mut() {
                        Some(last) if a <= last.1 => last.1 = last.1.max(b),
                        _ => ranges.push((a, b)),
                    }
                }
                let mut at = start;
                for (a, b) in ranges {
                    if a > at {
                        window.text.push('…');
                    }
                    window.keep(text, a, b);
                    at = b;
                }
                if at < end {
                    window.text.push('…');
                }
            }
            if line < last {
                window.text.push('\n');
            }
        }
        window
    }

    /// 1-based line and column of an offset in the window's text, as
    /// ariadne names it.
    fn line_col(&self, at: usize) -> (usize, usize) {
        let before = &self.text[..floor_char_boundary(&self.text, at.min(self.text.len()))];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
    }

    fn keep(&mut self, text: &str, start: usize, end: usize) {
        self.pieces.push((start, end, self.text.len()));
        self.text.push_str(&printable(&text[start..end]));
    }

    /// Where an offset of the file is in the window (a label's start or end
    /// is always in a kept piece).
    fn map(&self, offset: usize) -> usize {
        let i = self.pieces.partition_point(|&(start, _, _)| start <= offset);
        match i.checked_sub(1).map(|i| self.pieces[i]) {
            Some((start, end, at)) => at + offset.min(end) - start,
            None => 0,
        }
    }
}

/// ariadne numbers the lines of a window from 1 (its `display_line_offset`
/// does not reach the margin): the numbers become the file's, and the
/// margin of every line widens to fit them, as if ariadne had been given
/// the whole file. `files` are (the header marker of a file, its window's
/// first line, its window's number of lines).
fn renumber(out: &str, files: &[(String, usize, usize)]) -> String {
    let digits = |n: usize| n.to_string().len();
    let narrow = files.iter().map(|&(_, _, lines)| digits(lines)).max().unwrap_or(1);
    let wide = files.iter().map(|&(_, first, lines)| digits(first + lines)).max().unwrap_or(1);
    if files.iter().all(|&(_, first, _)| first == 0) {
        return out.to_string();
    }
    let extra = wide - narrow;
    let mut result = String::with_capacity(out.len() + 64);
    let mut offset = 0;
    for (i, line) in out.split_inclusive('\n').enumerate() {
        let plain = strip_colour(line);
        if let Some((_, first, _)) = files.iter().find(|(marker, _, _)| plain.contains(marker.as_str())) {
            offset = *first;
        }
        if i == 0 {
            result.push_str(line);
            continue;
        }
        if let Some(numbered) = renumber_row(line, offset, extra) {
            result.push_str(&numbered);
            continue;
        }
        // Any other line: its margin widens (after any colour escape).
        let mut visible = 0;
        while line[visible..].starts_with('\u{1b}') {
            visible += line[visible..].find('m').map_or(line.len() - visible, |m| m + 1);
        }
        let rest = &line[visible..];
        result.push_str(&line[..visible]);
        let fill = if rest.starts_with('─') { "─" } else { " " };
        result.push_str(&fill.repeat(extra));
        result.push_str(rest);
    }
    result
}

/// A source row of ariadne's output (` 12 │ text`, maybe coloured) with
/// its number moved by `offset` and its margin widened by `extra`; `None`
/// for any other line.
fn renumber_row(line: &str, offset: usize, extra: usize) -> Option<String> {
    let bar = line.find(['│', '|'])?;
    let prefix = &line[..bar];
    let plain = strip_colour(prefix);
    let number = plain.trim();
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || !plain.ends_with(' ') {
        return None;
    }
    let n: usize = number.parse().ok()?;
    // The number itself, outside the colour escapes (which hold digits too).
    let mut i = 0;
    let at = loop {
        if i >= prefix.len() {
            return None;
        }
        if prefix[i..].starts_with('\u{1b}') {
            i += prefix[i..].find('m').map_or(prefix.len() - i, |m| m + 1);
        } else if prefix[i..].starts_with(number) {
            break i;
        } else {
            i += prefix[i..].chars().next().map_or(1, char::len_utf8);
        }
    };
    let spaces = prefix[..at].bytes().rev().take_while(|&b| b == b' ').count();
    let width = spaces + number.len() + extra;
    Some(format!("{}{:>width$}{}", &prefix[..at - spaces], n + offset, &line[at + number.len()..]))
}

/// A line of ariadne's output without its colour escapes.
fn strip_colour(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return line.into();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        rest = rest[at..].find('m').map_or("", |m| &rest[at + m + 1..]);
    }
    out.push_str(rest);
    out.into()
}

/// The text as ariadne may show it: control characters (which could drive
/// the terminal) and the line breaks other than `\n`, `\r\n` and `\r`
/// (which ariadne would count as lines, unlike every other line number we
/// print) become `?` or spaces of the same byte length, and a lone `\r`
/// becomes `\n`, so spans stay valid.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            // A lone `\r` is a line break (see [`LineIndex`]).
            '\r' if chars.peek() != Some(&'\n') => out.push('\n'),
            '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.extend(std::iter::repeat_n(' ', c.len_utf8()))
            }
            c if c.is_control() || is_bidi_control(c) => out.extend(std::iter::repeat_n('?', c.len_utf8())),
            c => out.push(c),
        }
    }
    out
}

/// Text from facts, policies or file names as it may reach a terminal:
/// every character that could drive the terminal or disguise the text
/// (C0 and C1 controls such as ESC, BEL and CR, DEL, the Unicode line and
/// paragraph separators, and the bidirectional embeddings, overrides and
/// isolates) is written as a visible escape, `\u{1b}`, so a fact file
/// cannot forge report lines, set the window title or reorder what is
/// shown. Line breaks (`\n`) and tabs stay: this is for whole outputs;
/// a value that must stay on its line goes through [`terminal_safe_line`].
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    neutralise(text, true)
}

/// [`terminal_safe`] of a text that is owned: handed back as it is when
/// nothing in it needs an escape (most whole outputs), not copied.
pub fn terminal_safe_owned(text: String) -> String {
    let escaped = match neutralise(&text, true) {
        std::borrow::Cow::Owned(safe) => Some(safe),
        std::borrow::Cow::Borrowed(_) => None,
    };
    escaped.unwrap_or(text)
}

/// [`terminal_safe`] for a value shown within a line (a key, a message, a
/// name): line breaks and tabs are escaped too (`\n`, `\t`).
pub fn terminal_safe_line(text: &str) -> std::borrow::Cow<'_, str> {
    neutralise(text, false)
}

/// The bidirectional embeddings, overrides and isolates, which reorder
/// what a terminal or an editor shows ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn neutralise(text: &str, keep_layout: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe(c, keep_layout);
    let Some(mut at) = first_unsafe(text, unsafe_char) else {
        return std::borrow::Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    // Each run of safe text is found by the fast scan and copied whole.
    loop {
        out.push_str(&rest[..at]);
        let Some(c) = rest[at..].chars().next() else { break };
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
        rest = &rest[at + c.len_utf8()..];
        match first_unsafe(rest, unsafe_char) {
            Some(next) => at = next,
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether [`terminal_safe`] (`keep_layout`) or [`terminal_safe_line`]
/// writes `c` as an escape.
fn is_unsafe(c: char, keep_layout: bool) -> bool {
    let layout = c == '\n' || c == '\t';
    (c.is_control() && !(keep_layout && layout)) || matches!(c, '\u{2028}' | '\u{2029}') || is_bidi_control(c)
}

/// Where the first character `unsafe_char` holds for starts. Whole reports
/// pass through here (tens of megabytes at 100,000 systems), almost all of
/// it printable ASCII: sixteen bytes at a time are tested as two words
/// ([`all_printable`]), and only the other bytes are looked at as
/// characters.
fn first_unsafe(text: &str, unsafe_char: impl Fn(char) -> bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some((Ok(low), Ok(high))) =
            bytes.get(i..i + 16).map(|run| (<[u8; 8]>::try_from(&run[..8]), <[u8; 8]>::try_from(&run[8..])))
        {
            if all_printable(u64::from_ne_bytes(low)) && all_printable(u64::from_ne_bytes(high)) {
                i += 16;
                continue;
            }
        }
        let b = bytes[i];
        if b.wrapping_sub(0x20) < 0x5F {
            i += 1;
            continue;
        }
        // `i` is at a character's start: it only moves by whole characters.
        let c = text[i..].chars().next()?;
        if unsafe_char(c) {
            return Some(i);
        }
        i += c.len_utf8();
    }
    None
}

/// Whether each of the eight bytes of `word` is printable ASCII (`' '` to
/// `'~'`): none below 0x20, none 0x7F, none with its high bit set.
fn all_printable(word: u64) -> bool {
    use crate::bytes::{has_byte, has_byte_below, has_non_ascii};
    !(has_byte_below(word, 0x20) || has_byte(word, 0x7F) || has_non_ascii(word))
}

/// "did you mean" support: the closest candidate by edit distance, if close enough.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&name.to_lowercase(), &candidate.to_lowercase());
        if score > 0.8 && best.is_none_or(|(s, c)| score > s || (score == s && candidate < c)) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast scan finds what a scan of every character finds, wherever
    /// the character falls against the runs of 16 bytes it skips.
    #[test]
    fn the_fast_scan_finds_the_first_unsafe_character_as_a_plain_scan_does() {
        let specials = [
            "\u{0}", "\u{1b}", "\u{1f}", "\n", "\t", "\r", "\u{7f}", "é", "😀", "\u{85}", "\u{2028}", "\u{202e}",
            "\u{2066}", "~", " ",
        ];
        for keep_layout in [true, false] {
            let unsafe_char = |c: char| is_unsafe(c, keep_layout);
            for special in specials {
                for other in specials {
                    for before in 0..40 {
                        for between in [0, 1, 15, 16, 17] {
                            let text = format!("{}{special}{}{other}abc", "x".repeat(before), "y".repeat(between));
                            assert_eq!(first_unsafe(&text, unsafe_char), text.find(unsafe_char), "{text:?}");
                        }
                    }
                }
            }
        }
        assert_eq!(terminal_safe("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(terminal_safe_line("ab\tc"), "ab\\tc");
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\ncé d";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 6), (2, 3), "é is one column");
        assert_eq!(offset_of(text, 2, 3), 6);
    }

    #[test]
    fn closest_suggests_typos_only() {
        let names = ["last_bias_test", "bias_disparity", "human_oversight"];
        assert_eq!(closest("last_bias_tset", names), Some("last_bias_test"));
        assert_eq!(closest("zzz", names), None);
    }

    #[test]
    fn rendering_neither_injects_escapes_nor_miscounts_lines() {
        let mut sources = Sources::new();
        let file = sources.add("p.aims", "a\u{1b}[31m\u{2028}b\u{202e}\nzzz\n");
        let d = Diagnostic::error(Code::Syntax, "bad").at_file(file, Span::new(14, 17), "here");
        let text = render(&[d], &sources, RenderOptions::default());
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text}");
        assert!(text.contains("p.aims:2:1"), "{text}");
    }

    /// Every byte, in every lane of the word, among printable neighbours.
    #[test]
    fn a_word_is_all_printable_exactly_when_each_of_its_bytes_is() {
        for byte in 0u8..=0xff {
            for lane in 0..8 {
                let mut bytes = *b"abcd ~z{";
                bytes[lane] = byte;
                let printable = (0x20..=0x7e).contains(&byte);
                assert_eq!(all_printable(u64::from_ne_bytes(bytes)), printable, "byte {byte:#x} in lane {lane}");
            }
        }
    }

    #[test]
    fn terminal_safe_escapes_what_could_drive_a_terminal() {
        let forged = "ok\u{1b}]0;title\u{7}\rmajor\u{9b}2J\u{202E}cba\u{2028}\u{7f}";
        assert_eq!(terminal_safe(forged), "ok\\u{1b}]0;title\\u{7}\\rmajor\\u{9b}2J\\u{202e}cba\\u{2028}\\u{7f}");
        assert_eq!(terminal_safe("a\n\tb"), "a\n\tb", "layout stays in whole outputs");
        assert_eq!(terminal_safe_line("a\n  major x\tb"), "a\\n  major x\\tb");
        assert!(matches!(terminal_safe("plain é → text"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn diagnostics_neutralise_escapes_in_messages_labels_notes_and_names() {
        let mut sources = Sources::new();
        let file = sources.add("facts\u{1b}[2J.json", "{}\n");
        let forged = "`x\u{1b}]0;pwned\u{7}`\nerror[E0000]: forged";
        let located =
            Diagnostic::error(Code::FactType, forged).at_file(file, Span::new(0, 1), forged).note(forged).help(forged);
        let plain = Diagnostic::error(Code::ProjectConfig, forged).note(forged);
        for d in [located, plain] {
            let text = render(&[d], &sources, RenderOptions::default());
            assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text}");
            assert!(text.contains("\\u{1b}]0;pwned\\u{7}"), "{text}");
            assert!(!text.lines().any(|l| l.starts_with("error[E0000]")), "{text}");
        }
    }

    #[test]
    fn a_lone_cr_is_a_line_break() {
        let text = "a\rb\r\nc\nd\r";
        assert_eq!(line_col(text, 2), (2, 1), "after a lone \\r");
        assert_eq!(line_col(text, 3), (2, 2), "the \\r of \\r\\n ends line 2");
        assert_eq!(line_col(text, 4), (2, 3));
        assert_eq!(line_col(text, 5), (3, 1), "after \\r\\n");
        assert_eq!(line_col(text, 9), (5, 1), "after a final lone \\r");
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(index.line_col(text, offset), line_col(text, offset), "offset {offset}");
        }
        assert_eq!(split_lines_inclusive(text).collect::<Vec<_>>(), ["a\r", "b\r\n", "c\n", "d\r"]);
        let mut sources = Sources::new();
        let file = sources.add("p.aims", "// note\rcontrol hidden\n");
        let d = Diagnostic::error(Code::Syntax, "bad").at_file(file, Span::new(16, 22), "here");
        let shown = render(&[d], &sources, RenderOptions::default());
        assert!(shown.contains("p.aims:2:9"), "{shown}");
        assert!(shown.contains("2 │ control hidden"), "{shown}");
    }

    #[test]
    fn line_starts_follow_every_kind_of_break() {
        for text in ["", "a", "\n", "\r", "\r\n", "\n\r", "a\r\r\nb\n\nc\r", "é\r\n€\rx\n", "\r\r\n\n\r"] {
            // A line starts after each line that ends with a break.
            let mut expected = vec![0];
            let mut end = 0;
            for line in split_lines_inclusive(text) {
                end += line.len();
                if line.ends_with(['\n', '\r']) {
                    expected.push(end);
                }
            }
            assert_eq!(LineIndex::new(text).starts(), expected, "{text:?}");
        }
    }

    #[test]
    fn long_lines_are_cut_around_the_labels() {
        let mut sources = Sources::new();
        let line = format!("{}BAD{}MORE{}", "x".repeat(4 << 20), "y".repeat(1000), "z".repeat(4 << 20));
        let text = format!("first\n{line}\nlast\n");
        let file = sources.add("p.aims", text.as_str());
        let bad = text.find("BAD").expect("BAD");
        let more = text.find("MORE").expect("MORE");
        let d = Diagnostic::error(Code::Syntax, "bad").at_file(file, Span::new(bad, bad + 3), "here").also_file(
            file,
            Span::new(more, more + 4),
            "and here",
        );
        let shown = render(&[d], &sources, RenderOptions::default());
        assert!(shown.len() < 2_000, "{} bytes", shown.len());
        assert!(shown.contains("…xxx") && shown.contains("BADyyy") && shown.contains("MOREzzz"), "{shown}");
        assert!(shown.contains(&format!("p.aims:2:{}", (4 << 20) + 1)), "the real column: {shown}");
        assert!(shown.contains("2 │"), "the real line: {shown}");
        // A label over the whole line shows its two ends.
        let d = Diagnostic::error(Code::Syntax, "bad").at_file(file, Span::new(6, 6 + line.len()), "all of it");
        let shown = render(&[d], &sources, RenderOptions::default());
        assert!(shown.len() < 2_000, "{} bytes", shown.len());
        // Labels far apart in a long file do not show what lies between.
        let many = format!("{}\n", "short line\n".repeat(100_000));
        let file = sources.add("q.aims", many.as_str());
        let d = Diagnostic::error(Code::Syntax, "bad").at_file(file, Span::new(0, 5), "here").also_file(
            file,
            Span::new(many.len() - 12, many.len() - 7),
            "and there",
        );
        let shown = render(&[d], &sources, RenderOptions::default());
        assert!(shown.len() < 4_000, "{} bytes", shown.len());
        assert!(shown.contains("100000 │"), "{shown}");
    }

    /// Locating is linear in the number of lookups: 100,000 rules of a
    /// 100,000-line file, and 20,000 syntax errors rendered (each used to
    /// read the whole file: minutes).
    #[test]
    fn many_lookups_and_diagnostics_in_one_file_scale() {
        let text: String = (0..100_000).map(|i| format!("control c{i} {{ require true }}\n")).collect();
        let mut sources = Sources::new();
        let file = sources.add("p.aims", text.as_str());
        let mut offset = 0;
        for (i, line) in text.lines().enumerate() {
            assert_eq!(sources.line_col(file, offset as u32 + 8), (i + 1, 9));
            offset += line.len() + 1;
        }
        let errors: String = (0..20_000).map(|i| format!("control e{i} {{ require = }}\n")).collect();
        let file = sources.add("e.aims", errors.as_str());
        let parse = crate::syntax::parse(&errors);
        assert_eq!(parse.errors.len(), 20_000);
        let diagnostics: Vec<Diagnostic> = parse.errors.iter().map(|e| Diagnostic::from_syntax(file, e)).collect();
        let shown = render(&diagnostics, &sources, RenderOptions::default());
        assert!(shown.contains("e.aims:20000:"), "the last error is located");
    }

    #[test]
    fn colour_changes_nothing_but_the_colour() {
        let mut sources = Sources::new();
        let a = sources.add("a.aims", format!("{}bad\n", "x\n".repeat(120)));
        let b = sources.add("b.aims", format!("{}there\n", "y\n".repeat(9)));
        let d = Diagnostic::error(Code::Syntax, "bad")
            .at_file(a, Span::new(240, 243), "here")
            .also_file(b, Span::new(18, 23), "and there")
            .help("a help");
        let plain = render(std::slice::from_ref(&d), &sources, RenderOptions { color: false });
        let coloured = render(&[d], &sources, RenderOptions { color: true });
        assert!(coloured.contains('\u{1b}'));
        let stripped: String = coloured.split_inclusive('\n').map(|l| strip_colour(l).into_owned()).collect();
        assert_eq!(stripped, plain);
        assert!(plain.contains("121 │ bad") && plain.contains(" 10 │ there"), "{plain}");
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
        }
    }
}
