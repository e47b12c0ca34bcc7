//! Running a program's `test` blocks: each one evaluates the program on
//! its own `given` facts only (hermetic), as of its own date, and compares
//! outcomes, risk levels and objective statuses with its expectations.

use crate::facts::{FactStore, Origin, Row};
use crate::ir::{ExpectDef, Program};
use crate::time::Date;

/// The result of one `test` block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    pub name: String,
    /// One line per expectation that did not hold: expected and actual.
    pub failures: Vec<String>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test block; `default_as_of` is used when a test sets none.
pub fn run_tests(program: &Program, default_as_of: Date) -> Vec<TestResult> {
    program
        .tests
        .iter()
        .map(|test| {
            let mut store = FactStore::empty(program);
            for fact in &test.given {
                let row = Row { values: fact.values.clone().into(), origin: Origin::Policy(fact.span) };
                store.push(program, fact.entity, row);
            }
            let evaluation = crate::eval::evaluate(program, &store, test.as_of.unwrap_or(default_as_of));
            let mut failures = Vec::new();
            for expect in &test.expects {
                match expect {
                    ExpectDef::Outcome { rule, outcome, entity, .. } => {
                        let key = entity.as_deref().unwrap_or("-");
                        let name = &program.rule(*rule).decl.name;
                        let actual =
                            evaluation.rules[rule.index()].outcomes.iter().find(|o| &*o.key == key).map(|o| o.kind);
                        if actual != Some(*outcome) {
                            failures.push(format!(
                                "`{name}` for \"{key}\": expected {}, got {}",
                                outcome.as_str(),
                                actual.map_or("no outcome (no such entity)", |a| a.as_str())
                            ));
                        }
                    }
                    ExpectDef::Risk { risk, entity, level, .. } => {
                        let key = entity.as_deref().unwrap_or("-");
                        let def = &program.risks[risk.index()];
                        let levels = &program.matrices[def.matrix.index()].levels;
                        let actual = evaluation.risks[risk.index()]
                            .entries
                            .iter()
                            .find(|e| &*e.key == key)
                            .and_then(|e| e.residual_level);
                        if actual != Some(*level) {
                            let name = |l: Option<u32>| {
                                l.and_then(|l| levels.get(l as usize)).map_or("nothing", |l| l.name.as_str())
                            };
                            failures.push(format!(
                                "risk `{}` for \"{key}\": expected residual level {}, got {}",
                                def.decl.name,
                                name(Some(*level)),
                                name(actual)
                            ));
                        }
                    }
                    ExpectDef::Objective { objective, status, .. } => {
                        let actual = evaluation.objectives[objective.index()].status;
                        if actual != *status {
                            failures.push(format!(
                                "objective `{}`: expected {}, got {}",
                                program.objectives[objective.index()].decl.name,
                                status.as_str(),
                                actual.as_str()
                            ));
                        }
                    }
                }
            }
            TestResult { name: test.name.clone(), failures }
        })
        .collect()
}
