//! The aims side of `benches/peers/compare.sh`: loads the peer benchmark's
//! project with a facts file the harness wrote, and prints one JSON line per
//! metric in the harness's format (`load_policy_ms`, `load_facts_ms`,
//! `eval_full_first_ms` with the per-rule finding counts, `eval_full_warm_ms`,
//! `whatif_ms`: median of 21 one-attribute what-ifs with every finding
//! updated, and `vm_hwm_kb`).
//!
//! `cargo run --release -p aims-lang --example peers_timing -- FACTS.json [RUN] [interpreted]`
//! (the last argument evaluates with the reference interpreter instead of
//! the compiled evaluation). `PEERS_TIMING_PAUSE_MS=N` sleeps N ms before
//! and after the first evaluation, so a profile's samples of it stand
//! between two gaps.

use std::time::Instant;

use aims_lang::facts::{Format, Mapping};

// The allocator the `aims` binary uses, with the options it sets before
// mimalloc starts, so the figures are the CLI's: the same file, not a copy.
// (Without those options mimalloc commits whole arenas as transparent huge
// pages, and on this project's virtual machine the first evaluation spent
// about half its time in the kernel zeroing them.)
#[path = "../../src/allocator.rs"]
#[allow(dead_code)]
mod allocator;

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn line(run: &str, metric: &str, value: f64, extra: &str) {
    println!(
        "{{\"engine\":\"aims\",\"run\":{run},\"metric\":\"{metric}\",\"value\":{value:.6},\"unit\":\"ms\"{extra}}}"
    );
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(facts_path) = args.get(1) else {
        eprintln!("usage: peers_timing FACTS.json [RUN]");
        std::process::exit(3);
    };
    let run = args.get(2).cloned().unwrap_or_else(|| "0".into());
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/peers");

    let start = Instant::now();
    let mut engine = match aims_lang::Engine::load(&project, &Default::default()) {
        Ok(engine) => engine,
        Err(f) => {
            eprintln!("{:?}", f.diagnostics);
            std::process::exit(2);
        }
    };
    line(&run, "load_policy_ms", ms(start), "");
    if args.get(3).is_some_and(|a| a == "interpreted") {
        engine.set_evaluator(aims_lang::eval::Evaluator::Interpreted);
    }

    let start = Instant::now();
    let Ok(text) = std::fs::read_to_string(facts_path) else {
        eprintln!("cannot read {facts_path}");
        std::process::exit(3);
    };
    let mapping = Mapping { entity: Some("AISystem".into()), select: Some("systems".into()), ..Default::default() };
    let name = engine
        .sources()
        .iter()
        .find(|(_, f)| f.name.ends_with("systems.json"))
        .map(|(_, f)| f.name.clone())
        .unwrap_or_default();
    // The engine keeps the text it is given (as `aims check` keeps the
    // file it read), not a copy.
    if let Err(f) = engine.set_facts(&name, Format::Json, mapping, text) {
        eprintln!("{:?}", f.diagnostics.first());
        std::process::exit(2);
    }
    line(&run, "load_facts_ms", ms(start), "");

    let as_of = aims_lang::Date::parse("2026-01-01").expect("a date");
    // A profiler finds the first evaluation between two quiet gaps.
    let pause = std::env::var("PEERS_TIMING_PAUSE_MS").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(pause));
    let start = Instant::now();
    let evaluation = engine.evaluate(as_of);
    let first = ms(start);
    std::thread::sleep(std::time::Duration::from_millis(pause));
    let by_rule: Vec<String> = evaluation
        .rules
        .iter()
        .map(|r| r.outcomes.iter().filter(|o| o.kind == aims_lang::ir::OutcomeKind::Fail).count().to_string())
        .collect();
    line(
        &run,
        "eval_full_first_ms",
        first,
        &format!(",\"findings\":{},\"by_rule\":[{}]", evaluation.findings.len(), by_rule.join(",")),
    );

    // Unchanged facts: the database answers from its memos.
    let start = Instant::now();
    let again = engine.evaluation();
    line(&run, "eval_full_warm_ms", ms(start), &format!(",\"findings\":{}", again.findings.len()));

    // One attribute of one system at a time, spread over the inventory;
    // each answer carries every outcome and finding the edit changed.
    let n = aims_lang::facts::Facts::len(&engine.facts(), engine.program().entity_by_name("AISystem").expect("entity"));
    let mut times = Vec::new();
    let reps: u32 = std::env::var("AIMS_WHATIF_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(21);
    for rep in 0..reps {
        let key = format!("sys-{:06}", (rep as usize * 7919) % n.max(1) as usize);
        let value = if rep % 2 == 0 { "true" } else { "false" };
        let start = Instant::now();
        if engine.what_if_field("AISystem", &key, "human_oversight", Some(value)).is_err() {
            eprintln!("what-if on {key} failed");
            std::process::exit(2);
        }
        times.push(ms(start));
    }
    times.sort_by(f64::total_cmp);
    line(
        &run,
        "whatif_ms",
        times[times.len() / 2],
        &format!(",\"min_ms\":{:.6},\"max_ms\":{:.6}", times[0], times[times.len() - 1]),
    );
    println!(
        "{{\"engine\":\"aims\",\"run\":{run},\"metric\":\"vm_hwm_kb\",\"value\":{},\"unit\":\"kB\"}}",
        peak_rss_kb()
    );
}
