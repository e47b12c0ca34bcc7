//! The REPL as a person uses it, at 100,000 systems: the real `aims repl`
//! binary driven through a pseudo-terminal (rexpect's `PtyProcess`, read
//! with blocking reads: rexpect's own `exp_string` polls every 100 ms,
//! too coarse for what is measured here), on the peer
//! benchmark's policy (`benches/peers`) with the seed-42 inventory of
//! `tests/fixtures/peers-facts-n1000-seed42.json` tiled 100 times (keys
//! made unique), as `lang/benches/peers.rs` does.
//!
//! It records: start-up to the first prompt, and to the evaluation's
//! `evaluated: N findings` (a large project is evaluated while the prompt
//! waits for input); the median time from Enter to the next prompt of
//! `:set` over ten edits on different systems; `:undo`; `:diff`; the
//! resident memory (RSS) once the project is evaluated and after the ten
//! edits; and Ctrl-C during `:as-of` (the time from it to the prompt, and
//! the answer to `40 + 2` after it). Not a timed test: it asserts nothing
//! about time.
//!
//! Run (release; a few minutes with the build):
//! `cargo bench --bench repl` (`-- N` for another number of systems).
//! The figures of the last run are in `docs/repl.md` ("Speed").

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use std::fs::File;
use std::io::{Read, Write};

use rexpect::process::PtyProcess;

const PROMPT: &str = "aims> ";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The N = 1,000 inventory tiled to `n` systems, keys made unique.
fn facts(n: usize) -> Result<String, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/peers-facts-n1000-seed42.json"))?;
    let doc: serde_json::Value = serde_json::from_str(&text)?;
    let systems = doc["systems"].as_array().ok_or("no systems")?;
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = systems[i % systems.len()].clone();
        let copy = i / systems.len();
        let id = s["id"].as_str().unwrap_or("sys").to_string();
        s["id"] = serde_json::Value::String(if copy == 0 { id } else { format!("{id}-{copy}") });
        all.push(s);
    }
    Ok(serde_json::json!({ "systems": all }).to_string())
}

/// The peers project in `dir`, with `n` generated systems as its facts.
fn project(dir: &Path, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir.join("policy"))?;
    std::fs::create_dir_all(dir.join("facts"))?;
    for entry in std::fs::read_dir(root().join("benches/peers/policy"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), dir.join("policy").join(entry.file_name()))?;
    }
    std::fs::copy(root().join("benches/peers/aims.toml"), dir.join("aims.toml"))?;
    std::fs::write(dir.join("facts/systems.json"), facts(n)?)?;
    Ok(())
}

/// The resident memory of a process, in MiB.
fn rss_mib(pid: i32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The process id of this process's child with that command name (rexpect
/// does not hand out its child's id).
fn child_named(name: &str) -> Option<i32> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    for task in tasks.flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for pid in children.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == name {
                return Some(pid);
            }
        }
    }
    None
}

/// Reads the terminal until the prompt is printed after the first line
/// break (when `after_newline`: past the echo of the typed line) and
/// nothing follows it but escape sequences; what was read.
fn until_prompt(master: &mut File, after_newline: bool) -> Result<String, Box<dyn std::error::Error>> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1 << 16];
    loop {
        let n = master.read(&mut chunk)?;
        if n == 0 {
            return Err("the REPL ended".into());
        }
        seen.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&seen);
        let from = if after_newline { text.find('\n').map(|i| i + 1) } else { Some(0) };
        if let Some(at) = from.and_then(|f| text[f..].rfind(PROMPT).map(|p| p + f)) {
            let rest = &text[at + PROMPT.len()..];
            // Only escape sequences (synchronised output, cursor moves) and a
            // carriage return after it: `aims> \r\x1b[6C\x1b[?2026l`.
            if rest.chars().all(|c| c == '\u{1b}' || c == '\r' || "[?;".contains(c) || c.is_ascii_alphanumeric()) {
                return Ok(text.into_owned());
            }
        }
    }
}

/// Reads the terminal until `needle` has been printed; what was read.
fn until_text(master: &mut File, needle: &str) -> Result<String, Box<dyn std::error::Error>> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1 << 16];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = master.read(&mut chunk)?;
        if n == 0 {
            return Err("the REPL ended".into());
        }
        seen.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&seen).into_owned())
}

/// Types a line and Enter, and waits for the next prompt: the time from
/// Enter to it, and what was printed.
fn timed(master: &mut File, line: &str) -> Result<(Duration, String), Box<dyn std::error::Error>> {
    master.write_all(line.as_bytes())?;
    master.flush()?;
    // Let the line editor take the typed line before Enter, as with a person.
    std::thread::sleep(Duration::from_millis(50));
    let mut echo = [0u8; 1 << 16];
    let _ = read_available(master, &mut echo);
    master.write_all(b"\r")?;
    master.flush()?;
    let start = Instant::now();
    let out = until_prompt(master, true)?;
    Ok((start.elapsed(), out))
}

/// Reads what the terminal has now (the echo of typed text), without waiting.
fn read_available(master: &mut File, buf: &mut [u8]) -> usize {
    use std::os::fd::AsRawFd;
    let fd = master.as_raw_fd();
    let mut total = 0;
    loop {
        let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        if ready <= 0 {
            return total;
        }
        match master.read(buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n,
        }
    }
}

/// The `time:` line of a command's output.
fn time_line(out: &str) -> String {
    out.lines().find(|l| l.starts_with("time: ")).unwrap_or("(no time line)").trim_end().to_string()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; a number is the inventory's size.
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path: PathBuf = dir.path().join("peers");
    project(&path, n)?;
    let state = tempfile::tempdir()?;

    let mut command = Command::new(env!("CARGO_BIN_EXE_aims"));
    command.arg("repl").arg(&path).env("TERM", "xterm").env("NO_COLOR", "1").env("XDG_STATE_HOME", state.path());
    let start = Instant::now();
    let process = PtyProcess::new(command)?;
    let mut master = process.get_file_handle()?;
    let banner = until_prompt(&mut master, false)?;
    let startup = start.elapsed();
    // The findings, printed above the prompt when the evaluation is done
    // (or in the banner, for a small project).
    if !banner.contains("findings") {
        until_text(&mut master, "findings")?;
    }
    let evaluated = start.elapsed();
    let pid = child_named("aims").ok_or("the aims process is not a child of this one")?;
    std::thread::sleep(Duration::from_millis(200));
    let _ = read_available(&mut master, &mut [0u8; 1 << 16]);
    let rss_prompt = rss_mib(pid);

    // A first command, so that each edit below is timed as the edits of a
    // session are (not the first query of the process).
    timed(&mut master, "1 + 1")?;
    // The REPL's own account of each command's time, printed below.
    timed(&mut master, ":timing on")?;
    let mut accounts = Vec::new();
    let mut sets = Vec::new();
    for i in 0..10 {
        let system = format!("sys-{:06}-{}", 37 * i + 5, 10 * i + 3);
        let line = format!(":set AISystem \"{system}\".human_oversight = {}", i % 2 == 0);
        let (took, out) = timed(&mut master, &line)?;
        if out.contains("error")
            || !out.contains("human_oversight") && !out.contains("no change") && !out.contains("outcomes")
        {
            return Err(format!("`{line}` failed: {out}").into());
        }
        sets.push(took);
        accounts.push(format!("{line}\n    {}", time_line(&out)));
    }
    std::thread::sleep(Duration::from_millis(200));
    let rss_edits = rss_mib(pid);
    let (undo, out) = timed(&mut master, ":undo")?;
    accounts.push(format!(":undo\n    {}", time_line(&out)));
    if !out.contains("undid") {
        return Err(format!("`:undo` answered {out}").into());
    }
    let (diff, out) = timed(&mut master, ":diff")?;
    accounts.push(format!(":diff\n    {}", time_line(&out)));
    if !out.contains("since the project was loaded (9 edits)") {
        return Err(format!("`:diff` answered {out}").into());
    }
    // Ctrl-C while `:as-of` evaluates every rule again, then `40 + 2`.
    master.write_all(b":as-of 2027-06-01\r")?;
    master.flush()?;
    std::thread::sleep(Duration::from_millis(300));
    master.write_all(b"\x03")?;
    master.flush()?;
    let ctrl_c = Instant::now();
    let out = until_prompt(&mut master, true)?;
    let after_ctrl_c = ctrl_c.elapsed();
    let interrupted = out.contains("interrupted: the session is as it was before this command");
    let (_, out) = timed(&mut master, "40 + 2")?;
    let answered = out.lines().any(|l| l.trim() == "42");
    let (_, out) = timed(&mut master, ":as-of")?;
    let as_of_kept = out.contains("as of 2026-01-01");
    master.write_all(b":quit\r")?;
    master.flush()?;
    drop(process);

    println!("aims repl, benches/peers with {n} systems (seed 42 tiled), release, through a pty");
    println!("| measure | value |");
    println!("| --- | ---: |");
    println!("| start-up to the prompt | {} |", ms(startup));
    println!("| start-up to `evaluated: N findings` | {} |", ms(evaluated));
    println!("| `:set`, median of 10 edits on different systems, Enter to prompt | {} |", ms(median(sets.clone())));
    println!("| `:set`, slowest of the 10 | {} |", ms(sets.iter().copied().max().unwrap_or_default()));
    println!("| `:undo`, Enter to prompt | {} |", ms(undo));
    println!("| `:diff` (9 edits), Enter to prompt | {} |", ms(diff));
    println!("| RSS at the prompt, evaluated | {rss_prompt:.0} MiB |");
    println!("| RSS after ten edits | {rss_edits:.0} MiB ({:+.1} %) |", (rss_edits / rss_prompt - 1.0) * 100.0);
    println!(
        "| Ctrl-C 300 ms into `:as-of 2027-06-01`: to the prompt | {} ({}) |",
        ms(after_ctrl_c),
        if interrupted { "interrupted" } else { "NOT interrupted" }
    );
    println!(
        "| then `40 + 2` | {}; date {} |",
        if answered { "42" } else { "NOT answered" },
        if as_of_kept { "still 2026-01-01" } else { "CHANGED" }
    );
    println!("\nThe REPL's `:timing` account of each command:");
    for account in accounts {
        println!("  {account}");
    }
    Ok(())
}
