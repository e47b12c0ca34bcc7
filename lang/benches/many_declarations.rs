//! What one large file costs, per declaration and per diagnostic: a policy
//! of N one-line controls checked and evaluated, each rule located (line
//! and column, as the reports do), and a file of N one-line syntax errors
//! parsed and its diagnostics rendered (N = 1,000, 10,000, 100,000 and
//! 20,000 errors). Twice N should cost about twice as much.
//!
//! Run: `cargo bench -p aims-lang --bench many_declarations`.

use std::hint::black_box;

use aims_lang::diag::{render, Diagnostic, RenderOptions, Sources};
use aims_lang::Date;
use aims_lang::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

/// N one-line controls, each with a subject (a local whose scope the
/// checker places in its declaration) and a `let`.
fn controls(n: usize) -> String {
    let rules: String =
        (0..n).map(|i| format!("control c{i} for s: S where true {{ let v = s.n require v > {} }}\n", i % 2)).collect();
    format!("entity S {{ id: Text key, n: Int }}\n{rules}")
}

fn syntax_errors(n: usize) -> String {
    (0..n).map(|i| format!("control e{i} {{ require = }}\n")).collect()
}

fn bench(c: &mut Criterion) {
    let as_of = Date::parse("2026-01-01").expect("a date");
    for n in [1_000usize, 10_000, 100_000] {
        let mut group = c.benchmark_group(format!("controls n={n}"));
        group.sample_size(10);
        let text = controls(n);
        group.bench_function("check, evaluate and locate every rule", |b| {
            b.iter_batched(
                || text.clone(),
                |text| {
                    let mut engine = Engine::from_texts("p.aims", &text, &[]).expect("checks");
                    let evaluation = engine.evaluate(as_of);
                    let program = engine.program();
                    let located: usize = program
                        .rules
                        .iter()
                        .map(|r| engine.sources().line_col(r.decl.name_span.file, r.decl.name_span.span.start).0)
                        .sum();
                    black_box((evaluation, located))
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
    for n in [2_000usize, 20_000] {
        let mut group = c.benchmark_group(format!("syntax errors n={n}"));
        group.sample_size(10);
        let text = syntax_errors(n);
        group.bench_function("parse and render every error", |b| {
            b.iter(|| {
                let mut sources = Sources::new();
                let file = sources.add("p.aims", text.as_str());
                let parse = aims_lang::syntax::parse(&text);
                let diagnostics: Vec<Diagnostic> =
                    parse.errors.iter().map(|e| Diagnostic::from_syntax(file, e)).collect();
                black_box(render(&diagnostics, &sources, RenderOptions::default()).len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
