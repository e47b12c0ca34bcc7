//! The source map sema records while it checks: for each name in the
//! syntax, the declaration or variable it resolves to, and the types the
//! editor needs (of variables, of the base of a field access, expected at a
//! bare name). The editor features read this and resolve nothing again
//! (rust-analyzer's body + source map; gleam's server reading the typed
//! tree).
//!
//! Entries are keyed by the span of their syntax node as a range of the
//! file, through [`node_key`]: the syntax tree's spans are relative to
//! their declaration, the editor looks entries up by file offset.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::diag::{Anchor, FileId};
use crate::ir::Ty;
use crate::syntax::ast::Span;

/// A declared thing a name can refer to, identified by its namespace and
/// name, so that occurrences in different files (and in successive
/// versions of a file) compare equal. Local variables are the exception:
/// they are identified by the place that binds them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// An `enum`, `record`, `entity`, `scale` or `matrix`.
    Type(String),
    /// A variant of an enum, a value of a scale or a level of a matrix.
    Variant {
        /// The enum, scale or matrix.
        owner: String,
        /// The variant.
        name: String,
    },
    /// A field of a record or an entity.
    Field {
        /// The record or entity.
        owner: String,
        /// The field.
        name: String,
    },
    /// A `control`, `audit`, `risk` or `objective` (they share one namespace).
    Rule(String),
    /// A `fn`.
    Function(String),
    /// An `exception`.
    Exception(String),
    /// A `measure` of the organisation (one without `for`), read by name;
    /// a measure of each fact is a [`Symbol::Field`].
    Measure(String),
    /// A requirement identifier such as `A.6.2.4`.
    Requirement(String),
    /// A variable: a `for` or quantifier binding, a `let`, a parameter;
    /// identified by where it is bound.
    Local {
        /// The file it is bound in.
        file: FileId,
        /// The span of the binding name.
        at: Span,
        /// Its name.
        name: String,
    },
}

impl Symbol {
    /// The name as written in the source.
    pub fn name(&self) -> &str {
        match self {
            Symbol::Type(n)
            | Symbol::Rule(n)
            | Symbol::Function(n)
            | Symbol::Exception(n)
            | Symbol::Requirement(n)
            | Symbol::Measure(n) => n,
            Symbol::Variant { name, .. } | Symbol::Field { name, .. } | Symbol::Local { name, .. } => name,
        }
    }
}

/// One occurrence of a symbol in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The span of the name (for a requirement, of its identifier).
    pub span: Span,
    /// What it resolves to.
    pub symbol: Symbol,
    /// Whether this occurrence declares the symbol.
    pub is_definition: bool,
}

/// How a variable came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    /// `for s: Entity` of a rule.
    Subject,
    /// A quantifier, aggregate or `history` binding.
    Binder,
    /// `let`.
    Let,
    /// A parameter of a `fn`.
    Parameter,
}

/// A variable bound in a file, with its type where it is known.
#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// The span of the binding name.
    pub at: Span,
    /// How it is bound.
    pub kind: LocalKind,
    /// Its type, unless it did not check.
    pub ty: Option<Ty>,
    /// The text where the variable can be used.
    pub scope: Span,
}

/// A `base.field` access, with the type of `base` where it is known (what
/// completion offers after a dot).
#[derive(Clone, Debug, PartialEq)]
pub struct MemberAccess {
    /// The span of the field name.
    pub field: Span,
    /// The type of the base (a type named on its own: that type).
    pub base: Option<Ty>,
}

/// A bare name in an expression, with the type its context expects (what
/// completion offers where a value is written).
#[derive(Clone, Debug, PartialEq)]
pub struct NameSite {
    /// The span of the name.
    pub span: Span,
    /// The type expected there, if any.
    pub expected: Option<Ty>,
}

/// The key under which a syntax node's span is stored: the span, relative
/// to the declaration `anchor` starts, as a range of the file. Every span
/// enters the source map through here, because the editor looks entries up
/// by file offset while the syntax tree is relative to each declaration.
pub fn node_key(anchor: Anchor, span: Span) -> Span {
    anchor.span(span).span
}

/// Every name of one file, resolved by the checker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceMap {
    /// Occurrences of declared names and variables, in source order.
    pub references: Vec<Reference>,
    /// Variables bound in the file.
    pub locals: Vec<Local>,
    /// `base.field` accesses with the type of `base`.
    pub members: Vec<MemberAccess>,
    /// Bare names in expressions with the type expected there.
    pub names: Vec<NameSite>,
}

impl SourceMap {
    /// This map, recorded for a declaration checked at offset 0 (a rule
    /// checked on its own, see `db::check_rule`), for the declaration
    /// starting `offset` bytes into its file: the one place its spans
    /// become ranges of the file.
    pub fn placed_at(mut self, offset: u32) -> SourceMap {
        if offset == 0 {
            return self;
        }
        for r in &mut self.references {
            r.span = r.span.at(offset);
            if let Symbol::Local { at, .. } = &mut r.symbol {
                *at = at.at(offset);
            }
        }
        for l in &mut self.locals {
            l.at = l.at.at(offset);
            l.scope = l.scope.at(offset);
        }
        self.members.iter_mut().for_each(|m| m.field = m.field.at(offset));
        self.names.iter_mut().for_each(|n| n.span = n.span.at(offset));
        self
    }

    /// Adds what another check recorded of the same file (put in order
    /// when the model is put together), which stays whole: a rule's map
    /// is shared with the database's memo of its check.
    pub(crate) fn extend_from(&mut self, other: &SourceMap) {
        self.references.extend_from_slice(&other.references);
        self.locals.extend_from_slice(&other.locals);
        self.members.extend_from_slice(&other.members);
        self.names.extend_from_slice(&other.names);
    }

    /// The occurrence whose span contains `offset` (or ends there).
    pub fn reference_at(&self, offset: u32) -> Option<&Reference> {
        let at = self.references.partition_point(|r| r.span.end < offset);
        self.references[at..].iter().take_while(|r| r.span.start <= offset).find(|r| r.span.end >= offset)
    }

    /// The variable bound at `at`.
    pub fn local(&self, at: Span) -> Option<&Local> {
        self.locals.iter().find(|l| l.at == at)
    }

    /// The variables visible at `offset`, innermost last.
    pub fn locals_at(&self, offset: u32) -> Vec<&Local> {
        self.locals.iter().filter(|l| l.scope.start <= offset && offset <= l.scope.end).collect()
    }

    /// The `base.field` access whose field name starts at `offset`.
    pub fn member_at(&self, offset: u32) -> Option<&MemberAccess> {
        self.members.iter().find(|m| m.field.start == offset)
    }

    /// The bare name that starts at `offset`.
    pub fn name_at(&self, offset: u32) -> Option<&NameSite> {
        self.names.iter().find(|n| n.span.start == offset)
    }

    /// Sorts and deduplicates what was recorded: an expression checked
    /// twice (a fact's fields, a function's body) is recorded twice, the
    /// same way each time.
    fn finish(&mut self) {
        self.references.sort_by_key(|r| (r.span.start, r.span.end));
        self.references.dedup();
        // Source order keeps the innermost of nested variables last, in
        // whatever order the declarations were checked.
        self.locals.sort_by_key(|l| (l.at.start, l.at.end));
        self.locals.dedup_by(|a, b| a.at == b.at);
        self.members.sort_by_key(|m| (m.field.start, m.field.end));
        self.members.dedup_by(|a, b| a.field == b.field);
        self.names.sort_by_key(|n| (n.span.start, n.span.end));
        self.names.dedup_by(|a, b| a.span == b.span);
    }
}

/// Where a checker records the source map. A mutex, not a `RefCell`:
/// the context it lives in is kept by the database as the signatures rules
/// are checked against (`db::signatures`), which must be `Sync`; the
/// checkers record through the shared borrow of the context they hold.
#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<SemanticModel>);

impl Recorder {
    /// The model, to record into. A checker that panicked while recording
    /// left nothing half-written that matters more than the rest: the
    /// poison is ignored.
    pub(crate) fn borrow_mut(&self) -> MutexGuard<'_, SemanticModel> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What was recorded.
    pub(crate) fn into_inner(self) -> SemanticModel {
        self.0.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clone for Recorder {
    fn clone(&self) -> Recorder {
        Recorder(Mutex::new(self.borrow_mut().clone()))
    }
}

impl PartialEq for Recorder {
    fn eq(&self, other: &Recorder) -> bool {
        std::ptr::eq(self, other) || *self.borrow_mut() == *other.borrow_mut()
    }
}

/// The source maps of every checked file: the semantic model the editor
/// features read.
///
/// A check of the whole program takes each rule body's map from the memo
/// of that rule's own check, as a shared piece. The pieces are put
/// together with what the check recorded itself only when a map is first
/// read: a keystroke that only needs diagnostics copies none of the
/// thousands of entries of the rules it left alone.
#[derive(Clone, Debug, Default)]
pub struct SemanticModel {
    /// What the check recorded itself, per file.
    recorded: BTreeMap<FileId, SourceMap>,
    /// The maps of rule bodies checked on their own, per file.
    pieces: BTreeMap<FileId, Vec<Arc<SourceMap>>>,
    /// The items of each policy file, as ranges of the file, in order
    /// (set by [`SemanticModel::finish`]).
    items: BTreeMap<FileId, Vec<Span>>,
    /// Every file's map, put together on first read.
    files: OnceLock<BTreeMap<FileId, SourceMap>>,
}

/// Two models are equal when they were made of equal parts; equal maps
/// made of different pieces compare unequal, which costs the database a
/// recomputation at most (see [`SemanticModel::files`] to compare maps).
impl PartialEq for SemanticModel {
    fn eq(&self, other: &SemanticModel) -> bool {
        let same_pieces = |a: &Vec<Arc<SourceMap>>, b: &Vec<Arc<SourceMap>>| {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
        };
        self.recorded == other.recorded
            && self.items == other.items
            && self.pieces.len() == other.pieces.len()
            && self.pieces.iter().zip(&other.pieces).all(|((fa, a), (fb, b))| fa == fb && same_pieces(a, b))
    }
}

impl SemanticModel {
    /// The source map of a file (empty for a file that was not checked).
    pub fn file(&self, file: FileId) -> Option<&SourceMap> {
        self.files().get(&file)
    }

    /// Every checked file's source map.
    pub fn files(&self) -> &BTreeMap<FileId, SourceMap> {
        self.files.get_or_init(|| self.put_together())
    }

    /// Takes a file's source map out of the model.
    pub fn take_file(&mut self, file: FileId) -> Option<SourceMap> {
        self.files();
        self.files.get_mut()?.remove(&file)
    }

    pub(crate) fn map(&mut self, file: FileId) -> &mut SourceMap {
        self.recorded.entry(file).or_default()
    }

    /// Adds the map of a rule body checked on its own, placed in `file`.
    pub(crate) fn add_piece(&mut self, file: FileId, piece: &Arc<SourceMap>) {
        if *piece.as_ref() != SourceMap::default() {
            self.pieces.entry(file).or_default().push(piece.clone());
        }
    }

    pub(crate) fn reference(&mut self, anchor: Anchor, span: Span, symbol: Symbol, is_definition: bool) {
        self.map(anchor.file).references.push(Reference { span: node_key(anchor, span), symbol, is_definition });
    }

    /// Drops the maps of files nobody reads and notes where each item of
    /// the others is, for the scopes that end with their declaration.
    pub(crate) fn finish(&mut self, inputs: &[super::SourceInput]) {
        // A file may come in pieces (one input per declaration): its
        // items' ranges are gathered first, so each map is finished once.
        self.items.clear();
        for input in inputs {
            if input.stdlib {
                self.recorded.remove(&input.file);
                self.pieces.remove(&input.file);
                continue;
            }
            // Every policy file has a map, if an empty one.
            self.recorded.entry(input.file).or_default();
            let ranges = self.items.entry(input.file).or_default();
            ranges.extend(input.ast.items.iter().map(|i| node_key(input.anchor(i), i.span)));
        }
        for ranges in self.items.values_mut() {
            ranges.sort_by_key(|r| r.start);
        }
        self.files = OnceLock::new();
    }

    /// Each file's map: what was recorded and the pieces, with the scopes
    /// closed and in source order.
    fn put_together(&self) -> BTreeMap<FileId, SourceMap> {
        let mut files = self.recorded.clone();
        for (file, pieces) in &self.pieces {
            let map = files.entry(*file).or_default();
            pieces.iter().for_each(|piece| map.extend_from(piece));
        }
        for (file, ranges) in &self.items {
            let Some(map) = files.get_mut(file) else { continue };
            for local in &mut map.locals {
                // Subjects, parameters and lets reach to the end of the
                // declaration that binds them, which the checker of an
                // expression does not know.
                if matches!(local.kind, LocalKind::Binder) {
                    continue;
                }
                // `local.at` is a range of the file: so are the items' spans
                // once placed at their anchor. Items do not overlap: the
                // one that may hold it is the last to start at or before it.
                let before = ranges.partition_point(|r| r.start <= local.at.start);
                let item = before
                    .checked_sub(1)
                    .map(|i| ranges[i])
                    .filter(|i| i.start <= local.at.start && local.at.end <= i.end);
                if let Some(item) = item {
                    local.scope = match local.kind {
                        LocalKind::Let => Span { start: local.scope.start, end: item.end },
                        _ => item,
                    };
                }
            }
            map.finish();
        }
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "\
enum Status { planned, deployed }
entity Person { id: Text key, name: Text }
record Evidence { approved: Bool }
entity System {
  id: Text key
  status: Status = planned
  owner: Person?
  evidence: [Evidence]
}
fn live(s: System) = s.status == deployed
control owned for s: System where live(s) {
  let who = s.owner
  require who.name is some
  require all e in s.evidence: e.approved
}
";

    fn indexed(text: &str) -> (crate::ir::Program, SourceMap) {
        let parse = crate::syntax::parse(text);
        assert!(parse.errors.is_empty(), "{:?}", parse.errors);
        let inputs = [crate::sema::SourceInput { file: FileId(0), text, ast: &parse.file, offset: 0, stdlib: false }];
        let mut checked = crate::sema::check(&inputs);
        let index = checked.model.take_file(FileId(0)).expect("a policy file has a map");
        (checked.program, index)
    }

    fn at<'i>(index: &'i SourceMap, text: &str, needle: &str, nth: usize) -> &'i Reference {
        let offset = text.match_indices(needle).nth(nth).map(|(i, _)| i).expect("needle in text") as u32;
        index.reference_at(offset + 1).expect("a reference there")
    }

    #[test]
    fn fields_resolve_through_variables_references_and_lists() {
        let (_, index) = indexed(POLICY);
        let field = |owner: &str, name: &str| Symbol::Field { owner: owner.into(), name: name.into() };
        assert_eq!(at(&index, POLICY, "name is some", 0).symbol, field("Person", "name"), "`who` is a `Person?`");
        assert_eq!(at(&index, POLICY, "approved", 1).symbol, field("Evidence", "approved"), "`e` ranges over a list");
        assert_eq!(at(&index, POLICY, "status ==", 0).symbol, field("System", "status"));
    }

    #[test]
    fn variables_point_at_their_binding() {
        let (_, index) = indexed(POLICY);
        let use_of_who = at(&index, POLICY, "who.name", 0);
        let Symbol::Local { at: bound, .. } = &use_of_who.symbol else { panic!("{use_of_who:?}") };
        assert_eq!(&POLICY[bound.range()], "who");
        assert!(bound.start < use_of_who.span.start);
        let local = index.local(*bound).expect("the let is recorded");
        assert_eq!(local.kind, LocalKind::Let);
    }

    #[test]
    fn variants_resolve_by_the_expected_type_and_by_qualification() {
        let text = "enum A { x, y }\nenum B { x, z }\nentity E { id: Text key, a: A, b: B }\n\
                    control c for e: E where e.b == x { require e.a in [x, y] and e.a != A.y }\n";
        let (_, index) = indexed(text);
        let variant = |owner: &str, name: &str| Symbol::Variant { owner: owner.into(), name: name.into() };
        assert_eq!(at(&index, text, "x {", 0).symbol, variant("B", "x"), "compared with a `B`");
        assert_eq!(at(&index, text, "x, y]", 0).symbol, variant("A", "x"), "a list of `A`");
        assert_eq!(at(&index, text, "A.y", 0).symbol, Symbol::Type("A".into()));
        assert_eq!(at(&index, text, "y }", 1).symbol, variant("A", "y"));
    }

    #[test]
    fn definitions_are_marked() {
        let (_, index) = indexed(POLICY);
        let defs: Vec<&str> = index
            .references
            .iter()
            .filter(|r| r.is_definition && !matches!(r.symbol, Symbol::Local { .. }))
            .map(|r| r.symbol.name())
            .collect();
        assert!(defs.contains(&"System") && defs.contains(&"evidence") && defs.contains(&"owned"), "{defs:?}");
        assert!(defs.contains(&"live") && defs.contains(&"deployed"), "{defs:?}");
    }
}
