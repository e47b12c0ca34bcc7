//! The parser and the formatter on any text: no panic, no hang; and when
//! the text parses, formatting keeps its tokens and is idempotent.
#![no_main]

use aims_lang::syntax::tokens::tokens;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parse = aims_lang::syntax::parse(&text);
    let _ = tokens(&text);
    if parse.errors.is_empty() {
        let once = aims_lang::syntax::format(&text).expect("a text that parses formats");
        let texts = |t: &str| -> Vec<String> { tokens(t).iter().map(|k| k.text(t).trim_end().to_string()).collect() };
        assert_eq!(texts(&once), texts(&text), "formatting changed the tokens");
        assert_eq!(aims_lang::syntax::format(&once).ok().as_deref(), Some(once.as_str()), "not idempotent");
    }
    let _ = aims_lang::syntax::expr_errors(&text);
});
