//! Evaluates the credit-scoring policy over N generated systems once, for
//! profilers, then 50 what-ifs: `cargo run --release -p aims-lang --example profile_eval -- 100000`.

#[path = "../benches/whatif.rs"]
#[allow(dead_code, unused_imports)]
mod generated;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring");
    let options = aims_lang::project::LoadOptions {
        log_queries: std::env::var_os("AIMS_LOG_QUERIES").is_some(),
        ..Default::default()
    };
    let Ok(mut engine) = aims_lang::Engine::load(&root, &options) else { return };
    let Some(name) =
        engine.sources().iter().find(|(_, f)| f.name.ends_with("systems.yaml")).map(|(_, f)| f.name.clone())
    else {
        return;
    };
    let mapping = aims_lang::facts::Mapping {
        entity: Some("AISystem".into()),
        select: Some("systems".into()),
        ..Default::default()
    };
    if engine.set_facts(&name, aims_lang::facts::Format::Json, mapping, generated::systems(n)).is_err() {
        return;
    }
    let Some(as_of) = aims_lang::Date::parse("2026-11-01") else { return };
    let start = std::time::Instant::now();
    let result = engine.evaluate(as_of);
    eprintln!("{n} systems: {} findings in {:?}", result.findings.len(), start.elapsed());
    // Then what-ifs on one system in the middle of the inventory.
    let key = format!("sys-{:06}", n / 2);
    engine.take_query_log();
    let start = std::time::Instant::now();
    let rounds: u32 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    for i in 0..rounds {
        let value = if i % 2 == 0 { "true" } else { "false" };
        if engine.what_if_field("AISystem", &key, "human_oversight", Some(value)).is_err() {
            return;
        }
    }
    eprintln!("one what-if: {:?} on average", start.elapsed() / rounds);
    let mut counts = std::collections::BTreeMap::new();
    for line in engine.take_query_log() {
        *counts.entry(line.split('(').next().unwrap_or("").to_string()).or_insert(0usize) += 1;
    }
    if !counts.is_empty() {
        eprintln!("queries executed in the what-ifs: {counts:?}");
    }
}
