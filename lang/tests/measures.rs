//! `measure` declarations: what the checker makes of them (plans, and the
//! errors of measures a log query cannot compute), and how the engine
//! fills the measured fields from a runner's values. The runner here is a
//! stand-in that records what it was asked; `monitor/tests` runs the real
//! one on real files.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use aims_lang::diag::Code;
use aims_lang::ir::OutcomeKind;
use aims_lang::measure::{
    CmpOp, Decimal, Filter, Literal, MeasureOutput, MeasurePlan, MeasureRequest, MeasureRunner, MeasureValue,
    MetricKind,
};
use aims_lang::project::LoadOptions;
use aims_lang::{Date, Engine, LoadFailure};

const SCHEMA: &str = "enum Channel { web, branch }\n\
    entity AISystem { id: Text key, name: Text }\n\
    record Decision { system: Text, decided_at: Date, approved: Bool, group: Text, channel: Channel, score: Number? }\n";

const GAP: &str = "/// The approval-rate gap between groups, last 30 days.\n\
    measure approval_gap for s: AISystem =\n  parity_difference(d.approved, d.group)\n  \
    over d: Decision\n  where d.system == s.id and d.decided_at within 30 days and d.channel == web and d.score >= 300\n\
    control fair for s: AISystem { require s.approval_gap <= 10% }\n";

const FACTS: &str =
    r#"{"AISystem": [{"id": "m1", "name": "One"}, {"id": "m2", "name": "Two"}, {"id": "m3", "name": "Three"}]}"#;

fn project(name: &str, policy: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("measures").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("logs")).expect("folder");
    std::fs::write(dir.join("policy.aims"), format!("{SCHEMA}{policy}")).expect("policy");
    std::fs::write(dir.join("systems.json"), FACTS).expect("facts");
    std::fs::write(dir.join("logs/decisions.parquet"), b"not read by the stand-in").expect("log");
    std::fs::write(
        dir.join("aims.toml"),
        "[[facts]]\npath = \"systems.json\"\n\n[[logs]]\nrecord = \"Decision\"\npath = \"logs\"\n",
    )
    .expect("aims.toml");
    dir
}

fn load(dir: &Path) -> Result<Engine, LoadFailure> {
    Engine::load(dir, &LoadOptions::default())
}

fn loaded(dir: &Path) -> Engine {
    load(dir).unwrap_or_else(|f| panic!("{}", aims_lang::diag::render(&f.diagnostics, &f.sources, Default::default())))
}

fn date(s: &str) -> Date {
    Date::parse(s).expect("a date")
}

/// Gives each plan the values it holds, and counts its runs.
struct StandIn {
    values: Vec<(String, MeasureValue)>,
    runs: RefCell<Vec<Date>>,
}

impl MeasureRunner for StandIn {
    fn run(&self, request: &MeasureRequest) -> Result<Vec<MeasureOutput>, Vec<aims_lang::diag::Diagnostic>> {
        self.runs.borrow_mut().push(request.as_of);
        assert_eq!(request.sources.len(), 1);
        assert_eq!(request.records[0].name, "Decision");
        Ok(request.plans.iter().map(|_| MeasureOutput { values: self.values.clone() }).collect())
    }
}

/// Why the values a failure read are unknown.
fn unknowns(failures: &[aims_lang::eval::Failure]) -> String {
    let whys = failures.iter().flat_map(|f| f.values.iter()).filter_map(|v| match v {
        aims_lang::ir::Value::Unknown(u) => Some(u.to_string()),
        _ => None,
    });
    whys.collect::<Vec<_>>().join("; ")
}

fn value(n: &str, rows: u64) -> MeasureValue {
    MeasureValue { value: Ok(n.parse::<Decimal>().expect("a decimal")), rows }
}

#[test]
fn a_measure_is_lowered_to_one_plan_by_column_name() {
    let engine = loaded(&project("plan", GAP));
    let program = engine.program();
    assert_eq!(program.measures.len(), 1);
    let plan = program.measures[0].plan.clone().expect("a plan");
    assert_eq!(
        plan,
        MeasurePlan {
            measure: "approval_gap".into(),
            entity: Some("AISystem".into()),
            record: "Decision".into(),
            key_column: Some("system".into()),
            window: Some(aims_lang::measure::Window {
                column: "decided_at".into(),
                duration: aims_lang::Duration { months: 0, days: 30 }
            }),
            filters: vec![
                Filter::Compare { column: "channel".into(), op: CmpOp::Eq, value: Literal::Text("web".into()) },
                Filter::Compare { column: "score".into(), op: CmpOp::Ge, value: Literal::Number(Decimal::from(300)) },
            ],
            metric: MetricKind::ParityDifference,
            columns: vec!["approved".into(), "group".into()],
            rank: None,
            edges: vec![],
        }
    );
    assert_eq!(plan.read_columns(), ["system", "decided_at", "channel", "score", "approved", "group"]);
    let (entity, field) = program.measures[0].field().expect("a measured field");
    let entity = program.entity(entity);
    let field = &entity.fields[field as usize];
    assert_eq!((field.name.as_str(), program.ty_name(&field.ty).as_str()), ("approval_gap", "Percent?"));
    assert_eq!(field.docs.as_deref(), Some("The approval-rate gap between groups, last 30 days."));
}

#[test]
fn measured_values_fill_the_field_and_a_fact_without_rows_has_no_evidence() {
    let mut engine = loaded(&project("fill", GAP));
    let runner = StandIn {
        values: vec![
            ("m1".into(), value("0.04", 120)),
            ("m2".into(), value("0.25", 80)),
            ("m3".into(), MeasureValue { value: Err("fewer than two groups".into()), rows: 7 }),
        ],
        runs: RefCell::new(Vec::new()),
    };
    let as_of = date("2026-11-01");
    let measured = engine.measure(&runner, as_of).expect("measured");
    assert_eq!((measured.ran, measured.measures, measured.values), (true, 1, 2));
    let evaluation = engine.evaluate(as_of);
    let outcomes: Vec<(String, OutcomeKind, String)> =
        evaluation.rules[0].outcomes.iter().map(|o| (o.key.to_string(), o.kind, unknowns(o.failures))).collect();
    assert_eq!(outcomes[0], ("m1".into(), OutcomeKind::Pass, String::new()));
    assert_eq!(outcomes[1].1, OutcomeKind::Fail);
    assert_eq!(outcomes[2].1, OutcomeKind::Fail, "unknown evidence never passes");
    assert!(
        outcomes[2].2.contains("fewer than two groups (7 rows of `m3` from 2026-10-02 to 2026-11-01 in logs)"),
        "{}",
        outcomes[2].2
    );

    // The same date and unchanged files: nothing runs again.
    assert!(!engine.measure(&runner, as_of).expect("measured").ran);
    assert_eq!(runner.runs.borrow().len(), 1);

    // Another date: the runner runs, and a key it no longer lists has no evidence.
    let later = StandIn { values: vec![("m1".into(), value("0.5", 3))], runs: RefCell::new(Vec::new()) };
    engine.measure(&later, date("2026-12-01")).expect("measured");
    let evaluation = engine.evaluate(date("2026-12-01"));
    let m2 = evaluation.rules[0].outcomes.iter().find(|o| &*o.key == "m2").expect("m2");
    let message = unknowns(m2.failures);
    assert!(message.contains("no `Decision` row of `m2` from 2026-11-01 to 2026-12-01 in logs"), "{message}");
}

#[test]
fn a_what_if_can_set_a_measured_value() {
    let mut engine = loaded(&project("what_if", GAP));
    let runner = StandIn { values: vec![("m1".into(), value("0.04", 120))], runs: RefCell::new(Vec::new()) };
    engine.measure(&runner, date("2026-11-01")).expect("measured");
    engine.set_as_of(date("2026-11-01"));
    let change = engine.what_if_field("AISystem", "m1", "approval_gap", Some("30%")).expect("a what-if");
    assert!(!change.changes.is_empty(), "setting the gap to 30% fails the control");
}

/// The first error of a project whose policy is `policy`.
fn refused(name: &str, policy: &str) -> (Code, String, Option<String>) {
    match load(&project(name, policy)) {
        Ok(_) => panic!("{name} loaded"),
        Err(f) => {
            let d = f.diagnostics.iter().find(|d| d.is_error()).expect("an error");
            (d.code, d.message.clone(), d.help.clone())
        }
    }
}

#[test]
fn a_measure_a_log_query_cannot_compute_is_refused_with_what_it_can_say() {
    let control = "control c for s: AISystem { require s.m is some }\n";
    let (code, message, help) = refused(
        "no_join",
        &format!("measure m for s: AISystem = count() over d: Decision where d.decided_at within 7 days\n{control}"),
    );
    assert_eq!(code, Code::BadMeasure);
    assert!(message.contains("not joined on its key"), "{message}");
    assert_eq!(help.as_deref(), Some("add `d.COLUMN == s.id` to the `where`"));

    let (code, message, _) = refused(
        "or",
        &format!("measure m for s: AISystem = count() over d: Decision where d.system == s.id and (d.approved or d.group == \"a\")\n{control}"),
    );
    assert_eq!((code, message.as_str()), (Code::BadMeasure, "a log query cannot express this condition"));

    let (code, message, help) = refused(
        "unknown_metric",
        &format!("measure m for s: AISystem = median(d.score) over d: Decision where d.system == s.id\n{control}"),
    );
    assert_eq!(code, Code::BadMeasure);
    assert_eq!(message, "a measure's value is a metric over the log's rows");
    assert_eq!(help.as_deref(), Some("did you mean `mean`?"));

    let (code, message, _) = refused(
        "kind",
        &format!("measure m for s: AISystem = rate(d.group) over d: Decision where d.system == s.id\n{control}"),
    );
    assert_eq!(code, Code::BadMeasure);
    assert_eq!(message, "`outcome` of `rate` must be a `Bool` column; `group` is `Text`");

    let (code, _, _) = refused(
        "arity",
        &format!("measure m for s: AISystem = rate() over d: Decision where d.system == s.id\n{control}"),
    );
    assert_eq!(code, Code::WrongArity);

    let (code, message, _) = refused(
        "psi",
        &format!("measure m for s: AISystem = psi(d.group) over d: Decision where d.system == s.id\n{control}"),
    );
    assert_eq!(code, Code::BadMeasure);
    assert!(message.contains("there is no window"), "{message}");

    let (code, message, _) = refused(
        "rank",
        &format!(
            "measure m for s: AISystem = percentile(d.score, 120) over d: Decision where d.system == s.id\n{control}"
        ),
    );
    assert_eq!((code, message.as_str()), (Code::BadMeasure, "`p` must be a number from 0 to 100"));

    let (code, message, _) = refused(
        "entity_rows",
        &format!("measure m for s: AISystem = count() over d: AISystem where d.id == s.id\n{control}"),
    );
    assert_eq!(code, Code::BadMeasure);
    assert!(message.contains("is an entity: the rows of a log are a `record`"), "{message}");

    let (code, message, _) =
        refused("clash", "measure name for s: AISystem = count() over d: Decision where d.system == s.id\ncontrol c for s: AISystem { require s.name != \"\" }\n");
    assert_eq!((code, message.as_str()), (Code::Duplicate, "`AISystem` already has a field `name`"));
}

#[test]
fn a_fact_file_cannot_give_a_measured_field() {
    let dir = project("given", GAP);
    std::fs::write(dir.join("systems.json"), r#"{"AISystem": [{"id": "m1", "name": "One", "approval_gap": "5%"}]}"#)
        .expect("facts");
    let failure = load(&dir).expect_err("refused");
    assert_eq!(failure.diagnostics[0].code, Code::FactUnknownField);
    assert_eq!(failure.diagnostics[0].message, "the fact `m1` of `AISystem` gives `approval_gap`, which is measured");
}

#[test]
fn a_measure_without_a_log_for_its_rows_is_an_error_when_measured() {
    let dir = project("no_log", GAP);
    std::fs::write(dir.join("aims.toml"), "[[facts]]\npath = \"systems.json\"\n").expect("aims.toml");
    let mut engine = loaded(&dir);
    let runner = StandIn { values: vec![], runs: RefCell::new(Vec::new()) };
    let errors = engine.measure(&runner, date("2026-11-01")).expect_err("refused");
    assert_eq!(errors[0].code, Code::LogSchema);
    assert_eq!(errors[0].message, "measure `approval_gap` reads `Decision` rows, and no log holds them");
    assert!(runner.runs.borrow().is_empty());
}

#[test]
fn a_log_that_names_no_files_is_reported_when_measuring_not_when_loading() {
    let dir = project("missing_log", GAP);
    std::fs::remove_dir_all(dir.join("logs")).expect("removed");
    // The project loads: its policy and facts are sound, and a rule that
    // reads no measure is evaluated as usual.
    let mut engine = loaded(&dir);
    let runner = StandIn { values: vec![], runs: RefCell::new(Vec::new()) };
    let errors = engine.measure(&runner, date("2026-11-01")).expect_err("refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::Io);
    assert_eq!(errors[0].message, "log `logs` named in aims.toml does not exist");
    assert!(runner.runs.borrow().is_empty(), "nothing is run on a log that names no files");
}

const ORGANISATION: &str = "/// Web decisions of every system, last 30 days.\n\
    measure web_decisions = count()\n  over d: Decision\n  where d.decided_at within 30 days and d.channel == web\n\
    control enough_decisions { require web_decisions >= 100 }\n";

/// Gives the organisation's value (or none) to every plan.
struct Organisation(Option<MeasureValue>);

impl MeasureRunner for Organisation {
    fn run(&self, request: &MeasureRequest) -> Result<Vec<MeasureOutput>, Vec<aims_lang::diag::Diagnostic>> {
        let values: Vec<(String, MeasureValue)> =
            self.0.iter().map(|v| (aims_lang::measure::ORGANISATION.to_string(), v.clone())).collect();
        Ok(request.plans.iter().map(|_| MeasureOutput { values: values.clone() }).collect())
    }
}

#[test]
fn a_measure_of_the_organisation_is_one_value_read_by_its_name() {
    let mut engine = loaded(&project("organisation", ORGANISATION));
    let program = engine.program().clone();
    let plan = program.measures[0].plan.clone().expect("a plan");
    assert_eq!((plan.entity, plan.key_column), (None, None), "every row counts, under no key");
    assert_eq!(program.measures[0].field(), None);
    let as_of = date("2026-11-01");

    // Before measuring, the value is unknown: no evidence, never a pass.
    let evaluation = engine.evaluate(as_of);
    let outcome = evaluation.rules[0].outcomes.iter().next().expect("one outcome");
    assert_eq!(
        (outcome.kind, unknowns(outcome.failures).as_str()),
        (OutcomeKind::Fail, "not measured: the logs have not been read")
    );

    engine.measure(&Organisation(Some(value("120", 120))), as_of).expect("measured");
    let evaluation = engine.evaluate(as_of);
    assert_eq!(evaluation.rules[0].outcomes.iter().next().expect("one outcome").kind, OutcomeKind::Pass);
    assert_eq!(
        engine.measured_values(),
        [("web_decisions".to_string(), "-".to_string(), aims_lang::ir::Value::Int(120))]
    );

    // Fewer decisions: the control fails and shows the value it read.
    engine.measure(&Organisation(Some(value("12", 12))), date("2026-11-02")).expect("measured");
    let evaluation = engine.evaluate(date("2026-11-02"));
    let outcome = evaluation.rules[0].outcomes.iter().next().expect("one outcome");
    assert_eq!(outcome.kind, OutcomeKind::Fail);
    let requirement = engine.program().rules[0].requirements().first().copied();
    let seen = outcome.failures[0].observed(engine.program(), requirement);
    assert_eq!(seen, [("web_decisions".to_string(), "12".to_string())]);

    // No rows in the window: unknown evidence that says so.
    engine.measure(&Organisation(None), date("2026-11-03")).expect("measured");
    let evaluation = engine.evaluate(date("2026-11-03"));
    let outcome = evaluation.rules[0].outcomes.iter().next().expect("one outcome");
    assert_eq!(outcome.kind, OutcomeKind::Fail);
    assert_eq!(unknowns(outcome.failures), "not measured: no `Decision` row from 2026-10-04 to 2026-11-03 in logs");
}

#[test]
fn a_measure_of_the_organisation_needs_a_name_of_its_own() {
    let (code, message, _) =
        refused("org_twice", &format!("{ORGANISATION}measure web_decisions = count() over d: Decision\n"));
    assert_eq!(
        (code, message.as_str()),
        (Code::Duplicate, "a measure `web_decisions` of the organisation already exists")
    );
    let (code, message, _) = refused("org_variant", "measure web = count() over d: Decision\n");
    assert_eq!((code, message.as_str()), (Code::Duplicate, "`web` is already a variant of `Channel`"));
    let (code, message, _) =
        refused("org_psi", "measure drift = psi(d.group) over d: Decision\ncontrol c { require drift is some }\n");
    assert_eq!(code, Code::BadMeasure);
    assert!(message.contains("there is no window"), "{message}");
}

#[test]
fn a_what_if_can_set_or_unset_a_measure_of_the_organisation() {
    let mut engine = loaded(&project("org_what_if", ORGANISATION));
    let as_of = date("2026-11-01");
    engine.measure(&Organisation(Some(value("120", 120))), as_of).expect("measured");
    engine.set_as_of(as_of);
    let change = engine.what_if_measure("web_decisions", Some("12")).expect("a what-if");
    let changes = format!("{:?}", change.changes);
    assert!(changes.contains("enough_decisions") && changes.contains("Some(Fail)"), "{changes}");
    assert_eq!(change.findings_added.len(), 1);
    let back = engine.what_if_measure("web_decisions", Some("100")).expect("a what-if");
    assert_eq!(back.findings_removed.len(), 1, "100 is enough again");
    let unset = engine.what_if_measure("web_decisions", None).expect("a what-if");
    assert_eq!(unset.findings_added.len(), 1, "no value is no evidence");
    assert_eq!(
        engine
            .what_if_measure("web_decisions", Some("many"))
            .map_err(|e| matches!(e, aims_lang::engine::EditError::Invalid(_))),
        Err(true)
    );
    assert!(matches!(
        engine.what_if_measure("nothing", Some("1")),
        Err(aims_lang::engine::EditError::UnknownMeasure(_))
    ));
}
