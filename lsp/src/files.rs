//! Which document is which engine file, and opening the project.
//!
//! The workspace folder that holds an `aims.toml` is loaded as a project
//! (its policy files, fact files and settings); without one, every `.aims`
//! document the editor opens joins one program on its own. Files are read
//! from disk only inside the project folder: the engine's project reader
//! confines every path it opens, and fact files reported changed by the
//! editor are read only if they are fact files of the project.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aims_lang::diag::{Diagnostic, FileId, Sources};
use aims_lang::project::{self, LoadOptions};
use aims_lang::Engine;
use tower_lsp_server::ls_types::Uri;

/// What a file is to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A policy file of the project, read from disk.
    Policy,
    /// A policy document opened by the editor outside the project.
    Loose,
    /// A fact file of the project.
    Facts,
    /// `aims.toml`.
    Manifest,
}

/// Documents and files, both ways.
///
/// A document is found by its path (canonical when the file exists), not
/// by the spelling of its URI: clients percent-encode and case drive
/// letters differently, and a folder may be opened through a symbolic
/// link. Diagnostics go out under the URI the client used.
#[derive(Clone, Debug, Default)]
pub struct Files {
    by_key: HashMap<String, (FileId, FileKind)>,
    by_id: HashMap<FileId, (Uri, FileKind)>,
}

/// The key of a document: its canonical path, its path, or its URI.
fn key(uri: &Uri) -> String {
    match path_of(uri) {
        Some(path) => path.canonicalize().unwrap_or(path).to_string_lossy().into_owned(),
        None => uri.as_str().to_string(),
    }
}

impl Files {
    pub fn insert(&mut self, uri: Uri, file: FileId, kind: FileKind) {
        self.by_key.insert(key(&uri), (file, kind));
        self.by_id.insert(file, (uri, kind));
    }

    pub fn get(&self, uri: &Uri) -> Option<(FileId, FileKind)> {
        self.by_key.get(&key(uri)).copied()
    }

    /// Takes the client's spelling of a known document's URI.
    pub fn adopt(&mut self, uri: &Uri) {
        if let Some((file, kind)) = self.get(uri) {
            self.by_id.insert(file, (uri.clone(), kind));
        }
    }

    pub fn uri(&self, file: FileId) -> Option<&Uri> {
        self.by_id.get(&file).map(|(uri, _)| uri)
    }

    /// Every known file with its document.
    pub fn iter(&self) -> impl Iterator<Item = (&Uri, FileId, FileKind)> {
        self.by_id.iter().map(|(file, (uri, kind))| (uri, *file, *kind))
    }
}

/// A project opened for the editor.
pub struct Opened {
    pub engine: Engine,
    pub files: Files,
    /// The project folder, canonical; `None` without `aims.toml`.
    pub root: Option<PathBuf>,
    /// Problems of loading: facts that did not load, a malformed
    /// `aims.toml` (with the sources they point into).
    pub problems: Vec<Diagnostic>,
    pub problem_sources: Sources,
}

/// Opens the project in `folder` if it has an `aims.toml`, else an engine
/// with no files (documents are added as they are opened).
pub fn open(folder: Option<&Path>) -> Opened {
    let project_root = folder.and_then(|f| f.canonicalize().ok()).filter(|f| f.join("aims.toml").is_file());
    let Some(root) = project_root else { return empty(Vec::new(), Sources::new()) };
    let options = LoadOptions { environment: Some(project::process_environment), ..LoadOptions::default() };
    match project::read_project(&root, &options) {
        Ok(files) => {
            let policy = files.policy.clone();
            // Spreadsheets and databases are read once, as their table
            // view: an editor's text of the file is not that view.
            let fact_files: Vec<FileId> =
                files.facts.iter().filter(|f| !f.format.is_table_view()).map(|f| f.file).collect();
            let (engine, problems) = Engine::open(files);
            let mut map = Files::default();
            for (file, source) in engine.sources().iter() {
                let kind = if policy.contains(&file) {
                    FileKind::Policy
                } else if fact_files.contains(&file) {
                    FileKind::Facts
                } else if source.name.ends_with("aims.toml") {
                    FileKind::Manifest
                } else {
                    continue;
                };
                if let Some(uri) = Uri::from_file_path(Path::new(&source.name)) {
                    map.insert(uri, file, kind);
                }
            }
            let problem_sources = engine.sources().clone();
            Opened { engine, files: map, root: Some(root), problems, problem_sources }
        }
        // A malformed aims.toml: say so there, and carry on without a project.
        Err((sources, diagnostics)) => empty(diagnostics, sources),
    }
}

fn empty(problems: Vec<Diagnostic>, problem_sources: Sources) -> Opened {
    let (engine, _) = Engine::open(project::ProjectFiles::default());
    let mut files = Files::default();
    // The manifest's own problems point into it: keep its document known.
    for (file, source) in problem_sources.iter() {
        if let Some(uri) = Uri::from_file_path(Path::new(&source.name)) {
            files.insert(uri, file, FileKind::Manifest);
        }
    }
    Opened { engine, files, root: None, problems, problem_sources }
}

/// The path of a `file:` URI.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// A file inside the project folder, read if it is not too large. Inside
/// is the project reader's rule ([`project::resolve_inside`]): the real
/// path, symbolic links resolved, is under the canonical `root`.
pub fn read_inside(root: &Path, path: &Path, limit: u64) -> Option<String> {
    let canonical = project::resolve_inside(root, path).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    if meta.len() > limit {
        return None;
    }
    std::fs::read_to_string(&canonical).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_with_aims_toml_is_a_project() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("aims.toml"), "[project]\nname = \"t\"\n").expect("write");
        std::fs::write(dir.path().join("p.aims"), "control c { require true }\n").expect("write");
        let opened = open(Some(dir.path()));
        assert!(opened.root.is_some());
        let kinds: Vec<FileKind> = opened.files.iter().map(|(_, _, k)| k).collect();
        assert!(kinds.contains(&FileKind::Policy) && kinds.contains(&FileKind::Manifest), "{kinds:?}");
        assert_eq!(opened.engine.policy_files().len(), 1);
    }

    #[test]
    fn a_folder_without_aims_toml_opens_empty() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("p.aims"), "control c { require true }\n").expect("write");
        let opened = open(Some(dir.path()));
        assert!(opened.root.is_none());
        assert!(opened.engine.policy_files().is_empty());
    }

    #[test]
    fn a_malformed_manifest_is_reported_on_itself() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("aims.toml"), "[project\n").expect("write");
        let opened = open(Some(dir.path()));
        assert_eq!(opened.problems.len(), 1);
        let (uri, _, kind) = opened.files.iter().next().expect("the manifest is known");
        assert_eq!(kind, FileKind::Manifest);
        assert!(uri.as_str().ends_with("aims.toml"));
    }

    #[cfg(unix)]
    #[test]
    fn documents_are_found_by_path_whatever_the_uri_spelling() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let real = dir.path().join("my project");
        std::fs::create_dir(&real).expect("mkdir");
        std::fs::write(real.join("p.aims"), "").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let mut files = Files::default();
        let canonical = Uri::from_file_path(real.canonicalize().expect("canonical").join("p.aims")).expect("uri");
        files.insert(canonical, FileId(7), FileKind::Policy);
        let through_link = Uri::from_file_path(link.join("p.aims")).expect("uri");
        assert_eq!(files.get(&through_link), Some((FileId(7), FileKind::Policy)));
        let spelled: Uri = canonical_spelling(&real.join("p.aims"));
        assert_eq!(files.get(&spelled), Some((FileId(7), FileKind::Policy)), "{}", spelled.as_str());
        files.adopt(&through_link);
        assert_eq!(files.uri(FileId(7)), Some(&through_link), "diagnostics go out under the client's URI");
    }

    /// A URI with every character of the path percent-encoded but `/`.
    #[cfg(unix)]
    fn canonical_spelling(path: &Path) -> Uri {
        let encoded: String = path
            .to_string_lossy()
            .bytes()
            .map(|b| if b == b'/' { "/".to_string() } else { format!("%{b:02X}") })
            .collect();
        format!("file://{encoded}").parse().expect("a URI")
    }

    #[test]
    fn files_outside_the_root_are_not_read() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let inside = dir.path().join("in");
        std::fs::create_dir(&inside).expect("mkdir");
        std::fs::write(dir.path().join("secret.yaml"), "x: 1").expect("write");
        std::fs::write(inside.join("facts.yaml"), "x: 2").expect("write");
        let root = inside.canonicalize().expect("canonical");
        assert_eq!(read_inside(&root, &inside.join("facts.yaml"), 100).as_deref(), Some("x: 2"));
        assert_eq!(read_inside(&root, &inside.join("../secret.yaml"), 100), None);
        assert_eq!(read_inside(&root, &inside.join("facts.yaml"), 1), None, "too large");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_inside_the_project_to_a_file_outside_is_not_read() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join("policy")).expect("mkdir");
        let secret = dir.path().join("secret.env");
        std::fs::write(&secret, "API_TOKEN=hunter2\n").expect("write");
        std::fs::write(project.join("aims.toml"), "[project]\nname = \"t\"\nsources = [\"policy\"]\n").expect("write");
        std::fs::write(project.join("policy/p.aims"), "control c { require true }\n").expect("write");
        std::os::unix::fs::symlink(&secret, project.join("policy/leak.aims")).expect("symlink");
        let root = project.canonicalize().expect("canonical");
        assert_eq!(read_inside(&root, &project.join("policy/leak.aims"), 1000), None);

        let opened = open(Some(&project));
        let texts: Vec<String> = opened.engine.sources().iter().map(|(_, s)| s.text.to_string()).collect();
        assert!(texts.iter().all(|t| !t.contains("API_TOKEN")), "the secret was read: {texts:?}");
        let problems: Vec<String> =
            opened.problems.iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect();
        assert!(problems.iter().any(|p| p.starts_with("E0404") && p.contains("leak.aims")), "{problems:?}");
    }
}
