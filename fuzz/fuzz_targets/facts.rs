//! The fact loaders (JSON, YAML, TOML, CSV, the table view of spreadsheets
//! and databases, and workbook bytes read into that view) against a
//! schema: any input is
//! loaded whole or refused with diagnostics, never a panic; a loaded store
//! evaluates; the fast JSON and YAML loader agrees with the slow one; a
//! load within an entity budget refuses (E0310) exactly the facts that
//! exceed it.
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

thread_local! {
    /// The schema, compiled once.
    static PROGRAM: Option<aims_lang::ir::Program> =
        aims_lang::Engine::from_texts("fuzz.aims", SCHEMA, &[]).ok().map(|e| e.program().clone());
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let format = match selector % 6 {
        0 => Format::Json,
        1 => Format::Yaml,
        2 => Format::Toml,
        3 => Format::Csv,
        _ => Format::Spreadsheet,
    };
    let mapping = match format {
        Format::Csv | Format::Spreadsheet => Mapping { entity: Some("System".into()), ..Mapping::default() },
        _ => Mapping::default(),
    };
    // Selector 5: the bytes are a workbook, read into its table view.
    let text = if selector % 6 == 5 {
        match aims_lang::facts::sheet::read(rest, &Default::default(), 1 << 22) {
            Ok(view) => std::borrow::Cow::Owned(view),
            Err(_) => return,
        }
    } else {
        String::from_utf8_lossy(rest)
    };
    if matches!(format, Format::Json | Format::Yaml) {
        PROGRAM.with(|program| {
            let Some(program) = program else { return };
            let input = aims_lang::facts::FactInput { file: aims_lang::diag::FileId(1), format, mapping: mapping.clone() };
            assert!(aims_lang::facts::loaders_agree(program, &input, &text), "the fast fact loader disagrees");
        });
    }
    PROGRAM.with(|program| {
        let Some(program) = program else { return };
        let mut sources = aims_lang::diag::Sources::new();
        let file = sources.add("facts", text.as_ref());
        let inputs = [aims_lang::facts::FactInput { file, format, mapping: mapping.clone() }];
        let budget = u64::from(selector / 6 % 8);
        let unbounded = aims_lang::facts::load(program, &sources, &inputs);
        let bounded = aims_lang::facts::load_within(program, &sources, &inputs, budget);
        let too_many = |r: &Result<_, Vec<aims_lang::diag::Diagnostic>>| {
            r.as_ref().err().is_some_and(|d| d.iter().any(|d| d.code == aims_lang::diag::Code::TooManyFacts))
        };
        let facts = |store: &aims_lang::facts::FactStore| store.tables.iter().map(|t| t.len() as u64).sum::<u64>();
        match &unbounded {
            Ok(store) if facts(store) <= budget => assert_eq!(bounded.as_ref().ok(), Some(store)),
            Ok(_) => assert!(too_many(&bounded), "more facts than the budget were accepted"),
            Err(_) => assert!(bounded.is_err(), "the budget made bad facts load"),
        }
    });
    if let Ok(mut engine) = aims_lang::Engine::from_texts("fuzz.aims", SCHEMA, &[("facts", format, mapping, &text)]) {
        let _ = engine.evaluate(aims_lang::Date::UNIX_EPOCH);
    }
});
