//! The engine's inputs at one moment, to come back to: undoing what-if
//! edits without rebuilding the database.
//!
//! A [`Checkpoint`] holds the handles of the salsa inputs (policy files,
//! tables, chunks) and the shared row lists of the chunks, not copies of
//! facts or results. [`Engine::restore`] sets back only the inputs that
//! differ, so the memoized results of everything the edits did not touch
//! stay as they are, and a chunk's results are recomputed from its old rows
//! only when an edit replaced them.

use std::sync::Arc;

use salsa::Setter;

use super::{Engine, Schema};
use crate::db::{self, Chunk, SourceFile, Table};
use crate::diag::{FileId, Sources};
use crate::facts::Row;
use crate::time::Date;

/// The inputs of an engine at one moment (see [`Engine::checkpoint`]).
/// Costs a pointer or two per chunk of facts.
#[derive(Clone)]
pub struct Checkpoint {
    files: Vec<SourceFile>,
    tables: Vec<TableState>,
    as_of: Date,
    sources: Sources,
    policy: Vec<FileId>,
    facts_for: Option<Schema>,
    /// What the measured fields of `tables` were computed from.
    measured: Option<u64>,
    /// Where those values came from.
    evidence: std::sync::Arc<[crate::measure::Measurement]>,
    /// The values of the measures of the organisation.
    organisation: Arc<[crate::ir::Value]>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint").field("as_of", &self.as_of).finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct TableState {
    table: Table,
    len: u32,
    chunks: Vec<(Chunk, Arc<[Row]>)>,
}

impl Engine {
    /// The engine's inputs as they stand, to [`restore`](Engine::restore) later.
    pub fn checkpoint(&self) -> Checkpoint {
        let db = &self.db;
        let tables = self
            .ws
            .tables(db)
            .iter()
            .map(|t| TableState {
                table: *t,
                len: t.len(db),
                chunks: t.chunks(db).iter().map(|c| (*c, c.rows(db).clone())).collect(),
            })
            .collect();
        Checkpoint {
            files: self.ws.files(db).clone(),
            tables,
            as_of: self.ws.as_of(db),
            sources: self.sources.clone(),
            policy: self.policy.clone(),
            facts_for: self.facts_for.clone(),
            measured: self.measures.stamp,
            evidence: self.measures.evidence.clone(),
            organisation: self.ws.measured(db).clone(),
        }
    }

    /// Sets the inputs back to a checkpoint of this engine: only those that
    /// changed since are set, so results that did not depend on them stay
    /// memoized. A checkpoint of another engine is ignored.
    pub fn restore(&mut self, checkpoint: &Checkpoint) {
        let ours = checkpoint.tables.len() == self.ws.tables(&self.db).len()
            && checkpoint.tables.iter().zip(self.ws.tables(&self.db)).all(|(s, t)| s.table == *t)
            || self.ws.tables(&self.db).is_empty();
        if !ours {
            return;
        }
        if *self.ws.files(&self.db) != checkpoint.files {
            self.ws.set_files(&mut self.db).to(checkpoint.files.clone());
        }
        for state in &checkpoint.tables {
            let table = state.table;
            if table.len(&self.db) != state.len {
                table.set_len(&mut self.db).to(state.len);
            }
            let chunks: Vec<Chunk> = state.chunks.iter().map(|(c, _)| *c).collect();
            if *table.chunks(&self.db) != chunks {
                table.set_chunks(&mut self.db).to(chunks);
            }
            for (chunk, rows) in &state.chunks {
                if !Arc::ptr_eq(chunk.rows(&self.db), rows) {
                    db::set_chunk_rows(&mut self.db, *chunk, rows.clone());
                }
            }
        }
        // The measured fields were restored with the rows: so is what they
        // were computed from, before the date (which may measure again).
        self.measures.stamp = checkpoint.measured;
        self.measures.evidence = checkpoint.evidence.clone();
        if !Arc::ptr_eq(self.ws.measured(&self.db), &checkpoint.organisation) {
            self.ws.set_measured(&mut self.db).to(checkpoint.organisation.clone());
        }
        self.set_as_of(checkpoint.as_of);
        self.sources = checkpoint.sources.clone();
        self.policy = checkpoint.policy.clone();
        self.facts_for = checkpoint.facts_for.clone();
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::facts::{Format, Mapping};
    use crate::time::Date;

    const POLICY: &str = r#"
        entity System { id: Text key, human_oversight: Bool }
        control oversight "A person can intervene" severity major
          for s: System where true
        { require s.human_oversight because "a human in the loop" }
    "#;

    fn engine() -> Engine {
        let facts: String = format!(
            "{{\"System\": [{}]}}",
            (0..200)
                .map(|i| format!("{{\"id\": \"s{i}\", \"human_oversight\": {}}}", i % 3 == 0))
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), &facts)])
            .expect("valid");
        engine.set_as_of(Date::parse("2026-11-01").expect("date"));
        engine
    }

    #[test]
    fn restoring_a_checkpoint_undoes_every_kind_of_edit() {
        let mut engine = engine();
        let before = engine.evaluation();
        let checkpoint = engine.checkpoint();
        engine.set_field("System", "s1", "human_oversight", "true").expect("edit");
        engine.remove_fact("System", "s5").expect("edit");
        engine.add_fact("System", r#"{ id: "new", human_oversight: false }"#).expect("edit");
        engine
            .add_policy(
                "<repl-1>",
                "control extra \"x\" severity minor for s: System where true { require true because \"y\" }",
            )
            .expect("declaration");
        engine.set_as_of(Date::parse("2027-01-01").expect("date"));
        assert_ne!(*engine.evaluation(), *before);
        engine.restore(&checkpoint);
        assert_eq!(*engine.evaluation(), *before);
        assert_eq!(engine.policy_files().len(), 1);
        assert_eq!(engine.program().rules.len(), 1);
    }

    #[test]
    fn restoring_keeps_the_results_of_untouched_chunks() {
        let mut engine = engine();
        let before = engine.evaluation();
        let checkpoint = engine.checkpoint();
        engine.remove_fact("System", "s100").expect("edit");
        engine.evaluation();
        engine.restore(&checkpoint);
        let after = engine.evaluation();
        let (b, a) = (before.rules[0].outcomes.chunks(), after.rules[0].outcomes.chunks());
        assert_eq!(b.len(), a.len());
        // The removed row's chunk and every one after it were rebuilt by the
        // removal; restoring brings the old chunks (and their memos) back.
        assert!(b.iter().zip(a).all(|(x, y)| std::sync::Arc::ptr_eq(x, y)));
    }
}
