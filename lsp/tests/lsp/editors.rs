//! The VS Code extension (editors/vscode) agrees with the language: its
//! files parse, reference each other, and the grammar knows every
//! declaration keyword, reserved word, builtin type and builtin function.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn extension() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../editors/vscode")
}

fn json(relative: &str) -> Value {
    let text = std::fs::read_to_string(extension().join(relative)).expect("the file");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
}

/// Every `match` and `begin` regex of a grammar, as text.
fn regexes(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "match" || key == "begin" {
                    out.push_str(v.as_str().unwrap_or(""));
                    out.push('\n');
                }
                regexes(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| regexes(v, out)),
        _ => {}
    }
}

#[test]
fn the_package_names_files_that_exist() {
    let package = json("package.json");
    let language = &package["contributes"]["languages"][0];
    assert_eq!(language["id"], "aims");
    assert_eq!(language["extensions"][0], ".aims");
    let configuration = language["configuration"].as_str().expect("a language configuration");
    let grammar = package["contributes"]["grammars"][0]["path"].as_str().expect("a grammar");
    let main = package["main"].as_str().expect("a main script");
    for file in [configuration, grammar, main] {
        assert!(extension().join(file).is_file(), "{file} exists");
    }
    assert_eq!(json(configuration.trim_start_matches("./"))["comments"]["lineComment"], "//");
}

#[test]
fn the_grammar_knows_the_words_of_the_language() {
    let grammar = json("syntaxes/aims.tmLanguage.json");
    assert_eq!(grammar["scopeName"], "source.aims");
    let mut all = String::new();
    regexes(&grammar, &mut all);
    let words = |word: &str| {
        all.contains(&format!("|{word}|")) || all.contains(&format!("({word}|")) || all.contains(&format!("|{word})"))
    };
    for keyword in aims_lang::syntax::DECLARATION_KEYWORDS {
        assert!(words(keyword), "declaration keyword `{keyword}` is highlighted");
    }
    for reserved in aims_lang::syntax::RESERVED_WORDS {
        assert!(words(reserved), "reserved word `{reserved}` is highlighted");
    }
    for name in aims_lang::ir::builtins::TYPES.iter().map(|t| t.name) {
        assert!(words(name), "builtin type `{name}` is highlighted");
    }
    for name in aims_lang::ir::builtins::names() {
        assert!(words(name), "builtin function `{name}` is highlighted");
    }
}
