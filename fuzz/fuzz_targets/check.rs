//! Name resolution and type checking on any parsed text (with the stdlib
//! reachable through `use`): diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(mut engine) = aims_lang::Engine::from_texts("fuzz.aims", &text, &[]) {
        // A program that checks is also evaluated (on no facts).
        let _ = engine.evaluate(aims_lang::Date::UNIX_EPOCH);
    }
});
