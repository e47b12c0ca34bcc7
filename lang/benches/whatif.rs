//! What a what-if costs: the credit-scoring example's policy over N
//! generated AI systems (N = 1,000, 10,000, 100,000): the first full
//! evaluation, and one `:set` (one field of one system) answered with the
//! complete evaluation updated, incrementally.
//!
//! Run: `cargo bench -p aims-lang --bench whatif`. Figures and the machine
//! they came from are in the closing notes and `docs/repl.md`.

use std::hint::black_box;
use std::path::Path;

use aims_lang::facts::{Format, Mapping};
use aims_lang::Date;
use aims_lang::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const DOMAINS: [&str; 5] = ["credit", "fraud", "collections", "customer_service", "document_processing"];
const TIERS: [&str; 4] = ["minimal", "limited", "high", "prohibited"];
const STATUSES: [&str; 4] = ["planned", "development", "deployed", "retired"];
const PEOPLE: [&str; 3] = ["p-chen", "p-silva", "p-ward"];

/// SplitMix64: a generator that depends on no crate version.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// N systems in the layout of the example's `facts/systems.yaml`, as JSON.
pub fn systems(n: usize) -> String {
    let mut out = String::from("{\"systems\": [");
    for i in 0..n {
        let r = mix(i as u64);
        let pick = |k: u32, len: usize| ((r >> k) as usize) % len;
        if i > 0 {
            out.push(',');
        }
        let month = 1 + pick(20, 12);
        // The example's impact assessments and exception name these two.
        let id = match i {
            0 => "credit-scorer".to_string(),
            1 => "collections-prioritiser".to_string(),
            _ => format!("sys-{i:06}"),
        };
        out.push_str(&format!(
            r#"{{"id": "{id}", "name": "System {i}", "domain": "{}", "risk_tier": "{}", "status": "{}", "owner": "{}",
               "human_oversight": {}, "logs_decisions": {}, "drift_monitoring": {}, "last_bias_test": "2026-{month:02}-10",
               "bias_disparity": 0.{:02}, "last_monitoring_review": "2026-{month:02}-20",
               "evidence": [{{"kind": "model_card", "date": "2026-01-05", "approved": {}}}]}}"#,
            DOMAINS[pick(0, 5)],
            TIERS[pick(4, 4)],
            STATUSES[pick(8, 4)],
            PEOPLE[pick(12, 3)],
            pick(16, 2) == 0,
            pick(17, 3) > 0,
            pick(18, 2) == 0,
            pick(24, 20),
            pick(30, 4) > 0,
        ));
    }
    out.push_str("]}");
    out
}

fn engine(n: usize) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring");
    let mut engine = Engine::load(&root, &Default::default()).expect("the example loads");
    let name = engine
        .sources()
        .iter()
        .find(|(_, f)| f.name.ends_with("systems.yaml"))
        .map(|(_, f)| f.name.clone())
        .expect("systems.yaml");
    let mapping = Mapping { entity: Some("AISystem".into()), select: Some("systems".into()), ..Mapping::default() };
    engine.set_facts(&name, Format::Json, mapping, systems(n)).expect("generated facts load");
    engine
}

fn as_of() -> Date {
    Date::parse("2026-11-01").expect("date")
}

fn bench(c: &mut Criterion) {
    for n in [1_000usize, 10_000, 100_000] {
        let mut group = c.benchmark_group(format!("n={n}"));
        group.sample_size(10);
        let base = engine(n);
        group.bench_function("first evaluation", |b| {
            b.iter_batched(|| base.fresh_copy(), |mut e| black_box(e.evaluate(as_of())), BatchSize::LargeInput)
        });
        let mut warm = base.fresh_copy();
        warm.evaluate(as_of());
        // A system in the middle of the inventory (the first chunk also holds
        // the two systems every impact assessment refers to).
        let key = format!("sys-{:06}", n / 2);
        let mut flip = false;
        group.bench_function("one what-if (:set, full evaluation updated)", |b| {
            b.iter(|| {
                flip = !flip;
                warm.set_field("AISystem", &key, "human_oversight", if flip { "true" } else { "false" }).expect("edit");
                black_box(warm.evaluation())
            })
        });
        let mut flip = false;
        group.bench_function("one what-if (:set, changes only)", |b| {
            b.iter(|| {
                flip = !flip;
                let value = if flip { "true" } else { "false" };
                black_box(warm.what_if_field("AISystem", &key, "human_oversight", Some(value)).expect("edit"))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
