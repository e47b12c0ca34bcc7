//! Incrementality: which queries re-run after an edit, counted from salsa's
//! `WillExecute` events, and the incremental result against a fresh engine.

use crate::db::{Database, CHUNK_ROWS};
use crate::facts::{Format, Mapping};
use crate::Date;
use crate::Engine;

const POLICY: &str = r#"
use iso42001
enum Tier { minimal, limited, high }
entity AISystem {
  id: Text key
  tier: Tier
  human_oversight: Bool
  last_bias_test: Date?
}
entity Review { id: Text key, date: Date }

control oversight severity major for s: AISystem where s.tier == high {
  require s.human_oversight because "high-risk systems need a human in the loop"
}
control bias_testing for s: AISystem where s.tier != minimal {
  require s.last_bias_test within 180 days
}
audit review_held clause 9.3 severity major {
  require exists r: Review where r.date within 12 months
}
"#;

fn systems(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let tier = ["minimal", "limited", "high"][i % 3];
            format!(
                r#"{{"id": "sys-{i:05}", "tier": "{tier}", "human_oversight": {}, "last_bias_test": "2026-0{}-01"}}"#,
                i % 2 == 0,
                1 + i % 9
            )
        })
        .collect();
    format!(r#"{{"AISystem": [{}], "Review": [{{"id": "r1", "date": "2026-03-01"}}]}}"#, rows.join(","))
}

fn engine(n: usize, db: Database) -> Engine {
    let facts = systems(n);
    Engine::from_texts_with("policy.aims", POLICY, &[("facts.json", Format::Json, Mapping::default(), &facts)], db)
        .unwrap_or_else(|f| panic!("{:?}", f.diagnostics))
}

fn executed<'a>(log: &'a [String], query: &str) -> Vec<&'a String> {
    log.iter().filter(|l| l.starts_with(query)).collect()
}

fn as_of() -> Date {
    Date::parse("2026-11-01").expect("date")
}

#[test]
fn changing_one_fact_reruns_only_its_chunk() {
    let n = CHUNK_ROWS * 8;
    let db = Database::with_log();
    let mut engine = engine(n, db);
    let before = engine.evaluate(as_of());
    let first_run = engine.db().take_log();
    assert_eq!(executed(&first_run, "chunk_outcomes").len(), 2 * 8, "two rules over eight chunks: {first_run:#?}");

    engine.set_field("AISystem", "sys-00305", "human_oversight", "true").expect("edit");
    let after = engine.evaluation();
    let log = engine.db().take_log();
    assert_eq!(executed(&log, "chunk_outcomes").len(), 2, "only the edited chunk, once per rule: {log:#?}");
    assert!(executed(&log, "parse_file").is_empty(), "no parsing: {log:#?}");
    assert!(executed(&log, "compiled").is_empty(), "no checking: {log:#?}");
    assert!(executed(&log, "single_outcome").is_empty(), "the audit does not read systems: {log:#?}");
    let flagged = |e: &crate::eval::Evaluation| {
        e.findings.iter().any(|f| &*f.name == "oversight" && f.entity.as_deref() == Some("sys-00305"))
    };
    assert!(flagged(&before) && !flagged(&after), "sys-00305 is high-risk without oversight: the edit fixes it");
    assert_eq!(before.findings.len(), after.findings.len() + 1);
}

#[test]
fn editing_one_control_reevaluates_only_that_control() {
    let db = Database::with_log();
    let mut engine = engine(CHUNK_ROWS * 4, db);
    engine.evaluate(as_of());
    engine.db().take_log();
    let file = engine.policy_files()[0];
    let edited = POLICY.replace("within 180 days", "within 90 days");
    engine.set_policy_text(file, &edited).expect("valid edit");
    engine.evaluation();
    let log = engine.db().take_log();
    assert_eq!(executed(&log, "parse_declaration").len(), 1, "only the edited declaration is parsed: {log:#?}");
    assert!(executed(&log, "parse_file").is_empty(), "no whole file is parsed or copied: {log:#?}");
    assert_eq!(executed(&log, "chunk_outcomes").len(), 4, "bias_testing over four chunks, not oversight: {log:#?}");
}

#[test]
fn inserting_blank_lines_evaluates_nothing_again() {
    let db = Database::with_log();
    let mut engine = engine(CHUNK_ROWS * 2, db);
    engine.evaluate(as_of());
    engine.db().take_log();
    let file = engine.policy_files()[0];
    engine.set_policy_text(file, &format!("\n\n// moved down\n{POLICY}")).expect("valid edit");
    engine.evaluation();
    let log = engine.db().take_log();
    assert!(executed(&log, "chunk_outcomes").is_empty(), "spans are not part of rule logic: {log:#?}");
    assert!(executed(&log, "single_outcome").is_empty(), "{log:#?}");
}

#[test]
fn incremental_results_equal_a_fresh_evaluation() {
    let mut engine = engine(CHUNK_ROWS * 3, Database::default());
    engine.evaluate(as_of());
    engine.set_field("AISystem", "sys-00007", "tier", "high").expect("edit");
    engine.unset_field("AISystem", "sys-00008", "last_bias_test").expect("edit");
    engine.remove_fact("AISystem", "sys-00003").expect("edit");
    engine.add_fact("AISystem", r#"{ id: "new", tier: high, human_oversight: false }"#).expect("edit");
    engine.set_as_of(Date::parse("2027-02-01").expect("date"));
    let incremental = engine.evaluation();

    let mut fresh = engine.fresh_copy();
    let scratch = fresh.evaluate(Date::parse("2027-02-01").expect("date"));
    assert_eq!(incremental.findings, scratch.findings);
    assert_eq!(incremental.rules, scratch.rules);
}

/// The changes between two full evaluations, in the shape of a what-if.
fn full_changes(
    program: &crate::ir::Program,
    before: &crate::eval::Evaluation,
    after: &crate::eval::Evaluation,
) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut out = Vec::new();
    let outcomes = |e: &crate::eval::Evaluation| -> BTreeMap<(String, String), String> {
        e.rules
            .iter()
            .flat_map(|r| {
                r.outcomes.iter().map(move |o| {
                    ((program.rule(r.rule).decl.name.clone(), o.key.to_string()), o.kind.as_str().to_string())
                })
            })
            .collect()
    };
    let (b, a) = (outcomes(before), outcomes(after));
    for key in b.keys().chain(a.keys()).collect::<std::collections::BTreeSet<_>>() {
        if b.get(key) != a.get(key) {
            out.push(format!("{} {}: {:?} -> {:?}", key.0, key.1, b.get(key), a.get(key)));
        }
    }
    let risks = |e: &crate::eval::Evaluation| -> BTreeMap<(String, String), Option<u32>> {
        e.risks
            .iter()
            .flat_map(|r| {
                r.entries.iter().map(move |x| {
                    ((program.risks[r.risk.index()].decl.name.clone(), x.key.to_string()), x.residual_level)
                })
            })
            .collect()
    };
    let (b, a) = (risks(before), risks(after));
    for key in b.keys().chain(a.keys()).collect::<std::collections::BTreeSet<_>>() {
        if b.get(key) != a.get(key) {
            out.push(format!("risk {} {}", key.0, key.1));
        }
    }
    for (x, y) in before.objectives.iter().zip(after.objectives.iter()) {
        if x.status != y.status {
            out.push(format!("objective {}", program.objectives[x.objective.index()].decl.name));
        }
    }
    out.sort();
    out
}

fn fast_changes(what_if: &crate::engine::whatif::WhatIf) -> Vec<String> {
    use crate::engine::whatif::Change;
    let mut out: Vec<String> = what_if
        .changes
        .iter()
        .map(|c| match c {
            Change::Outcome { rule, entity, before, after } => format!(
                "{rule} {entity}: {:?} -> {:?}",
                before.map(|k| k.as_str().to_string()),
                after.map(|k| k.as_str().to_string())
            ),
            Change::Risk { risk, entity, .. } => format!("risk {risk} {entity}"),
            Change::Objective { objective, .. } => format!("objective {objective}"),
        })
        .collect();
    out.sort();
    out
}

#[test]
fn what_if_answers_equal_the_difference_of_full_evaluations() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring");
    let mut engine = Engine::load(&root, &Default::default()).expect("example loads");
    engine.evaluate(as_of());
    let edits: [(&str, &str, &str, Option<&str>); 6] = [
        ("AISystem", "limit-adjuster", "last_bias_test", Some("2026-10-01")),
        ("AISystem", "limit-adjuster", "bias_disparity", Some("0.05")),
        ("AISystem", "collections-prioritiser", "human_oversight", Some("true")),
        ("AISystem", "credit-scorer", "last_bias_test", None),
        ("AISystem", "credit-scorer", "bias_disparity", Some("0.2")),
        ("Person", "p-byrne", "trained_on", Some("2026-10-01")),
    ];
    let mut total = 0;
    for (entity, key, field, value) in edits {
        let before = engine.evaluation();
        let what_if = engine.what_if_field(entity, key, field, value).expect("edit");
        let after = engine.evaluation();
        let expected = full_changes(engine.program(), &before, &after);
        assert_eq!(fast_changes(&what_if), expected, "{entity} {key}.{field}");
        total += expected.len();
    }
    assert!(total > 5, "the edits change things: {total}");
}

#[test]
fn prewarming_a_chunk_runs_its_queries_and_leaves_the_evaluation_none_to_run() {
    let mut engine = engine(CHUNK_ROWS * 4, Database::with_log());
    engine.set_eval_threads(Some(2));
    engine.evaluate(as_of());
    engine.set_field("AISystem", "sys-00305", "human_oversight", "true").expect("edit");
    engine.db().take_log();
    let systems = engine.program().entity_by_name("AISystem").expect("entity");
    crate::db::prewarm_chunk(engine.db(), engine.workspace(), systems, 305 / CHUNK_ROWS);
    let log = engine.db().take_log();
    assert_eq!(executed(&log, "chunk_outcomes").len(), 2, "the edited chunk, once per rule: {log:#?}");
    engine.evaluation();
    let log = engine.db().take_log();
    assert!(executed(&log, "chunk_outcomes").is_empty(), "all run already: {log:#?}");
}

#[test]
fn a_what_if_runs_the_edited_chunks_queries_once_on_any_number_of_threads() {
    let answers: Vec<Vec<String>> = [Some(1), Some(3)]
        .into_iter()
        .map(|threads| {
            let mut engine = engine(CHUNK_ROWS * 4, Database::with_log());
            engine.set_eval_threads(threads);
            engine.evaluate(as_of());
            engine.db().take_log();
            // High-risk without oversight: the edit makes it pass.
            let what_if = engine.what_if_field("AISystem", "sys-00305", "human_oversight", Some("true")).expect("edit");
            let log = engine.db().take_log();
            assert_eq!(executed(&log, "chunk_outcomes").len(), 2, "the edited chunk, once per rule: {log:#?}");
            fast_changes(&what_if)
        })
        .collect();
    assert_eq!(answers[0], answers[1], "one thread and three give the same answer");
    assert!(answers[0].iter().any(|c| c.starts_with("oversight sys-00305")), "{:?}", answers[0]);
}

#[test]
fn what_if_edits_are_checked_like_fact_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring");
    let mut engine = Engine::load(&root, &Default::default()).expect("example loads");
    engine.set_field("AISystem", "affordability-v5", "owner", "\"p-chen\"").expect("a reference by key");
    let refused = engine.set_field("AISystem", "affordability-v5", "owner", "\"nobody\"");
    let missing = crate::engine::EditError::MissingReference {
        entity: "Person".into(),
        key: "nobody".into(),
        span: crate::syntax::ast::Span::new(0, "\"nobody\"".len()),
    };
    assert_eq!(refused, Err(missing));
    assert!(
        engine.set_field("AISystem", "affordability-v5", "human_oversight", "\"yes\"").is_err(),
        "a text is not a Bool"
    );
    assert!(engine.set_field("AISystem", "nope", "human_oversight", "true").is_err());
    let added =
        engine.add_fact("AISystem", r#"{ id: "x", name: "X", domain: credit, risk_tier: high, owner: "ghost" }"#);
    assert!(added.is_err(), "a new fact must not refer to a missing person");
    let findings = engine.evaluate(as_of()).findings.clone();
    assert!(!findings.iter().any(|f| &*f.name == "accountable_owner"), "the owner edit took effect: {findings:#?}");
}

/// Objectives whose measure aggregates over facts are computed from
/// per-chunk partial aggregates; the result equals the plain aggregate.
#[test]
fn chunked_aggregates_equal_the_plain_aggregate() {
    for func in ["count(s", "sum(s.score", "avg(s.score", "min(s.score", "max(s.score", "max(s.tested"] {
        let policy = format!(
            "entity S {{ id: Text key, score: Number?, tested: Date? }}\n\
             objective o \"x\" {{ measure {func} for s: S where s.id != \"s-3\") target >= 0 by 2030-01-01 }}\n"
        );
        let policy = policy.replace(
            "max(s.tested for s: S where s.id != \"s-3\")",
            "days_since(max(s.tested ?? 2020-01-01 for s: S where true))",
        );
        let rows: Vec<String> = (0..700)
            .map(|i| {
                let score = if i == 650 && func.contains("score") && func.starts_with("avg") {
                    String::new()
                } else {
                    format!(r#", "score": {}"#, (i * 37 % 101) as f64 / 10.0)
                };
                format!(r#"{{"id": "s-{i}"{score}, "tested": "2026-0{}-01"}}"#, 1 + i % 9)
            })
            .collect();
        let facts = format!(r#"{{"S": [{}]}}"#, rows.join(","));
        let mut engine = Engine::from_texts("p.aims", &policy, &[("f.json", Format::Json, Mapping::default(), &facts)])
            .unwrap_or_else(|f| panic!("{func}: {:?}", f.diagnostics));
        engine.set_as_of(as_of());
        let name = crate::db::RuleName::new(engine.db(), "o".to_string());
        let chunked = crate::db::objective_status(engine.db(), engine.workspace(), name).expect("objective");
        let facts_view = engine.facts();
        let env = crate::eval::Env::new(engine.program(), &facts_view, as_of());
        let plain = crate::eval::objective_result(&env, crate::ir::ObjectiveId(0));
        assert_eq!(chunked.current, plain.current, "{func}");
        assert_eq!(chunked.unknown, plain.unknown, "{func}");
        assert_eq!(chunked.status, plain.status, "{func}");
    }
}

#[test]
fn findings_are_in_key_order_without_sorting_them_again_after_an_edit() {
    // Facts out of key order: the findings list them in key order.
    let rows: Vec<String> = (0..CHUNK_ROWS * 3)
        .map(|i| {
            let id = (i * 7919) % 1000;
            format!(r#"{{"id": "sys-{id:03}-{i}", "tier": "high", "human_oversight": false, "last_bias_test": "2026-09-01"}}"#)
        })
        .collect();
    let facts = format!(r#"{{"AISystem": [{}], "Review": [{{"id": "r1", "date": "2026-03-01"}}]}}"#, rows.join(","));
    let mut engine = Engine::from_texts_with(
        "policy.aims",
        POLICY,
        &[("facts.json", Format::Json, Mapping::default(), &facts)],
        Database::with_log(),
    )
    .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
    let keys = |e: &crate::eval::Evaluation| -> Vec<String> {
        e.findings
            .iter()
            .filter(|f| &*f.name == "oversight")
            .filter_map(|f| f.entity.as_deref().map(String::from))
            .collect()
    };
    let before = engine.evaluate(as_of());
    let mut sorted = keys(&before);
    sorted.sort();
    assert_eq!(keys(&before), sorted);
    assert_eq!(executed(&engine.db().take_log(), "key_order").len(), 1, "once for the systems");

    engine.set_field("AISystem", "sys-000-0", "human_oversight", "true").expect("edit");
    let after = engine.evaluation();
    let log = engine.db().take_log();
    assert!(executed(&log, "key_order").is_empty(), "no key changed, so the order stands: {log:#?}");
    let remade = executed(&log, "rule_findings");
    assert_eq!(remade.len(), 1, "only the findings of `oversight`, whose outcome changed: {log:#?}");
    assert_eq!(keys(&after), sorted[1..].to_vec(), "the fixed system's finding is gone, the rest in key order");
    assert_eq!(*after, *engine.fresh_copy().evaluation(), "the same as from scratch");

    engine.add_fact("AISystem", r#"{ id: "aaa", tier: high, human_oversight: false }"#).expect("a new key");
    let added = engine.evaluation();
    assert!(!executed(&engine.db().take_log(), "key_order").is_empty(), "a new key re-orders");
    assert_eq!(keys(&added).first().map(String::as_str), Some("aaa"));
    assert_eq!(*added, *engine.fresh_copy().evaluation());
}

#[test]
fn a_rules_findings_without_a_key_order_are_sorted_by_key_then_message() {
    // Facts the checks would refuse (two with key "a", read only where a
    // fact file is loaded in part) have no key order: the findings are
    // sorted as the whole list would be, the message breaking a tie.
    use crate::eval::{FailReason, Failure, Key, Outcome, RuleResult};
    use crate::ir::{OutcomeKind, RuleId, Unknown};
    let engine = Engine::from_texts_with(
        "policy.aims",
        POLICY,
        &[("facts.json", Format::Json, Mapping::default(), &systems(3))],
        Database::default(),
    )
    .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
    let program = engine.program();
    let id = RuleId(program.rules.iter().position(|r| r.decl.name == "bias_testing").expect("rule") as u32);
    let failing = |row: u32, key: &str, reason: FailReason| Outcome {
        row: Some(row),
        key: Key::single(key.into()),
        kind: OutcomeKind::Fail,
        failures: vec![Failure { index: 0, reason, values: Default::default() }].into(),
        waived_by: None,
    };
    let missing = || FailReason::NoEvidence(std::sync::Arc::new(Unknown::NotRecorded("s.last_bias_test".into())));
    let outcomes =
        vec![failing(0, "b", FailReason::Violated), failing(1, "a", FailReason::Violated), failing(2, "a", missing())];
    let result = RuleResult { rule: id, outcomes: outcomes.into() };
    let findings = crate::eval::rule_findings(program, &result, &crate::eval::KeyOrder::Unknown);
    let got: Vec<(String, String)> =
        findings.iter().map(|f| (f.entity.as_deref().unwrap_or("").to_string(), f.message.to_string())).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);
    assert_eq!(got.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["a", "a", "b"]);
    assert_ne!(got[0].1, got[1].1, "two different failures: {got:#?}");
}

/// A block of rows is read as one run of a chunk: the same rows as reading
/// them one at a time, and no run across a chunk's end or of another chunk.
#[test]
fn a_run_of_rows_is_the_chunks_rows_or_none() {
    use crate::db::DbFacts;
    use crate::facts::Facts;
    let engine = engine(CHUNK_ROWS * 2 + 5, Database::default());
    let (db, ws) = (engine.db(), engine.workspace());
    let entity = engine.program().entity_by_name("AISystem").expect("entity");
    let table = ws.tables(db)[entity.index()];
    let chunks = table.chunks(db);
    assert_eq!(chunks.len(), 3);
    let unchunked = engine.facts();
    for chunk in chunks {
        let facts = DbFacts::with_chunk(db, ws, *chunk);
        let (start, len) = (chunk.start(db), chunk.rows(db).len() as u32);
        for (from, count) in [(start, len), (start + 1, len - 1), (start, 1)] {
            let run = facts.run(entity, from, count).expect("within the chunk");
            let one_by_one: Vec<_> = (from..from + count).map(|r| facts.values(entity, r).expect("a row")).collect();
            assert_eq!(run.iter().map(|r| &*r.values).collect::<Vec<_>>(), one_by_one);
            // Without a chunk of its own, a view reads row by row.
            assert!(unchunked.run(entity, from, count).is_none());
        }
        assert!(facts.run(entity, start, len + 1).is_none(), "past the chunk's end");
        let other = if start == 0 { CHUNK_ROWS as u32 } else { 0 };
        assert!(facts.run(entity, other, 1).is_none(), "another chunk's rows");
    }
}

/// After an edit of the facts, what reads only the policy is known to
/// hold without walking its dependencies: the policy's inputs are of a
/// higher durability than the facts, so no declaration is looked at.
#[test]
fn a_fact_edit_walks_no_dependency_of_the_policy() {
    let mut engine = engine(CHUNK_ROWS * 2, Database::with_log());
    engine.evaluate(as_of());
    engine.db().take_validated();
    engine.set_field("AISystem", "sys-00001", "human_oversight", "false").expect("an edit");
    engine.evaluate(as_of());
    let validated = engine.db().take_validated();
    // The facts' queries are validated against the edit…
    assert!(!executed(&validated, "chunk_outcomes").is_empty(), "{validated:?}");
    // …the policy's at once, never down to its declarations.
    assert!(!executed(&validated, "compiled").is_empty(), "{validated:?}");
    for query in ["parse_declaration", "declaration", "signatures"] {
        assert!(executed(&validated, query).is_empty(), "{query}: {validated:?}");
    }
    // Adding or removing a fact changes the layout, not the policy: the
    // policy's queries still hold at once.
    engine.add_fact("AISystem", r#"{ id: "added", tier: high, human_oversight: false }"#).expect("a new fact");
    engine.evaluate(as_of());
    engine.remove_fact("AISystem", "sys-00002").expect("a removal");
    engine.evaluate(as_of());
    let validated = engine.db().take_validated();
    assert!(!executed(&validated, "compiled").is_empty(), "{validated:?}");
    for query in ["parse_declaration", "declaration", "signatures"] {
        assert!(executed(&validated, query).is_empty(), "{query}: {validated:?}");
    }
}
