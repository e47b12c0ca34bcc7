//! Log sources: the `[[logs]]` tables of `aims.toml`, each naming the files
//! (one file, a folder, or a glob; Hive-style `key=value` folders become
//! columns) whose rows are records of one type, and the fingerprint that
//! tells whether they changed.
//!
//! Every file of a log must really be inside the project folder: the
//! folder a runner lists is walked here first, symbolic links resolved,
//! and a single entry that leads outside refuses the whole source.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, FileId};
use crate::project::{inside, relative_name, resolve_inside, Inside};

/// Most files one log source may have.
pub const MAX_LOG_FILES: usize = 100_000;

/// How deep a log's folders may nest.
const MAX_DEPTH: usize = 16;

/// One `[[logs]]` table of aims.toml.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogSection {
    /// The record type of the rows.
    pub record: String,
    /// A file, a folder or a glob, relative to the project folder.
    pub path: String,
    /// `parquet`, `csv` or `ndjson`; by default the files' extension.
    #[serde(default)]
    pub format: Option<String>,
}

/// A log file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Apache Parquet.
    Parquet,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl LogFormat {
    /// The format `format = "…"` names.
    pub fn named(name: &str) -> Option<LogFormat> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" => Some(LogFormat::Parquet),
            "csv" => Some(LogFormat::Csv),
            "ndjson" | "jsonl" | "json" => Some(LogFormat::Ndjson),
            _ => None,
        }
    }

    /// The format of a file, by its extension.
    pub fn of_file(path: &Path) -> Option<LogFormat> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "parquet" => Some(LogFormat::Parquet),
            "csv" => Some(LogFormat::Csv),
            "ndjson" | "jsonl" => Some(LogFormat::Ndjson),
            _ => None,
        }
    }

    /// The extension of its files.
    pub fn extension(self) -> &'static str {
        match self {
            LogFormat::Parquet => "parquet",
            LogFormat::Csv => "csv",
            LogFormat::Ndjson => "ndjson",
        }
    }
}

/// One file of a log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogFile {
    /// Its real path.
    pub path: PathBuf,
    /// Its name relative to the project folder.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last modified, in nanoseconds since the Unix epoch.
    pub modified: u128,
}

/// A log: the files whose rows are records of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSource {
    /// The record type of the rows.
    pub record: String,
    /// The files' format.
    pub format: LogFormat,
    /// The path as aims.toml writes it.
    pub location: String,
    /// The real folder holding the files (or the one file), inside the
    /// project folder; Hive-style partitions are read relative to it.
    pub table: PathBuf,
    /// Whether `table` is a folder.
    pub is_folder: bool,
    /// The glob the files match, relative to `table`.
    pub glob: Option<String>,
    /// The files, in path order.
    pub files: Vec<LogFile>,
    /// Columns read from `key=value` folders, in path order.
    pub partitions: Vec<String>,
}

impl LogSource {
    /// A hash of every file's name, size and modification time: equal
    /// fingerprints mean the runner would read the same rows.
    pub fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.record, self.format, &self.location, &self.files, &self.partitions).hash(&mut h);
        h.finish()
    }

    /// The files' names for a trace: the first few, and how many more.
    pub fn files_shown(&self) -> String {
        const SHOWN: usize = 3;
        let mut names: Vec<&str> = self.files.iter().take(SHOWN).map(|f| f.name.as_str()).collect();
        let more = self.files.len().saturating_sub(SHOWN);
        let more = (more > 0).then(|| format!("{more} more"));
        names.extend(more.as_deref());
        names.join(", ")
    }
}

/// Where a problem with a `[[logs]]` table is pointed at.
pub(crate) struct ManifestPlace<'a> {
    pub file: FileId,
    pub text: &'a str,
}

impl ManifestPlace<'_> {
    fn error(&self, code: Code, message: String, quoted: &str, label: &str) -> Diagnostic {
        let span = crate::project::find_quoted(self.text, quoted);
        Diagnostic::error(code, message).at_file(self.file, span, label)
    }
}

/// Resolves a `[[logs]]` table to its files.
pub(crate) fn resolve(
    section: &LogSection,
    root: &Path,
    canonical_root: &Path,
    at: &ManifestPlace,
) -> Result<LogSource, Box<Diagnostic>> {
    resolved(section, root, canonical_root, at).map_err(Box::new)
}

// The error is boxed once, by `resolve`, not at each of its many returns.
#[allow(clippy::result_large_err)]
fn resolved(
    section: &LogSection,
    root: &Path,
    canonical_root: &Path,
    at: &ManifestPlace,
) -> Result<LogSource, Diagnostic> {
    let written = section.path.trim();
    let format = match section.format.as_deref() {
        Some(name) => Some(LogFormat::named(name).ok_or_else(|| {
            at.error(
                Code::ProjectConfig,
                format!("`format = \"{name}\"` of log `{written}` is not a log format"),
                name,
                "unknown format",
            )
            .help("the log formats are parquet, csv and ndjson")
        })?),
        // The path's own extension (`logs/*.parquet`), else the files'.
        None => LogFormat::of_file(Path::new(written)),
    };
    let glob_at = written.find(['*', '?', '[']);
    let (base, glob) = match glob_at {
        Some(i) => {
            let cut = written[..i].rfind('/').map_or(0, |s| s + 1);
            (&written[..cut], Some(written[cut..].to_string()))
        }
        None => (written, None),
    };
    let full = root.join(if base.is_empty() { "." } else { base });
    let table = match inside(canonical_root, &full) {
        Ok(real) => real,
        Err(Inside::Missing) => {
            return Err(at
                .error(
                    Code::Io,
                    format!("log `{written}` named in aims.toml does not exist"),
                    written,
                    "no such file or folder",
                )
                .help("log paths are relative to the folder that holds aims.toml"))
        }
        Err(Inside::Outside) => return Err(at
            .error(Code::OutsideProject, format!("log `{written}` is outside the project folder"), written, "outside")
            .help(
                "logs must be inside the folder that holds aims.toml (a link to the data is not followed out of it)",
            )),
    };
    let pattern = match &glob {
        Some(g) => Some(glob::Pattern::new(g).map_err(|e| {
            at.error(Code::ProjectConfig, format!("`{written}` is not a glob: {}", e.msg), written, "this pattern")
                .help("`*` matches within a folder, `**` across folders: `logs/**/*.parquet`")
        })?),
        None => None,
    };
    let is_folder = table.is_dir();
    let mut found = Vec::new();
    if is_folder {
        walk(&table, canonical_root, &mut found, 0).map_err(|stop| match stop {
            Stop::Outside(outside) => {
                let shown = outside.strip_prefix(canonical_root).unwrap_or(&outside).display().to_string();
                at.error(
                    Code::OutsideProject,
                    format!("log `{written}` holds `{shown}`, which leads outside the project folder"),
                    written,
                    "this log",
                )
                .note("every file of a log folder must really be inside the project folder; nothing of this log was read")
            }
            Stop::TooMany => at.error(
                Code::TooLarge,
                format!("log `{written}` holds more than {MAX_LOG_FILES} entries, or folders nested more than {MAX_DEPTH} deep"),
                written,
                "this log",
            )
            .note("every entry of a log folder is checked before any is read; nothing of this log was read"),
        })?;
    } else if glob.is_some() {
        return Err(at.error(Code::Io, format!("the folder of log `{written}` is a file"), written, "not a folder"));
    } else {
        found.push(table.clone());
    }
    let options = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
    let mut files = Vec::new();
    let mut format = format;
    for path in found {
        let relative = path.strip_prefix(&table).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if let Some(p) = &pattern {
            if !p.matches_with(&relative, options) {
                continue;
            }
        }
        let of_file = LogFormat::of_file(&path);
        match (format, of_file) {
            (Some(f), Some(g)) if f != g && is_folder => continue,
            (None, Some(g)) => format = Some(g),
            (None, None) if is_folder => continue,
            _ => {}
        }
        let meta = std::fs::metadata(&path).map_err(|e| {
            at.error(Code::Io, format!("cannot read log file `{}`: {e}", path.display()), written, "this log")
        })?;
        if !meta.is_file() {
            return Err(at.error(
                Code::Io,
                format!("`{}` of log `{written}` is not a regular file", relative_name(canonical_root, &path)),
                written,
                "this log",
            ));
        }
        let modified =
            meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        files.push(LogFile {
            name: relative_name(canonical_root, &path).to_string(),
            path,
            size: meta.len(),
            modified,
        });
        if files.len() > MAX_LOG_FILES {
            return Err(at.error(
                Code::TooLarge,
                format!("log `{written}` has more than {MAX_LOG_FILES} files"),
                written,
                "this log",
            ));
        }
    }
    let Some(format) = format else {
        return Err(at
            .error(Code::ProjectConfig, format!("the format of log `{written}` is not known"), written, "which format?")
            .help("name it: `format = \"parquet\"` (or csv, ndjson), or give the files their extension"));
    };
    if files.is_empty() {
        return Err(at
            .error(Code::Io, format!("log `{written}` has no `.{}` file", format.extension()), written, "no file")
            .help("a log without rows measures nothing: check the path, or remove the `[[logs]]` table"));
    }
    let partitions = if is_folder { partitions_of(&table, &files, written, at)? } else { Vec::new() };
    Ok(LogSource {
        record: section.record.trim().to_string(),
        format,
        location: written.to_string(),
        table,
        is_folder,
        glob,
        files,
        partitions,
    })
}

/// The Hive-style partition columns of a folder's files: every file must
/// sit under the same `key=value` folders.
#[allow(clippy::result_large_err)] // boxed by `resolve`
fn partitions_of(
    table: &Path,
    files: &[LogFile],
    written: &str,
    at: &ManifestPlace,
) -> Result<Vec<String>, Diagnostic> {
    let keys = |file: &LogFile| -> Vec<String> {
        let relative = file.path.strip_prefix(table).unwrap_or(&file.path);
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        parts.pop();
        parts.iter().filter_map(|p| p.split_once('=').map(|(k, _)| k.to_string())).collect()
    };
    let first = keys(&files[0]);
    for file in &files[1..] {
        if keys(file) != first {
            return Err(at
                .error(
                    Code::ProjectConfig,
                    format!(
                        "the files of log `{written}` are partitioned differently (`{}` and `{}`)",
                        files[0].name, file.name
                    ),
                    written,
                    "this log",
                )
                .help("every file of a partitioned log sits under the same `key=value` folders, in the same order"));
        }
    }
    Ok(first)
}

/// Why a log folder's walk stopped.
enum Stop {
    /// This entry leads outside the project folder.
    Outside(PathBuf),
    /// More entries, or deeper folders, than a log may have: the rest
    /// could not be checked, so none is read.
    TooMany,
}

/// Every file under a folder (hidden ones skipped), each checked to be
/// inside the project; the first entry that leads outside is the error.
fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), Stop> {
    if depth > MAX_DEPTH || out.len() > MAX_LOG_FILES {
        return Err(Stop::TooMany);
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let real = match resolve_inside(root, &path) {
            Ok(real) => real,
            Err(Inside::Outside) => return Err(Stop::Outside(path)),
            Err(Inside::Missing) => continue,
        };
        if real.is_dir() {
            walk(&path, root, out, depth + 1)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> (FileId, &'static str) {
        (FileId(0), "[[logs]]\nrecord = \"Decision\"\npath = \"logs\"\n")
    }

    fn resolved(dir: &Path, path: &str, format: Option<&str>) -> Result<LogSource, Box<Diagnostic>> {
        let (file, text) = place();
        let section = LogSection { record: "Decision".into(), path: path.into(), format: format.map(String::from) };
        let root = dir.canonicalize().unwrap();
        resolve(&section, dir, &root, &ManifestPlace { file, text })
    }

    #[test]
    fn a_partitioned_folder_is_its_files_with_their_partition_columns() {
        let dir = tempfile::tempdir().unwrap();
        for (part, name) in [("model=m1", "a.parquet"), ("model=m2", "b.parquet"), ("model=m2", "c.parquet")] {
            std::fs::create_dir_all(dir.path().join("logs").join(part)).unwrap();
            std::fs::write(dir.path().join("logs").join(part).join(name), b"x").unwrap();
        }
        std::fs::write(dir.path().join("logs/_SUCCESS"), b"").unwrap();
        let log = resolved(dir.path(), "logs", None).unwrap();
        assert_eq!(log.format, LogFormat::Parquet);
        assert_eq!(log.partitions, vec!["model".to_string()]);
        let names: Vec<&str> = log.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["logs/model=m1/a.parquet", "logs/model=m2/b.parquet", "logs/model=m2/c.parquet"]);
        let before = log.fingerprint();
        std::fs::write(dir.path().join("logs/model=m1/a.parquet"), b"xy").unwrap();
        assert_ne!(resolved(dir.path(), "logs", None).unwrap().fingerprint(), before);
    }

    #[test]
    fn a_glob_keeps_only_the_files_it_matches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        for name in ["2026-10.csv", "2026-11.csv", "notes.csv"] {
            std::fs::write(dir.path().join("logs").join(name), b"a\n1\n").unwrap();
        }
        let log = resolved(dir.path(), "logs/2026-*.csv", None).unwrap();
        assert_eq!(log.format, LogFormat::Csv);
        assert_eq!(log.glob.as_deref(), Some("2026-*.csv"));
        assert_eq!(log.files.len(), 2);
        let err = resolved(dir.path(), "logs/1999-*.csv", None).unwrap_err();
        assert!(err.message.contains("has no `.csv` file"), "{}", err.message);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_project_refuses_the_whole_log() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.parquet"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("logs/a.parquet"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.parquet"), dir.path().join("logs/b.parquet")).unwrap();
        let err = resolved(dir.path(), "logs", None).unwrap_err();
        assert_eq!(err.code, Code::OutsideProject);
        assert!(err.message.contains("leads outside the project folder"), "{}", err.message);
        let err = resolved(dir.path(), "../x", None).unwrap_err();
        assert_eq!(err.code, Code::OutsideProject);
    }

    #[test]
    fn a_folder_too_deep_to_check_whole_is_refused_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().join("logs");
        for i in 0..=MAX_DEPTH + 1 {
            deep = deep.join(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("a.parquet"), b"x").unwrap();
        std::fs::write(dir.path().join("logs/b.parquet"), b"x").unwrap();
        let err = resolved(dir.path(), "logs", None).unwrap_err();
        assert_eq!(err.code, Code::TooLarge);
        assert!(err.message.contains("nested more than 16 deep"), "{}", err.message);
    }

    #[test]
    fn a_missing_log_or_an_unknown_format_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolved(dir.path(), "logs", None).unwrap_err();
        assert!(err.message.contains("does not exist"), "{}", err.message);
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("logs/a.parquet"), b"x").unwrap();
        let err = resolved(dir.path(), "logs", Some("avro")).unwrap_err();
        assert!(err.message.contains("is not a log format"), "{}", err.message);
    }
}
