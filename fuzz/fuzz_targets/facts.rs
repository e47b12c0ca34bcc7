//! The fact loaders (JSON, YAML, TOML, CSV) against a schema: any input is
//! loaded whole or refused with diagnostics, never a panic; a loaded store
//! evaluates.
#![no_main]

use aims_lang::facts::{Format, Mapping};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"
enum Tier { low, high }
record Evidence { kind: Text, date: Date? }
entity Person { id: Text key, trained_on: Date? }
entity System {
  id: Text key
  tier: Tier = low
  owner: Person?
  score: Number?
  evidence: [Evidence] = []
  tags: [Text] = []
}
control owned for s: System where s.tier == high { require s.owner is some }
audit trained { require all p: Person: p.trained_on is some }
"#;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let format = match selector % 4 {
        0 => Format::Json,
        1 => Format::Yaml,
        2 => Format::Toml,
        _ => Format::Csv,
    };
    let mapping = match format {
        Format::Csv => Mapping { entity: Some("System".into()), ..Mapping::default() },
        _ => Mapping::default(),
    };
    let text = String::from_utf8_lossy(rest);
    if let Ok(mut engine) = aims_lang::Engine::from_texts("fuzz.aims", SCHEMA, &[("facts", format, mapping, &text)]) {
        let _ = engine.evaluate(aims_lang::time::Date::UNIX_EPOCH);
    }
});
