//! The REPL as a person uses it, at 100,000 systems: the real `aims repl`
//! binary driven through a pseudo-terminal (rexpect), on the peer
//! benchmark's policy (`benches/peers`) with the seed-42 inventory of
//! `tests/fixtures/peers-facts-n1000-seed42.json` tiled 100 times (keys
//! made unique), as `lang/benches/peers.rs` does.
//!
//! It records: start-up to the first prompt; the median time from Enter
//! to the next prompt of `:set` over ten edits on different systems;
//! `:undo`; `:diff`; the resident memory (RSS) at the first prompt and
//! after the ten edits. Not a timed test: it asserts nothing about time.
//!
//! Run (release; a few minutes with the build):
//! `cargo bench --bench repl` (`-- N` for another number of systems).
//! The figures of the last run are in `docs/repl.md` ("Speed").

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::session::{spawn_command, PtySession};

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

/// Sends a line and waits for the next prompt: the time from Enter to it.
fn timed(repl: &mut PtySession, line: &str) -> Result<(Duration, String), Box<dyn std::error::Error>> {
    repl.send_line(line)?;
    let start = Instant::now();
    let out = repl.exp_string(PROMPT)?;
    Ok((start.elapsed(), out))
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
    let mut repl = spawn_command(command, Some(120_000))?;
    repl.exp_string(PROMPT)?;
    let startup = start.elapsed();
    let pid = repl.process.child_pid.as_raw();
    std::thread::sleep(Duration::from_millis(200));
    let rss_prompt = rss_mib(pid);

    // A first command, so that each edit below is timed as the edits of a
    // session are (not the first query of the process).
    timed(&mut repl, "1 + 1")?;
    let mut sets = Vec::new();
    for i in 0..10 {
        let system = format!("sys-{:06}-{}", 37 * i + 5, 10 * i + 3);
        let line = format!(":set AISystem \"{system}\".human_oversight = {}", i % 2 == 0);
        let (took, out) = timed(&mut repl, &line)?;
        if out.contains("error") {
            return Err(format!("`{line}` failed: {out}").into());
        }
        sets.push(took);
    }
    std::thread::sleep(Duration::from_millis(200));
    let rss_edits = rss_mib(pid);
    let (undo, _) = timed(&mut repl, ":undo")?;
    let (diff, _) = timed(&mut repl, ":diff")?;
    repl.send_line(":quit")?;
    repl.exp_eof()?;

    println!("aims repl, benches/peers with {n} systems (seed 42 tiled), release, through a pty");
    println!("| measure | value |");
    println!("| --- | ---: |");
    println!("| start-up to the prompt | {} |", ms(startup));
    println!("| `:set`, median of 10 edits on different systems, Enter to prompt | {} |", ms(median(sets.clone())));
    println!("| `:set`, slowest of the 10 | {} |", ms(sets.iter().copied().max().unwrap_or_default()));
    println!("| `:undo`, Enter to prompt | {} |", ms(undo));
    println!("| `:diff` (9 edits), Enter to prompt | {} |", ms(diff));
    println!("| RSS at the prompt | {rss_prompt:.0} MiB |");
    println!("| RSS after ten edits | {rss_edits:.0} MiB ({:+.1} %) |", (rss_edits / rss_prompt - 1.0) * 100.0);
    Ok(())
}
