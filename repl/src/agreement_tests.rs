//! The incremental answers never drift from the truth: after every command
//! of a long, varied session on `examples/credit-scoring` (edits of every
//! kind, undo, reset, scenarios, `:diff`), the diff the session answered
//! with equals the difference of two evaluations from scratch (fresh
//! engines, nothing memoized), compared the old, obvious way: every
//! outcome in a map ([`crate::diff::oracle`]).

use std::path::PathBuf;

use aims_lang::project::LoadOptions;
use aims_lang::Date;

use crate::diff::oracle::{self, Snapshot};
use crate::session::Session;

fn session() -> Session {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring");
    match Session::load(&example, LoadOptions::default(), Date::parse("2026-11-01")) {
        Ok(session) => session,
        Err(failure) => panic!("the example loads: {:?}", failure.diagnostics),
    }
}

/// The working engine's inputs evaluated from scratch.
fn scratch(session: &Session) -> Snapshot {
    let engine = session.engine().fresh_copy();
    let evaluation = engine.evaluation();
    Snapshot::new(engine.program(), &evaluation)
}

/// SplitMix64: the same sequence of commands on every run.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const SYSTEMS: [&str; 7] = [
    "credit-scorer",
    "limit-adjuster",
    "collections-prioritiser",
    "fraud-detector",
    "support-chatbot",
    "doc-ocr",
    "affordability-v5",
];

/// Fields of `AISystem` and values to try (`None`: `:unset`).
const FIELDS: &[(&str, &[Option<&str>])] = &[
    ("human_oversight", &[Some("true"), Some("false")]),
    ("logs_decisions", &[Some("true"), Some("false")]),
    ("drift_monitoring", &[Some("true"), Some("false")]),
    ("customer_facing", &[Some("true"), Some("false")]),
    ("discloses_ai", &[Some("true"), Some("false")]),
    ("risk_tier", &[Some("minimal"), Some("limited"), Some("high"), Some("prohibited")]),
    ("status", &[Some("planned"), Some("development"), Some("deployed"), Some("retired")]),
    ("owner", &[Some("\"p-chen\""), Some("\"p-silva\""), None]),
    ("last_bias_test", &[Some("2026-10-01"), Some("2025-01-01"), None]),
    ("bias_disparity", &[Some("0.01"), Some("0.5"), None]),
    ("last_monitoring_review", &[Some("2026-10-20"), None]),
    ("supplier_assessed", &[Some("2026-06-01"), None]),
];

/// The `n`th command of the session.
fn command(n: u64, added: &mut Vec<String>) -> String {
    let r = mix(n);
    let pick = |k: u32, len: usize| ((r >> k) as usize) % len;
    match pick(0, 100) {
        0..=59 => {
            let (field, values) = FIELDS[pick(8, FIELDS.len())];
            let system = SYSTEMS[pick(16, SYSTEMS.len())];
            match values[pick(24, values.len())] {
                Some(value) => format!(":set AISystem \"{system}\".{field} = {value}"),
                None => format!(":unset AISystem \"{system}\".{field}"),
            }
        }
        60..=69 => ":undo".into(),
        70..=73 => {
            let key = format!("new-{n}");
            let tier = ["minimal", "limited", "high"][pick(8, 3)];
            let command = format!(
                ":add AISystem {{ id: \"{key}\", name: \"N\", domain: credit, risk_tier: {tier}, status: deployed, human_oversight: {} }}",
                pick(12, 2) == 0
            );
            added.push(key);
            command
        }
        74..=77 => match added.pop() {
            Some(key) => format!(":remove AISystem \"{key}\""),
            None => format!(":remove AISystem \"{}\"", SYSTEMS[pick(16, SYSTEMS.len())]),
        },
        78..=82 => format!(":as-of {}", ["2027-01-05", "2026-11-01", "2026-03-01", "2028-06-30"][pick(8, 4)]),
        83..=84 => format!(
            "control extra_{n} \"Deployed systems log\" severity minor for s: AISystem where s.status == deployed {{ require s.logs_decisions because \"logs\" }}"
        ),
        85..=86 => ":reset".into(),
        87..=88 => ":scenario save s1".into(),
        89..=90 => ":scenario load s1".into(),
        _ => ":diff".into(),
    }
}

#[test]
fn every_answer_is_the_difference_of_two_evaluations_from_scratch() {
    let mut s = session();
    let initial = scratch(&s);
    let mut added = Vec::new();
    let mut checked = 0;
    let mut before = initial.clone();
    for n in 0..160u64 {
        let input = command(n, &mut added);
        s.take_last_diff();
        let reply = s.run(&input);
        let after = scratch(&s);
        let Some(answer) = s.take_last_diff() else {
            // A refused edit (a system already removed): nothing changed.
            assert!(oracle::between(&before, &after).is_empty(), "`{input}`: {}", reply.text);
            before = after;
            continue;
        };
        let expected =
            if input == ":diff" { oracle::between(&initial, &after) } else { oracle::between(&before, &after) };
        assert_eq!(answer, expected, "`{input}` (command {n}) answered\n{}", reply.text);
        assert!(
            reply.text.ends_with(&expected.render_within(Some(crate::session::DEFAULT_LIMIT))),
            "`{input}`: {}",
            reply.text
        );
        checked += 1;
        before = after;
    }
    assert!(checked > 120, "only {checked} answers checked");
    // Comparing scenarios: the initial project against the edits applied now.
    let now = scratch(&s);
    s.run(":scenario compare initial current");
    assert_eq!(s.take_last_diff(), Some(oracle::between(&initial, &now)));
    s.run(":scenario compare current initial");
    assert_eq!(s.take_last_diff(), Some(oracle::between(&now, &initial)));
    assert_eq!(scratch(&s), now, "comparing scenarios leaves the working engine as it was");
}
