//! The server's state: one engine behind a mutex, the documents as the
//! editor last sent them, and snapshots for reading.
//!
//! Concurrency follows from salsa's rules. The engine's database is only
//! written under the `state` mutex. A read locks the mutex just long
//! enough to bring the engine up to date with the documents and to take
//! an [`aims_lang::Analysis`] (in a [`Snapshot`]), then reads it in a
//! blocking task, with nothing else locked. A write (a setter) waits until
//! every snapshot is dropped, and makes the reads running on snapshots
//! answer `Err(Cancelled)`: an edit cancels stale reads instead of waiting
//! for them. No clone is ever held across an `.await`, and nobody locks the
//! state while holding a clone.
//!
//! Document changes are applied to [`Inbox`] at once, in the order they
//! arrive (no `.await` in between); the engine takes them from there the
//! next time anyone needs it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use aims_lang::diag::{Diagnostic, FileId, Sources};
use aims_lang::engine::Schema;
use aims_lang::Date;
use aims_lang::{Analysis, Cancellable, Engine, LoadFailure};
use tower_lsp_server::ls_types::{self as lsp, Uri};

use crate::files::{self, FileKind, Files};
use crate::line_index::{Encoding, LineIndex};
use crate::stdlib_files::StdlibFiles;

/// What the client can do, as far as the server cares.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientFlags {
    /// Completion items may be snippets (with placeholders).
    pub snippets: bool,
    /// The server may ask the client to refresh its code lenses.
    pub code_lens_refresh: bool,
    /// The server may register for changes of files on disk.
    pub watch_files: bool,
    /// Document symbols may be nested (a tree, not a flat list).
    pub hierarchical_symbols: bool,
}

/// A document as the editor last sent it.
#[derive(Clone, Debug)]
pub struct Document {
    /// The version the editor gave this text.
    pub version: i32,
    /// The whole text.
    pub text: String,
    /// The language id the editor gave it.
    pub language: String,
    /// Changed since the engine last took it.
    pub dirty: bool,
}

/// Changes waiting for the engine.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The open documents.
    pub open: HashMap<Uri, Document>,
    /// Documents closed since the engine last looked.
    pub closed: Vec<Uri>,
    /// Files changed on disk.
    pub disk: Vec<Uri>,
}

impl Inbox {
    fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.disk.is_empty() && !self.open.values().any(|d| d.dirty)
    }
}

/// Everything the server knows, behind one mutex.
pub struct State {
    /// The project: policies, facts and their evaluation.
    pub engine: Engine,
    /// Which document is which of the engine's files.
    pub files: Files,
    /// The project folder, canonical; `None` without `aims.toml` (each
    /// document then stands alone).
    pub root: Option<PathBuf>,
    /// How positions count characters, as agreed with the client.
    pub encoding: Encoding,
    /// What the client can do.
    pub flags: ClientFlags,
    /// The evaluation date.
    pub as_of: Date,
    /// The last reload that failed, for its schema; retried when the
    /// schema or a fact file changes.
    fact_failure: Option<(Schema, LoadFailure)>,
    /// A fact file changed since the facts were last loaded.
    facts_dirty: bool,
    /// Problems that do not change until a restart (a malformed aims.toml).
    fixed_problems: Vec<(Uri, lsp::Diagnostic)>,
    /// The version of each open document whose text the engine has.
    versions: HashMap<Uri, i32>,
    /// The stdlib modules as files (go to definition lands there).
    stdlib: Arc<StdlibFiles>,
}

impl State {
    /// Opens the project in `folder` (or nothing, without `aims.toml`).
    pub fn open(folder: Option<&Path>, encoding: Encoding, flags: ClientFlags, today: Date) -> State {
        let opened = files::open(folder);
        let as_of = opened.engine.default_as_of().unwrap_or(today);
        let stdlib = Arc::new(StdlibFiles::new(opened.engine.sources()));
        let mut state = State {
            engine: opened.engine,
            files: opened.files,
            root: opened.root,
            encoding,
            flags,
            as_of,
            fact_failure: None,
            facts_dirty: false,
            fixed_problems: Vec::new(),
            versions: HashMap::new(),
            stdlib,
        };
        state.engine.set_as_of(as_of);
        if state.root.is_some() {
            // Engine::open loaded the facts if the policy checked (and
            // remembers the schema they were loaded for).
            if !opened.problems.is_empty() {
                let failure = LoadFailure { sources: opened.problem_sources, diagnostics: opened.problems };
                state.fact_failure = Some((state.engine.schema(), failure));
            }
        } else {
            let mut lines = crate::convert::Lines::new(&opened.problem_sources, encoding);
            let uri_of = |file: FileId| Uri::from_file_path(Path::new(opened.problem_sources.name(file)));
            // Problems that point nowhere (a source outside the project,
            // E0404) are shown at the top of aims.toml.
            let manifest = folder.and_then(|f| Uri::from_file_path(f.join("aims.toml")));
            state.fixed_problems = opened
                .problems
                .iter()
                .filter_map(|d| {
                    crate::convert::diagnostic(d, &mut lines, &uri_of)
                        .or_else(|| crate::convert::unplaced(d, manifest.as_ref()?, &mut lines, &uri_of))
                })
                .collect();
        }
        state.refresh_facts();
        state
    }

    fn has_errors(&self) -> bool {
        self.engine.diagnostics().iter().any(Diagnostic::is_error)
    }

    /// Applies the documents' changes and the files changed on disk.
    pub fn sync(&mut self, inbox: &mut Inbox) {
        let mut facts_changed = false;
        let dirty: Vec<(Uri, String, String, i32)> = inbox
            .open
            .iter_mut()
            .filter(|(_, d)| d.dirty)
            .map(|(uri, d)| {
                d.dirty = false;
                (uri.clone(), d.text.clone(), d.language.clone(), d.version)
            })
            .collect();
        for (uri, text, language, version) in dirty {
            facts_changed |= self.set_text(&uri, &text, Some(&language));
            self.versions.insert(uri, version);
        }
        for uri in std::mem::take(&mut inbox.closed) {
            if inbox.open.contains_key(&uri) {
                continue; // reopened since
            }
            self.versions.remove(&uri);
            match self.files.get(&uri) {
                Some((file, FileKind::Loose)) => {
                    self.engine.replace_policy_text(file, "");
                }
                Some((_, FileKind::Policy | FileKind::Facts)) => facts_changed |= self.reload_from_disk(&uri),
                _ => {}
            }
        }
        for uri in std::mem::take(&mut inbox.disk) {
            if !inbox.open.contains_key(&uri) {
                facts_changed |= self.reload_from_disk(&uri);
            }
        }
        self.facts_dirty |= facts_changed;
        self.refresh_facts();
    }

    /// Sets a document's text; returns whether a fact file changed.
    fn set_text(&mut self, uri: &Uri, text: &str, language: Option<&str>) -> bool {
        self.files.adopt(uri);
        match self.files.get(uri) {
            Some((file, FileKind::Policy | FileKind::Loose)) => {
                self.engine.replace_policy_text(file, text);
                false
            }
            Some((file, FileKind::Facts)) => {
                let changed = self.engine.sources().text(file) != text;
                self.engine.replace_fact_text(file, text);
                changed
            }
            Some((_, FileKind::Manifest)) => false,
            None => {
                let is_policy = language == Some("aims") || uri.path().as_str().ends_with(".aims");
                // A stdlib module opened by go to definition is declared
                // by the engine already.
                let is_stdlib = files::path_of(uri).is_some_and(|p| self.stdlib.is_stdlib(&p));
                if is_policy && !is_stdlib {
                    let name =
                        files::path_of(uri).map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
                    let file = self.engine.insert_policy(&name, text);
                    self.files.insert(uri.clone(), file, FileKind::Loose);
                }
                false
            }
        }
    }

    /// Takes a file's text from disk (only inside the project folder);
    /// returns whether a fact file changed.
    fn reload_from_disk(&mut self, uri: &Uri) -> bool {
        let (Some(root), Some(path)) = (self.root.clone(), files::path_of(uri)) else { return false };
        let limit = match self.files.get(uri) {
            Some((_, FileKind::Facts)) => aims_lang::project::MAX_FACT_BYTES,
            _ => aims_lang::project::MAX_POLICY_BYTES,
        };
        let known = self.files.get(uri).is_some();
        let is_policy_file = path.extension().is_some_and(|e| e == "aims") && !self.stdlib.is_stdlib(&path);
        if !known && !is_policy_file {
            return false;
        }
        // A file deleted (or unreadable) reads as empty.
        let text = files::read_inside(&root, &path, limit).unwrap_or_default();
        if !known {
            if text.is_empty() {
                return false;
            }
            let file = self.engine.insert_policy(&path.display().to_string(), &text);
            self.files.insert(uri.clone(), file, FileKind::Policy);
            return false;
        }
        self.set_text(uri, &text, None)
    }

    /// Loads the facts again when the program checks and its schema is not
    /// the one the facts were loaded for.
    ///
    /// The schema comes from the signatures, not the whole program: an
    /// edit inside a rule is checked on the snapshot's thread, not here
    /// under the lock; the program is checked here only when the facts are
    /// to be loaded again.
    fn refresh_facts(&mut self) {
        let schema = self.engine.schema();
        let loaded = self.engine.facts_fit();
        let failed = self.fact_failure.as_ref().is_some_and(|(s, _)| s.fits(&schema));
        if !self.facts_dirty && (loaded || failed) {
            return;
        }
        if self.has_errors() {
            return;
        }
        self.facts_dirty = false;
        match self.engine.reload_facts() {
            Ok(()) => self.fact_failure = None,
            Err(failure) => self.fact_failure = Some((schema, failure)),
        }
    }

    /// A clone of everything a read needs.
    pub fn snapshot(&self) -> Snapshot {
        let analysis = self.engine.analysis();
        Snapshot {
            analysis,
            files: self.files.clone(),
            encoding: self.encoding,
            flags: self.flags,
            as_of: self.as_of,
            fact_failure: self.fact_failure.as_ref().map(|(_, f)| f.clone()),
            fixed_problems: self.fixed_problems.clone(),
            versions: self.versions.clone(),
            stdlib: self.stdlib.clone(),
        }
    }

    /// The fact files of the project, for watching.
    pub fn fact_paths(&self) -> Vec<String> {
        self.engine.fact_inputs().iter().map(|i| self.engine.sources().name(i.file).to_string()).collect()
    }
}

/// A read-only view: the engine's [`Analysis`] and what goes with it.
pub struct Snapshot {
    /// The engine's answers as of the snapshot.
    pub analysis: Analysis,
    /// Which document is which of the engine's files.
    pub files: Files,
    /// How positions count characters.
    pub encoding: Encoding,
    /// What the client can do.
    pub flags: ClientFlags,
    /// The evaluation date.
    pub as_of: Date,
    /// Why the facts did not load, when they did not.
    pub fact_failure: Option<LoadFailure>,
    /// Why the project could not be read (a malformed `aims.toml`, a
    /// source outside the project), by document: shown until the project
    /// is opened again.
    pub fixed_problems: Vec<(Uri, lsp::Diagnostic)>,
    /// The version of each open document, as the engine has its text:
    /// the version its diagnostics are for.
    pub versions: HashMap<Uri, i32>,
    /// Where the stdlib's modules are on disk, for navigation into them.
    pub stdlib: Arc<StdlibFiles>,
}

impl Snapshot {
    /// Whether the policy checks and the facts fit it: evaluation results
    /// can be shown. Found out on the snapshot's thread, not under the
    /// state's lock.
    pub fn evaluable(&self) -> Cancellable<bool> {
        self.analysis.evaluable()
    }

    /// Every file diagnostics may point into.
    pub fn sources(&self) -> &Sources {
        self.analysis.sources()
    }

    /// The policy file of a document.
    pub fn policy_file(&self, uri: &Uri) -> Option<FileId> {
        match self.files.get(uri)? {
            (file, FileKind::Policy | FileKind::Loose) => Some(file),
            _ => None,
        }
    }

    /// The document of a file.
    pub fn uri(&self, file: FileId) -> Option<Uri> {
        self.files.uri(file).cloned()
    }

    /// The text of a policy file as the engine has it.
    pub fn text(&self, file: FileId) -> Cancellable<Option<&str>> {
        self.analysis.text(file)
    }

    /// The line index of a policy file, in the agreed encoding.
    pub fn lines(&self, file: FileId) -> Cancellable<Option<LineIndex<'_>>> {
        Ok(self.text(file)?.map(|text| LineIndex::new(text, self.encoding)))
    }

    /// A document's file, text and line index.
    pub fn document(&self, uri: &Uri) -> Cancellable<Option<(FileId, &str, LineIndex<'_>)>> {
        let Some(file) = self.policy_file(uri) else { return Ok(None) };
        Ok(self.text(file)?.map(|text| (file, text, LineIndex::new(text, self.encoding))))
    }

    /// The document and the text of a file: a policy file, or a stdlib
    /// module (as a file on disk the editor opens).
    pub fn target(&self, file: FileId) -> Cancellable<Option<(Uri, &str)>> {
        if let Some(uri) = self.uri(file) {
            return Ok(self.text(file)?.map(|text| (uri, text)));
        }
        let Some(text) = self.stdlib.text(file) else { return Ok(None) };
        Ok(self.stdlib.path(file).and_then(Uri::from_file_path).map(|uri| (uri, text)))
    }

    /// The locations of spans, leaving out those in no known document.
    pub fn locations(&self, spans: &[aims_lang::diag::FileSpan]) -> Cancellable<Vec<lsp::Location>> {
        let mut places = Places::new(self);
        let mut out = Vec::with_capacity(spans.len());
        for at in spans {
            out.extend(places.location(*at)?);
        }
        Ok(out)
    }
}

/// Documents and line indexes of files, each file's lines indexed once
/// (indexing them again for each of a thousand references made a request
/// take hundreds of milliseconds on a large file).
pub struct Places<'s> {
    snapshot: &'s Snapshot,
    files: HashMap<FileId, Option<(Uri, LineIndex<'s>)>>,
}

impl<'s> Places<'s> {
    /// No file indexed yet.
    pub fn new(snapshot: &'s Snapshot) -> Places<'s> {
        Places { snapshot, files: HashMap::new() }
    }

    /// The document of a file and its lines.
    pub fn file(&mut self, file: FileId) -> Cancellable<Option<&(Uri, LineIndex<'s>)>> {
        if !self.files.contains_key(&file) {
            let snapshot = self.snapshot;
            let found = snapshot.target(file)?.map(|(uri, text)| (uri, LineIndex::new(text, snapshot.encoding)));
            self.files.insert(file, found);
        }
        Ok(self.files.get(&file).and_then(Option::as_ref))
    }

    /// A location in a policy file or a stdlib module.
    pub fn location(&mut self, at: aims_lang::diag::FileSpan) -> Cancellable<Option<lsp::Location>> {
        Ok(self.file(at.file)?.map(|(uri, lines)| lsp::Location { uri: uri.clone(), range: lines.range(at.span) }))
    }
}

/// What was published for a document: its version (an open document's)
/// and its diagnostics.
pub type Published = (Option<i32>, Vec<Arc<crate::handlers::diagnostics::Shown>>);

/// The state shared by every handler.
#[derive(Default)]
pub struct Shared {
    state: Mutex<Option<State>>,
    /// Changes the editor sent, waiting for the next update.
    pub inbox: Mutex<Inbox>,
    /// Bumped on every change: an update that is not the latest is skipped.
    pub changes: AtomicU64,
    /// A `shutdown` request was received.
    pub shutdown: AtomicBool,
    /// Tasks that panicked (answered as internal errors): zero in a healthy server.
    pub failures: AtomicU64,
    /// Updates (diagnostics) run one at a time, in order.
    pub updates: tokio::sync::Mutex<()>,
    /// The client refreshes code lenses when asked.
    pub code_lens_refresh: AtomicBool,
    /// What was last published, per document: the version of the
    /// document (an open one) and its diagnostics.
    pub published: Mutex<HashMap<Uri, Published>>,
    /// The failing rules' diagnostics of the last update, built again
    /// only for the rules that changed.
    pub failing: Mutex<crate::handlers::diagnostics::FailingRules>,
    /// The server's own output, when it serves stdio (see `crate::output`):
    /// diagnostics are written there rather than through the client.
    pub messages: OnceLock<crate::output::Messages>,
}

/// Locks a mutex even if a panicking thread poisoned it: the server
/// carries on with the state as that thread left it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The state of the project just opened (at `initialize`).
    pub fn install(&self, state: State) {
        *lock(&self.state) = Some(state);
    }

    /// Runs `f` on the state brought up to date with the inbox.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        let mut guard = lock(&self.state);
        let state = guard.as_mut()?;
        {
            let mut inbox = lock(&self.inbox);
            if !inbox.is_empty() {
                state.sync(&mut inbox);
            }
        }
        Some(f(state))
    }

    /// A snapshot of the state brought up to date with the inbox.
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.with_state(|state| state.snapshot())
    }

    /// Records a change and returns its number.
    /// Counts a change; the number of the change.
    pub fn changed(&self) -> u64 {
        self.changes.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The number of the latest change.
    pub fn latest_change(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }
}
