//! The deepest expression the parser allows is also checked and evaluated
//! on a small stack: every later stage's walk stays within the depth the
//! syntax layer guarantees.

use aims_lang::syntax::MAX_DEPTH;
use aims_lang::{Date, Engine};

/// The deepest expression the limit allows: `-` ×100, `(` ×60, `-` ×95 and `x`.
fn deepest_allowed() -> String {
    assert_eq!(MAX_DEPTH, 100 + 60 + 95 + 1);
    format!("{}{}{}x{}", "-".repeat(100), "(".repeat(60), "-".repeat(95), ")".repeat(60))
}

#[test]
fn the_deepest_allowed_program_is_checked_and_evaluated_on_a_small_stack() {
    let expr = deepest_allowed();
    let policy = format!(
        "entity S {{ id: Text key, n: Int }}\nfact S {{ id: \"a\", n: 1 }}\nfn f(x: Int) = {expr}\n\
         control c for s: S {{ require f(s.n) <= 1 and not not not (f(s.n) > 5) }}\n"
    );
    // A quarter of the 2 MiB of a spawned thread or a tokio worker.
    let thread = std::thread::Builder::new().stack_size(512 * 1024).spawn(move || {
        let mut engine = Engine::from_texts("p.aims", &policy, &[]).map_err(|e| format!("{e:?}"))?;
        let evaluation = engine.evaluate(Date::parse("2026-01-01").expect("date"));
        let copy = engine.program().clone();
        assert!(&copy == engine.program());
        let passed = evaluation.rules.iter().map(|r| format!("{:?}", r.outcomes)).collect::<Vec<_>>().join("");
        Ok::<_, String>(passed)
    });
    let outcomes = thread.expect("spawn a thread").join().expect("no panic").expect("checks and evaluates");
    assert!(outcomes.contains("Pass"), "f(1) = 1, so c passes: {outcomes}");
}
