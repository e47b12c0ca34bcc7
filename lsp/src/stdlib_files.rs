//! The standard library's modules as files an editor can open: go to
//! definition on `A.6.2.4` or `9.2.1` lands in the stdlib source that
//! declares it.
//!
//! The modules are compiled into the binary, so there may be no file to
//! point at. The server uses a copy on disk when one holds exactly the
//! texts the binary has (a `stdlib` folder beside the binary, or in
//! `../share/aims/` from it); else it
//! writes the texts once, read-only, under the temporary folder, in a
//! folder named by the version and a hash of the texts, so that every
//! server of the same build shares it and another build never reads it.
//! A file is only ever handed out after its content was checked against
//! the binary's text: positions in it are positions in the program.
//!
//! A stdlib file the editor opens is not a policy document: the server
//! leaves it out of the program (it is declared once, by the engine).

use std::hash::Hasher as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aims_lang::diag::{FileId, Sources};

/// How the engine names a stdlib module in its [`Sources`].
const PREFIX: &str = "<stdlib>/";

/// One stdlib module.
#[derive(Clone, Debug)]
struct Module {
    file: FileId,
    /// Its path under the stdlib folder (`iso42001/annex_a.aims`).
    relative: String,
    text: std::sync::Arc<String>,
}

/// Where the stdlib modules are on disk, found (or written) at the first
/// question.
#[derive(Debug)]
pub struct StdlibFiles {
    modules: Vec<Module>,
    /// Folders that may hold the stdlib source, in order of preference.
    candidates: Vec<PathBuf>,
    /// Where the copy is written when no candidate matches.
    cache: PathBuf,
    root: OnceLock<Option<PathBuf>>,
}

impl StdlibFiles {
    /// The stdlib modules of `sources`, looked for where the binary is and
    /// cached under the temporary folder.
    pub fn new(sources: &Sources) -> StdlibFiles {
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
            candidates.push(dir.join("stdlib"));
            candidates.push(dir.join("../share/aims/stdlib"));
        }
        StdlibFiles::with_places(sources, candidates, std::env::temp_dir())
    }

    /// [`StdlibFiles::new`] with the folders to look in and the folder to
    /// cache the copy under.
    pub fn with_places(sources: &Sources, candidates: Vec<PathBuf>, cache_under: PathBuf) -> StdlibFiles {
        let modules: Vec<Module> = sources
            .iter()
            .filter_map(|(file, source)| {
                let relative = source.name.strip_prefix(PREFIX)?;
                Some(Module { file, relative: relative.to_string(), text: source.text.clone() })
            })
            .collect();
        let mut hash = fnv::FnvHasher::default();
        for m in &modules {
            hash.write(m.relative.as_bytes());
            hash.write(&[0]);
            hash.write(m.text.as_bytes());
            hash.write(&[0]);
        }
        let cache = cache_under.join(format!("aims-stdlib-{}-{:016x}", env!("CARGO_PKG_VERSION"), hash.finish()));
        StdlibFiles { modules, candidates, cache, root: OnceLock::new() }
    }

    /// The folder holding every module as the binary has it: a matching
    /// copy on disk, else the cache (written now if need be).
    fn root(&self) -> Option<&Path> {
        self.root
            .get_or_init(|| {
                if self.modules.is_empty() {
                    return None;
                }
                let found = self.candidates.iter().find(|dir| self.holds_every_module(dir));
                match found {
                    Some(dir) => dir.canonicalize().ok(),
                    None => self.write_cache(),
                }
            })
            .as_deref()
    }

    fn holds_every_module(&self, dir: &Path) -> bool {
        self.modules.iter().all(|m| std::fs::read(dir.join(&m.relative)).is_ok_and(|t| t == m.text.as_bytes()))
    }

    /// Writes the modules under the cache folder (each through a temporary
    /// file renamed into place, so servers writing at once never see half
    /// a file), read-only; `None` if that fails.
    fn write_cache(&self) -> Option<PathBuf> {
        for m in &self.modules {
            let path = self.cache.join(&m.relative);
            if std::fs::read(&path).is_ok_and(|t| t == m.text.as_bytes()) {
                continue;
            }
            let dir = path.parent()?;
            std::fs::create_dir_all(dir).ok()?;
            let mut file = tempfile::NamedTempFile::new_in(dir).ok()?;
            file.write_all(m.text.as_bytes()).ok()?;
            let mut permissions = file.as_file().metadata().ok()?.permissions();
            permissions.set_readonly(true);
            file.as_file().set_permissions(permissions).ok()?;
            file.persist(&path).ok()?;
        }
        // Checked again: the folder is shared with whoever can write there.
        self.holds_every_module(&self.cache).then(|| self.cache.canonicalize().ok()).flatten()
    }

    /// The file on disk of a stdlib module of the engine.
    pub fn path(&self, file: FileId) -> Option<PathBuf> {
        let module = self.modules.iter().find(|m| m.file == file)?;
        Some(self.root()?.join(&module.relative))
    }

    /// The text of a stdlib module of the engine.
    pub fn text(&self, file: FileId) -> Option<&str> {
        self.modules.iter().find(|m| m.file == file).map(|m| m.text.as_str())
    }

    /// Whether `path` is a stdlib module: a file by a module's name that
    /// holds its text (the files [`StdlibFiles::path`] hands out, and any
    /// other copy, which would only declare everything twice). Writes
    /// nothing.
    pub fn is_stdlib(&self, path: &Path) -> bool {
        self.modules
            .iter()
            .any(|m| path.ends_with(&m.relative) && std::fs::read(path).is_ok_and(|t| t == m.text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Sources {
        let mut sources = Sources::new();
        sources.add("policy.aims", "control c { require true }\n");
        sources.add("<stdlib>/iso42001/annex_a.aims", "requirement A.2 \"Policies\"\n");
        sources.add("<stdlib>/aims/records.aims", "record R { ok: Bool }\n");
        sources
    }

    #[test]
    fn without_a_copy_on_disk_the_modules_are_written_once_read_only() {
        let cache = tempfile::tempdir().expect("a folder");
        let files = StdlibFiles::with_places(&sources(), vec![cache.path().join("nowhere")], cache.path().into());
        let path = files.path(FileId(1)).expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("a file"), "requirement A.2 \"Policies\"\n");
        assert!(std::fs::metadata(&path).expect("meta").permissions().readonly());
        assert!(path.ends_with("iso42001/annex_a.aims"), "{}", path.display());
        let name = path.parent().and_then(Path::parent).and_then(Path::file_name).expect("the cache folder");
        assert!(name.to_string_lossy().starts_with(&format!("aims-stdlib-{}-", env!("CARGO_PKG_VERSION"))));
        assert!(files.is_stdlib(&path));
        assert!(files.path(FileId(0)).is_none(), "a policy file is not a stdlib module");

        // Another server of the same build finds the same files; a build
        // with other texts writes elsewhere.
        let again = StdlibFiles::with_places(&sources(), Vec::new(), cache.path().into());
        assert_eq!(again.path(FileId(1)), Some(path.clone()));
        let mut changed = sources();
        changed.set_text(FileId(2), "record R { ok: Bool, more: Int }\n");
        let other = StdlibFiles::with_places(&changed, Vec::new(), cache.path().into());
        assert_ne!(other.path(FileId(1)), Some(path.clone()));
        let records = files.path(FileId(2)).expect("written");
        assert!(files.is_stdlib(&records) && !other.is_stdlib(&records), "another text is another module");
    }

    #[test]
    fn a_copy_on_disk_is_used_only_if_it_is_the_binary_s_text() {
        let dir = tempfile::tempdir().expect("a folder");
        let copy = dir.path().join("stdlib");
        std::fs::create_dir_all(copy.join("iso42001")).expect("mkdir");
        std::fs::create_dir_all(copy.join("aims")).expect("mkdir");
        std::fs::write(copy.join("iso42001/annex_a.aims"), "requirement A.2 \"Policies\"\n").expect("write");
        std::fs::write(copy.join("aims/records.aims"), "record R { ok: Bool }\n").expect("write");
        let cache = dir.path().join("cache");
        let files = StdlibFiles::with_places(&sources(), vec![copy.clone()], cache.clone());
        let expected = copy.canonicalize().expect("canonical").join("iso42001/annex_a.aims");
        assert_eq!(files.path(FileId(1)), Some(expected));
        assert!(!cache.exists(), "nothing written");

        // An edited copy is not the program's text: the cache is used.
        std::fs::write(copy.join("aims/records.aims"), "record R { ok: Bool }\n// edited\n").expect("write");
        let files = StdlibFiles::with_places(&sources(), vec![copy.clone()], cache.clone());
        let path = files.path(FileId(2)).expect("written");
        assert!(path.starts_with(cache.canonicalize().expect("canonical")), "{}", path.display());
        assert!(!files.is_stdlib(&copy.join("aims/records.aims")));
    }

    #[test]
    fn a_tampered_cache_is_written_again() {
        let cache = tempfile::tempdir().expect("a folder");
        let files = StdlibFiles::with_places(&sources(), Vec::new(), cache.path().into());
        let path = files.path(FileId(1)).expect("written");
        let mut permissions = std::fs::metadata(&path).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&path, permissions).expect("chmod");
        std::fs::write(&path, "requirement A.2 \"Changed\"\n").expect("write");
        let again = StdlibFiles::with_places(&sources(), Vec::new(), cache.path().into());
        let found = again.path(FileId(1)).expect("written again");
        assert_eq!(std::fs::read_to_string(found).expect("a file"), "requirement A.2 \"Policies\"\n");
    }
}
