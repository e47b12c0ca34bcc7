//! Projects: `aims.toml`, the policy files it names, the modules they
//! `use`, and the fact files, read from disk into [`Sources`].
//!
//! This is the only module that touches the file system (and, for a
//! PostgreSQL source, the network). Every path it opens is checked to stay
//! inside the project folder (symlinks resolved), and every file is
//! size-limited before it is read; spreadsheets and databases are read
//! into their table view here (see [`crate::facts::grid`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, FileId, Sources};
use crate::facts::{FactInput, Format, Mapping};

/// The bundled stdlib modules: (name, text).
pub use crate::stdlib::MODULES as STDLIB_MODULES;
use crate::syntax::ast::Span;
use crate::time::Date;

/// Largest policy file read.
pub const MAX_POLICY_BYTES: u64 = 8 * 1024 * 1024;
/// Largest fact file read.
pub const MAX_FACT_BYTES: u64 = 512 * 1024 * 1024;
/// Most facts a project may hold, unless `aims.toml` says otherwise.
pub const MAX_ENTITIES: u64 = 20_000_000;
/// Largest YAML fact file read. Smaller than [`MAX_FACT_BYTES`] because
/// the YAML parser reads a whole document into events before a record can
/// be counted: about 40 bytes of memory per byte of tiny records, so this
/// bounds a YAML file's memory near what the other formats' limit does.
pub const MAX_YAML_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    project: ProjectSection,
    #[serde(default)]
    facts: Vec<FactSection>,
    #[serde(default)]
    logs: Vec<crate::measure::logs::LogSection>,
    cluster: Option<crate::measure::cluster::ClusterSection>,
    #[serde(default)]
    limits: Limits,
}

/// The limits that keep hostile or mistaken input from exhausting the
/// machine, each overridable in `aims.toml`'s `[limits]` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest policy file read.
    pub max_policy_bytes: u64,
    /// Largest fact file read.
    pub max_fact_bytes: u64,
    /// Largest YAML fact file read (see [`MAX_YAML_BYTES`]).
    pub max_yaml_bytes: u64,
    /// Most facts (entities of every type, all files together).
    pub max_entities: u64,
    /// Most elements quantifiers and aggregates visit for one outcome.
    pub eval_steps: u64,
    /// Most steps of a whole evaluation, every outcome together.
    pub eval_total_steps: u64,
}

impl Limits {
    /// The evaluation's limits among them.
    pub fn budget(&self) -> crate::eval::budget::Budget {
        crate::eval::budget::Budget::new(self.eval_steps, self.eval_total_steps)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_policy_bytes: MAX_POLICY_BYTES,
            max_fact_bytes: MAX_FACT_BYTES,
            max_yaml_bytes: MAX_YAML_BYTES,
            max_entities: MAX_ENTITIES,
            eval_steps: crate::eval::budget::DEFAULT_EVAL_STEPS,
            eval_total_steps: crate::eval::budget::DEFAULT_EVAL_TOTAL_STEPS,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProjectSection {
    name: Option<String>,
    sources: Option<Vec<String>>,
    /// A quoted `"2026-11-01"` or a TOML date `2026-11-01`.
    as_of: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactSection {
    /// The file (empty for a PostgreSQL source, which has no file).
    #[serde(default)]
    path: String,
    /// A spreadsheet's sheet, header row (1-based) and range of cells.
    sheet: Option<String>,
    header_row: Option<u32>,
    range: Option<String>,
    /// A database's table, or its query.
    table: Option<String>,
    query: Option<String>,
    /// The environment variable holding a PostgreSQL connection string.
    postgres: Option<String>,
    entity: Option<String>,
    select: Option<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default)]
    ignore: Vec<String>,
    format: Option<String>,
    /// A WHATWG label: the file's text encoding when it has no byte order mark.
    encoding: Option<String>,
    #[serde(default)]
    ignore_other_columns: bool,
    // The options of every column (as in `ValueSection`: serde's `flatten`
    // would lose `deny_unknown_fields`).
    trim: Option<bool>,
    ignore_case: Option<bool>,
    #[serde(default)]
    values: BTreeMap<String, String>,
    null: Option<OneOrMany>,
    date_format: Option<String>,
    list_separator: Option<OneOrMany>,
    number_format: Option<String>,
    percent_format: Option<String>,
    /// Options of one column, by entity field name.
    #[serde(default)]
    columns: BTreeMap<String, ValueSection>,
    /// Fields whose values, joined, make the entity's key (a composite key).
    key: Option<OneOrMany>,
    /// `"refuse"` (the default) or `"unknown"`: what a cell that cannot
    /// be read does (data-quality mode).
    bad_values: Option<String>,
    /// How findings name a fact besides its key: a field or a template.
    label: Option<String>,
}

/// How values are read: on a `[[facts]]` source, or on one of its columns
/// (see [`crate::facts::normalise::ValueOptions`]).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ValueSection {
    trim: Option<bool>,
    ignore_case: Option<bool>,
    #[serde(default)]
    values: BTreeMap<String, String>,
    null: Option<OneOrMany>,
    date_format: Option<String>,
    list_separator: Option<OneOrMany>,
    number_format: Option<String>,
    percent_format: Option<String>,
}

/// `"x"` or `["x", "y"]`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

impl ValueSection {
    fn options(&self) -> crate::facts::normalise::ValueOptions {
        crate::facts::normalise::ValueOptions {
            trim: self.trim,
            ignore_case: self.ignore_case,
            values: self.values.clone(),
            null: self.null.as_ref().map(OneOrMany::list),
            date_format: self.date_format.clone(),
            list_separator: self.list_separator.as_ref().map(OneOrMany::list),
            number_format: self.number_format.clone(),
            percent_format: self.percent_format.clone(),
        }
    }
}

/// What to load besides the project's own declarations.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Fact files or folders given on the command line: they replace the
    /// fact files of `aims.toml` (keeping the mapping of a source with the
    /// same file name, or of the only source).
    pub facts: Vec<PathBuf>,
    /// How many threads a large evaluation uses (`None`: every core). The
    /// CLI fills it from `AIMS_EVAL_THREADS`; the library reads no
    /// environment variable.
    pub eval_threads: Option<usize>,
    /// Keep a log of the queries the engine executes, for profiling
    /// ([`Engine::take_query_log`](crate::Engine::take_query_log)).
    pub log_queries: bool,
    /// How the environment variable naming a PostgreSQL source's
    /// connection is read: the CLI, the REPL and the language server give
    /// [`process_environment`]; without it such a source is refused (E0351).
    pub environment: Option<fn(&str) -> Option<String>>,
    /// What computes the policy's measures over its logs whenever the
    /// evaluation date is set (the CLI, the REPL and the language server
    /// give `aims-monitor`'s DataFusion runner); without one, measured
    /// fields are unknown until [`crate::Engine::measure`] is called.
    pub measure_runner: Option<RunnerHandle>,
}

/// A shared [`MeasureRunner`](crate::measure::MeasureRunner).
#[derive(Clone)]
pub struct RunnerHandle(pub std::sync::Arc<dyn crate::measure::MeasureRunner + Send + Sync>);

impl std::fmt::Debug for RunnerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunnerHandle")
    }
}

/// The process's environment variable `name`, for [`LoadOptions::environment`].
pub fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A project read from disk.
#[derive(Clone, Debug, Default)]
pub struct ProjectFiles {
    /// The project's name (`[project] name` in `aims.toml`, else the folder's name).
    pub name: String,
    /// The project folder.
    pub root: PathBuf,
    /// Every file read: `aims.toml`, the policies and the fact files.
    pub sources: Sources,
    /// Policy files of the project, in path order.
    pub policy: Vec<FileId>,
    /// The fact files to load, in `aims.toml` order.
    pub facts: Vec<FactInput>,
    /// The evaluation date set in `aims.toml`, if any.
    pub as_of: Option<Date>,
    /// The limits of `aims.toml` (or the defaults).
    pub limits: Limits,
    /// The logs that measures read and the cluster that reads them
    /// (`[[logs]]` and `[cluster]` in `aims.toml`).
    pub monitoring: crate::measure::Monitoring,
}

/// Reads a project: a folder (with or without `aims.toml`) or one `.aims` file.
pub fn read_project(path: &Path, options: &LoadOptions) -> Result<ProjectFiles, (Sources, Vec<Diagnostic>)> {
    let mut files = ProjectFiles::default();
    let mut diags = Vec::new();
    let meta = std::fs::metadata(path).map_err(|e| {
        (
            Sources::new(),
            vec![Diagnostic::error(Code::Io, format!("cannot read `{}`: {}", path.display(), io_reason(&e)))],
        )
    })?;
    let (root, single_file) = if meta.is_dir() {
        (path.to_path_buf(), None)
    } else {
        (path.parent().map(Path::to_path_buf).unwrap_or_default(), Some(path.to_path_buf()))
    };
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.clone());
    files.root = root.clone();
    files.name =
        canonical_root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".into());

    let manifest_path = root.join("aims.toml");
    let mut manifest = Manifest::default();
    let manifest_real = match resolve_inside(&canonical_root, &manifest_path) {
        _ if single_file.is_some() => None,
        Ok(real) => Some(real),
        Err(Inside::Missing) => None,
        Err(Inside::Outside) => {
            diags.push(outside_diagnostic(&display_name(&root, &manifest_path)));
            None
        }
    };
    // An `aims.toml` that is there is read like any other file: a FIFO, a
    // device or unreadable bytes are an error, never "no aims.toml".
    let manifest_text = match manifest_real {
        Some(real) if !real.is_dir() => match read_text(&real, crate::project::Limits::default().max_policy_bytes) {
            Ok(text) => Some(text),
            Err(problem) => {
                let name = display_name(&root, &manifest_path);
                let relative = relative_name(&root, &manifest_path);
                diags.push(problem.diagnostic(
                    &mut files.sources,
                    (&name, relative),
                    Code::ProjectConfig,
                    Code::ProjectConfig,
                ));
                None
            }
        },
        _ => None,
    };
    if let Some(text) = manifest_text {
        let file = files.sources.add_in_project(
            display_name(&root, &manifest_path),
            relative_name(&root, &manifest_path),
            text.as_str(),
        );
        match toml::from_str::<Manifest>(&text) {
            Ok(m) => {
                manifest = m;
                diags.extend(check_manifest(&manifest, &text, file));
            }
            Err(e) => {
                let span = e.span().map_or(Span::default(), |r| Span::new(r.start, r.end.max(r.start)));
                diags.push(
                    Diagnostic::error(Code::ProjectConfig, format!("malformed aims.toml: {}", e.message().trim()))
                        .at_file(file, span, "here")
                        .help("see docs/language.md, section \"The project file\""),
                );
            }
        }
        let place = crate::measure::logs::ManifestPlace { file, text: &text };
        for section in &manifest.logs {
            match crate::measure::logs::resolve(section, &root, &canonical_root, &place) {
                Ok(log) => files.monitoring.logs.push(log),
                // A log is read when measures are computed: its problems
                // are reported then, not as the project loads.
                Err(d) => files.monitoring.problems.push(*d),
            }
        }
        match manifest.cluster.as_ref().map(|c| c.resolve(file, &text)) {
            Some(Ok(cluster)) => files.monitoring.cluster = Some(cluster),
            Some(Err(d)) => diags.push(*d),
            None => {}
        }
        if let Some(value) = &manifest.project.as_of {
            let as_of = match value {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let as_of = as_of.as_str();
            match Date::parse(as_of) {
                Some(d) => files.as_of = Some(d),
                None => diags.push(
                    Diagnostic::error(Code::ProjectConfig, format!("`as_of = \"{as_of}\"` is not a date")).at_file(
                        file,
                        find_span(&text, as_of),
                        "expected YYYY-MM-DD",
                    ),
                ),
            }
        }
    }
    files.limits = manifest.limits;
    if let Some(name) = &manifest.project.name {
        files.name = name.clone();
    }

    // Policy files.
    let mut policy_paths = Vec::new();
    match &single_file {
        Some(file) => policy_paths.push(file.clone()),
        None => {
            let entries = manifest.project.sources.clone().unwrap_or_else(|| vec![".".into()]);
            for entry in entries {
                let full = root.join(&entry);
                match inside(&canonical_root, &full) {
                    Ok(p) if p.is_dir() => collect_aims(&full, &mut policy_paths, 0),
                    Ok(p) if p.is_file() => policy_paths.push(full),
                    Ok(_) | Err(Inside::Missing) => diags.push(Diagnostic::error(
                        Code::Io,
                        format!("source `{entry}` named in aims.toml does not exist"),
                    )),
                    Err(Inside::Outside) => diags.push(
                        Diagnostic::error(
                            Code::OutsideProject,
                            format!("source `{entry}` is outside the project folder"),
                        )
                        .help("policy sources must be inside the folder that holds aims.toml"),
                    ),
                }
            }
        }
    }
    policy_paths.sort();
    policy_paths.dedup();
    for path in policy_paths {
        let name = display_name(&root, &path);
        let relative = relative_name(&root, &path);
        // A file named on the command line is the operator's choice; one
        // found in the project's folders must really be inside it.
        let real = if single_file.is_some() { Ok(path.clone()) } else { resolve_inside(&canonical_root, &path) };
        let path = match real {
            Ok(real) => real,
            Err(Inside::Outside) => {
                diags.push(outside_diagnostic(&name));
                continue;
            }
            Err(Inside::Missing) => path,
        };
        match read_text(&path, files.limits.max_policy_bytes) {
            Ok(text) => {
                let id = files.sources.add_in_project(name, relative, text);
                files.policy.push(id);
            }
            Err(problem) => {
                diags.push(problem.diagnostic(&mut files.sources, (&name, relative), Code::NotUtf8, Code::TooLarge))
            }
        }
    }

    // Fact files.
    // Each fact file with its section of aims.toml, and the folders its
    // real path must be inside (none for a file named on the command line).
    let mut fact_specs: Vec<(PathBuf, Option<&FactSection>, Vec<PathBuf>)> = Vec::new();
    if options.facts.is_empty() {
        for section in manifest.facts.iter().filter(|s| s.postgres.is_none()) {
            let full = root.join(&section.path);
            match inside(&canonical_root, &full) {
                Ok(_) => fact_specs.push((full, Some(section), vec![canonical_root.clone()])),
                Err(Inside::Missing) => diags.push(Diagnostic::error(
                    Code::Io,
                    format!("fact file `{}` named in aims.toml does not exist", section.path),
                )),
                Err(Inside::Outside) => diags.push(
                    Diagnostic::error(
                        Code::OutsideProject,
                        format!("fact file `{}` is outside the project folder", section.path),
                    )
                    .help("fact sources must be inside the folder that holds aims.toml; pass others with --facts"),
                ),
            }
        }
    } else {
        for given in &options.facts {
            let mut found = Vec::new();
            // Files found in a folder named with --facts stay inside that
            // folder or the project folder; a file named is taken as named.
            let confined_to = if given.is_dir() {
                collect_facts(given, &mut found, 0);
                [canonical_root.clone()].into_iter().chain(given.canonicalize().ok()).collect()
            } else {
                found.push(given.clone());
                Vec::new()
            };
            for path in found {
                let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let section = manifest
                    .facts
                    .iter()
                    .filter(|s| s.postgres.is_none())
                    .find(|s| Path::new(&s.path).file_name().is_some_and(|n| n.to_string_lossy() == file_name))
                    .or(if manifest.facts.len() == 1 { manifest.facts.first() } else { None });
                fact_specs.push((path, section, confined_to.clone()));
            }
        }
    }
    for (path, section, confined_to) in fact_specs {
        let name = display_name(&root, &path);
        let relative = relative_name(&root, &path);
        let path = if confined_to.is_empty() {
            path
        } else {
            let real: Vec<Result<PathBuf, Inside>> =
                confined_to.iter().map(|folder| resolve_inside(folder, &path)).collect();
            match real.iter().find_map(|r| r.as_ref().ok()) {
                Some(real) => real.clone(),
                None if real.iter().any(|r| matches!(r, Err(Inside::Outside))) => {
                    diags.push(outside_diagnostic(&name));
                    continue;
                }
                None => path,
            }
        };
        let format =
            section.and_then(|s| s.format.as_deref()).and_then(format_named).or_else(|| Format::from_path(&name));
        let Some(format) = format else {
            diags.push(
                Diagnostic::error(Code::FactFile, format!("`{name}` is not a fact file"))
                    .help("fact files end in .json, .yaml, .yml, .toml, .csv, .xlsx, .xls, .ods or .sqlite (or set `format` in aims.toml)"),
            );
            continue;
        };
        let limits = files.limits;
        if format.is_table_view() {
            let read = match format {
                Format::Spreadsheet => read_sheet(&path, section, limits.max_fact_bytes),
                _ => read_sqlite(&path, section, limits.max_fact_bytes),
            };
            match read {
                Ok(view) => {
                    let file = files.sources.add_in_project(name, relative, view);
                    files.facts.push(FactInput { file, format, mapping: mapping_of(section) });
                }
                Err(problem) => diags.push(problem.named(&mut files.sources, &name, relative)),
            }
            continue;
        }
        let yaml = format == Format::Yaml && limits.max_yaml_bytes < limits.max_fact_bytes;
        let max = if yaml { limits.max_yaml_bytes } else { limits.max_fact_bytes };
        let declared = section.and_then(|s| s.encoding.as_deref()).and_then(crate::facts::encoding::named);
        match read_bytes(&path, max)
            .and_then(|bytes| crate::facts::encoding::decode(bytes, declared).map_err(ReadProblem::Undecodable))
        {
            Ok(text) => {
                let file = files.sources.add_in_project(name, relative, text);
                files.facts.push(FactInput { file, format, mapping: mapping_of(section) });
            }
            Err(problem) => {
                let too_large = matches!(problem, ReadProblem::TooLarge(..) | ReadProblem::Grew(_));
                let d = problem.diagnostic(&mut files.sources, (&name, relative), Code::FactFile, Code::FactFile);
                diags.push(if yaml && too_large {
                    d.help(
                        "a YAML file is read whole into memory before its records are counted (`max_yaml_bytes` \
                         in the `[limits]` table of aims.toml): export a large inventory as JSON or CSV, or raise \
                         the limit",
                    )
                } else {
                    d
                })
            }
        }
    }
    // PostgreSQL sources: only when aims.toml's sources are read.
    for section in manifest.facts.iter().filter(|_| options.facts.is_empty()) {
        let Some(variable) = section.postgres.as_deref() else { continue };
        let name = format!("postgres:{variable}");
        match read_postgres(section, variable, options.environment, files.limits.max_fact_bytes) {
            Ok(view) => {
                let file = files.sources.add_in_project(name.clone(), std::sync::Arc::from(name.as_str()), view);
                files.facts.push(FactInput { file, format: Format::Postgres, mapping: mapping_of(Some(section)) });
            }
            Err(problem) => diags.push(problem.named(&mut files.sources, &name, std::sync::Arc::from(name.as_str()))),
        }
    }
    if diags.is_empty() {
        Ok(files)
    } else {
        Err((files.sources, diags))
    }
}

/// The mapping of a `[[facts]]` source (the default without one).
fn mapping_of(section: Option<&FactSection>) -> Mapping {
    section
        // Trimmed as CSV headers are: a stray space in aims.toml
        // would otherwise name no column.
        .map(|s| Mapping {
            entity: s.entity.as_deref().map(|e| e.trim().to_string()),
            select: s.select.as_deref().map(|e| e.trim().to_string()),
            rename: s.rename.iter().map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect(),
            ignore: s.ignore.iter().map(|x| x.trim().to_string()).collect(),
            ignore_other_columns: s.ignore_other_columns,
            values: ValueSection {
                trim: s.trim,
                ignore_case: s.ignore_case,
                values: s.values.clone(),
                null: s.null.clone(),
                date_format: s.date_format.clone(),
                list_separator: s.list_separator.clone(),
                number_format: s.number_format.clone(),
                percent_format: s.percent_format.clone(),
            }
            .options(),
            columns: s.columns.iter().map(|(k, v)| (k.trim().to_string(), v.options())).collect(),
            key: s.key.as_ref().map(OneOrMany::list).unwrap_or_default().iter().map(|k| k.trim().to_string()).collect(),
            bad_values: s.bad_values.as_deref().and_then(crate::facts::quality::BadValues::named).unwrap_or_default(),
            label: s.label.clone(),
        })
        .unwrap_or_default()
}

/// Why a spreadsheet or a database gave no table.
enum TableProblem {
    /// The file itself could not be read.
    Read(ReadProblem),
    /// Its bytes are not the table asked for (E0350, E0351).
    Refused(Code, String, String),
}

impl TableProblem {
    fn named(self, sources: &mut Sources, name: &str, relative: std::sync::Arc<str>) -> Diagnostic {
        match self {
            TableProblem::Read(problem) => {
                problem.diagnostic(sources, (name, relative), Code::FactFile, Code::FactFile)
            }
            TableProblem::Refused(code, message, help) => {
                Diagnostic::error(code, format!("`{name}`: {message}")).help(help)
            }
        }
    }
}

/// A spreadsheet's table view.
fn read_sheet(path: &Path, section: Option<&FactSection>, max: u64) -> Result<String, TableProblem> {
    use crate::facts::sheet::{read, SheetError, SheetOptions};
    let bytes = read_bytes(path, max).map_err(TableProblem::Read)?;
    let options = SheetOptions {
        sheet: section.and_then(|s| s.sheet.clone()),
        header_row: section.and_then(|s| s.header_row),
        range: section.and_then(|s| s.range.clone()),
    };
    read(&bytes, &options, max).map_err(|e| {
        let help = match &e {
            SheetError::NotWorkbook(_) => "save it as .xlsx, .xls or .ods (or name its real format with `format`)",
            SheetError::NoSheet { .. } | SheetError::NoSheets => {
                "set `sheet` on its `[[facts]]` source to one of its sheets"
            }
            SheetError::BadRange(_) => "write the range as a spreadsheet does: `range = \"B3:F200\"`",
            SheetError::NoHeader(_) => "set `header_row` (counted from 1) or `range` to where the table is",
            SheetError::Unreadable { .. } => "open and save it again in a spreadsheet program",
            SheetError::TooLarge(_) => "set `range` to the table's cells, or raise `max_fact_bytes` in `[limits]`",
            SheetError::Sprawling { .. } => {
                "open and save it again in a spreadsheet program (which keeps only the cells in use), or raise `max_fact_bytes` in `[limits]`"
            }
        };
        TableProblem::Refused(Code::FactSheet, e.to_string(), help.into())
    })
}

/// What a database source reads: its `table` or its `query`.
fn select_of(section: Option<&FactSection>) -> Result<crate::facts::sql::Select, TableProblem> {
    use crate::facts::sql::Select;
    match (section.and_then(|s| s.table.clone()), section.and_then(|s| s.query.clone())) {
        (Some(table), None) => Ok(Select::Table(table)),
        (None, Some(query)) => Ok(Select::Query(query)),
        _ => Err(TableProblem::Refused(
            Code::FactDatabase,
            "a database source names a `table` or a `query` (one of the two)".into(),
            "set `table = \"systems\"` or `query = \"SELECT … ORDER BY id\"` on its `[[facts]]` source in aims.toml"
                .into(),
        )),
    }
}

/// A SQLite table or query, as its table view.
fn read_sqlite(path: &Path, section: Option<&FactSection>, max: u64) -> Result<String, TableProblem> {
    let select = select_of(section)?;
    // The same checks as any file read: a regular file, within the limit.
    let meta = std::fs::metadata(path).map_err(|e| TableProblem::Read(ReadProblem::Io(io_reason(&e))))?;
    regular(&meta).map_err(TableProblem::Read)?;
    if meta.len() > max {
        return Err(TableProblem::Read(ReadProblem::TooLarge(meta.len(), max)));
    }
    crate::facts::sql::read_sqlite(path, &select, max).map_err(|e| {
        TableProblem::Refused(
            Code::FactDatabase,
            e.to_string(),
            "check the database and its `table` or `query` in aims.toml".into(),
        )
    })
}

/// A PostgreSQL table or query, as its table view.
fn read_postgres(
    section: &FactSection,
    variable: &str,
    environment: Option<fn(&str) -> Option<String>>,
    max: u64,
) -> Result<String, TableProblem> {
    let select = select_of(Some(section))?;
    let Some(connection) = environment.and_then(|read| read(variable)).filter(|c| !c.trim().is_empty()) else {
        return Err(TableProblem::Refused(
            Code::FactDatabase,
            format!("the environment variable `{variable}` that names its connection is not set"),
            format!("set `{variable}` to a connection string (`host=… dbname=… user=…` or `postgresql://…`); keep the password out of aims.toml (in the variable, or in ~/.pgpass)"),
        ));
    };
    crate::facts::sql::read_postgres(&connection, &select, max).map_err(|e| {
        TableProblem::Refused(
            Code::FactDatabase,
            e.to_string(),
            format!("check the server, the connection in `{variable}`, and the `table` or `query` in aims.toml"),
        )
    })
}

/// Why a path is not a file of the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inside {
    /// It does not exist (or cannot be resolved).
    Missing,
    /// Its real path, symbolic links resolved, is outside the folder.
    Outside,
}

/// The one rule for every file read from a project folder: the file's real
/// path (`..` and symbolic links resolved) must be inside `root`, which is
/// canonical. Returns that real path, which is the one to open: the link is
/// not followed a second time.
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, Inside> {
    let canonical = path.canonicalize().map_err(|_| Inside::Missing)?;
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        Err(Inside::Outside)
    }
}

/// E0404 for a file found in a project folder whose real path is outside it.
fn outside_diagnostic(name: &str) -> Diagnostic {
    Diagnostic::error(Code::OutsideProject, format!("`{name}` leads outside the project folder; it was not read"))
        .note("a symbolic link in the project must point to a file inside the project folder")
        .help("copy the file into the project folder (a fact file kept elsewhere can be given with `--facts`)")
}

/// A fact format as `format` in aims.toml names it.
fn format_named(name: &str) -> Option<Format> {
    match name.to_ascii_lowercase().as_str() {
        "json" => Some(Format::Json),
        "yaml" | "yml" => Some(Format::Yaml),
        "toml" => Some(Format::Toml),
        "csv" => Some(Format::Csv),
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" | "spreadsheet" => Some(Format::Spreadsheet),
        "sqlite" => Some(Format::Sqlite),
        _ => None,
    }
}

/// What the TOML types of aims.toml do not say: a known `format` for each
/// fact source, and limits of at least 1.
fn check_manifest(manifest: &Manifest, text: &str, file: FileId) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    // An option value that names nothing: underlined where it is quoted.
    let mut refuse = |value: &str, message: String, label: &str, help: &str| {
        diags.push(
            Diagnostic::error(Code::ProjectConfig, message)
                .at_file(file, find_span(text, &format!("\"{value}\"")), label)
                .help(help),
        );
    };
    for section in &manifest.facts {
        if let Some(format) = section.format.as_deref().filter(|f| format_named(f).is_none()) {
            let message = format!("`format = \"{format}\"` of fact source `{}` is not a fact format", section.path);
            refuse(
                format,
                message,
                "unknown format",
                "the fact formats are json, yaml (or yml), toml, csv, xlsx (or xls, ods) and sqlite",
            );
        }
    }
    for section in &manifest.facts {
        if let Some(label) = section.encoding.as_deref().filter(|l| crate::facts::encoding::named(l).is_none()) {
            let message = format!("`encoding = \"{label}\"` of fact source `{}` is not an encoding", section.path);
            refuse(
                label,
                message,
                "unknown encoding",
                "name an encoding by its WHATWG label: utf-8, utf-16le, utf-16be, windows-1252, iso-8859-15, shift_jis…",
            );
        }
    }
    for section in &manifest.facts {
        if let Some(mode) =
            section.bad_values.as_deref().filter(|m| crate::facts::quality::BadValues::named(m).is_none())
        {
            let message = format!("`bad_values = \"{mode}\"` of fact source `{}` is not a mode", section.path);
            refuse(
                mode,
                message,
                "unknown mode",
                "`bad_values` is \"refuse\" (the default: nothing is evaluated) or \"unknown\" (the cell is unknown evidence)",
            );
        }
    }
    use crate::facts::normalise::{bad_date_format, NumberFormat, PercentFormat};
    for section in &manifest.facts {
        let problem =
            |option: &str, problem: String| format!("`{option}` of fact source `{}`: {problem}", section.path);
        for format in given(&section.date_format, &section.columns, |c| &c.date_format) {
            if let Some(bad) = bad_date_format(format) {
                let help = "write it with strftime's %Y, %m and %d (or %b, %B), e.g. \"%m/%d/%Y\"";
                refuse(format, problem("date_format", bad), "this format", help);
            }
        }
        for format in given(&section.number_format, &section.columns, |c| &c.number_format) {
            if let Err(bad) = NumberFormat::parse(format) {
                let help = "write 1234.5 as the file writes it: \"1,234.5\", \"1.234,5\", \"1 234,5\", \"1234,5\"";
                refuse(format, problem("number_format", bad), "this format", help);
            }
        }
        for format in given(&section.percent_format, &section.columns, |c| &c.percent_format) {
            if let Err(bad) = PercentFormat::parse(format) {
                let help = "write twelve percent as the file writes it without a sign: \"0.12\" or \"12\"; or \"12%\" to require the sign";
                refuse(format, problem("percent_format", bad), "this format", help);
            }
        }
    }
    for section in &manifest.facts {
        diags.extend(check_table_options(section, text, file));
    }
    let limits = manifest.limits;
    for (name, value) in [
        ("max_policy_bytes", limits.max_policy_bytes),
        ("max_fact_bytes", limits.max_fact_bytes),
        ("max_yaml_bytes", limits.max_yaml_bytes),
        ("max_entities", limits.max_entities),
        ("eval_steps", limits.eval_steps),
        ("eval_total_steps", limits.eval_total_steps),
    ] {
        if value == 0 {
            diags.push(
                Diagnostic::error(Code::ProjectConfig, format!("`{name} = 0`: the limit must be at least 1"))
                    .at_file(file, find_key_span(text, name), "here")
                    .help("raise the limit, or remove the line to keep the default"),
            );
        }
    }
    diags
}

/// The options of spreadsheets and databases on the sources they apply to.
fn check_table_options(section: &FactSection, text: &str, file: FileId) -> Vec<Diagnostic> {
    let format = section
        .format
        .as_deref()
        .and_then(format_named)
        .or_else(|| Format::from_path(&section.path))
        .filter(|_| section.postgres.is_none())
        .or(section.postgres.as_ref().map(|_| Format::Postgres));
    let source = if section.path.is_empty() {
        format!("postgres:{}", section.postgres.as_deref().unwrap_or(""))
    } else {
        section.path.clone()
    };
    let mut diags = Vec::new();
    let mut refuse = |option: &str, message: String, help: &str| {
        diags.push(
            Diagnostic::error(Code::ProjectConfig, message)
                .at_file(file, find_key_span(text, option), "here")
                .help(help.to_string()),
        );
    };
    let sheet_only = [
        ("sheet", section.sheet.is_some()),
        ("header_row", section.header_row.is_some()),
        ("range", section.range.is_some()),
    ];
    let database_only = [("table", section.table.is_some()), ("query", section.query.is_some())];
    let is_database = matches!(format, Some(Format::Sqlite | Format::Postgres));
    for (option, given) in sheet_only {
        if given && format != Some(Format::Spreadsheet) {
            refuse(
                option,
                format!("`{option}` of fact source `{source}` applies to spreadsheets only"),
                "remove it, or name a .xlsx, .xls or .ods file",
            );
        }
    }
    for (option, given) in database_only {
        if given && !is_database {
            refuse(
                option,
                format!("`{option}` of fact source `{source}` applies to databases only"),
                "remove it, or name a .sqlite file or a `postgres` variable",
            );
        }
    }
    let is_table = is_database || format == Some(Format::Spreadsheet);
    for (option, given) in [("encoding", section.encoding.is_some()), ("select", section.select.is_some())] {
        if given && is_table {
            refuse(
                option,
                format!("`{option}` of fact source `{source}` applies to text files only"),
                "a spreadsheet or a database says how its text is written and where its rows are: remove it",
            );
        }
    }
    if section.postgres.is_some() && !section.path.is_empty() {
        refuse(
            "postgres",
            format!("fact source `{source}` names both a `path` and a `postgres` connection"),
            "a PostgreSQL source has no file: remove `path`",
        );
    }
    if section.postgres.is_none() && section.path.is_empty() {
        refuse(
            "[[facts]]",
            "a `[[facts]]` source has no `path`".into(),
            "name its file with `path = \"facts/systems.csv\"` (or its connection with `postgres = \"VARIABLE\"`)",
        );
    }
    diags
}

/// An option given for a whole fact source, then for each of its columns.
fn given<'a>(
    source: &'a Option<String>,
    columns: &'a BTreeMap<String, ValueSection>,
    option: fn(&ValueSection) -> &Option<String>,
) -> impl Iterator<Item = &'a String> {
    source.iter().chain(columns.values().flat_map(move |c| option(c).iter()))
}

/// The span of `key` where it starts a line (`key = …`), else nothing.
fn find_key_span(text: &str, key: &str) -> Span {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')) {
            let start = offset + (line.len() - trimmed.len());
            return Span::new(start, start + key.len());
        }
        offset += line.len();
    }
    Span::default()
}

/// The canonical form of `path` if it exists inside `root`. The path is
/// first checked as written (so nothing outside the project is even looked
/// at), then with symlinks resolved.
pub(crate) fn inside(root: &Path, path: &Path) -> Result<PathBuf, Inside> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    if !lexically_normal(&absolute).starts_with(root) {
        return Err(Inside::Outside);
    }
    resolve_inside(root, path)
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What the names of a project's files start with when the project is read
/// from `path` (`examples/x/` for `aims check examples/x`, empty for `.`):
/// strip it to get names relative to the project folder.
pub fn display_prefix(path: &Path) -> String {
    let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new("")) };
    if root == Path::new(".") || root.as_os_str().is_empty() {
        String::new()
    } else {
        format!("{}/", root.to_string_lossy().trim_end_matches('/'))
    }
}

/// The name a file is shown by: as given on the command line, its project
/// folder included; a file outside that folder keeps its own path.
fn display_name(root: &Path, path: &Path) -> String {
    let Ok(shown) = path.strip_prefix(root) else { return path.to_string_lossy().replace('\\', "/") };
    let text = shown.to_string_lossy().replace('\\', "/");
    if root == Path::new(".") || root.as_os_str().is_empty() {
        text
    } else {
        format!("{}/{}", root.to_string_lossy().trim_end_matches('/'), text)
    }
}

/// The name of a file relative to the project folder, given once when it
/// is read (reports print it whatever folder the project was read from); a
/// file outside that folder keeps its own path.
pub(crate) fn relative_name(root: &Path, path: &Path) -> std::sync::Arc<str> {
    let shown = path.strip_prefix(root).unwrap_or(path);
    std::sync::Arc::from(shown.to_string_lossy().replace('\\', "/"))
}

/// `.aims` files under a folder, skipping hidden folders and `target`.
fn collect_aims(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    collect(dir, out, depth, &|p| p.extension().is_some_and(|e| e == "aims"));
}

fn collect_facts(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    collect(dir, out, depth, &|p| Format::from_path(&p.to_string_lossy()).is_some());
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize, wanted: &dyn Fn(&Path) -> bool) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        // Symlinked folders are not followed: they could lead anywhere.
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if path.is_dir() {
            if !is_link {
                collect(&path, out, depth + 1, wanted);
            }
        } else if wanted(&path) {
            // Not only regular files: a FIFO, a device or a link named like
            // a policy or fact file is read (and refused, E0402 or E0404)
            // rather than skipped without a word.
            out.push(path);
        }
    }
}

#[derive(Debug)]
enum ReadProblem {
    Io(String),
    TooLarge(u64, u64),
    /// More than the limit was read from a file whose size was smaller.
    Grew(u64),
    /// A FIFO, a device, a socket or a folder: reading it could block or
    /// never end.
    NotRegular(&'static str),
    NotUtf8 {
        lossy: String,
        at: usize,
    },
    /// A fact file that is not text in the encoding it was read in.
    Undecodable(crate::facts::encoding::Undecodable),
}

impl ReadProblem {
    /// The diagnostic of a file that could not be read, named as shown
    /// and relative to the project.
    fn diagnostic(
        self,
        sources: &mut Sources,
        (name, relative): (&str, std::sync::Arc<str>),
        utf8: Code,
        large: Code,
    ) -> Diagnostic {
        match self {
            ReadProblem::Io(reason) => Diagnostic::error(Code::Io, format!("cannot read `{name}`: {reason}")),
            ReadProblem::TooLarge(size, max) => {
                Diagnostic::error(large, format!("`{name}` is too large: {size} bytes"))
                    .note(format!("the limit is {max} bytes"))
            }
            ReadProblem::Grew(max) => Diagnostic::error(large, format!("`{name}` is too large"))
                .note(format!("more than the limit of {max} bytes was read from it (it grew while being read)")),
            ReadProblem::NotRegular(kind) => {
                Diagnostic::error(Code::Io, format!("cannot read `{name}`: it is {kind}, not a regular file"))
                    .help("name a regular file; reading a FIFO or a device could block or never end")
            }
            ReadProblem::NotUtf8 { lossy, at } => {
                let id = sources.add_in_project(name, relative, lossy.as_str());
                let offset = lossy.char_indices().nth(at).map_or(lossy.len(), |(i, _)| i);
                let end = lossy[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
                Diagnostic::error(utf8, format!("`{name}` is not valid UTF-8"))
                    .at_file(id, Span::new(offset, end), "invalid bytes here")
                    .help("save the file as UTF-8 text; is it a binary file?")
            }
            ReadProblem::Undecodable(problem) => {
                let id = sources.add_in_project(name, relative, problem.lossy.as_str());
                let end = problem.lossy[problem.at..].chars().next().map_or(problem.at, |c| problem.at + c.len_utf8());
                let how = if problem.declared { " (the declared encoding)" } else { "" };
                let mut message = format!("`{name}` is not valid {} text", problem.encoding);
                if let Some(guess) = problem.guess {
                    message.push_str(&format!("; it looks like {guess}"));
                }
                let d = Diagnostic::error(utf8, message).at_file(
                    id,
                    Span::new(problem.at, end),
                    format!("not valid {}{how}", problem.encoding),
                );
                match problem.guess {
                    Some(guess) => d.help(format!(
                        "declare the file's encoding on its `[[facts]]` source in aims.toml: `encoding = \"{guess}\"` (or save it as UTF-8)"
                    )),
                    None if problem.declared => d.help(
                        "check the `encoding` of its `[[facts]]` source in aims.toml, or save the file as UTF-8",
                    ),
                    None => d.help(
                        "save the file as UTF-8, or declare its encoding on its `[[facts]]` source in aims.toml (`encoding = \"windows-1252\"`)",
                    ),
                }
            }
        }
    }
}

/// Reads a regular file of at most `max` bytes. The type is checked before
/// the file is opened (opening a FIFO blocks until a writer comes), again
/// on the opened file (in case it was swapped), and the read itself stops
/// past `max`, whatever the size the file system reported.
fn read_text(path: &Path, max: u64) -> Result<String, ReadProblem> {
    let bytes = read_bytes(path, max)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let chars_before = String::from_utf8_lossy(&bytes[..valid]).chars().count();
            Err(ReadProblem::NotUtf8 { lossy: String::from_utf8_lossy(&bytes).into_owned(), at: chars_before })
        }
    }
}

/// The bytes of a regular file of at most `max` bytes (see [`read_text`]).
fn read_bytes(path: &Path, max: u64) -> Result<Vec<u8>, ReadProblem> {
    use std::io::Read;
    let io = |e: std::io::Error| ReadProblem::Io(io_reason(&e));
    let meta = std::fs::metadata(path).map_err(io)?;
    regular(&meta)?;
    if meta.len() > max {
        return Err(ReadProblem::TooLarge(meta.len(), max));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO put in place since the check returns at once.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        options.custom_flags(0o4000);
        #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd"))]
        options.custom_flags(0x4);
    }
    let file = options.open(path).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    regular(&opened)?;
    // Room for the whole file and one byte more (the read that finds the
    // end): growing the buffer as it fills copied a large fact file over
    // and over, most of the time it took to read it.
    #[cfg(unix)]
    let parts = read_in_parts(&file, opened.len().min(max));
    #[cfg(not(unix))]
    let parts = None;
    let mut bytes = parts.unwrap_or_else(|| Vec::with_capacity(opened.len().min(max).saturating_add(1) as usize));
    // What is left: the whole file, or what it grew by since its length
    // was read.
    let mut rest = (&file).take(max.saturating_add(1) - bytes.len() as u64);
    rest.read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(ReadProblem::Grew(max));
    }
    Ok(bytes)
}

/// Files from this size on are read in parts, one per core.
#[cfg(unix)]
const READ_IN_PARTS_FROM: u64 = 16 << 20;

/// The first `len` bytes of a large `file`, each part of them read by a
/// thread of its own, the file's position moved past them; `None` (and the
/// position unmoved) for a small file, one core, or a file shorter than
/// `len` by now. A fact file of 100,000 systems is about 80 MB, and its
/// reading was mostly the kernel giving the buffer its pages and copying
/// into them, on one core while the others waited for the bytes to parse.
#[cfg(unix)]
fn read_in_parts(file: &std::fs::File, len: u64) -> Option<Vec<u8>> {
    use std::io::Seek;
    use std::os::unix::fs::FileExt;
    let threads = crate::eval::threads(None).min(usize::try_from(len / (READ_IN_PARTS_FROM / 2)).unwrap_or(usize::MAX));
    if len < READ_IN_PARTS_FROM || threads < 2 {
        return None;
    }
    let size = usize::try_from(len).ok()?;
    // Zeroed memory straight from the operating system: its pages are
    // given (and zeroed) where each part is read, on that part's thread.
    let mut bytes = vec![0u8; size];
    let per_part = size.div_ceil(threads);
    let read = std::thread::scope(|scope| {
        let parts: Vec<_> = bytes
            .chunks_mut(per_part)
            .enumerate()
            .map(|(i, part)| scope.spawn(move || file.read_exact_at(part, (i * per_part) as u64)))
            .collect();
        parts.into_iter().all(|part| part.join().is_ok_and(|read| read.is_ok()))
    });
    let mut position = file;
    (read && position.seek(std::io::SeekFrom::Start(len)).is_ok()).then_some(bytes)
}

/// Refuses what is not a regular file.
fn regular(meta: &std::fs::Metadata) -> Result<(), ReadProblem> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Err(ReadProblem::NotRegular("a FIFO (named pipe)"));
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(ReadProblem::NotRegular("a device"));
        }
        if kind.is_socket() {
            return Err(ReadProblem::NotRegular("a socket"));
        }
    }
    Err(ReadProblem::NotRegular(if kind.is_dir() { "a folder" } else { "something other than a file" }))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string().to_lowercase(),
    }
}

/// Where `"value"` is quoted in a text (aims.toml), else where `value` is.
pub(crate) fn find_quoted(text: &str, value: &str) -> Span {
    let quoted = find_span(text, &format!("\"{value}\""));
    if quoted == Span::default() {
        find_span(text, value)
    } else {
        quoted
    }
}

fn find_span(text: &str, needle: &str) -> Span {
    text.find(needle).map_or(Span::default(), |i| Span::new(i, i + needle.len()))
}

#[cfg(all(test, unix))]
mod read_tests {
    use std::io::{Read, Write};

    use super::{read_bytes, read_in_parts, READ_IN_PARTS_FROM};

    /// A file past the size read in parts, no two neighbouring parts alike.
    fn large_file() -> (tempfile::NamedTempFile, Vec<u8>) {
        let content: Vec<u8> = (0..READ_IN_PARTS_FROM as usize + 12_345).map(|i| (i * 31 % 251) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        file.write_all(&content).expect("written");
        (file, content)
    }

    #[test]
    fn a_large_file_read_in_parts_is_the_whole_file() {
        let (file, content) = large_file();
        let read = read_bytes(file.path(), u64::MAX / 2).expect("read");
        assert!(read == content, "the parts are put back in their order");
        assert!(matches!(read_bytes(file.path(), content.len() as u64 - 1), Err(super::ReadProblem::TooLarge(..))));
    }

    /// What the file grew by after its length was read is read after the
    /// parts; a file shorter than its length by then is read as it is.
    #[test]
    fn the_parts_leave_the_rest_of_the_file_to_be_read() {
        let (file, content) = large_file();
        let opened = std::fs::File::open(file.path()).expect("opened");
        let known = content.len() as u64 - 100;
        let mut bytes = read_in_parts(&opened, known).expect("read in parts");
        assert_eq!(bytes.len() as u64, known);
        (&opened).read_to_end(&mut bytes).expect("the rest");
        assert!(bytes == content);
        let opened = std::fs::File::open(file.path()).expect("opened");
        assert!(read_in_parts(&opened, content.len() as u64 + 1).is_none(), "shorter than said: not read in parts");
        let mut whole = Vec::new();
        (&opened).read_to_end(&mut whole).expect("read from the start");
        assert!(whole == content, "the position is where it was");
    }
}
