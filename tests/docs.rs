//! The examples of output in the docs are the program's real output.
//!
//! A fenced block in `README.md` or `docs/*.md` preceded by one of these
//! comments is checked against what the program prints now:
//!
//! - `<!-- output: aims ARGS -->`: the standard output of `aims ARGS`, run
//!   from the repository root with `NO_COLOR=1`. `<!-- output: aims ARGS;
//!   lines A-B -->` shows lines A to B only, with a `...` line for what is
//!   left out before and after (`lines 1-18, 40-43`: several ranges). A
//!   block may start with the command as typed, `$ aims ARGS`.
//! - `<!-- repl: ARGS -->`: a session of `aims repl ARGS`: the block is
//!   `$ aims repl ARGS`, the banner, then each entry after its prompt
//!   (`aims> `, continued on `  ... ` lines) and the answer to it. The
//!   entries are read from the block and piped into the real `aims repl`
//!   binary; `time:` figures are not compared.
//!
//! A block that drifted fails the test with a diff. `AIMS_BLESS=1 cargo
//! test --test docs` rewrites the blocks with the current output instead
//! (review the change with `git diff`). Sentences that count the example's
//! AI systems ("a small lender with seven AI systems") are checked against
//! its facts.

use std::path::{Path, PathBuf};
use std::process::Command;

use aims_lang::facts::Facts as _;
use aims_lang::project::LoadOptions;
use aims_repl::Session;

const PROMPT: &str = "aims> ";
const CONTINUATION: &str = "  ... ";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `README.md`, every `docs/*.md` and every example's `README.md`, sorted.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.path().join("README.md"))
        .filter(|p| p.is_file())
        .collect();
    examples.sort();
    docs.insert(0, root().join("README.md"));
    docs.extend(examples);
    docs
}

/// The fenced blocks of a document that show what a program prints (a
/// `text` or `console` block, or one that starts with `$ aims` and shows
/// more than the command) but carry no directive, as `path:line`.
fn unchecked_output_blocks(path: &Path, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !fence.starts_with("```") {
            i += 1;
            continue;
        }
        let info = fence.trim_start_matches('`').trim();
        let end = (i + 1..lines.len()).find(|&j| lines[j].trim() == "```").unwrap_or(lines.len());
        let body = &lines[(i + 1).min(end)..end];
        let shows_a_run = body.first().is_some_and(|l| l.trim_start().starts_with("$ aims")) && body.len() > 1;
        let output = matches!(info, "text" | "console") || shows_a_run;
        let directed = i > 0 && directive(lines[i - 1]).is_ok_and(|d| d.is_some());
        let excused = i > 0 && lines[i - 1].trim().starts_with("<!-- not output:");
        if output && !directed && !excused {
            found.push(format!("{}:{}", path.strip_prefix(root()).unwrap_or(path).display(), i + 1));
        }
        i = end + 1;
    }
    found
}

/// What a checked block shows.
#[derive(Debug)]
enum Directive {
    Output { args: Vec<String>, lines: Vec<(usize, usize)> },
    Repl { args: Vec<String> },
}

/// A checked block: its directive, the indentation of its fence, and the
/// lines of its content (`start..end`, 0-based, fences excluded).
#[derive(Debug)]
struct Block {
    directive: Directive,
    indent: String,
    start: usize,
    end: usize,
}

fn directive(comment: &str) -> Result<Option<Directive>, String> {
    let Some(inner) = comment.trim().strip_prefix("<!--").and_then(|c| c.strip_suffix("-->")) else {
        return Ok(None);
    };
    let inner = inner.trim();
    if let Some(rest) = inner.strip_prefix("output:") {
        let (command, option) = rest.split_once(';').unwrap_or((rest, ""));
        let mut words = command.split_whitespace().map(String::from);
        if words.next().as_deref() != Some("aims") {
            return Err(format!("`{inner}`: an output directive runs `aims ...`"));
        }
        let mut lines = Vec::new();
        if !option.trim().is_empty() {
            let ranges = option
                .trim()
                .strip_prefix("lines ")
                .ok_or_else(|| format!("`{option}`: expected `lines A-B[, C-D]`"))?;
            for range in ranges.split(',') {
                let (a, b) = range.split_once('-').ok_or_else(|| format!("`{range}`: expected `A-B`"))?;
                let parse = |n: &str| n.trim().parse::<usize>().map_err(|e| format!("`{range}`: {e}"));
                lines.push((parse(a)?, parse(b)?));
            }
        }
        return Ok(Some(Directive::Output { args: words.collect(), lines }));
    }
    if let Some(rest) = inner.strip_prefix("repl:") {
        return Ok(Some(Directive::Repl { args: rest.split_whitespace().map(String::from).collect() }));
    }
    Ok(None)
}

fn blocks(text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(directive) = directive(lines[i]).map_err(|e| format!("line {}: {e}", i + 1))? else {
            i += 1;
            continue;
        };
        let fence = lines.get(i + 1).copied().unwrap_or_default();
        if !fence.trim_start().starts_with("```") {
            return Err(format!("line {}: a checked block's comment must be followed by a fence", i + 1));
        }
        let indent = fence[..fence.len() - fence.trim_start().len()].to_string();
        let start = i + 2;
        let end = (start..lines.len())
            .find(|&j| lines[j].trim() == "```")
            .ok_or_else(|| format!("line {}: the block is not closed", i + 2))?;
        out.push(Block { directive, indent, start, end });
        i = end + 1;
    }
    Ok(out)
}

fn run_aims(args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("aims runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Lines `A-B` of each range (1-based, inclusive, in order), with `...`
/// for every run of lines left out; all of them when there is no range.
fn excerpt(output: &str, ranges: &[(usize, usize)]) -> Vec<String> {
    let all: Vec<String> = output.lines().map(String::from).collect();
    if ranges.is_empty() {
        return all;
    }
    let mut out = Vec::new();
    let mut next = 1;
    for &(a, b) in ranges {
        let (a, b) = (a.max(next), b.min(all.len()));
        if a > b {
            continue;
        }
        if a > next {
            out.push("...".to_string());
        }
        out.extend(all.iter().take(b).skip(a - 1).cloned());
        next = b + 1;
    }
    if next <= all.len() {
        out.push("...".to_string());
    }
    out
}

/// The entries typed in a session block: each `aims> ` line with its
/// `  ... ` continuations.
fn entries(shown: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in shown {
        if let Some(entry) = line.strip_prefix(PROMPT) {
            out.push(entry.to_string());
            open = true;
        } else if let (true, Some(more)) = (open, line.strip_prefix(CONTINUATION)) {
            if let Some(last) = out.last_mut() {
                last.push('\n');
                last.push_str(more);
            }
        } else {
            open = false;
        }
    }
    out
}

/// The standard output of `aims repl ARGS` (from the repository root, with
/// `NO_COLOR=1`) with `entries` piped in, one per line (a multi-line entry
/// on its lines), as lines.
fn piped_repl(args: &[String], entries: &[String]) -> Result<Vec<String>, String> {
    use std::io::Write;
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .arg("repl")
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("aims repl does not start: {e}"))?;
    let input: String = entries.iter().map(|e| format!("{e}\n")).collect();
    child.stdin.take().ok_or("no stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("aims repl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect())
}

/// The session a block shows, as the real `aims repl` prints it. Piped
/// input has no prompt and no echo, so where each answer starts is learnt
/// from the length of the output of every shorter session (the answers do
/// not depend on what follows them).
fn session_transcript(args: &[String], shown: &[String]) -> Result<Vec<String>, String> {
    let entries = entries(shown);
    let full = piped_repl(args, &entries)?;
    let mut starts = Vec::with_capacity(entries.len() + 1);
    for n in 0..entries.len() {
        starts.push(piped_repl(args, &entries[..n])?.len());
    }
    starts.push(full.len());
    let banner = starts[0];
    let mut text: Vec<String> = vec![format!("$ aims repl {}", args.join(" "))];
    text.extend(full[..banner].iter().cloned());
    for (i, entry) in entries.iter().enumerate() {
        text.push(format!("{PROMPT}{}", entry.replace('\n', &format!("\n{CONTINUATION}"))));
        let (from, to) = (starts[i], starts[i + 1].max(starts[i]));
        text.extend(full.get(from..to).unwrap_or_default().iter().cloned());
    }
    // Paths as typed from the repository root, whatever the test's folder.
    let absolute = format!("{}/", root().display());
    Ok(text.join("\n").replace(&absolute, "").lines().map(String::from).collect())
}

/// What varies from run to run.
fn comparable(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| if l.starts_with("time: ") { "time: N ms".to_string() } else { l.trim_end().to_string() })
        .collect()
}

/// A line diff (`-` in the doc, `+` in the output), from a longest common
/// subsequence: the blocks are small.
fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("  + {}\n", actual[j]));
            j += 1;
        } else {
            out.push_str(&format!("  - {}\n", expected[i]));
            i += 1;
        }
    }
    out
}

/// Checks (or, with `AIMS_BLESS=1`, rewrites) the blocks of one document;
/// returns the problems found.
fn check_document(path: &Path, bless: bool) -> Vec<String> {
    let name = path.strip_prefix(root()).unwrap_or(path).display().to_string();
    let text = std::fs::read_to_string(path).expect("readable doc");
    let blocks = match blocks(&text) {
        Ok(blocks) => blocks,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut problems = Vec::new();
    // From the last block, so that rewriting one leaves the others' lines in place.
    for block in blocks.iter().rev() {
        let shown: Vec<String> = lines[block.start..block.end]
            .iter()
            .map(|l| l.strip_prefix(block.indent.as_str()).unwrap_or(l.trim_start()).to_string())
            .collect();
        let actual = match &block.directive {
            Directive::Output { args, lines } => {
                // A block may start with the command, as typed.
                let typed = format!("$ aims {}", args.join(" "));
                let mut out = if shown.first() == Some(&typed) { vec![typed] } else { Vec::new() };
                out.extend(excerpt(&run_aims(args), lines));
                out
            }
            Directive::Repl { args } => match session_transcript(args, &shown) {
                Ok(lines) => lines,
                Err(e) => {
                    problems.push(format!("{name}:{}: {e}", block.start));
                    continue;
                }
            },
        };
        if comparable(&shown) == comparable(&actual) {
            continue;
        }
        if bless {
            let indented =
                actual.iter().map(|l| if l.is_empty() { String::new() } else { format!("{}{l}", block.indent) });
            lines.splice(block.start..block.end, indented);
        } else {
            problems.push(format!(
                "{name}:{}: the block ({:?}) is not what the program prints (- doc, + output):\n{}",
                block.start,
                block.directive,
                diff(&comparable(&shown), &comparable(&actual))
            ));
        }
    }
    if bless {
        let mut new = lines.join("\n");
        new.push('\n');
        if new != text {
            std::fs::write(path, new).expect("doc rewritten");
        }
    }
    problems
}

const BUILTINS_START: &str = "<!-- builtins: generated from lang/src/builtins.rs -->";
const BUILTINS_END: &str = "<!-- builtins: end -->";

/// The builtins section of `docs/language.md` is generated from the table
/// in `lang/src/builtins.rs`; `AIMS_BLESS=1` rewrites it.
#[test]
fn the_builtins_section_is_generated_from_the_table() {
    generated_section(
        "docs/language.md",
        BUILTINS_START,
        BUILTINS_END,
        &aims_lang::ir::builtins::markdown(),
        "lang/src/builtins.rs",
    );
}

/// The metrics section of `docs/monitoring.md` is generated from the table
/// in `lang/src/measure/metrics.rs`; `AIMS_BLESS=1` rewrites it.
#[test]
fn the_metrics_section_is_generated_from_the_table() {
    generated_section(
        "docs/monitoring.md",
        "<!-- metrics: generated from lang/src/measure/metrics.rs -->",
        "<!-- metrics: end -->",
        &aims_lang::measure::metrics::markdown(),
        "lang/src/measure/metrics.rs",
    );
}

/// Checks (or, with `AIMS_BLESS=1`, rewrites) the part of `doc` between
/// two markers against what a table generates.
fn generated_section(doc: &str, start_marker: &str, end_marker: &str, generated: &str, table: &str) {
    let bless = std::env::var_os("AIMS_BLESS").is_some_and(|v| v == "1");
    let path = root().join(doc);
    let text = std::fs::read_to_string(&path).expect("readable doc");
    let start = text.find(start_marker).expect("the section's start marker") + start_marker.len();
    let end = start + text[start..].find(end_marker).expect("the section's end marker");
    let shown = text[start..end].trim_matches('\n');
    let generated = generated.trim_matches('\n');
    if shown == generated {
        return;
    }
    if bless {
        let new = format!("{}\n{generated}\n{}", &text[..start], &text[end..]);
        std::fs::write(&path, new).expect("doc rewritten");
        return;
    }
    let (shown, generated): (Vec<String>, Vec<String>) =
        (shown.lines().map(String::from).collect(), generated.lines().map(String::from).collect());
    panic!(
        "{doc}: the generated section is not what {table} generates (- doc, + table):\n{}\n\nRun `AIMS_BLESS=1 cargo test --test docs` to rewrite it, then review `git diff`.",
        diff(&shown, &generated)
    );
}

/// The reserved words `docs/language.md` lists are the reserved keywords
/// of `aims_lang::syntax::KEYWORDS`.
#[test]
fn the_reserved_words_in_the_docs_are_the_reserved_keywords() {
    let text = std::fs::read_to_string(root().join("docs/language.md")).expect("readable doc");
    let after = text.split_once("These words are reserved and cannot be used as names:").expect("the reserved words").1;
    let block = after.split("```").nth(1).expect("a fenced block of reserved words");
    let mut shown: Vec<&str> = block.split_whitespace().collect();
    let mut reserved: Vec<&str> = aims_lang::syntax::RESERVED_WORDS.to_vec();
    shown.sort_unstable();
    reserved.sort_unstable();
    assert_eq!(shown, reserved, "docs/language.md lists other reserved words than lang/src/syntax/keywords.rs");
}

#[test]
fn every_output_shown_in_the_docs_is_checked() {
    let mut unchecked = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("readable doc");
        unchecked.extend(unchecked_output_blocks(&doc, &text));
    }
    assert!(
        unchecked.is_empty(),
        "these blocks show output that no test checks; give each an `<!-- output: aims ... -->` or `<!-- repl: ... -->` \
         directive (or `<!-- not output: why -->` for a block that only looks like output): {unchecked:?}"
    );
    let sample = "text\n\n```text\nunchecked\n```\n<!-- output: aims check x -->\n```text\nchecked\n```\n\
                  ```sh\n$ aims check x\n```\n```\n$ aims check x\nshown\n```\n";
    assert_eq!(unchecked_output_blocks(Path::new("s.md"), sample), ["s.md:3", "s.md:13"]);
}

#[test]
fn outputs_shown_in_the_docs_are_what_the_program_prints() {
    let bless = std::env::var_os("AIMS_BLESS").is_some_and(|v| v == "1");
    let mut checked = 0;
    let mut problems = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("readable doc");
        checked += blocks(&text).map(|b| b.len()).unwrap_or(0);
        problems.extend(check_document(&doc, bless));
    }
    assert!(checked >= 6, "the checked blocks went missing ({checked} found)");
    assert!(
        problems.is_empty(),
        "{}\n\nRun `AIMS_BLESS=1 cargo test --test docs` to rewrite the blocks, then review `git diff`.",
        problems.join("\n")
    );
}

#[test]
fn the_docs_count_the_example_systems_right() {
    let session = Session::load(&root().join("examples/credit-scoring"), LoadOptions::default(), None)
        .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
    let count = session.engine().facts().len(session.engine().program().entity_by_name("AISystem").expect("AISystem"));
    let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    let mut seen = 0;
    for doc in documents() {
        let text =
            std::fs::read_to_string(&doc).expect("readable doc").split_whitespace().collect::<Vec<_>>().join(" ");
        for (at, _) in text.match_indices(" AI systems") {
            let before = &text[..at];
            let Some(word) = before.rsplit(' ').next() else { continue };
            if !before.ends_with(&format!("lender with {word}")) {
                continue;
            }
            seen += 1;
            let said = words.iter().position(|w| *w == word).map(|n| n.to_string()).unwrap_or(word.to_string());
            assert_eq!(said, count.to_string(), "{} says the example has {word} AI systems", doc.display());
        }
    }
    assert!(seen >= 2, "README.md and docs/repl.md describe the example");
}

#[test]
fn the_block_parser_reads_directives_indents_and_excerpts() {
    let text = "a\n<!-- output: aims check x; lines 2-3 -->\n   ```text\n   one\n   ```\n<!-- repl: p --as-of 2026-11-01 -->\n```\n$ x\n```\n<!-- output: aims gap; lines 1-2, 5-5 -->\n```\n```\n";
    let found = blocks(text).expect("parses");
    assert_eq!(found.len(), 3);
    assert!(matches!(&found[2].directive, Directive::Output { lines, .. } if lines == &[(1, 2), (5, 5)]));
    assert_eq!(found[0].indent, "   ");
    assert_eq!((found[0].start, found[0].end), (3, 4));
    assert!(matches!(&found[0].directive, Directive::Output { lines, .. } if lines == &[(2, 3)]));
    assert!(matches!(&found[1].directive, Directive::Repl { args } if args.len() == 3));
    assert_eq!(excerpt("1\n2\n3\n4\n", &[(2, 3)]), ["...", "2", "3", "..."]);
    assert_eq!(excerpt("1\n2\n3\n4\n5\n", &[(1, 1), (3, 3), (5, 9)]), ["1", "...", "3", "...", "5"]);
    assert_eq!(excerpt("1\n2\n", &[]), ["1", "2"]);
    assert!(blocks("<!-- output: ls -->\n```\n```\n").is_err(), "only aims runs");
    let shown: Vec<String> =
        ["aims> control c", "  ... {", "  ... }", "answer", "aims> 1 + 1", "2"].iter().map(|s| s.to_string()).collect();
    assert_eq!(entries(&shown), ["control c\n{\n}", "1 + 1"]);
    assert_eq!(diff(&shown[3..4], &shown[5..6]), "  + 2\n  - answer\n");
}
