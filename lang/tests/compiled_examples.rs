//! The compiled evaluation gives what the reference interpreter gives on
//! every bundled example and on the peer benchmark's project: the same
//! outcomes, failures, observed values, risks, objectives and findings,
//! so every report built from them is the same byte for byte.

use std::path::{Path, PathBuf};

use aims_lang::eval::Evaluator;
use aims_lang::ir::OutcomeKind;
use aims_lang::{Date, Engine};

fn projects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("the examples folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("aims.toml").is_file())
        .collect();
    projects.sort();
    projects.push(root.join("benches/peers"));
    projects
}

#[test]
fn every_example_evaluates_the_same_compiled_and_interpreted() {
    let projects = projects();
    assert!(projects.len() >= 5, "{projects:?}");
    for project in projects {
        let mut engine = Engine::load(&project, &Default::default())
            .unwrap_or_else(|f| panic!("{} loads: {:?}", project.display(), f.diagnostics));
        let as_of = engine.default_as_of().unwrap_or(Date::parse("2026-01-01").expect("a date"));
        let compiled = engine.evaluate(as_of);
        let mut reference = engine.fresh_copy();
        reference.set_evaluator(Evaluator::Interpreted);
        let interpreted = reference.evaluate(as_of);
        assert_eq!(*compiled, *interpreted, "{}", project.display());
        // Something to compare: every project has failing outcomes.
        let failing = compiled.rules.iter().flat_map(|r| r.outcomes.iter()).filter(|o| o.kind == OutcomeKind::Fail);
        assert!(failing.count() > 0, "{}", project.display());
    }
}
