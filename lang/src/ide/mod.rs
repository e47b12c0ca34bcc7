//! Editor analyses over a checked program: what the language server asks
//! (hover, definitions, references, rename, completion, symbols,
//! highlighting, code actions, evaluation summaries). Plain data in, plain
//! data out: byte offsets into a file's text, no LSP types, no JSON-RPC.
//!
//! Every analysis reads a [`World`]: a database (a snapshot is enough) and
//! its workspace. What a name stands for and the types around it come
//! from the semantic model `sema` records while checking (a file's
//! [`SourceMap`]); nothing here binds names or infers types again.

pub mod actions;
pub mod complete;
pub mod highlight;
pub mod hover;
pub mod navigate;
pub mod outcomes;
pub mod outline;
pub mod rename;
pub mod symbol;
pub(crate) mod tokens;
pub mod types;

pub use crate::sema::SourceMap;
pub use symbol::{LocalKind, Reference, Symbol};

use crate::db::{self, SourceFile, Workspace};
use crate::diag::{FileId, FileSpan};
use crate::ir::Program;
use crate::syntax::ast::Span;
use crate::syntax::Parse;

/// A change to a file: replace `span` with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    /// The file edited.
    pub file: FileId,
    /// The bytes replaced (empty to insert).
    pub span: Span,
    /// The new text.
    pub text: String,
}

/// What the analyses read: a database and its workspace.
#[derive(Clone, Copy)]
pub struct World<'db> {
    pub db: &'db dyn salsa::Database,
    pub ws: Workspace,
}

impl<'db> World<'db> {
    pub fn new(db: &'db dyn salsa::Database, ws: Workspace) -> World<'db> {
        World { db, ws }
    }

    /// The program as the texts stand (with whatever did not check left out).
    pub fn program(&self) -> &'db Program {
        &db::compiled(self.db, self.ws).program
    }

    /// The policy files (the stdlib modules left out).
    pub fn policy_files(&self) -> impl Iterator<Item = SourceFile> + 'db {
        self.ws.files(self.db).iter().copied()
    }

    /// The policy file with that id.
    pub fn file(&self, file: FileId) -> Option<SourceFile> {
        let db = self.db;
        self.ws.files(db).iter().copied().find(|f| f.id(db) == file.0)
    }

    /// A policy file's text.
    pub fn text(&self, file: FileId) -> Option<&'db str> {
        let db = self.db;
        self.file(file).map(|f| f.text(db).as_str())
    }

    /// A policy file's syntax tree and syntax errors.
    pub fn parse(&self, file: FileId) -> Option<&'db Parse> {
        self.file(file).map(|f| db::parse_file(self.db, f))
    }

    /// A policy file's source map: what each of its names stands for.
    pub fn index(&self, file: FileId) -> Option<&'db SourceMap> {
        self.file(file)?;
        db::compiled(self.db, self.ws).model.file(file)
    }

    /// Every occurrence of a symbol across the policy files.
    pub fn occurrences(&self, symbol: &Symbol) -> Vec<(FileId, &'db Reference)> {
        let files: Vec<SourceFile> = match symbol {
            Symbol::Local { file, .. } => self.file(*file).into_iter().collect(),
            _ => self.policy_files().collect(),
        };
        let mut out = Vec::new();
        for f in files {
            let id = FileId(f.id(self.db));
            let Some(index) = self.index(id) else { continue };
            out.extend(index.references.iter().filter(|r| r.symbol == *symbol).map(|r| (id, r)));
        }
        out
    }

    /// Where a symbol is declared in the policy files.
    pub fn definitions(&self, symbol: &Symbol) -> Vec<FileSpan> {
        self.occurrences(symbol)
            .into_iter()
            .filter(|(_, r)| r.is_definition)
            .map(|(file, r)| FileSpan { file, span: r.span })
            .collect()
    }

    /// The occurrence at an offset of a policy file.
    pub fn reference_at(&self, file: FileId, offset: u32) -> Option<&'db Reference> {
        self.index(file)?.reference_at(offset)
    }
}

/// Whether `word` can be a name: a letter or `_`, then letters, digits and
/// `_`, and not a reserved word.
pub fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&word)
}

/// The words that can never be names (the reserved keywords of [`crate::syntax::KEYWORDS`]).
pub const RESERVED: &[&str] = crate::syntax::RESERVED_WORDS;

#[cfg(test)]
pub(crate) mod test_support {
    //! An engine over texts, for the analyses' tests.
    use crate::diag::{FileId, Sources};
    use crate::project::ProjectFiles;
    use crate::Engine;

    /// An engine over policy texts (no facts), and the ids of the texts.
    pub fn engine(files: &[(&str, &str)]) -> (Engine, Vec<FileId>) {
        let mut sources = Sources::new();
        let ids: Vec<FileId> = files.iter().map(|(name, text)| sources.add(*name, *text)).collect();
        let project = ProjectFiles { name: "test".into(), sources, policy: ids.clone(), ..ProjectFiles::default() };
        let (engine, _) = Engine::open(project);
        (engine, ids)
    }

    /// The offset of the `nth` occurrence of `needle`, plus `within`.
    pub fn offset(text: &str, needle: &str, nth: usize, within: usize) -> u32 {
        let at = text.match_indices(needle).nth(nth).map(|(i, _)| i).expect("needle in text");
        (at + within) as u32
    }
}
