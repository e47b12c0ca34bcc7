//! Checking is per declaration: which checks re-run after an edit,
//! counted from salsa's `WillExecute` events. Editing one control's body
//! re-checks that control alone (not the other controls, not the stdlib
//! modules' rules, not the signatures they are checked against); moving
//! declarations down re-checks nothing.

use aims_lang::db::Database;
use aims_lang::Engine;

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
    let first = engine.db().take_log();
    assert!(executed(&first, "check_rule").len() >= CONTROLS, "every rule was checked once: {first:#?}");
    let file = engine.policy_files()[0];
    engine.set_policy_text(file, &policy(Some(17))).expect("valid edit");
    assert!(!engine.diagnostics().iter().any(|d| d.is_error()), "{:?}", engine.diagnostics());
    let log = engine.db().take_log();
    assert_eq!(executed(&log, "check_rule").len(), 1, "c17 alone: {log:#?}");
    assert!(executed(&log, "signatures").is_empty(), "a rule is not a signature: {log:#?}");
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
