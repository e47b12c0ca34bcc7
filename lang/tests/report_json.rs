//! The JSON report is written by hand (`report/json.rs`) for speed; the
//! reference is what `serde_json::to_writer_pretty` writes for the same
//! `Report`, with each finding and each rule's outcome on one line as
//! `serde_json::to_string` writes it. They must be the same bytes: on every
//! example, and on the peer
//! benchmark's project over 2,000 systems whose keys, owners and evidence
//! ids hold characters JSON escapes (quotes, backslashes, control
//! characters) and text it does not (accents, symbols, line separators).

use std::path::{Path, PathBuf};

use aims_lang::project::LoadOptions;
use aims_lang::report::{Report, Sections, ShownOutcomes};
use aims_lang::{Date, Engine};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn report_of(project: &Path, facts: Vec<PathBuf>, as_of: &str) -> Report {
    let options = LoadOptions { facts, ..LoadOptions::default() };
    let mut engine = match Engine::load(project, &options) {
        Ok(engine) => engine,
        Err(failure) => panic!("{} does not load: {:?}", project.display(), failure.diagnostics),
    };
    let evaluation = engine.evaluate(Date::parse(as_of).expect("a date"));
    Report::build(engine.name(), engine.program(), &engine.facts(), engine.sources(), &evaluation)
        .with_diagnostics(engine.sources(), engine.warnings())
}

fn written(report: &Report, shown: ShownOutcomes) -> String {
    let mut out = Vec::new();
    report.write_json_with(&mut out, shown).expect("written to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// The reference: serde's pretty printer over the report's own `Serialize`,
/// but each finding and each rule's outcome as serde's compact printer
/// writes it, on the line the pretty printer would open it on.
fn reference(report: &Report) -> String {
    const MARK: &str = "\u{1}aims-line ";
    let mut value = serde_json::to_value(report).expect("serialised");
    let mut lines = Vec::new();
    let mut on_one_line = |item: &mut serde_json::Value| {
        lines.push(serde_json::to_string(item).expect("serialised"));
        *item = serde_json::Value::String(format!("{MARK}{}", lines.len() - 1));
    };
    value["findings"].as_array_mut().expect("findings").iter_mut().for_each(&mut on_one_line);
    for rule in value["rules"].as_array_mut().expect("rules") {
        rule["outcomes"].as_array_mut().expect("outcomes").iter_mut().for_each(&mut on_one_line);
    }
    let pretty = serde_json::to_string_pretty(&value).expect("serialised");
    let marked = serde_json::to_string(MARK).expect("serialised");
    let marked = &marked[..marked.len() - 1];
    let mut text = String::with_capacity(pretty.len());
    let mut rest = pretty.as_str();
    while let Some(at) = rest.find(marked) {
        text.push_str(&rest[..at]);
        let after = &rest[at + marked.len()..];
        let end = after.find('"').expect("the mark's closing quote");
        let index: usize = after[..end].parse().expect("a line's index");
        text.push_str(&lines[index]);
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    text.push('\n');
    text
}

/// The peer benchmark's 1,000 systems twice over (the copies renamed), with
/// strange text in some keys, owners and evidence ids.
fn strange_facts(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("tests/fixtures/peers-facts-n1000-seed42.json")).expect("fixture");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let systems = doc["systems"].as_array().expect("systems").clone();
    let odd = ["\"quoted\"", "back\\slash", "tab\there", "bell\u{7}", "é✓\u{2028}", "nul\u{0}x", "\u{1f}"];
    let mut all = Vec::new();
    for (copy, suffix) in [(0, ""), (1, "-b")] {
        for (i, system) in systems.iter().enumerate() {
            let mut system = system.clone();
            let id = system["id"].as_str().expect("id").to_string();
            let strange = odd[i % odd.len()];
            let id = if (i + copy) % 5 == 0 { format!("{id}{suffix}{strange}") } else { format!("{id}{suffix}") };
            system["id"] = serde_json::Value::String(id);
            if i % 3 == 0 {
                system["owner"] = serde_json::Value::String(format!("owner {strange}"));
            }
            if let Some(evidence) = system["evidence"].as_array_mut() {
                for e in evidence.iter_mut() {
                    let id = e["id"].as_str().unwrap_or("e").to_string();
                    e["id"] = serde_json::Value::String(format!("{id}{strange}"));
                }
            }
            all.push(system);
        }
    }
    doc["systems"] = serde_json::Value::Array(all);
    let path = dir.join("systems.json");
    std::fs::write(&path, serde_json::to_string(&doc).expect("JSON")).expect("written");
    path
}

#[test]
fn the_json_report_is_what_serde_writes_for_2000_systems() {
    let dir = std::env::temp_dir().join(format!("aims-report-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let facts = strange_facts(&dir);
    let report = report_of(&root().join("benches/peers"), vec![facts], "2026-01-01");
    let _ = std::fs::remove_dir_all(&dir);
    let outcomes: usize = report.rules.iter().map(|r| r.outcomes.len()).sum();
    assert_eq!(outcomes, 20 * 2000, "every rule has an outcome per system");
    let fast = written(&report, ShownOutcomes::All);
    assert!(fast.contains(r#"\"quoted\""#) && fast.contains(r"\u0007") && fast.contains("é✓"), "strange text written");
    let outcome_lines = fast.lines().filter(|line| line.starts_with("        {\"entity\":")).count();
    assert_eq!(outcome_lines, outcomes, "one line per outcome");
    assert_eq!(fast, reference(&report));
}

#[test]
fn the_json_report_is_what_serde_writes_for_every_example() {
    let examples = std::fs::read_dir(root().join("examples")).expect("examples");
    let mut seen = 0;
    for example in examples.flatten() {
        let report = report_of(&example.path(), Vec::new(), "2026-11-01");
        assert_eq!(written(&report, ShownOutcomes::All), reference(&report), "{}", example.path().display());
        seen += 1;
    }
    assert!(seen >= 4, "the examples are found");
}

#[test]
fn failing_outcomes_only_is_the_full_report_with_the_others_left_out() {
    let report = report_of(&root().join("examples/credit-scoring"), Vec::new(), "2026-11-01");
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
    let mut full = parse(&written(&report, ShownOutcomes::All));
    let failing = parse(&written(&report, ShownOutcomes::Failing));
    let mut left_out = 0;
    for rule in full["rules"].as_array_mut().expect("rules") {
        let outcomes = rule["outcomes"].as_array_mut().expect("outcomes");
        let before = outcomes.len();
        outcomes.retain(|o| o["status"] == "fail");
        left_out += before - outcomes.len();
    }
    assert!(left_out > 0, "the example has outcomes that do not fail");
    assert_eq!(failing, full);
}

#[test]
fn a_report_built_without_the_gap_is_the_whole_report_less_its_gap() {
    let examples = std::fs::read_dir(root().join("examples")).expect("examples");
    let mut with_a_gap = 0;
    for example in examples.flatten() {
        let path = example.path();
        let options = LoadOptions::default();
        let Ok(mut engine) = Engine::load(&path, &options) else { panic!("{} does not load", path.display()) };
        let evaluation = engine.evaluate(Date::parse("2026-11-01").expect("a date"));
        let build = |sections| {
            Report::build_with(
                engine.name(),
                engine.program(),
                &engine.facts(),
                engine.sources(),
                &evaluation,
                sections,
            )
        };
        let mut whole = build(Sections::ALL);
        let without = build(Sections { gap: false });
        assert!(without.gap.is_none(), "{}: no gap analysis asked for", path.display());
        with_a_gap += usize::from(whole.gap.is_some());
        let text = |report: &Report| {
            let mut out = Vec::new();
            report.write_text(&mut out).expect("written to memory");
            String::from_utf8(out).expect("UTF-8")
        };
        assert_eq!(text(&without), text(&whole), "{}: the text report does not show the gap", path.display());
        whole.gap = None;
        assert_eq!(written(&without, ShownOutcomes::All), written(&whole, ShownOutcomes::All), "{}", path.display());
    }
    assert!(with_a_gap >= 2, "some examples have a gap analysis to leave out");
}
