//! The terminal front end: a rustyline prompt over a [`Session`], with
//! completion, multi-line entries and persistent history.
//!
//! Colour is used only when standard output (or, for load errors, standard
//! error) is a terminal and `NO_COLOR` is not set.
//!
//! Ctrl-C behaves as in other line-editing REPLs (python, node): at the
//! prompt it clears the line being typed; at an empty prompt it prints how
//! to leave, and a second one in a row leaves. While a command runs, the
//! terminal turns Ctrl-C into SIGINT, which interrupts the command (see
//! `session::interrupt`) instead of ending the process.
//!
//! A project with more than [`BACKGROUND_FACTS`] facts shows its prompt
//! once it is loaded and checked, while it is evaluated on another thread:
//! the banner then gives the number of findings on a line of its own when
//! they are known, and a command entered before waits for them.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aims_lang::diag::{self, Code, RenderOptions};
use aims_lang::project::LoadOptions;
use aims_lang::report::count as plural;
use aims_lang::Date;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{
    Cmd, CompletionType, ConditionalEventHandler, Config, Context, Editor, Event, EventContext, EventHandler, Helper,
    KeyEvent, RepeatCount,
};

use crate::complete::{self, Vocabulary};
use crate::session::Session;

const PROMPT: &str = "aims> ";
const CONTINUATION: &str = "  ... ";
/// Printed after Ctrl-C at an empty prompt.
pub(crate) const EXIT_HINT: &str = "(to leave, press Ctrl-C again, or Ctrl-D, or type :quit)";

/// Exit code for a policy or facts with errors.
const EXIT_INVALID: u8 = 2;
/// Exit code for usage and I/O errors.
const EXIT_USAGE: u8 = 3;

/// Completion for rustyline, from the session's names (refreshed after
/// every command).
struct ReplHelper {
    vocabulary: Vocabulary,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, candidates) = complete::complete(&self.vocabulary, line, pos);
        let pairs = candidates
            .into_iter()
            .map(|replacement| Pair { display: replacement.trim_end().to_string(), replacement })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

/// Notes whether the line was empty when Ctrl-C was pressed (rustyline's
/// `Interrupted` does not say), then lets rustyline give the line up.
struct CtrlC {
    line_was_empty: Arc<AtomicBool>,
}

impl ConditionalEventHandler for CtrlC {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        self.line_was_empty.store(ctx.line().is_empty(), Ordering::SeqCst);
        None
    }
}

/// What was read at the prompt.
enum Entry {
    /// An entry to run (possibly empty).
    Text(String),
    /// Ctrl-C: `empty` when nothing at all had been typed.
    Interrupted { empty: bool },
    /// End of input (Ctrl-D) or a terminal error.
    End,
}

/// Turns SIGINT (Ctrl-C while a command runs: the terminal is not in raw
/// mode then) into an interrupt of the command, for the rest of the process.
#[cfg(unix)]
fn forward_ctrl_c(interrupt: aims_lang::engine::Interrupt) {
    match signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                for _ in signals.forever() {
                    interrupt.interrupt();
                }
            });
        }
        Err(e) => eprintln!("aims: Ctrl-C cannot interrupt a command (it ends the REPL): {e}"),
    }
}

#[cfg(not(unix))]
fn forward_ctrl_c(_: aims_lang::engine::Interrupt) {}

/// `$XDG_STATE_HOME/aims/history`, else `~/.aims_history`.
fn history_path() -> Option<PathBuf> {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(state).join("aims").join("history"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|home| PathBuf::from(home).join(".aims_history"))
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Runs the REPL on a project folder (or `.aims` file) until `:quit` or
/// end of input, loading it with `options` (the CLI's: the environment for
/// database sources, the runner of measures). Exit codes: 0 after a
/// session, 2 when the project has errors, 3 for usage and I/O errors.
pub fn run(path: &Path, as_of: Option<Date>, options: LoadOptions) -> ExitCode {
    if !path.exists() {
        eprintln!("aims: `{}` does not exist", path.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let load = if std::io::stdin().is_terminal() { Session::load_unevaluated } else { Session::load };
    let mut session = match load(path, options, as_of) {
        Ok(session) => session,
        Err(failure) => {
            let color = std::io::stderr().is_terminal() && !no_color();
            let text = diag::render(&failure.diagnostics, &failure.sources, RenderOptions { color });
            eprint!("{text}");
            let io_only = failure.diagnostics.iter().all(|d| d.code == Code::Io);
            return ExitCode::from(if io_only { EXIT_USAGE } else { EXIT_INVALID });
        }
    };
    print_warnings(&session);
    session.set_color(std::io::stdout().is_terminal() && !no_color());
    if !std::io::stdin().is_terminal() {
        run_piped(&mut session, std::io::stdin().lock());
        return ExitCode::SUCCESS;
    }
    let config = Config::builder().completion_type(CompletionType::List).auto_add_history(false).build();
    let mut editor: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("aims: cannot start the line editor: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut stdout = std::io::stdout();
    start_evaluation(&mut session, &mut editor, &mut stdout);
    editor.set_helper(Some(ReplHelper { vocabulary: session.vocabulary() }));
    let line_was_empty = Arc::new(AtomicBool::new(false));
    let ctrl_c = CtrlC { line_was_empty: line_was_empty.clone() };
    editor.bind_sequence(KeyEvent::ctrl('C'), EventHandler::Conditional(Box::new(ctrl_c)));
    let mut names = session.names_version();
    let history = history_path();
    if let Some(file) = &history {
        let _ = editor.load_history(file);
    }
    let interrupt = session.interrupt_handle();
    forward_ctrl_c(interrupt.clone());
    // Whether the last key was Ctrl-C at an empty prompt.
    let mut leaving = false;
    loop {
        let entry = match read_entry(&mut editor, &session, &line_was_empty) {
            Entry::End => break,
            Entry::Interrupted { empty: true } if leaving => break,
            Entry::Interrupted { empty } => {
                if empty {
                    let _ = writeln!(stdout, "{EXIT_HINT}");
                    let _ = stdout.flush();
                }
                leaving = empty;
                continue;
            }
            Entry::Text(entry) => entry,
        };
        leaving = false;
        if entry.trim().is_empty() {
            continue;
        }
        let entered = Instant::now();
        let _ = editor.add_history_entry(entry.as_str());
        // A Ctrl-C pressed before the command started is not for it.
        interrupt.clear();
        let reply = session.run(&entry);
        if reply.text == crate::session::INTERRUPTED {
            // After the `^C` the terminal echoed.
            let _ = writeln!(stdout);
        }
        print_reply(&mut stdout, &reply, entered);
        if reply.quit {
            break;
        }
        if session.names_version() != names {
            names = session.names_version();
            if let Some(helper) = editor.helper_mut() {
                helper.vocabulary = session.vocabulary();
            }
        }
    }
    if let Some(file) = &history {
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(file);
    }
    ExitCode::SUCCESS
}

/// A project with more facts than this shows its prompt before it is
/// evaluated (see the module documentation).
pub const BACKGROUND_FACTS: u64 = 10_000;

/// Prints the banner and evaluates the project as loaded: at once for a
/// small project, else on another thread, which prints the number of
/// findings above the prompt when it is done.
fn start_evaluation(
    session: &mut Session,
    editor: &mut Editor<ReplHelper, DefaultHistory>,
    stdout: &mut std::io::Stdout,
) {
    let printer = (session.facts_count() > BACKGROUND_FACTS).then(|| editor.create_external_printer().ok()).flatten();
    let Some(mut printer) = printer else {
        let _ = writeln!(stdout, "{}Type :help for the commands, :quit to leave.", session.banner());
        let _ = stdout.flush();
        return;
    };
    let _ = writeln!(
        stdout,
        "{}; evaluating {} (a command entered before it is done waits for it)\nType :help for the commands, :quit to leave.",
        session.banner_head(),
        plural(session.facts_count() as usize, "fact", "facts")
    );
    let _ = stdout.flush();
    session.evaluate_in_background(move |evaluation| {
        use rustyline::ExternalPrinter;
        let _ = printer.print(format!("evaluated: {}\n", plural(evaluation.findings.len(), "finding", "findings")));
    });
}

/// How many "Annex A control neither implemented nor excluded" (W0002)
/// warnings are shown in full at start-up, as on the command line; the
/// rest are counted.
const UNADDRESSED_SHOWN: usize = 3;

/// The project's warnings on standard error, the W0002 ones summarised as
/// `aims check` does.
fn print_warnings(session: &Session) {
    let color = std::io::stderr().is_terminal() && !no_color();
    let _ = std::io::stderr().write_all(warnings_text(session, color).as_bytes());
}

/// The warnings as printed at start-up: every other warning, the first
/// W0002 warnings, and a count of the rest.
fn warnings_text(session: &Session, color: bool) -> String {
    let warnings = session.engine().warnings();
    let (unaddressed, mut shown): (Vec<diag::Diagnostic>, Vec<diag::Diagnostic>) =
        warnings.iter().cloned().partition(|w| w.code == Code::UnaddressedControl);
    shown.extend(unaddressed.iter().take(UNADDRESSED_SHOWN).cloned());
    let mut text = if shown.is_empty() {
        String::new()
    } else {
        diag::render(&shown, session.engine().sources(), RenderOptions { color })
    };
    if unaddressed.len() > UNADDRESSED_SHOWN {
        text.push_str(&format!(
            "aims: {} more Annex A controls are neither implemented nor excluded (W0002); `aims soa` lists them all\n",
            unaddressed.len() - UNADDRESSED_SHOWN
        ));
    }
    text
}

/// Prints a reply, then (with `:timing on`) the time from Enter (`entered`)
/// to the answer printed, and its parts.
fn print_reply(stdout: &mut std::io::Stdout, reply: &crate::Reply, entered: Instant) {
    let printing = Instant::now();
    let _ = stdout.write_all(reply.text.as_bytes());
    let _ = stdout.flush();
    if let Some(timing) = reply.timing {
        let line = timing.line(Some((entered.elapsed(), printing.elapsed())));
        let _ = stdout.write_all(line.as_bytes());
        let _ = stdout.flush();
    }
}

/// The session over input that is not a terminal (a pipe, a file): read as
/// bytes, so that a line that is not UTF-8 is reported (with its number)
/// and skipped, with the entry it belongs to, and the session goes on.
fn run_piped(session: &mut Session, mut input: impl std::io::BufRead) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}Type :help for the commands, :quit to leave.", session.banner());
    let _ = stdout.flush();
    let mut buffer = String::new();
    let mut bytes = Vec::new();
    let mut number = 0usize;
    loop {
        bytes.clear();
        let entry = match input.read_until(b'\n', &mut bytes) {
            Ok(0) => std::mem::take(&mut buffer),
            Ok(_) => {
                number += 1;
                let line = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                match std::str::from_utf8(line) {
                    Ok(line) => {
                        if !buffer.is_empty() {
                            buffer.push('\n');
                        }
                        buffer.push_str(line);
                        if session.needs_more(&buffer) {
                            continue;
                        }
                        std::mem::take(&mut buffer)
                    }
                    Err(e) => {
                        let dropped = if buffer.is_empty() { "" } else { " with the entry it continues" };
                        buffer.clear();
                        let _ = stdout.flush();
                        eprintln!(
                            "aims: input line {number} is not valid UTF-8 (byte {}): {}; skipped{dropped}",
                            e.valid_up_to() + 1,
                            diag::terminal_safe_line(&String::from_utf8_lossy(line))
                        );
                        continue;
                    }
                }
            }
            Err(e) => {
                eprintln!("aims: cannot read the input: {e}");
                return;
            }
        };
        let at_end = bytes.is_empty();
        if !entry.trim().is_empty() {
            let entered = Instant::now();
            let reply = session.run(&entry);
            print_reply(&mut stdout, &reply, entered);
            if reply.quit {
                return;
            }
        }
        if at_end {
            return;
        }
    }
}

/// Reads one entry: a line, or more while the session needs them. Ctrl-C
/// drops the entry being typed.
fn read_entry(
    editor: &mut Editor<ReplHelper, DefaultHistory>,
    session: &Session,
    line_was_empty: &AtomicBool,
) -> Entry {
    let mut buffer = String::new();
    let mut prompt = PROMPT;
    loop {
        line_was_empty.store(false, Ordering::SeqCst);
        match editor.readline(prompt) {
            Ok(line) => {
                if prompt == CONTINUATION {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                if !session.needs_more(&buffer) {
                    return Entry::Text(buffer);
                }
                prompt = CONTINUATION;
            }
            Err(ReadlineError::Interrupted) => {
                return Entry::Interrupted { empty: buffer.is_empty() && line_was_empty.load(Ordering::SeqCst) }
            }
            Err(ReadlineError::Eof) if !buffer.is_empty() => {
                // End of input in the middle of an entry still runs it.
                return Entry::Text(buffer);
            }
            Err(ReadlineError::Eof) => return Entry::End,
            Err(e) => {
                eprintln!("aims: {e}");
                return Entry::End;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use aims_lang::project::LoadOptions;

    use super::*;

    #[test]
    fn start_up_warnings_summarise_unaddressed_annex_a_controls() {
        // A project that implements no Annex A control: one W0002 per control.
        let dir = tempfile::tempdir().expect("temp dir");
        let policy = "use iso42001\nentity S { id: Text key }\ncontrol c \"x\" severity minor for s: S where true { require true because \"y\" }\n";
        std::fs::write(dir.path().join("p.aims"), policy).expect("written");
        let path: PathBuf = dir.path().join("p.aims");
        let session = Session::load(&path, LoadOptions::default(), None).expect("loads");
        let total = session.engine().warnings().iter().filter(|w| w.code == Code::UnaddressedControl).count();
        assert!(total > UNADDRESSED_SHOWN, "the project leaves Annex A controls unaddressed ({total})");
        let text = warnings_text(&session, false);
        assert_eq!(text.matches("W0002").count(), UNADDRESSED_SHOWN + 1, "{text}");
        assert!(text.contains(&format!("aims: {} more Annex A controls", total - UNADDRESSED_SHOWN)), "{text}");
    }
}
