//! Loading 100,000 CSV rows: plain (every value written as its type reads
//! it) and the same facts written as a spreadsheet export writes them, read
//! through value normalisation (`ignore_case`, `null`, `values`,
//! `date_format`, `list_separator`, `number_format`, `percent_format`;
//! docs/facts.md). Issue 18's target: the
//! normalised load costs at most twice the plain one.
//!
//! Run: `cargo bench -p aims-lang --bench csv_load`.

use std::collections::BTreeMap;
use std::hint::black_box;

use aims_lang::diag::Sources;
use aims_lang::facts::normalise::ValueOptions;
use aims_lang::facts::{self, FactInput, Format, Mapping};
use aims_lang::Engine;
use criterion::{criterion_group, criterion_main, Criterion};

const ROWS: usize = 100_000;

const POLICY: &str = "enum Impact { rights, safety, neither }\n\
    entity UseCase { id: Text key, name: Text, impact: Impact, reviewed: Bool?, due: Date?, teams: [Text] = [], \
    budget: Number, automated: Percent }\n\
    control c for u: UseCase { require u.reviewed == true }\n";

/// Row `i`, plain or as people type it.
fn row(i: usize, messy: bool) -> String {
    let impact = ["rights", "safety", "neither"][i % 3];
    let (month, day) = (i % 12 + 1, i % 28 + 1);
    if messy {
        let impact = ["Rights-Impacting", "SAFETY", "Neither "][i % 3];
        let reviewed = ["Yes – by the CAIO", "YES", "N/A", "no"][i % 4];
        let budget = format!("{}.{:03},{}", i / 1000 + 1, i % 1000, i % 10);
        let automated = format!("{},5 %", i % 100);
        format!("uc-{i},Use case {i},{impact},{reviewed},{month}/{day}/2026,\"ops, legal\nrisk\",\"{budget}\",\"{automated}\"\r\n")
    } else {
        let reviewed = ["true", "true", "", "false"][i % 4];
        let budget = format!("{}{:03}.{}", i / 1000 + 1, i % 1000, i % 10);
        let automated = format!("0.{:02}5", i % 100);
        format!(
            "uc-{i},Use case {i},{impact},{reviewed},2026-{month:02}-{day:02},ops;legal;risk,{budget},{automated}\n"
        )
    }
}

fn csv(messy: bool) -> String {
    let mut text = String::from("id,name,impact,reviewed,due,teams,budget,automated\n");
    text.extend((0..ROWS).map(|i| row(i, messy)));
    text
}

fn mapping(messy: bool) -> Mapping {
    let mut mapping = Mapping { entity: Some("UseCase".into()), ..Mapping::default() };
    if messy {
        mapping.values = ValueOptions {
            ignore_case: Some(true),
            null: Some(vec!["N/A".into(), "Not Applicable".into()]),
            date_format: Some("%m/%d/%Y".into()),
            list_separator: Some(vec![",".into(), "\n".into()]),
            number_format: Some("1.234,5".into()),
            percent_format: Some("12".into()),
            ..ValueOptions::default()
        };
        let impact = BTreeMap::from([("Rights-Impacting".to_string(), "rights".to_string())]);
        let reviewed = BTreeMap::from([("Yes – by the CAIO".to_string(), "true".to_string())]);
        mapping.columns = BTreeMap::from([
            ("impact".to_string(), ValueOptions { values: impact, ..ValueOptions::default() }),
            ("reviewed".to_string(), ValueOptions { values: reviewed, ..ValueOptions::default() }),
        ]);
    }
    mapping
}

fn bench(c: &mut Criterion) {
    let engine = Engine::from_texts("p.aims", POLICY, &[]).unwrap_or_else(|_| panic!("the policy loads"));
    let program = engine.program().clone();
    let mut group = c.benchmark_group("csv_load/100000");
    group.sample_size(10);
    for (label, messy) in [("plain", false), ("normalised", true)] {
        let mut sources = Sources::new();
        let file = sources.add("inventory.csv", csv(messy));
        let inputs = [FactInput { file, format: Format::Csv, mapping: mapping(messy) }];
        let loaded = facts::load(&program, &sources, &inputs).unwrap_or_else(|d| panic!("{label}: {:?}", d.first()));
        let table = loaded.tables.iter().map(|t| t.len()).sum::<usize>();
        assert_eq!(table, ROWS, "{label}");
        group.bench_function(label, |b| b.iter(|| black_box(facts::load(&program, &sources, &inputs).is_ok())));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
