//! Running a program's `test` blocks: each one evaluates the program on
//! its own `given` facts only (hermetic), as of its own date, and compares
//! outcomes, risk levels and objective statuses with its expectations.
//!
//! Coverage says what the tests prove, not what they merely run (every
//! test evaluates the whole program): a control, audit rule, risk or
//! objective is covered when some test states an expectation about it,
//! and a `require` is covered when some test expecting an outcome of its
//! rule saw that `require` fail, showing that the condition can bite.

use crate::diag::{FileId, FileSpan};
use crate::eval::budget::Budget;
use crate::facts::{FactStore, Origin, Row};
use crate::ir::{ExpectDef, Program, RuleKind};
use crate::time::Date;

/// The result of one `test` block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// One line per expectation that did not hold: expected and actual.
    pub failures: Vec<String>,
}

impl TestResult {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What a coverage item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageKind {
    /// A control.
    Control,
    /// An audit.
    Audit,
    /// One `require` of a control or an audit.
    Require,
    /// A risk.
    Risk,
    /// An objective.
    Objective,
}

impl CoverageKind {
    /// The word `aims test --coverage` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageKind::Control => "control",
            CoverageKind::Audit => "audit",
            CoverageKind::Require => "require",
            CoverageKind::Risk => "risk",
            CoverageKind::Objective => "objective",
        }
    }
}

/// One thing the tests may or may not cover.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverageItem {
    /// What it is.
    pub kind: CoverageKind,
    /// The declaration's name; for a `require`, `rule #n`.
    pub name: String,
    /// Where it is declared.
    pub location: FileSpan,
    /// Whether a test expects something of it.
    pub covered: bool,
}

/// Coverage of a program by its tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coverage {
    /// Every control, audit, `require`, risk and objective of the program.
    pub items: Vec<CoverageItem>,
}

impl Coverage {
    /// Covered items as a percentage of all items (100 when there are none).
    pub fn percent(&self) -> f64 {
        if self.items.is_empty() {
            return 100.0;
        }
        let covered = self.items.iter().filter(|i| i.covered).count();
        covered as f64 * 100.0 / self.items.len() as f64
    }

    /// The items no test covers, in declaration order.
    pub fn uncovered(&self) -> impl Iterator<Item = &CoverageItem> {
        self.items.iter().filter(|i| !i.covered)
    }
}

/// Runs every test block within the default budget; `default_as_of` is
/// used when a test sets none.
pub fn run_tests(program: &Program, default_as_of: Date) -> Vec<TestResult> {
    run_tests_with_coverage(program, default_as_of, Budget::default(), &|_| true).0
}

/// [`run_tests`] within a budget (the project's), and the coverage the
/// tests give of the declarations in the files `counted` accepts (the
/// project's own, leaving the stdlib out).
pub fn run_tests_with_coverage(
    program: &Program,
    default_as_of: Date,
    budget: Budget,
    counted: &dyn Fn(FileId) -> bool,
) -> (Vec<TestResult>, Coverage) {
    let mut rule_covered = vec![false; program.rules.len()];
    let mut require_covered: Vec<Vec<bool>> =
        program.rules.iter().map(|r| vec![false; r.requirements().len()]).collect();
    let mut risk_covered = vec![false; program.risks.len()];
    let mut objective_covered = vec![false; program.objectives.len()];
    let results = program
        .tests
        .iter()
        .map(|test| {
            let mut store = FactStore::empty(program);
            for fact in &test.given {
                let row = Row::new(fact.values.clone().into(), Origin::Policy(fact.span));
                store.push(program, fact.entity, row);
            }
            let evaluation = crate::eval::evaluate_within(program, &store, test.as_of.unwrap_or(default_as_of), budget);
            let mut failures = Vec::new();
            for expect in &test.expects {
                match expect {
                    ExpectDef::Outcome { rule, outcome, entity, .. } => {
                        let key = entity.as_deref().unwrap_or("-");
                        let name = &program.rule(*rule).decl.name;
                        rule_covered[rule.index()] = true;
                        let found = evaluation.rules[rule.index()].outcomes.iter().find(|o| &*o.key == key);
                        for failure in found.map(|o| o.failures).unwrap_or_default() {
                            if let Some(c) = require_covered[rule.index()].get_mut(failure.index) {
                                *c = true;
                            }
                        }
                        let actual = found.map(|o| o.kind);
                        if actual != Some(*outcome) {
                            failures.push(format!(
                                "`{name}` for \"{key}\": expected {}, got {}",
                                outcome.as_str(),
                                actual.map_or("no outcome (no such entity)", |a| a.as_str())
                            ));
                        }
                    }
                    ExpectDef::Risk { risk, entity, level, .. } => {
                        risk_covered[risk.index()] = true;
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
                        objective_covered[objective.index()] = true;
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
        .collect();
    let mut coverage = Coverage::default();
    for (i, rule) in program.rules.iter().enumerate().filter(|(_, r)| counted(r.decl.span.file)) {
        let kind = match rule.kind {
            RuleKind::Control => CoverageKind::Control,
            RuleKind::Audit => CoverageKind::Audit,
        };
        let name = &rule.decl.name;
        coverage.items.push(CoverageItem {
            kind,
            name: name.clone(),
            location: rule.decl.name_span,
            covered: rule_covered[i],
        });
        for (n, req) in rule.requirements().iter().enumerate() {
            coverage.items.push(CoverageItem {
                kind: CoverageKind::Require,
                name: format!("{name} #{}", n + 1),
                location: req.span,
                covered: require_covered[i][n],
            });
        }
    }
    for (i, risk) in program.risks.iter().enumerate().filter(|(_, r)| counted(r.decl.span.file)) {
        coverage.items.push(CoverageItem {
            kind: CoverageKind::Risk,
            name: risk.decl.name.clone(),
            location: risk.decl.name_span,
            covered: risk_covered[i],
        });
    }
    for (i, objective) in program.objectives.iter().enumerate().filter(|(_, o)| counted(o.decl.span.file)) {
        coverage.items.push(CoverageItem {
            kind: CoverageKind::Objective,
            name: objective.decl.name.clone(),
            location: objective.decl.name_span,
            covered: objective_covered[i],
        });
    }
    (results, coverage)
}
