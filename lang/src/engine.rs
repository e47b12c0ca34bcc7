//! The embeddable engine: load a project, check it, load its facts,
//! evaluate it as of a date.
//!
//! ```
//! use aims_lang::{Engine, facts::{Format, Mapping}, time::Date};
//!
//! let policy = r#"
//!     entity System { id: Text key, human_oversight: Bool }
//!     control oversight "A person can intervene" severity major
//!       for s: System where true
//!     { require s.human_oversight because "automated decisions need a human in the loop" }
//! "#;
//! let facts = r#"{ "System": [ { "id": "scorer", "human_oversight": false } ] }"#;
//! let engine = Engine::from_texts("policy.aims", policy, &[("facts.json", Format::Json, Mapping::default(), facts)])
//!     .expect("valid policy and facts");
//! let result = engine.evaluate(Date::parse("2026-11-01").unwrap());
//! assert_eq!(result.findings.len(), 1);
//! assert_eq!(result.findings[0].entity.as_deref(), Some("scorer"));
//! ```

use std::path::Path;

use crate::diag::{closest, Code, Diagnostic, FileId, Sources};
use crate::eval::{self, Evaluation};
use crate::facts::{self, FactInput, FactStore, Format, Mapping};
use crate::ir::Program;
use crate::project::{self, LoadOptions, ProjectFiles};
use crate::sema::{self, SourceInput};
use crate::syntax::{self, ast};
use crate::time::Date;

/// Why a project could not be loaded: every diagnostic, and the files they point into.
#[derive(Clone, Debug)]
pub struct LoadFailure {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

/// A checked program with its facts, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Engine {
    name: String,
    sources: Sources,
    policy: Vec<FileId>,
    fact_inputs: Vec<FactInput>,
    default_as_of: Option<Date>,
    program: Program,
    store: FactStore,
    warnings: Vec<Diagnostic>,
}

/// The result of checking policy files: the program and every diagnostic.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and checks policy files (and the stdlib modules they `use`).
/// Stdlib modules are added to `sources`.
pub fn compile(sources: &mut Sources, policy: &[FileId]) -> Compiled {
    let mut diagnostics = Vec::new();
    let mut parsed: Vec<(FileId, ast::SourceFile)> = Vec::new();
    let mut loaded_modules: Vec<&str> = Vec::new();
    let mut queue: Vec<FileId> = policy.to_vec();
    while let Some(file) = queue.pop() {
        let parse = syntax::parse(sources.text(file));
        for error in &parse.errors {
            let mut d = Diagnostic::error(error.code, error.message.clone()).at(file, error.span, error.label.clone());
            if let Some(help) = &error.help {
                d = d.help(help.clone());
            }
            diagnostics.push(d);
        }
        for item in &parse.file.items {
            let ast::ItemKind::Use(u) = &item.kind else { continue };
            let modules = crate::stdlib::resolve(&u.path);
            if modules.is_empty() {
                let names = crate::stdlib::names();
                let mut d = Diagnostic::error(Code::UnknownModule, format!("unknown module `{}`", u.path)).at(
                    file,
                    u.span,
                    "no such module",
                );
                d = match closest(&u.path, names.iter().map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the modules are: {}", names.join(", "))),
                };
                diagnostics.push(d);
            }
            for (name, text) in modules {
                if !loaded_modules.contains(&name) {
                    loaded_modules.push(name);
                    let id = sources.add(format!("<stdlib>/{}.aims", name.replace('.', "/")), text);
                    queue.push(id);
                }
            }
        }
        parsed.push((file, parse.file));
    }
    parsed.sort_by_key(|(file, _)| *file);
    let inputs: Vec<SourceInput> =
        parsed.iter().map(|(file, ast)| SourceInput { file: *file, text: sources.text(*file), ast }).collect();
    let checked = sema::check(&inputs);
    diagnostics.extend(checked.diagnostics);
    Compiled { program: checked.program, diagnostics }
}

impl Engine {
    /// Loads a project folder (or a single `.aims` file) from disk.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Engine, LoadFailure> {
        let files = project::read_project(path, options)
            .map_err(|(sources, diagnostics)| LoadFailure { sources, diagnostics })?;
        Engine::from_project(files)
    }

    /// Builds an engine from files already read.
    pub fn from_project(files: ProjectFiles) -> Result<Engine, LoadFailure> {
        let ProjectFiles { name, mut sources, policy, facts: fact_inputs, as_of, .. } = files;
        let compiled = compile(&mut sources, &policy);
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            compiled.diagnostics.into_iter().partition(Diagnostic::is_error);
        if !errors.is_empty() {
            return Err(LoadFailure { sources, diagnostics: errors });
        }
        let program = compiled.program;
        if program.rules.is_empty() && program.risks.is_empty() && program.objectives.is_empty() {
            let d = Diagnostic::error(Code::EmptyProject, format!("project `{name}` has nothing to evaluate"))
                .note(format!("{} policy file(s) were read", policy.len()))
                .help("declare at least one control, audit, risk or objective in a `.aims` file");
            return Err(LoadFailure { sources, diagnostics: vec![d] });
        }
        let store = match facts::load(&program, &sources, &fact_inputs) {
            Ok(store) => store,
            Err(diagnostics) => return Err(LoadFailure { sources, diagnostics }),
        };
        Ok(Engine { name, sources, policy, fact_inputs, default_as_of: as_of, program, store, warnings })
    }

    /// Builds an engine from one policy text and fact texts (for embedding and tests).
    pub fn from_texts(
        policy_name: &str,
        policy: &str,
        facts: &[(&str, Format, Mapping, &str)],
    ) -> Result<Engine, LoadFailure> {
        let mut sources = Sources::new();
        let policy_file = sources.add(policy_name, policy);
        let fact_inputs = facts
            .iter()
            .map(|(name, format, mapping, text)| FactInput {
                file: sources.add(*name, *text),
                format: *format,
                mapping: mapping.clone(),
            })
            .collect();
        Engine::from_project(ProjectFiles {
            name: policy_name.trim_end_matches(".aims").to_string(),
            root: Default::default(),
            sources,
            policy: vec![policy_file],
            facts: fact_inputs,
            as_of: None,
        })
    }

    /// Evaluates every rule, risk and objective as of a date.
    pub fn evaluate(&self, as_of: Date) -> Evaluation {
        eval::evaluate(&self.program, &self.store, as_of)
    }

    /// Adds a fact file, or replaces the one with the same name. On error
    /// the engine keeps its previous facts.
    pub fn set_facts(&mut self, name: &str, format: Format, mapping: Mapping, text: &str) -> Result<(), LoadFailure> {
        let mut sources = self.sources.clone();
        let mut inputs = self.fact_inputs.clone();
        match inputs.iter().position(|i| sources.name(i.file) == name) {
            Some(i) => {
                sources.set_text(inputs[i].file, text);
                inputs[i].format = format;
                inputs[i].mapping = mapping;
            }
            None => {
                let file = sources.add(name, text);
                inputs.push(FactInput { file, format, mapping });
            }
        }
        match facts::load(&self.program, &sources, &inputs) {
            Ok(store) => {
                self.sources = sources;
                self.fact_inputs = inputs;
                self.store = store;
                Ok(())
            }
            Err(diagnostics) => Err(LoadFailure { sources, diagnostics }),
        }
    }

    /// The project's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The evaluation date of `aims.toml`, if it sets one.
    pub fn default_as_of(&self) -> Option<Date> {
        self.default_as_of
    }
    pub fn program(&self) -> &Program {
        &self.program
    }
    pub fn facts(&self) -> &FactStore {
        &self.store
    }
    pub fn sources(&self) -> &Sources {
        &self.sources
    }
    /// Policy files of the project (stdlib modules excluded).
    pub fn policy_files(&self) -> &[FileId] {
        &self.policy
    }
    /// Warnings found while checking.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}
