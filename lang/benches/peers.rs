//! The peer benchmark's 20 checks (`benches/peers`) on the harness's
//! generated inventory (the N = 1,000 file in `tests/fixtures`, tiled to
//! 10,000 with fresh keys): loading the facts, the first full evaluation,
//! and one what-if with every finding updated. `benches/peers/compare.sh`
//! runs the same against the peer engines side by side.
//!
//! Run: `cargo bench -p aims-lang --bench peers`.

use std::hint::black_box;
use std::path::Path;

use aims_lang::facts::{Format, Mapping};
use aims_lang::Date;
use aims_lang::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The N = 1,000 facts, repeated `times` times with keys made unique.
fn facts(times: usize) -> String {
    let text = std::fs::read_to_string(root().join("tests/fixtures/peers-facts-n1000-seed42.json")).expect("fixture");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let systems = doc["systems"].as_array().expect("systems");
    let mut all = Vec::with_capacity(systems.len() * times);
    for copy in 0..times {
        for s in systems {
            let mut s = s.clone();
            let id = s["id"].as_str().unwrap_or("sys").to_string();
            s["id"] = serde_json::Value::String(if copy == 0 { id } else { format!("{id}-{copy}") });
            all.push(s);
        }
    }
    serde_json::json!({ "systems": all }).to_string()
}

fn engine_with(facts: &str) -> Engine {
    let mut engine = Engine::load(&root().join("benches/peers"), &Default::default()).expect("the peers project loads");
    let name = engine
        .sources()
        .iter()
        .find(|(_, f)| f.name.ends_with("systems.json"))
        .map(|(_, f)| f.name.clone())
        .expect("its facts file");
    let mapping = Mapping { entity: Some("AISystem".into()), select: Some("systems".into()), ..Default::default() };
    engine.set_facts(&name, Format::Json, mapping, facts).expect("the facts load");
    engine
}

fn bench(c: &mut Criterion) {
    let as_of = Date::parse("2026-01-01").expect("date");
    for (label, times) in [("n1000", 1), ("n10000", 10)] {
        let text = facts(times);
        let mut group = c.benchmark_group(format!("peers/{label}"));
        group.sample_size(10);
        group.bench_function("load_facts", |b| b.iter(|| black_box(engine_with(&text))));
        group.bench_function("eval_full_first", |b| {
            b.iter_batched(|| engine_with(&text), |mut e| black_box(e.evaluate(as_of)), BatchSize::LargeInput)
        });
        let mut engine = engine_with(&text);
        engine.evaluate(as_of);
        let mut flip = false;
        group.bench_function("whatif_one_attribute", |b| {
            b.iter(|| {
                flip = !flip;
                let value = if flip { "true" } else { "false" };
                black_box(engine.what_if_field("AISystem", "sys-000500", "human_oversight", Some(value)).ok())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
