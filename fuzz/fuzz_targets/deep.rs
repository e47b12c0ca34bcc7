//! Deeply nested programs within the documented limits (brackets,
//! `if`/`exists`/`all`, operator chains, unary `-` and `not`, calls,
//! lists, field access): parsing, checking and evaluating with the stdlib
//! never overflow the stack, and no tree that parses is deeper than
//! `aims_lang::syntax::MAX_DEPTH`.
#![no_main]

use aims_lang::syntax::{self, MAX_DEPTH};
use libfuzzer_sys::fuzz_target;

/// The largest expression generated, in bytes.
const MAX_TEXT: usize = 64 * 1024;

/// One level of nesting, chosen by a byte.
fn wrap(op: u8, repeat: usize, inner: String) -> String {
    match op % 12 {
        0 => format!("-{inner}"),
        1 => format!("not {inner}"),
        2 => format!("({inner})"),
        3 => format!("[{inner}]"),
        4 => format!("if true then {inner} else {inner}"),
        5 => format!("exists a: AISystem where {inner}"),
        6 => format!("all a in [1, 2]: {inner}"),
        7 => vec![inner.as_str(); repeat.max(2)].join(" and "),
        8 => vec![inner.as_str(); repeat.max(2)].join(" + "),
        9 => format!("id({inner})"),
        10 => format!("{{ v: {inner} }}.v"),
        _ => format!("{}{inner}", "-".repeat(repeat)),
    }
}

fuzz_target!(|data: &[u8]| {
    // Pairs of bytes: an operator and how many times (for chains).
    let mut expr = "x".to_string();
    for pair in data.chunks(2).take(4096) {
        let repeat = pair.get(1).copied().unwrap_or(1) as usize * 4;
        // Depth is what this target is about, not size: a chain of chains
        // grows the text geometrically, and a megabyte of policy takes the
        // sanitised build longer than the run's timeout to parse, check and
        // format (linearly, as a benchmark shows).
        if expr.len().saturating_mul(repeat.max(2)) > MAX_TEXT {
            break;
        }
        expr = wrap(pair[0], repeat, expr);
    }
    let text = format!(
        "use iso42001\nuse aims.records\nfn id(x: Int) = x\nfn deep(x: Int) = {expr}\ncontrol c for s: AISystem {{ require deep(1) == deep(1) }}\n"
    );
    let parse = syntax::parse(&text);
    assert!(parse.deepest_function_body() <= MAX_DEPTH, "a tree deeper than the limit parsed");
    if let Ok(mut engine) = aims_lang::Engine::from_texts("deep.aims", &text, &[]) {
        let _ = engine.evaluate(aims_lang::Date::UNIX_EPOCH);
    }
    let _ = aims_lang::syntax::format(&text);
});
