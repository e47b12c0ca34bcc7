//! Read queries for an editor: an [`Analysis`] is a snapshot of an
//! [`Engine`] (a private clone of its database) that answers hover,
//! definitions, references, rename, completion, highlighting, symbols,
//! formatting, diagnostics and evaluation summaries.
//!
//! The shape is rust-analyzer's `Analysis`: the engine is the host that
//! applies changes, and hands out snapshots for reading on other threads.
//! A change made to the engine while a snapshot is being read cancels the
//! read (salsa unwinds the running query); every method here catches that
//! and reports it as [`Cancelled`], so a front end never depends on salsa.
//! Drop a snapshot before changing the engine: a setter waits until every
//! clone of the database is gone.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::db::{self, Database, Workspace};
use crate::diag::{Code, Diagnostic, FileId, FileSpan, Sources};
use crate::engine::Engine;
use crate::ide::{self, World};
use crate::ir::Program;
use crate::syntax::ast::{ItemKind, Span};
use crate::time::Date;

pub use crate::ide::complete::{Completion, CompletionKind};
pub use crate::ide::highlight::{Highlight, HighlightKind};
pub use crate::ide::hover::Hover;
pub use crate::ide::outcomes::{FailingEntity, RuleSummary};
pub use crate::ide::outline::{FoundSymbol, OutlineItem, OutlineKind};
pub use crate::ide::rename::Refusal;
pub use crate::ide::{Symbol, TextEdit};

/// A read was cancelled by a change to the engine: ask again on a new snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled by a later change")]
pub struct Cancelled;

/// The answer to a read, or [`Cancelled`].
pub type Cancellable<T> = Result<T, Cancelled>;

/// An `exclude` the editor can offer for an Annex A control nothing addresses.
#[derive(Clone, Debug, PartialEq)]
pub struct Unaddressed {
    /// The control's identifier (`A.6.2.4`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The `exclude` to insert, with a justification to fill in.
    pub edit: TextEdit,
    /// The warning that says it is unaddressed, if the checker gave one.
    pub warning: Option<Diagnostic>,
}

/// A snapshot of an engine for reading: see the module documentation.
/// A clone is another handle on the same snapshot, to read from another
/// thread (a handle is used by one thread at a time).
#[derive(Clone)]
pub struct Analysis {
    db: Database,
    ws: Workspace,
    sources: Sources,
    as_of: Date,
    /// Whether the loaded facts fit the program's schema (which the
    /// signatures make, without the rules).
    facts_fit: bool,
}

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis").field("as_of", &self.as_of).finish_non_exhaustive()
    }
}

/// Whether two spans share a byte (or touch).
fn overlaps(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

impl Engine {
    /// A snapshot for reading, on this thread or another one.
    ///
    /// Taking one checks nothing: whether the policy checks is the
    /// snapshot's to find out ([`Analysis::evaluable`]), on its thread.
    pub fn analysis(&self) -> Analysis {
        Analysis {
            db: self.db().clone(),
            ws: self.workspace(),
            sources: self.sources().clone(),
            as_of: self.as_of(),
            facts_fit: self.facts_fit(),
        }
    }
}

impl Analysis {
    /// Runs a read, turning salsa's cancellation into [`Cancelled`].
    fn with<'a, T>(&'a self, f: impl FnOnce(World<'a>) -> T) -> Cancellable<T> {
        let world = World::new(&self.db, self.ws);
        salsa::Cancelled::catch(AssertUnwindSafe(|| f(world))).map_err(|_| Cancelled)
    }

    /// Every file diagnostics may point into, as the snapshot was taken.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The evaluation date.
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    /// Whether the policy checks and the loaded facts fit it, so that
    /// evaluation results can be shown.
    pub fn evaluable(&self) -> Cancellable<bool> {
        Ok(self.facts_fit && !self.diagnostics()?.iter().any(Diagnostic::is_error))
    }

    /// Whether the loaded facts fit the program's schema. Rule summaries
    /// may then be asked before the program is known to check (see
    /// [`Analysis::rule_summaries`]), and shown once it is.
    pub fn facts_fit(&self) -> bool {
        self.facts_fit
    }

    /// A policy file's text as the engine has it.
    pub fn text(&self, file: FileId) -> Cancellable<Option<&str>> {
        self.with(|w| w.text(file))
    }

    /// The program as the texts stand (with whatever did not check left out).
    pub fn program(&self) -> Cancellable<&Program> {
        self.with(|w| w.program())
    }

    /// Every diagnostic of the policy: syntax, names, types and lints.
    pub fn diagnostics(&self) -> Cancellable<&[Diagnostic]> {
        self.with(|w| db::compiled(w.db, w.ws).diagnostics.as_slice())
    }

    /// What the name at `offset` is.
    pub fn hover(&self, file: FileId, offset: u32) -> Cancellable<Option<Hover>> {
        self.with(|w| ide::hover::hover(w, file, offset))
    }

    /// Where the name at `offset` is declared.
    pub fn definition(&self, file: FileId, offset: u32) -> Cancellable<Vec<FileSpan>> {
        self.with(|w| ide::navigate::definition(w, file, offset))
    }

    /// Every use of the name at `offset` (and its declaration, if asked).
    pub fn references(&self, file: FileId, offset: u32, include_declaration: bool) -> Cancellable<Vec<FileSpan>> {
        self.with(|w| ide::navigate::references(w, file, offset, include_declaration))
    }

    /// The name at `offset` and its span, if it can be renamed.
    pub fn prepare_rename(&self, file: FileId, offset: u32) -> Cancellable<Result<(Span, String), Refusal>> {
        self.with(|w| ide::rename::prepare(w, file, offset))
    }

    /// The edits that rename the name at `offset` everywhere, or why not.
    pub fn rename(&self, file: FileId, offset: u32, new_name: &str) -> Cancellable<Result<Vec<TextEdit>, Refusal>> {
        self.with(|w| ide::rename::rename(w, file, offset, new_name))
    }

    /// What may be typed at `offset`.
    pub fn completions(&self, file: FileId, offset: u32) -> Cancellable<Vec<Completion>> {
        self.with(|w| ide::complete::complete(w, file, offset))
    }

    /// Every token of a file with its kind, in order.
    pub fn highlights(&self, file: FileId) -> Cancellable<Vec<Highlight>> {
        self.with(|w| ide::highlight::highlights(w, file))
    }

    /// A file's declarations as a tree; `None` for a file that is not a policy file.
    pub fn outline(&self, file: FileId) -> Cancellable<Option<Vec<OutlineItem>>> {
        self.with(|w| {
            let parse = w.parse(file)?;
            let text = w.text(file)?;
            Some(ide::outline::outline(&parse.file.items, text))
        })
    }

    /// Declarations across the policy files whose names match `query`.
    pub fn workspace_symbols(&self, query: &str, limit: usize) -> Cancellable<Vec<FoundSymbol>> {
        self.with(|w| ide::outline::workspace_symbols(w, query, limit))
    }

    /// A file formatted as `aims fmt` would; `None` for a file that is not
    /// a policy file or does not parse.
    pub fn formatted(&self, file: FileId) -> Cancellable<Option<String>> {
        // The parse and the tokens are the memoized ones, per declaration:
        // only the layout runs over the whole file.
        self.with(|w| {
            let source = w.file(file)?;
            if !db::parse_file(w.db, source).errors.is_empty() {
                return None;
            }
            Some(crate::format::layout(source.text(w.db), &ide::tokens::file_tokens(w.db, source)))
        })
    }

    /// The outcomes of a control or audit, counted, with the failing entities.
    pub fn rule_summary(&self, rule: &str) -> Cancellable<Option<Arc<RuleSummary>>> {
        self.with(|w| ide::outcomes::summary(w.db, w.ws, rule))
    }

    /// [`Analysis::rule_summary`] of every control and audit, by name (a
    /// rule that is not evaluated has none), asked on every core the
    /// engine may use: after an edit most of the time goes into salsa
    /// checking that each rule's memoized outcomes still hold, and the
    /// rules are independent.
    ///
    /// The rules are read from the declarations, not the assembled
    /// program, so this may run while another thread checks the program
    /// (as the editor does): a rule is evaluated only if it checks against
    /// signatures that check, so an error elsewhere cannot reach
    /// evaluation, but whether to show the results is for
    /// [`Analysis::evaluable`] to say.
    pub fn rule_summaries(&self) -> Cancellable<HashMap<String, Arc<RuleSummary>>> {
        let sites = self.with(|w| db::rule_sites(w.db, w.ws))?;
        let names: Vec<&str> = sites.keys().map(String::as_str).collect();
        let threads = crate::eval::threads(self.ws.threads(&self.db)).min(names.len().div_ceil(64)).max(1);
        // Each thread reads through a database handle of its own.
        let handles: Vec<Database> = (0..threads).map(|_| self.db.clone()).collect();
        let ws = self.ws;
        let summaries = crate::eval::parallel_map_with(handles, &names, |db, name| {
            salsa::Cancelled::catch(AssertUnwindSafe(|| ide::outcomes::summary(db, ws, name))).map_err(|_| Cancelled)
        });
        let mut by_name = HashMap::with_capacity(names.len());
        for (name, summary) in names.iter().zip(summaries) {
            if let Some(summary) = summary? {
                by_name.insert(name.to_string(), summary);
            }
        }
        Ok(by_name)
    }

    /// The Annex A controls nothing addresses that an `exclude` at `range`
    /// of `file` can settle: every one on a `use iso42001`, one on a
    /// reference to it.
    pub fn unaddressed(&self, file: FileId, range: Span) -> Cancellable<Vec<Unaddressed>> {
        self.with(|w| {
            let (Some(parse), Some(text)) = (w.parse(file), w.text(file)) else { return Vec::new() };
            let on_use = parse.file.items.iter().any(|item| {
                matches!(&item.kind, ItemKind::Use(u) if (u.path == "iso42001" || u.path == "iso42001.annex_a") && overlaps(item.absolute(u.span), range))
            });
            let on_reference: Vec<String> = w
                .index(file)
                .map(|index| {
                    index
                        .references
                        .iter()
                        .filter(|r| overlaps(r.span, range))
                        .filter_map(|r| match &r.symbol {
                            Symbol::Requirement(id) => Some(id.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !on_use && on_reference.is_empty() {
                return Vec::new();
            }
            let diagnostics = &db::compiled(w.db, w.ws).diagnostics;
            ide::actions::not_addressed(w.program(), &self.sources)
                .into_iter()
                .filter(|(id, _)| on_use || on_reference.contains(id))
                .map(|(id, title)| {
                    // The W0002 warning of this control, to attach to its action.
                    let warning = diagnostics
                        .iter()
                        .find(|d| d.code == Code::UnaddressedControl && d.message.contains(&format!("control {id} (")))
                        .cloned();
                    let edit = ide::actions::exclude(file, text, &id, &title);
                    Unaddressed { id, title, edit, warning }
                })
                .collect()
        })
    }

    /// The `exception` that waives `rule` for the entity `key`, inserted in `file`.
    pub fn exception(&self, file: FileId, rule: &str, key: &str) -> Cancellable<Option<TextEdit>> {
        self.with(|w| ide::actions::exception(w, file, rule, key, self.as_of))
    }
}

#[cfg(test)]
mod tests {
    use crate::facts::{Format, Mapping};
    use crate::Engine;

    const POLICY: &str = "entity S { id: Text key, ok: Bool }\ncontrol c for s: S { require s.ok }\n";
    const FACTS: &str = r#"{ "S": [ { "id": "a", "ok": false }, { "id": "b", "ok": true } ] }"#;

    #[test]
    fn a_snapshot_answers_reads_and_outlives_nothing() {
        let engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)])
            .expect("loads");
        let file = engine.policy_files()[0];
        let analysis = engine.analysis();
        assert_eq!(analysis.evaluable(), Ok(true));
        assert_eq!(analysis.diagnostics(), Ok(&[][..]));
        let at = POLICY.find("s.ok").expect("a use of `ok`") as u32 + 2;
        let definition = analysis.definition(file, at).expect("not cancelled");
        assert_eq!(definition.len(), 1, "{definition:?}");
        let summary = analysis.rule_summary("c").expect("not cancelled").expect("a rule");
        assert_eq!((summary.pass, summary.fail), (1, 1));
        assert_eq!(
            analysis.formatted(file).expect("not cancelled").as_deref(),
            crate::format::format(POLICY).ok().as_deref()
        );
    }

    #[test]
    fn the_summaries_of_all_rules_asked_on_several_threads_are_each_rules_summary() {
        // 300 rules: enough for four threads to share them out.
        let mut policy = String::from("entity S { id: Text key, n: Int }\n");
        for i in 0..300 {
            policy.push_str(&format!("control c{i} for s: S {{ require s.n >= {} }}\n", i % 12));
        }
        let rows: Vec<String> = (0..20).map(|i| format!(r#"{{ "id": "s{i}", "n": {} }}"#, i % 9)).collect();
        let facts = format!(r#"{{ "S": [{}] }}"#, rows.join(", "));
        let mut engine = Engine::from_texts("p.aims", &policy, &[("f.json", Format::Json, Mapping::default(), &facts)])
            .expect("loads");
        for threads in [1, 4] {
            engine.set_eval_threads(Some(threads));
            let analysis = engine.analysis();
            let all = analysis.rule_summaries().expect("not cancelled");
            let rules = &analysis.program().expect("not cancelled").rules;
            assert_eq!(all.len(), 300);
            assert_eq!(rules.len(), 300);
            for rule in rules {
                let one = analysis.rule_summary(&rule.decl.name).expect("not cancelled");
                assert_eq!(all.get(&rule.decl.name), one.as_ref(), "{}", rule.decl.name);
            }
            let failing = all.values().filter(|s| s.fail > 0).count();
            assert_eq!(failing, 300 - 25, "every rule but those that ask for n >= 0 fails for someone");
        }
    }

    /// Summaries may be asked before the program is known to check: a rule
    /// with an error of its own, or checked against signatures with an
    /// error, is not evaluated; the others are, as they would be.
    #[test]
    fn rules_that_do_not_check_are_not_evaluated_and_the_others_are() {
        let mut engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), FACTS)])
            .expect("loads");
        let file = engine.policy_files()[0];
        engine.replace_policy_text(file, &format!("{POLICY}control d for s: S {{ require s.ok + 1 }}\n"));
        let analysis = engine.analysis();
        assert_eq!(analysis.evaluable(), Ok(false));
        let all = analysis.rule_summaries().expect("not cancelled");
        assert_eq!(all.keys().collect::<Vec<_>>(), ["c"], "d does not check: {all:?}");
        assert_eq!((all["c"].pass, all["c"].fail), (1, 1));
        drop(analysis);

        engine.replace_policy_text(file, &POLICY.replace("ok: Bool }", "ok: Bool, owner: Nobody }"));
        let analysis = engine.analysis();
        assert_eq!(analysis.evaluable(), Ok(false));
        assert!(analysis.rule_summaries().expect("not cancelled").is_empty(), "the signatures do not check");
    }
}
