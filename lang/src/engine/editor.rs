//! The engine as an editor drives it.
//!
//! [`Engine::from_project`] refuses a policy with errors, and
//! [`Engine::set_policy_text`] puts the previous text back: right for a
//! batch run and the REPL, wrong for an editor, where the text being typed
//! is broken most of the time and every diagnostic, symbol and completion
//! must come from it. Here the texts are always kept; the program is
//! checked from them as they are (`sema` never gives up), and the facts are
//! loaded when the program checks. Whether the loaded facts still fit the
//! program is the caller's to decide before it evaluates.

use salsa::Setter;

use super::{tables_from, Engine, LoadFailure};
use crate::db::{self, Database};
use crate::diag::{Diagnostic, FileId};
use crate::facts::{self, FactInput};
use crate::project::ProjectFiles;

impl Engine {
    /// Opens project files for an editor. Never fails: the policy's
    /// diagnostics are in [`Engine::diagnostics`]; the facts are loaded if
    /// the policy checks, and the diagnostics of facts that do not load
    /// are returned (the engine then has no facts).
    pub fn open(files: ProjectFiles) -> (Engine, Vec<Diagnostic>) {
        let db = Database::default();
        let ProjectFiles { name, mut sources, policy, facts: fact_inputs, as_of, limits, monitoring, .. } = files;
        let ws = super::new_workspace(&db, &mut sources, &policy, as_of, limits.budget());
        let mut engine = Engine {
            name,
            sources,
            policy,
            fact_inputs,
            default_as_of: as_of,
            warnings: Vec::new(),
            data_quality: Default::default(),
            max_entities: limits.max_entities,
            db,
            ws,
            prewarmed: Default::default(),
            facts_for: None,
            measures: super::measures::MeasureState::new(monitoring),
        };
        let fact_errors = if engine.diagnostics().iter().any(Diagnostic::is_error) {
            Vec::new()
        } else {
            engine.reload_facts().err().map(|f| f.diagnostics).unwrap_or_default()
        };
        (engine, fact_errors)
    }

    /// Every diagnostic of the policy as its texts stand: syntax, names,
    /// types and lints, errors and warnings.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &db::compiled(&self.db, self.ws).diagnostics
    }

    /// Replaces a policy file's text and keeps it, errors and all (unlike
    /// [`Engine::set_policy_text`]). Returns `false` for a file that is
    /// not a policy file of this engine.
    pub fn replace_policy_text(&mut self, file: FileId, text: &str) -> bool {
        let Some(index) = self.policy.iter().position(|f| *f == file) else { return false };
        let input = self.ws.files(&self.db)[index];
        if input.text(&self.db) != text {
            input.set_text(&mut self.db).to(text.to_string());
            self.sources.set_text(file, text);
        }
        true
    }

    /// Adds a policy file and keeps it, errors and all (unlike
    /// [`Engine::add_policy`]).
    pub fn insert_policy(&mut self, name: &str, text: &str) -> FileId {
        let id = self.sources.add(name, text);
        let input = db::new_source_file(&self.db, id.0, text.to_string());
        let mut files = self.ws.files(&self.db).clone();
        files.push(input);
        self.ws.set_files(&mut self.db).to(files);
        self.policy.push(id);
        id
    }

    /// The fact files: where their text is, their format and mapping.
    pub fn fact_inputs(&self) -> &[FactInput] {
        &self.fact_inputs
    }

    /// Frees the text of the fact files, kept until now to locate errors
    /// in them: for a one-shot command (`aims check`) that has loaded its
    /// facts and will neither reload nor locate them again (the text of
    /// 100,000 systems is 78 MB). Evaluation and reports are unchanged;
    /// a fact's place in its file is unknown afterwards.
    pub fn release_fact_texts(&mut self) {
        for input in &self.fact_inputs {
            self.sources.set_text(input.file, "");
        }
    }

    /// Replaces a fact file's text (kept even if it does not load) and
    /// reloads the facts. Returns `false` for a file that is not a fact file.
    pub fn replace_fact_text(&mut self, file: FileId, text: &str) -> bool {
        if !self.fact_inputs.iter().any(|input| input.file == file) {
            return false;
        }
        self.sources.set_text(file, text);
        true
    }

    /// Loads every fact file, as its text stands, against the program as
    /// it stands. On error the engine keeps the facts it had.
    pub fn reload_facts(&mut self) -> Result<(), LoadFailure> {
        let program = self.program().clone();
        let loaded = facts::load_within(&program, &self.sources, &self.fact_inputs, self.max_entities);
        match loaded {
            Ok(mut store) => {
                self.data_quality = std::sync::Arc::new(std::mem::take(&mut store.quality));
                let tables = tables_from(&mut self.db, &program, store);
                self.ws.set_tables(&mut self.db).to(tables);
                self.measures.stamp = None;
                self.facts_for = Some(self.schema());
                Ok(())
            }
            Err(diagnostics) => Err(LoadFailure { sources: self.sources.clone(), diagnostics }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Sources};
    use crate::facts::{Format, Mapping};

    fn files(policy: &str, facts: &str) -> ProjectFiles {
        let mut sources = Sources::new();
        let policy_file = sources.add("policy.aims", policy);
        let facts_file = sources.add("facts.json", facts);
        ProjectFiles {
            name: "test".into(),
            sources,
            policy: vec![policy_file],
            facts: vec![FactInput { file: facts_file, format: Format::Json, mapping: Mapping::default() }],
            ..ProjectFiles::default()
        }
    }

    const POLICY: &str = "entity S { id: Text key, ok: Bool }\ncontrol c for s: S { require s.ok }\n";
    const FACTS: &str = r#"{ "S": [ { "id": "a", "ok": false }, { "id": "b", "ok": true } ] }"#;

    #[test]
    fn released_fact_texts_change_no_result() {
        let (mut engine, errors) = Engine::open(files(POLICY, FACTS));
        assert!(errors.is_empty());
        let before = engine.evaluation();
        let facts_file = engine.fact_inputs()[0].file;
        engine.release_fact_texts();
        assert_eq!(engine.sources().text(facts_file), "");
        assert_eq!(*engine.evaluation(), *before);
        assert_eq!(engine.evaluation().findings.len(), 1);
    }

    #[test]
    fn the_entity_limit_holds_for_an_editor_too() {
        let mut project = files(POLICY, FACTS);
        project.limits.max_entities = 1;
        let (engine, fact_errors) = Engine::open(project);
        assert_eq!(fact_errors.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::TooManyFacts]);
        assert!(engine.evaluation().rules[0].outcomes.is_empty(), "no facts were loaded");
    }

    #[test]
    fn a_broken_policy_is_opened_and_kept() {
        let (mut engine, fact_errors) = Engine::open(files("control c { require }\n", FACTS));
        assert!(fact_errors.is_empty(), "facts wait for a policy that checks");
        assert_eq!(engine.diagnostics()[0].code, Code::Syntax);
        let file = engine.policy_files()[0];
        assert!(engine.replace_policy_text(file, POLICY));
        assert!(engine.diagnostics().is_empty(), "{:?}", engine.diagnostics());
        engine.reload_facts().expect("facts load once the policy checks");
        let outcomes = &engine.evaluation().rules[0].outcomes;
        assert_eq!(outcomes.len(), 2);
        assert!(engine.replace_policy_text(file, "control c { require nope }\n"));
        assert_eq!(engine.sources().text(file), "control c { require nope }\n", "the broken text is kept");
        assert_eq!(engine.diagnostics()[0].code, Code::UnknownName);
    }

    #[test]
    fn fact_texts_are_kept_and_a_failed_reload_keeps_the_facts() {
        let (mut engine, fact_errors) = Engine::open(files(POLICY, FACTS));
        assert!(fact_errors.is_empty(), "{fact_errors:?}");
        let facts_file = engine.fact_inputs()[0].file;
        assert!(engine.replace_fact_text(facts_file, r#"{ "S": [ { "id": "a", "ok": 3 } ] }"#));
        let failure = engine.reload_facts().expect_err("a number is not a Bool");
        assert_eq!(failure.diagnostics[0].code, Code::FactType);
        assert_eq!(engine.evaluation().rules[0].outcomes.len(), 2, "the previous facts stay");
        assert!(engine.replace_fact_text(facts_file, r#"{ "S": [ { "id": "a", "ok": true } ] }"#));
        engine.reload_facts().expect("valid facts");
        assert_eq!(engine.evaluation().rules[0].outcomes.len(), 1);
        assert!(!engine.replace_fact_text(engine.policy_files()[0], ""), "a policy file is not a fact file");
    }

    #[test]
    fn an_inserted_policy_with_errors_is_kept() {
        let (mut engine, _) = Engine::open(files(POLICY, FACTS));
        let added = engine.insert_policy("more.aims", "control d for s: S { require s.nope }\n");
        assert_eq!(engine.policy_files().len(), 2);
        assert_eq!(engine.diagnostics()[0].code, Code::UnknownField);
        assert_eq!(engine.diagnostics()[0].primary.as_ref().map(|l| l.at.file), Some(added));
    }
}
