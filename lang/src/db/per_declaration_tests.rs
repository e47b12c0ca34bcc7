//! Checking is per declaration: which checks re-run after an edit,
//! counted from salsa's `WillExecute` events. Editing one control's body
//! re-checks that control alone (not the other controls, not the stdlib
//! modules' rules, not the signatures they are checked against); moving
//! declarations down re-checks nothing.

use crate::db::Database;
use crate::Engine;

/// A policy of many declarations: types, a function, and `CONTROLS`
/// controls, with the ISO/IEC 42001 catalogue loaded.
fn policy(edited: Option<usize>) -> String {
    let mut text = String::from(
        "use iso42001\nenum Tier { minimal, limited, high }\n\
         entity AISystem {\n  id: Text key\n  tier: Tier\n  reviewed: Bool\n}\n\
         fn risky(s: AISystem) = s.tier == high\n",
    );
    for i in 0..CONTROLS {
        let bound = if edited == Some(i) { 2 } else { 1 };
        text.push_str(&format!(
            "\n/// Control {i}.\ncontrol c{i} implements A.6.2.4 for s: AISystem where risky(s) {{\n  let n = {bound}\n  require s.reviewed or n > {i}\n}}\n"
        ));
    }
    text
}

const CONTROLS: usize = 30;

fn engine(text: &str) -> Engine {
    Engine::from_texts_with("policy.aims", text, &[], Database::with_log())
        .unwrap_or_else(|f| panic!("{:?}", f.diagnostics))
}

fn executed<'a>(log: &'a [String], query: &str) -> Vec<&'a String> {
    log.iter().filter(|l| l.starts_with(&format!("{query}("))).collect()
}

#[test]
fn editing_one_control_rechecks_that_control_only() {
    let mut engine = engine(&policy(None));
    read_every_rule_logic(&engine);
    let first = engine.db().take_log();
    assert!(executed(&first, "check_rule").len() >= CONTROLS, "every rule was checked once: {first:#?}");
    let file = engine.policy_files()[0];
    engine.set_policy_text(file, &policy(Some(17))).expect("valid edit");
    assert!(!engine.diagnostics().iter().any(|d| d.is_error()), "{:?}", engine.diagnostics());
    let log = engine.db().take_log();
    assert_eq!(executed(&log, "check_rule").len(), 1, "c17 alone: {log:#?}");
    assert!(executed(&log, "signatures").is_empty(), "a rule is not a signature: {log:#?}");
    read_every_rule_logic(&engine);
    let log = engine.db().take_log();
    assert_eq!(executed(&log, "rule_logic").len(), 1, "c17's logic alone is built again: {log:#?}");
}

/// Reads what evaluation reads of every control (as evaluating them over
/// facts would).
fn read_every_rule_logic(engine: &Engine) {
    let (db, ws) = (engine.db(), engine.workspace());
    for i in 0..CONTROLS {
        let logic = crate::db::rule_logic_in(db, ws, crate::db::RuleName::new(db, format!("c{i}")));
        assert!(logic.is_some(), "c{i} has logic");
    }
}

#[test]
fn inserting_blank_lines_rechecks_nothing() {
    let mut engine = engine(&policy(None));
    engine.db().take_log();
    let file = engine.policy_files()[0];
    // Blank lines in the middle: every declaration below moves down.
    let moved = policy(None).replacen("\n/// Control 10.", "\n\n\n\n/// Control 10.", 1);
    engine.set_policy_text(file, &moved).expect("valid edit");
    assert!(!engine.diagnostics().iter().any(|d| d.is_error()), "{:?}", engine.diagnostics());
    let log = engine.db().take_log();
    assert!(executed(&log, "check_rule").is_empty(), "{log:#?}");
    assert!(executed(&log, "signatures").is_empty(), "{log:#?}");
}

/// The program, diagnostics and source map `compiled` assembles from
/// rules checked one by one equal those of checking the whole text at once
/// (`checked_with_text` re-checks without the per-rule queries).
/// Returns how many diagnostics the whole check gave.
fn assert_assembled_like_whole(files: crate::project::ProjectFiles) -> usize {
    let (engine, _) = Engine::open(files);
    let (db, ws) = (engine.db(), engine.workspace());
    let compiled = crate::db::compiled(db, ws);
    let file = ws.files(db)[0];
    let whole = crate::db::checked_with_text(db, ws, file, file.text(db));
    assert_eq!(compiled.program, whole.program);
    let mut diagnostics: Vec<String> = compiled.diagnostics.iter().map(|d| format!("{d:?}")).collect();
    // `compiled` also reports syntax errors and unknown modules.
    for d in &whole.diagnostics {
        let shown = format!("{d:?}");
        let at = diagnostics.iter().position(|c| *c == shown).unwrap_or_else(|| panic!("missing {shown}"));
        diagnostics.remove(at);
    }
    assert_eq!(compiled.model.files(), whole.model.files());
    // What evaluation reads of each rule, built from the rule's own check,
    // is the program's rule without its places.
    for rule in &compiled.program.rules {
        let logic = crate::db::rule_logic_in(db, ws, crate::db::RuleName::new(db, rule.decl.name.clone()));
        let logic = logic.unwrap_or_else(|| panic!("no logic for {}", rule.decl.name));
        assert_eq!(*logic, without_places(rule), "{}", rule.decl.name);
    }
    whole.diagnostics.len()
}

/// A rule of the program with its declaration's and requirements' places
/// blanked, as evaluation reads it.
fn without_places(rule: &crate::ir::RuleDef) -> crate::ir::RuleDef {
    let mut rule = rule.clone().without_requirement_spans();
    let name = rule.decl.name.clone();
    rule.decl = crate::ir::Decl { name, span: Default::default(), name_span: Default::default(), docs: None };
    rule
}

fn project_of(text: &str) -> crate::project::ProjectFiles {
    let mut sources = crate::diag::Sources::new();
    let policy = sources.add("policy.aims", text);
    crate::project::ProjectFiles { name: "policy".into(), sources, policy: vec![policy], ..Default::default() }
}

#[test]
fn rules_checked_apart_assemble_into_the_whole_program() {
    assert_assembled_like_whole(project_of(&policy(None)));
    // Errors in rules below the types they read: an unknown field (its
    // label at the entity), an unknown requirement, an unknown name.
    let found = assert_assembled_like_whole(project_of(
        "use iso42001\nenum Tier { minimal, high }\n\n\nentity S {\n  id: Text key\n  tier: Tier\n}\n\n\
         control a implements A.6.2.4 for s: S where s.tier == high {\n  let t = s.tire\n  require t == high\n}\n\n\
         audit b implements Z.9 for s: S { require s.reviewed and nope }\n\
         /// Doc.\ncontrol c for s: S {\n  let n = count(x for x: S where x.tier == s.tier)\n  require n > 0\n}\n",
    ));
    assert!(found >= 3, "the rules' errors were reported: {found}");
}

#[test]
fn the_example_policies_assemble_like_the_whole_program() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&root).expect("the examples").flatten() {
        let dir = entry.path().join("policy");
        let Ok(files) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<_> =
            files.flatten().map(|f| f.path()).filter(|p| p.extension().is_some_and(|e| e == "aims")).collect();
        paths.sort();
        // One file at a time: `checked_with_text` replaces the first file.
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable");
            let _ = assert_assembled_like_whole(project_of(&text));
            count += 1;
        }
    }
    assert!(count > 3, "the examples were read: {count}");
}

/// What the editor reads while a rule is typed (its source map, the rule
/// checked on its own) equals that rule's share of the whole program
/// re-checked with the same text.
#[test]
fn a_rule_being_typed_maps_like_the_whole_program() {
    let text = policy(None);
    let engine = engine(&text);
    let (db, ws) = (engine.db(), engine.workspace());
    let file = ws.files(db)[0];
    // Control 7 as it is being typed: a member access and a `let` more.
    let start = text.find("\n/// Control 7.").expect("control 7") + 1;
    let end = text[start..].find("\n/// Control 8.").map(|i| start + i + 1).expect("control 8");
    let typed = text[start..end].replace("require s.reviewed", "let t = s.tier\n  require s.reviewed and t == high");
    let edited = format!("{}{typed}{}", &text[..start], &text[end..]);
    let parse = crate::syntax::parse(&typed);
    let alone = crate::db::rules_source_map(db, ws, file, start as u32, &typed, &parse).expect("a rule");
    let mut whole = crate::db::checked_with_text(db, ws, file, &edited).model;
    let whole = whole.take_file(crate::diag::FileId(file.id(db))).expect("a map");
    let inside = |s: crate::syntax::Span| start as u32 <= s.start && s.end <= (start + typed.len()) as u32;
    let refs: Vec<_> = whole.references.iter().filter(|r| inside(r.span)).cloned().collect();
    assert!(!alone.members.is_empty() && !alone.locals.is_empty(), "{alone:#?}");
    assert_eq!(alone.references, refs);
    assert_eq!(alone.locals, whole.locals.iter().filter(|l| inside(l.at)).cloned().collect::<Vec<_>>());
    assert_eq!(alone.members, whole.members.iter().filter(|m| inside(m.field)).cloned().collect::<Vec<_>>());
    assert_eq!(alone.names, whole.names.iter().filter(|n| inside(n.span)).cloned().collect::<Vec<_>>());
    // Anything but rules is left to the whole check.
    let function = crate::syntax::parse("fn f(x: Int) = x + 1\n");
    assert!(crate::db::rules_source_map(db, ws, file, 0, "fn f(x: Int) = x + 1\n", &function).is_none());
}
