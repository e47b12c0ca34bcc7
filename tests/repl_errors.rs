//! Every error the REPL answers is a full diagnostic: a code, the typed
//! line as `<repl>` with a label under the part at fault, and a "did you
//! mean" where a name or key is close. One snapshot per kind of mistake,
//! on the bundled example.

use std::path::Path;

use aims_lang::project::LoadOptions;
use aims_lang::Date;
use aims_repl::Session;

fn session() -> Session {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/credit-scoring");
    Session::load(&example, LoadOptions::default(), Date::parse("2026-11-01"))
        .unwrap_or_else(|f| panic!("the example loads: {:?}", f.diagnostics))
}

/// The answer to `input`, which must be one diagnostic with a code.
fn error(session: &mut Session, input: &str) -> String {
    let text = session.run(input).text;
    assert!(text.starts_with("[E") || text.starts_with("[W"), "not a diagnostic: {text}");
    assert!(text.contains("<repl>:1:"), "not placed on the typed line: {text}");
    format!("aims> {input}\n{text}")
}

macro_rules! case {
    ($name:ident, $($input:expr),+ $(,)?) => {
        #[test]
        fn $name() {
            let mut session = session();
            let mut shown = String::new();
            $( shown.push_str(&error(&mut session, $input)); )+
            insta::assert_snapshot!(stringify!($name), shown);
            assert!(session.edits().is_empty(), "a refused edit changes nothing");
        }
    };
}

case!(reference_key_in_a_set_value, ":set AISystem \"credit-scorer\".owner = \"p-chn\"");
// Issue 17's example: a fact that does not exist and a reference to a
// person who does not: both are said at once.
case!(unknown_fact_and_reference_key, ":set AISystem \"x\".owner = \"p-chn\"");
case!(reference_key_with_nothing_close, ":set AISystem \"credit-scorer\".owner = \"zzz\"");
case!(
    reference_key_in_a_list_value,
    ":set AISystem \"credit-scorer\".datasets = [\"loan-applications-2024\", \"bureau-atributes\"]"
);
case!(
    reference_key_in_an_added_fact,
    ":add AISystem { id: \"z1\", name: \"Z\", domain: credit, risk_tier: high, status: deployed, owner: \"p-chn\", human_oversight: true, logs_decisions: true }",
    "fact AISystem { id: \"z2\", name: \"Z\", domain: credit, risk_tier: high, status: deployed, owner: \"maria\", human_oversight: true, logs_decisions: true }"
);
case!(
    key_of_the_fact_edited,
    ":set AISystem \"credit-scoer\".human_oversight = false",
    ":unset AISystem \"credit-scoer\".owner",
    ":remove AISystem \"credit-scoer\""
);
case!(entity_kind, ":set AISystm \"credit-scorer\".human_oversight = false", ":add AISytem { id: \"z\" }");
case!(field_name, ":set AISystem \"credit-scorer\".human_oversigt = false", ":unset AISystem \"credit-scorer\".ownr");
case!(
    value_of_the_field,
    ":set AISystem \"credit-scorer\".human_oversight = flase",
    ":set AISystem \"credit-scorer\".risk_tier = hihg"
);
case!(
    rule_name,
    ":why bias_testin limit-adjuster",
    "bias_testin",
    "bias_testin on \"limit-adjuster\"",
    "unfair_credt on \"limit-adjuster\"",
    "fairer_credt"
);
#[test]
fn scenario_name() {
    let mut session = session();
    assert_eq!(session.run(":scenario save retested").text, "saved scenario retested (0 edits)\n");
    let shown =
        error(&mut session, ":scenario load curent") + &error(&mut session, ":scenario compare initial retestd");
    insta::assert_snapshot!("scenario_name", shown);
}

#[test]
fn reload_without_a_project_folder() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/credit-scoring");
    let engine = aims_lang::Engine::load(&example, &LoadOptions::default()).expect("the example loads");
    let mut session = Session::new(engine, Date::parse("2026-11-01").expect("a date"));
    insta::assert_snapshot!("reload_without_a_project_folder", error(&mut session, ":reload"));
}

/// The REPL excerpts of `docs/errors.md` (an `aims>` line, then lines of
/// its answer, some left out) are what the REPL answers.
#[test]
fn the_repl_excerpts_in_errors_md_are_real() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md")).expect("errors.md");
    let mut checked = 0;
    for block in doc.split("```").skip(1).step_by(2) {
        let mut lines = block.lines().skip(1).filter(|l| !l.trim().is_empty());
        let Some(entry) = lines.next().and_then(|l| l.strip_prefix("aims> ")) else { continue };
        let answer = session().run(entry).text;
        for line in lines {
            let shown = line.trim_start_matches([' ', '│']).trim();
            assert!(
                answer.contains(shown),
                "docs/errors.md shows `{shown}` for `{entry}`, the REPL answers:\n{answer}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 1, "no REPL excerpt found in docs/errors.md");
}
