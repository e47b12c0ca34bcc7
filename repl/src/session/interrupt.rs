//! Ctrl-C while a command runs: the command stops at the engine's next
//! checkpoint, the session answers that it was interrupted, and goes on in
//! exactly the state it had before the command (edits, scenarios, date,
//! undo history).
//!
//! A command that changes the working engine (an edit, `:undo`,
//! `:reset`, `:scenario load`) may be stopped after its change and before
//! its answer: the engine's inputs are then restored to the checkpoint
//! taken before the command, with the edits and the undo history of then.
//! (`:reload` changes the session only once its answer is ready.)

use aims_lang::engine::{Interrupt, Interrupted};

use super::{Reply, Session};
use crate::parse::Input;

/// What the session answers to a command that was interrupted.
pub const INTERRUPTED: &str = "interrupted: the session is as it was before this command\n";

/// Whether a command changes the working engine before it answers.
fn changes_engine(input: &Input) -> bool {
    matches!(
        input,
        Input::Set { .. }
            | Input::Unset { .. }
            | Input::SetMeasure { .. }
            | Input::Add { .. }
            | Input::Remove { .. }
            | Input::AsOf(Some(_))
            | Input::Undo
            | Input::Reset
            | Input::ScenarioLoad(_)
            | Input::Declaration
    )
}

impl Session {
    /// The handle that interrupts the command under way, from another
    /// thread or a Ctrl-C handler (see [`Interrupt`]). A request made
    /// while no command runs stops the next one: clear it before a
    /// command if that is not wanted.
    pub fn interrupt_handle(&self) -> Interrupt {
        self.engine.interrupt_handle()
    }

    /// Runs a parsed command so that the interrupt handle stops it.
    pub(super) fn dispatch_interruptible(&mut self, input: &str, parsed: Input) -> Reply {
        // Cheap: input handles and shared row lists, no evaluation.
        let before = changes_engine(&parsed).then(|| (self.engine.checkpoint(), self.edits.clone(), self.undo.len()));
        let declarations = self.declarations;
        let interrupt = self.interrupt_handle();
        match interrupt.run(|| self.dispatch(input, parsed)) {
            Ok(reply) => reply,
            Err(Interrupted) => {
                self.declarations = declarations;
                if let Some((checkpoint, edits, undo)) = before {
                    // Not interruptible: restoring evaluates nothing.
                    self.engine.restore(&checkpoint);
                    if self.edits != edits || self.undo.len() != undo {
                        // The command got as far as changing the edit list
                        // (`:undo`, `:reset`, a scenario, an edit): rebuild
                        // it, with its undo history, from the project as
                        // loaded.
                        let _ = self.replay_as_current(&edits);
                        self.engine.restore(&checkpoint);
                    }
                    self.names += 1;
                }
                Reply::text(INTERRUPTED.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use aims_lang::facts::{Format, Mapping};
    use aims_lang::{Date, Engine};

    use super::*;

    const POLICY: &str = "entity S { id: Text key, v: Int, due: Date, flag: Bool }\n\
        control rare for s: S where s.due < today { require count(t for t: S where t.v == s.v) < 3 }\n\
        control flagged for s: S { require s.flag }\n";

    fn session(n: usize) -> Session {
        let rows: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"id": "s{i}", "v": {}, "due": "2027-06-01", "flag": false}}"#, i % 50))
            .collect();
        let facts = format!(r#"{{"S": [{}]}}"#, rows.join(","));
        let engine = Engine::from_texts("p.aims", POLICY, &[("f.json", Format::Json, Mapping::default(), &facts)])
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        Session::new(engine, Date::parse("2026-11-01").expect("a date"))
    }

    /// Runs `input` while another thread keeps interrupting.
    fn run_interrupted(session: &mut Session, input: &str) -> Reply {
        let done = Arc::new(AtomicBool::new(false));
        let handle = session.interrupt_handle();
        let stopper = {
            let done = done.clone();
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    handle.interrupt();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
        };
        let reply = session.run(input);
        done.store(true, Ordering::SeqCst);
        stopper.join().expect("the interrupting thread ends");
        session.interrupt_handle().clear();
        reply
    }

    #[test]
    fn an_interrupted_edit_leaves_the_session_as_it_was() {
        let mut session = session(600);
        session.run(":set S \"s1\".flag = true");
        session.run(":scenario save flagged");
        let before = session.engine().evaluation();
        // The date is set, then its answer evaluated: the interrupt comes
        // after the change, which must be taken back.
        for input in [":as-of 2028-01-01", "control twice for s: S { require count(t for t: S where t.v == s.v) < 9 }"]
        {
            assert_eq!(run_interrupted(&mut session, input).text, INTERRUPTED, "{input}");
            assert_eq!(session.edits().len(), 1, "{input}");
            assert_eq!(session.engine().as_of(), Date::parse("2026-11-01").expect("a date"));
            assert_eq!(*session.engine().evaluation(), *before, "{input}");
        }
        assert_eq!(
            run_interrupted(&mut session, "count(s for s: S where count(t for t: S where t.v == s.v) > 1)").text,
            INTERRUPTED
        );
        // Nothing left for the engine to evaluate (a request made before
        // the command stops it at its first checkpoint): the diff's own
        // loops stop.
        session.interrupt_handle().interrupt();
        assert_eq!(session.run(":diff").text, INTERRUPTED);
        assert!(!session.interrupt_handle().is_requested(), "the interrupted command took the request back");
        assert_eq!(session.run("40 + 2").text, "42\n");
        assert_eq!(session.run(":scenario list").text, "flagged  (1 edit)\n    :set S \"s1\".flag = true\n");
        // The declaration typed next is named as if the interrupted one never was.
        let declared = session.run("control small for s: S { require s.v < 100 }").text;
        assert!(declared.starts_with("declared control small (<repl-1>)"), "{declared}");
        assert_eq!(*session.engine().evaluation(), *session.engine().fresh_copy().evaluation());
    }

    #[test]
    fn an_interrupted_reload_leaves_the_session_as_it_was() {
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/credit-scoring");
        let date = Date::parse("2026-11-01");
        let mut session = Session::load(&example, aims_lang::project::LoadOptions::default(), date)
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        session.run(":set AISystem \"credit-scorer\".human_oversight = false");
        let before = session.engine().evaluation();
        let handle = session.interrupt_handle();
        // Asked before the command: reading the facts again stops at once.
        handle.interrupt();
        assert_eq!(session.run(":reload").text, INTERRUPTED);
        assert_eq!(session.edits().len(), 1);
        assert_eq!(*session.engine().evaluation(), *before);
        let reloaded = session.run(":reload").text;
        assert!(reloaded.starts_with("reloaded ") && reloaded.contains("re-applied 1 edit"), "{reloaded}");
        // The reloaded project answers the handle taken before (the one a
        // terminal's Ctrl-C handler holds).
        handle.interrupt();
        assert_eq!(session.run(":as-of 2027-01-05").text, INTERRUPTED);
        assert_eq!(session.engine().as_of(), Date::parse("2026-11-01").expect("a date"));
    }
}
