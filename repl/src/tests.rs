//! Tests of the session API on the bundled example, `examples/credit-scoring`.

use std::path::PathBuf;

use aims_lang::project::LoadOptions;
use aims_lang::Date;

use crate::session::{Edit, Session};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring")
}

fn date(text: &str) -> Date {
    Date::parse(text).expect("a valid date")
}

fn session() -> Session {
    match Session::load(&example(), LoadOptions::default(), Some(date("2026-11-01"))) {
        Ok(session) => session,
        Err(failure) => panic!("the example loads: {:?}", failure.diagnostics),
    }
}

/// Runs an entry that must not end the session, and returns its text.
fn run(session: &mut Session, input: &str) -> String {
    let reply = session.run(input);
    assert!(!reply.quit, "`{input}` ended the session");
    reply.text
}

/// The text with runs of spaces made one (for aligned columns).
fn squash(text: &str) -> String {
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

/// The working engine gives what an evaluation from scratch gives.
fn assert_consistent(session: &Session) {
    let incremental = session.engine().evaluation();
    let scratch = session.engine().fresh_copy().evaluation();
    assert_eq!(*incremental, *scratch, "incremental and from-scratch evaluations differ");
}

#[test]
fn expressions_are_evaluated() {
    let mut s = session();
    assert_eq!(run(&mut s, "count(s for s: AISystem where s.risk_tier == high)"), "4\n");
    assert_eq!(run(&mut s, "1 + 2 * 3"), "7\n");
    assert_eq!(run(&mut s, "today"), "2026-11-01\n");
    assert_eq!(run(&mut s, "high_stakes"), run(&mut s, "high_stakes"), "stable");
}

#[test]
fn a_rule_name_lists_its_outcomes() {
    let mut s = session();
    let text = run(&mut s, "bias_testing");
    assert!(text.starts_with("control bias_testing \"Credit and collections"), "{text}");
    assert!(text.contains("  limit-adjuster           fail\n"), "{text}");
    assert!(text.contains("saw s.last_bias_test = 2026-02-10"), "{text}");
    assert!(text.contains("  2 pass, 1 fail, 0 waived, 4 not applicable\n"), "{text}");
    let one = run(&mut s, "bias_testing on \"credit-scorer\"");
    assert_eq!(one, "bias_testing on \"credit-scorer\": pass\n");
    let one = run(&mut s, "human_review on collections-prioritiser");
    assert!(one.contains("waived (waived by exception collections_review_queue until 2026-12-31"), "{one}");
    assert!(one.contains("saw s.human_oversight = false"), "{one}");
}

#[test]
fn set_answers_with_the_diff() {
    let mut s = session();
    let text = run(&mut s, ":set AISystem \"credit-scorer\".human_oversight = false");
    let expected = "\
outcomes
  human_review × credit-scorer  pass → fail
risks
  unreviewed_decisions × credit-scorer  residual low → high (now above appetite)
findings (8 → 10)
  + major       control human_review credit-scorer: credit and collections outcomes must not reach a customer without human review (`s.human_oversight`)
  + major       risk unreviewed_decisions credit-scorer: risk above appetite without effective treatment: high (score 16)
";
    assert_eq!(text, expected);
    assert_eq!(s.edits().len(), 1);
    assert_consistent(&s);
}

#[test]
fn a_recent_bias_test_within_the_limit_passes() {
    let mut s = session();
    let first = run(&mut s, ":set AISystem \"limit-adjuster\".last_bias_test = 2026-10-01");
    // Still failing (the disparity is too high), with one reason fewer.
    assert!(!first.contains("bias_testing × limit-adjuster"), "{first}");
    assert!(first.contains("findings (8 → 8)"), "{first}");
    let second = run(&mut s, ":set AISystem \"limit-adjuster\".bias_disparity = 0.05");
    assert!(second.contains("bias_testing × limit-adjuster  fail → pass"), "{second}");
    assert!(
        second.contains("unfair_credit × limit-adjuster  residual high → medium (now within appetite)"),
        "{second}"
    );
    assert!(second.contains("fairer_credit  on_track → met"), "{second}");
    assert_consistent(&s);
    let diff = run(&mut s, ":diff");
    assert!(diff.starts_with("since the project was loaded (2 edits):\n"), "{diff}");
    assert!(diff.contains("bias_testing × limit-adjuster  fail → pass"), "{diff}");
}

#[test]
fn undo_restores_the_previous_state() {
    let mut s = session();
    assert_eq!(run(&mut s, ":undo"), "nothing to undo\n");
    run(&mut s, ":set AISystem \"credit-scorer\".human_oversight = false");
    run(&mut s, ":unset AISystem \"limit-adjuster\".last_bias_test");
    let undo = run(&mut s, ":undo");
    assert!(undo.starts_with("undid :unset AISystem \"limit-adjuster\".last_bias_test\n"), "{undo}");
    assert_eq!(s.edits().len(), 1);
    let undo = run(&mut s, ":undo");
    assert!(undo.contains("human_review × credit-scorer  fail → pass"), "{undo}");
    assert!(s.edits().is_empty());
    assert_eq!(run(&mut s, ":diff"), "since the project was loaded (0 edits):\nno change\n");
    assert_consistent(&s);
}

#[test]
fn moving_past_the_exception_adds_findings() {
    let mut s = session();
    let text = run(&mut s, ":as-of 2027-01-05");
    assert!(text.starts_with("as of 2026-11-01 → 2027-01-05\n"), "{text}");
    assert!(text.contains("human_review × collections-prioritiser"), "{text}");
    assert!(text.contains("waived → fail"), "{text}");
    assert!(text.contains("+ minor       exception collections_review_queue collections-prioritiser: exception `collections_review_queue` expired on 2026-12-31; `human_review` fails again"), "{text}");
    assert!(text.contains("findings (8 → 18)"), "{text}");
    assert_eq!(s.edits(), &[Edit::AsOf(date("2027-01-05"))]);
    assert_eq!(run(&mut s, ":as-of"), "as of 2027-01-05\n");
    assert_consistent(&s);
}

#[test]
fn errors_are_diagnostics_and_never_end_the_session() {
    let mut s = session();
    let text = run(&mut s, "count(s for s: AISystem where s.risk_tier == hihg)");
    assert!(text.contains("[E0101] Error: unknown name `hihg`"), "{text}");
    assert!(text.contains("<repl>:1:46"), "{text}");
    assert!(text.contains("did you mean `high`?"), "{text}");
    let text = run(&mut s, ":set AISystem \"credit-scoer\".human_oversight = false");
    assert!(text.contains("did you mean \"credit-scorer\"?"), "{text}");
    let text = run(&mut s, ":set AISystem \"credit-scorer\".human_oversight = maybe");
    assert!(text.contains("<repl>:1:49"), "{text}");
    let text = run(&mut s, ":unset AISystem \"credit-scorer\".human_oversight");
    assert!(text.contains("is not optional"), "{text}");
    let text = run(&mut s, ":wat");
    assert!(text.contains("unknown command `:wat`"), "{text}");
    let text = run(&mut s, ":why bias_testng limit-adjuster");
    assert!(text.contains("did you mean `bias_testing`?"), "{text}");
    let text = run(&mut s, ":add AISystem { id: \"x\", name: 3 }");
    assert!(text.contains("<repl>:1:32"), "{text}");
    let text = run(&mut s, "1 +");
    assert!(text.contains("[E0001]"), "{text}");
    // Control characters typed at the prompt never reach the terminal.
    let text = run(&mut s, ":as-of \u{1b}[2J");
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(s.edits().is_empty(), "no failed edit is recorded");
    assert_eq!(run(&mut s, "1 + 1"), "2\n", "the session goes on");
}

#[test]
fn declarations_join_the_session() {
    let mut s = session();
    let decl = "control always_owned \"Every system has an owner\"\n  severity minor\n  for s: AISystem\n{";
    assert!(s.needs_more(decl));
    let decl = format!("{decl}\n  require s.owner is some\n}}");
    assert!(!s.needs_more(&decl));
    let text = run(&mut s, &decl);
    assert!(text.starts_with("declared control always_owned (<repl-1>)\n"), "{text}");
    assert!(text.contains("new control always_owned: 6 pass, 1 fail, 0 waived, 0 not applicable"), "{text}");
    assert!(text.contains("+ minor       control always_owned affordability-v5"), "{text}");
    let text = run(&mut s, "always_owned on \"affordability-v5\"");
    assert!(text.starts_with("always_owned on \"affordability-v5\": fail\n"), "{text}");
    // A function, then a control that uses it.
    run(&mut s, "fn is_credit(s: AISystem) = s.domain == credit");
    assert_eq!(run(&mut s, "count(s for s: AISystem where is_credit(s))"), "3\n");
    // A refused declaration shows its diagnostics and changes nothing.
    let text = run(&mut s, "control broken \"x\" for s: AISystem { require s.nope }");
    assert!(text.contains("<repl-3>:1:48"), "{text}");
    assert!(text.contains("`AISystem` has no field `nope`"), "{text}");
    assert_eq!(s.edits().len(), 2);
    // Undo takes the declarations back.
    run(&mut s, ":undo");
    let text = run(&mut s, ":undo");
    assert!(text.contains("control always_owned is gone"), "{text}");
    assert_consistent(&s);
}

#[test]
fn facts_are_added_and_removed() {
    let mut s = session();
    let text = run(
        &mut s,
        ":add AISystem { id: \"new-model\", name: \"New\", domain: credit, risk_tier: high, status: deployed, \
         owner: \"p-chen\", human_oversight: true }",
    );
    assert!(text.starts_with("added AISystem \"new-model\"\n"), "{text}");
    assert!(squash(&text).contains("bias_testing × new-model (none) → fail"), "{text}");
    assert!(text.contains("and 2 new outcomes: not applicable"), "{text}");
    assert_consistent(&s);
    let text = run(&mut s, ":remove AISystem \"new-model\"");
    assert!(squash(&text).contains("bias_testing × new-model fail → (none)"), "{text}");
    let text = run(&mut s, "fact AISystem { id: \"f1\", name: \"F\", domain: fraud, risk_tier: limited }");
    assert!(squash(&text).contains("accountable_owner × f1 (none) → fail"), "{text}");
    assert_eq!(s.edits().len(), 3);
    assert_consistent(&s);
    let text = run(&mut s, ":reset");
    assert!(text.starts_with("took back 3 edits\n"), "{text}");
    assert_eq!(run(&mut s, ":diff"), "since the project was loaded (0 edits):\nno change\n");
}

#[test]
fn scenarios_are_saved_and_compared() {
    let mut s = session();
    run(&mut s, ":set AISystem \"limit-adjuster\".last_bias_test = 2026-10-01");
    run(&mut s, ":set AISystem \"limit-adjuster\".bias_disparity = 0.05");
    assert_eq!(run(&mut s, ":scenario save retested"), "saved scenario retested (2 edits)\n");
    run(&mut s, ":reset");
    run(&mut s, ":set AISystem \"credit-scorer\".human_oversight = false");
    run(&mut s, ":scenario save unreviewed");
    let text = run(&mut s, ":scenario compare retested unreviewed");
    assert!(text.starts_with("scenario retested (2 edits) → scenario unreviewed (1 edit)\n"), "{text}");
    assert!(text.contains("bias_testing × limit-adjuster  pass → fail"), "{text}");
    assert!(text.contains("human_review × credit-scorer   pass → fail"), "{text}");
    let text = run(&mut s, ":scenario compare initial retested");
    assert!(text.contains("bias_testing × limit-adjuster  fail → pass"), "{text}");
    let text = run(&mut s, ":scenario compare retested nope");
    assert!(text.contains("no scenario is named `nope`"), "{text}");
    let text = run(&mut s, ":scenario load retested");
    assert!(text.starts_with("loaded scenario retested (2 edits)\n"), "{text}");
    assert_eq!(s.edits().len(), 2);
    assert_consistent(&s);
    let list = run(&mut s, ":scenario list");
    assert!(list.contains("retested  (2 edits)"), "{list}");
}

#[test]
fn why_traces_one_outcome() {
    let mut s = session();
    let text = run(&mut s, ":why bias_testing limit-adjuster");
    let expected_start = "bias_testing on \"limit-adjuster\": fail\n  control bias_testing \"Credit and collections models are tested for bias every six months\" (major), ";
    assert!(text.starts_with(expected_start), "{text}");
    assert!(text.contains("  applies? for s: AISystem where s.domain in [credit, collections] and s.status == deployed: yes, the filter holds\n"), "{text}");
    assert!(text.contains("  require 1  s.last_bias_test within 180 days       FAILED\n"), "{text}");
    assert!(text.contains("      saw s.last_bias_test = 2026-02-10\n"), "{text}");
    assert!(text.contains("controls.aims:50:3"), "{text}");
    assert!(text.ends_with("  → fail: 2 of 2 requires failed\n"), "{text}");
    let text = run(&mut s, ":why bias_testing credit-scorer");
    assert!(text.contains("  require 1  s.last_bias_test within 180 days       held\n"), "{text}");
    assert!(text.ends_with("  → pass: 2 requires held\n"), "{text}");
    let text = run(&mut s, ":why bias_testing \"doc-ocr\"");
    assert!(text.contains("no, the filter does not hold"), "{text}");
    let text = run(&mut s, ":why management_review_held");
    assert!(text.contains("applies to the organisation as a whole"), "{text}");
    let text = run(&mut s, ":why bias_testing");
    assert!(text.contains("which one?"), "{text}");
}

#[test]
fn timing_reload_help_and_quit() {
    let mut s = session();
    assert_eq!(run(&mut s, ":timing on"), "timing on\n");
    let reply = s.run(":set AISystem \"credit-scorer\".human_oversight = false");
    let timing = reply.timing.expect("timed");
    // The engine's part is the edit and the evaluation, which take time;
    // `:diff` is timed too (it used to show 0.00 ms: no engine part was measured).
    assert!(timing.engine > std::time::Duration::ZERO, "{timing:?}");
    let line = timing.line(None);
    assert!(line.starts_with("time: ") && line.contains("(parse ") && line.contains(", render "), "{line}");
    let line = timing.line(Some((std::time::Duration::from_millis(5), std::time::Duration::from_millis(1))));
    assert!(
        line.starts_with("time: 5.00 ms from Enter to the answer printed (") && line.ends_with("print 1.00 ms)\n"),
        "{line}"
    );
    let diff = s.run(":diff").timing.expect("timed");
    assert!(diff.engine + diff.render > std::time::Duration::ZERO, "{diff:?}");
    run(&mut s, ":timing off");
    assert_eq!(s.run(":diff").timing, None);
    let text = run(&mut s, ":reload");
    assert!(text.starts_with("reloaded "), "{text}");
    assert!(text.contains("re-applied 1 edit\nno change\n"), "{text}");
    assert_eq!(s.edits().len(), 1);
    let help = run(&mut s, ":help");
    for (command, _, _) in crate::parse::COMMANDS {
        assert!(help.contains(command), "{command} missing from :help");
    }
    assert!(s.run(":quit").quit);
    assert!(s.run(":q").quit);
}

#[test]
fn vocabulary_knows_names_keys_and_fields() {
    let s = session();
    let v = s.vocabulary();
    assert!(v.rules.iter().any(|(n, e)| n == "bias_testing" && e.as_deref() == Some("AISystem")));
    let (_, fields, keys) = v.entities.iter().find(|(n, _, _)| n == "AISystem").expect("AISystem");
    assert!(fields.iter().any(|f| f == "human_oversight"));
    assert!(keys.iter().any(|k| k == "credit-scorer"));
    let line = ":set AISystem \"credit-scorer\".human_ov";
    assert_eq!(crate::complete::complete(&v, line, line.len()).1, vec!["human_oversight"]);
}

#[test]
fn a_reference_is_set_by_key_and_checked() {
    let mut s = session();
    let text = run(&mut s, ":set AISystem \"affordability-v5\".owner = \"p-chen\"");
    assert!(squash(&text).contains("accountable_owner × affordability-v5 fail → pass"), "{text}");
    let text = run(&mut s, ":set AISystem \"affordability-v5\".owner = \"nobody\"");
    assert!(text.contains("nobody"), "{text}");
    assert_eq!(s.edits().len(), 1, "the refused edit is not recorded");
    assert_consistent(&s);
}

#[test]
fn the_banner_agrees_in_number() {
    let s = session();
    assert_eq!(
        s.banner(),
        "credit-scoring as of 2026-11-01: 28 controls and audits, 2 risks, 1 objective, 8 findings\n"
    );
}

/// A session evaluated on another thread (as the terminal does for a
/// large project) answers every command as one evaluated at load.
#[test]
fn a_session_evaluated_in_the_background_answers_as_one_evaluated_at_load() {
    let commands = [
        ":set AISystem \"credit-scorer\".human_oversight = false",
        ":diff",
        ":undo",
        ":remove AISystem \"limit-adjuster\"",
        ":as-of 2027-06-01",
        ":diff",
        ":reset",
    ];
    let mut eager = session();
    let mut background = match Session::load_unevaluated(&example(), LoadOptions::default(), Some(date("2026-11-01"))) {
        Ok(session) => session,
        Err(failure) => panic!("the example loads: {:?}", failure.diagnostics),
    };
    assert!(!background.is_evaluated());
    // The head of the banner needs no evaluation.
    assert!(eager.banner().starts_with(&format!("{}, ", background.banner_head())));
    assert!(!background.is_evaluated());
    let (send, receive) = std::sync::mpsc::channel();
    background.evaluate_in_background(move |evaluation| {
        let _ = send.send(evaluation.findings.len());
    });
    // The first command waits for the evaluation, then answers as usual.
    for command in commands {
        assert_eq!(run(&mut background, command), run(&mut eager, command), "{command}");
        assert!(background.is_evaluated());
    }
    assert_eq!(receive.recv().ok(), Some(8), "the thread reports the findings as loaded");
    assert_consistent(&background);
}

/// A session not evaluated at load is evaluated by its first command.
#[test]
fn a_session_not_evaluated_at_load_is_evaluated_by_its_first_command() {
    let mut s = match Session::load_unevaluated(&example(), LoadOptions::default(), Some(date("2026-11-01"))) {
        Ok(session) => session,
        Err(failure) => panic!("the example loads: {:?}", failure.diagnostics),
    };
    assert_eq!(s.facts_count(), session().facts_count());
    assert!(s.facts_count() > 0);
    assert_eq!(run(&mut s, ":help"), run(&mut session(), ":help"));
    assert!(!s.is_evaluated(), "help needs no evaluation");
    let text = run(&mut s, ":set AISystem \"credit-scorer\".human_oversight = false");
    assert!(s.is_evaluated());
    assert!(text.contains("findings (8 → 10)"), "{text}");
}

#[test]
fn control_characters_in_replies_become_visible_escapes() {
    let mut s = session();
    let text = run(&mut s, ":as-of 2026\u{1b}]0;title\u{7}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    assert!(text.contains("\\u{1b}]0;title\\u{7}"), "shown, not dropped: {text}");
}

#[test]
fn only_commands_that_may_change_names_refresh_completion() {
    let mut s = session();
    let start = s.names_version();
    run(&mut s, ":set AISystem \"credit-scorer\".human_oversight = false");
    run(&mut s, ":diff");
    run(&mut s, "1 + 1");
    assert_eq!(s.names_version(), start, "a :set changes no name or key");
    run(&mut s, ":add AISystem { id: \"fresh\", name: \"F\", domain: credit, risk_tier: high }");
    assert_ne!(s.names_version(), start);
    assert!(s.vocabulary().entities.iter().any(|(n, _, keys)| n == "AISystem" && keys.iter().any(|k| k == "fresh")));
    let added = s.names_version();
    run(&mut s, ":undo");
    assert_ne!(s.names_version(), added, "undoing an :add removes a key");
}

#[test]
fn large_answers_are_cut_and_saved_in_full() {
    let mut full = session();
    assert_eq!(run(&mut full, ":limit off"), "answers are shown in full\n");
    let whole = run(&mut full, ":as-of 2027-01-05");

    let mut s = session();
    assert_eq!(run(&mut s, ":limit 2"), "answers show the first 2 changes of each kind\n");
    let cut = run(&mut s, ":as-of 2027-01-05");
    let total = whole
        .lines()
        .filter(|l| l.starts_with("  ") && (l.contains(" → ") || l.starts_with("  + ") || l.starts_with("  - ")))
        .count();
    assert!(cut.starts_with(&format!("{total} changes (the first 2 of each kind shown)\n")), "{cut}");
    assert!(cut.contains("  the first changes:\n"), "per-rule counts, then the first changes: {cut}");
    assert!(cut.contains(" more\n"), "{cut}");
    assert!(
        cut.ends_with("(`:save FILE` writes the whole answer to a file; `:limit off` prints answers in full)\n"),
        "{cut}"
    );
    assert!(cut.lines().count() < whole.lines().count(), "{cut}");

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("answer.txt");
    let saved = run(&mut s, &format!(":save {}", path.display()));
    assert!(saved.starts_with(&format!("wrote {} (", path.display())), "{saved}");
    assert_eq!(std::fs::read_to_string(&path).expect("written"), whole, "the whole answer");

    // `:diff > FILE`: the whole diff since loading, through a symbolic
    // link, which is replaced, not written through.
    let target = dir.path().join("elsewhere.txt");
    std::fs::write(&target, "untouched").expect("written");
    let link = dir.path().join("diff.txt");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    run(&mut s, &format!(":diff > {}", link.display()));
    let written = std::fs::read_to_string(&link).expect("written");
    assert!(
        written.starts_with("since the project was loaded (1 edit):\nas of 2026-11-01 → 2027-01-05\n"),
        "{written}"
    );
    assert_eq!(std::fs::read_to_string(&target).expect("kept"), "untouched");

    let refused = run(&mut s, ":diff > /no/such/folder/diff.txt");
    assert!(
        refused.contains("[E0402] Error") && refused.contains("cannot write `/no/such/folder/diff.txt`"),
        "{refused}"
    );
    assert!(refused.contains("<repl>:1:"), "placed on the typed path: {refused}");
    assert_eq!(run(&mut s, ":limit"), "answers show the first 2 changes of each kind\n");
    assert!(run(&mut s, ":limit 0").contains("expected a number of lines or `off`"));
}

#[test]
fn a_measure_of_the_organisation_can_be_set_and_unset() {
    let mut s = session();
    run(&mut s, "record Decision { decided_at: Date, approved: Bool }");
    run(&mut s, "measure approvals = count() over d: Decision where d.approved and d.decided_at within 30 days");
    let declared = run(&mut s, "control enough_approvals { require approvals >= 10 }");
    assert!(declared.contains("enough_approvals"), "{declared}");
    assert_eq!(run(&mut s, "approvals"), "not measured: the logs have not been read\n");

    let set = run(&mut s, ":set approvals = 12");
    assert!(set.contains("enough_approvals") && set.contains("pass"), "{set}");
    assert_eq!(run(&mut s, "approvals"), "12\n");
    assert_consistent(&s);
    let unset = run(&mut s, ":unset approvals");
    assert!(unset.contains("enough_approvals") && unset.contains("fail"), "{unset}");
    assert_eq!(s.edits().last().map(Edit::describe).as_deref(), Some(":unset approvals"));
    run(&mut s, ":undo");
    assert_eq!(run(&mut s, "approvals"), "12\n", "undo gives the value back");

    let wrong = run(&mut s, ":set approval = 3");
    assert!(wrong.contains("no measure of the organisation is named `approval`"), "{wrong}");
    assert!(wrong.contains("did you mean `approvals`?"), "{wrong}");
    let typed = run(&mut s, ":set approvals = \"many\"");
    assert!(typed.contains("Int"), "{typed}");
    assert_eq!(run(&mut s, "approvals"), "12\n", "a refused value changes nothing");
}
