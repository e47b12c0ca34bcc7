//! Ctrl-C while a command runs: the command stops at the engine's next
//! checkpoint, the session answers that it was interrupted, and goes on in
//! exactly the state it had before the command (edits, scenarios, date,
//! undo history).
//!
//! A command that changes the working engine (an edit, `:undo`,
//! `:reset`, `:scenario load`) may be stopped after its change and before
//! its answer: the working engine is then rebuilt from the project as
//! loaded and the edits recorded before the command, as `:undo` rebuilds
//! it. (`:reload` changes the session only once its answer is ready.)

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
        self.base.interrupt_handle()
    }

    /// Runs a parsed command so that the interrupt handle stops it.
    pub(super) fn dispatch_interruptible(&mut self, input: &str, parsed: Input) -> Reply {
        let rebuild = changes_engine(&parsed);
        let edits = self.edits.clone();
        let declarations = self.declarations;
        let interrupt = self.interrupt_handle();
        match interrupt.run(|| self.dispatch(input, parsed)) {
            Ok(reply) => reply,
            Err(Interrupted) => {
                self.declarations = declarations;
                if rebuild {
                    // Not interruptible: replaying evaluates nothing.
                    let _ = self.replay_as_current(&edits);
                }
                Reply::text(INTERRUPTED.to_string())
            }
        }
    }
}
