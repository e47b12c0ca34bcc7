//! The Neovim configurations of `docs/editors.md`, checked.
//!
//! Each Lua snippet there follows a `<!-- neovim: VERSIONS -->` comment
//! (`0.7`, `0.8-0.10`, `0.11+`). Every snippet may only call functions that
//! exist, and work, in every version it is for: [`API`] says since when
//! (and until when) each one does. With Neovim installed, each snippet is
//! parsed by Neovim's Lua, and the snippet for the installed version is run
//! headless against `aims lsp` on a project: the client attaches, the
//! diagnostics arrive, go to definition on `A.6.2.4` opens the stdlib's
//! Annex A. Without Neovim that part is skipped with a note, unless
//! `AIMS_TEST_NEOVIM=1` or `AIMS_CI_TOOLS=1` asks for it (then it fails).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A Neovim version, `(minor, patch)` of 0.x.
type Version = (u32, u32);

/// The newest Neovim the table below knows.
const NEWEST: Version = (12, 99);

/// The Lua functions the snippets may call: since which Neovim they exist
/// and do what the snippet means, and the last version that has them.
const API: &[(&str, Version, Version)] = &[
    ("vim.api.nvim_create_autocmd", (7, 0), NEWEST),
    ("vim.api.nvim_buf_get_name", (5, 0), NEWEST),
    ("vim.fn.fnamemodify", (5, 0), NEWEST),
    ("vim.fn.findfile", (5, 0), NEWEST),
    // 0.7 has it, but ignores it unless `g:do_filetype_lua` is set.
    ("vim.filetype.add", (8, 0), NEWEST),
    ("vim.fs.find", (8, 0), NEWEST),
    ("vim.fs.dirname", (8, 0), NEWEST),
    ("vim.lsp.start_client", (5, 0), NEWEST),
    ("vim.lsp.buf_attach_client", (5, 0), NEWEST),
    ("vim.lsp.start", (8, 0), NEWEST),
    ("vim.lsp.config", (11, 0), NEWEST),
    ("vim.lsp.enable", (11, 0), NEWEST),
    // Its options table (`{ bufnr = .. }`) came in 0.10.
    ("vim.lsp.codelens.refresh", (10, 0), NEWEST),
];

/// Options and variables the snippets set (not calls).
const SETTINGS: &[&str] = &["vim.bo"];

#[derive(Debug)]
struct Snippet {
    /// The versions it is for, as written in the marker.
    label: String,
    from: Version,
    to: Version,
    lua: String,
}

fn parse_version(text: &str) -> Version {
    let mut parts = text.trim().trim_start_matches("0.").split('.');
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("a version: {text}"));
    (minor, parts.next().and_then(|p| p.parse().ok()).unwrap_or(0))
}

/// `0.7`, `0.8-0.10`, `0.11+`: the first and last versions.
fn parse_range(label: &str) -> (Version, Version) {
    if let Some(from) = label.strip_suffix('+') {
        return (parse_version(from), NEWEST);
    }
    match label.split_once('-') {
        Some((from, to)) => (parse_version(from), (parse_version(to).0, 99)),
        None => {
            let v = parse_version(label);
            (v, (v.0, 99))
        }
    }
}

fn snippets() -> Vec<Snippet> {
    let doc = std::fs::read_to_string(common::root().join("docs/editors.md")).expect("docs/editors.md");
    let mut out = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line.strip_prefix("<!-- neovim: ").and_then(|l| l.strip_suffix(" -->")) else { continue };
        assert_eq!(lines.next(), Some("```lua"), "a Lua block right after `{line}`");
        let lua: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let (from, to) = parse_range(label);
        out.push(Snippet { label: label.to_string(), from, to, lua: lua.join("\n") + "\n" });
    }
    out
}

/// Every `vim.x.y` a snippet names (outside comments and strings).
fn names(lua: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in lua.lines() {
        let code = line.split("--").next().unwrap_or("");
        let mut in_string = None;
        let chars: Vec<char> = code.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match in_string {
                Some(q) if c == q => in_string = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => in_string = Some(c),
                None if code[i..].starts_with("vim.") && (i == 0 || !chars[i - 1].is_alphanumeric()) => {
                    let name: String =
                        chars[i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '.').collect();
                    i += name.len();
                    out.push(name.trim_end_matches('.').to_string());
                    continue;
                }
                None => {}
            }
            i += 1;
        }
    }
    out
}

#[test]
fn the_doc_has_a_snippet_for_0_7_for_0_10_and_for_0_11() {
    let found = snippets();
    let covers = |v: Version| found.iter().filter(|s| s.from <= v && v <= s.to).count();
    for version in [(7, 2), (8, 0), (9, 5), (10, 0), (11, 0), (12, 0)] {
        assert_eq!(covers(version), 1, "one snippet for Neovim 0.{}.{}: {found:#?}", version.0, version.1);
    }
}

#[test]
fn each_snippet_calls_only_what_its_neovim_versions_have() {
    let found = snippets();
    assert!(!found.is_empty());
    for snippet in &found {
        for name in names(&snippet.lua) {
            if SETTINGS.iter().any(|s| name == *s || name.starts_with(&format!("{s}."))) {
                continue;
            }
            let Some((_, since, until)) = API.iter().find(|(n, _, _)| *n == name) else {
                panic!("`{name}` in the snippet for Neovim {}: add it to API with its versions", snippet.label)
            };
            assert!(
                *since <= snippet.from && snippet.to <= *until,
                "`{name}` exists from 0.{}.{} to 0.{}.{}, the snippet is for Neovim {}",
                since.0,
                since.1,
                until.0,
                until.1,
                snippet.label
            );
        }
    }
}

#[test]
fn the_checker_catches_a_function_too_new_for_its_version() {
    assert_eq!(names("vim.lsp.start({ name = 'vim.fs.find' }) -- vim.lsp.enable"), vec!["vim.lsp.start"]);
    let (since, _) = API.iter().find(|(n, _, _)| *n == "vim.lsp.start").map(|(_, s, u)| (*s, *u)).expect("listed");
    assert!(since > parse_range("0.7").0, "vim.lsp.start is not in 0.7");
    assert_eq!(parse_range("0.8-0.10"), ((8, 0), (10, 99)));
    assert_eq!(parse_range("0.11+"), ((11, 0), NEWEST));
}

/// The installed Neovim and its version, if there is one.
fn neovim() -> Option<(PathBuf, Version)> {
    let nvim = std::env::var_os("AIMS_NVIM").map_or_else(|| PathBuf::from("nvim"), PathBuf::from);
    let out = Command::new(&nvim).arg("--version").output().ok()?;
    let first = String::from_utf8_lossy(&out.stdout).lines().next()?.to_string();
    let version = first.strip_prefix("NVIM v")?.split(['-', '+']).next()?.to_string();
    Some((nvim, parse_version(&version)))
}

fn neovim_wanted() -> Option<(PathBuf, Version)> {
    let found = neovim();
    if found.is_none() && common::tool_test_wanted("NEOVIM", "the Neovim snippets of docs/editors.md run in Neovim") {
        panic!("nvim not found: install Debian's `neovim` or set AIMS_NVIM");
    }
    found
}

#[test]
fn each_snippet_is_lua_that_neovim_parses() {
    let Some((nvim, _)) = neovim_wanted() else { return };
    let dir = tempfile::tempdir().expect("a folder");
    for (i, snippet) in snippets().iter().enumerate() {
        let file = dir.path().join(format!("snippet{i}.lua"));
        std::fs::write(&file, &snippet.lua).expect("write");
        let check = format!(
            "lua local f, e = loadfile('{}'); if not f then io.stderr:write(e); vim.cmd('cquit 1') end",
            file.display()
        );
        let out = Command::new(&nvim)
            .args(["--headless", "-u", "NONE", "-c", &check, "-c", "qa!"])
            .output()
            .expect("nvim runs");
        assert!(out.status.success(), "{}: {}", snippet.label, String::from_utf8_lossy(&out.stderr));
    }
}

/// Waits for the client and the diagnostics, asks for a definition, and
/// writes what it found to `OUT` as JSON. Runs in every Neovim from 0.7.
const CHECK: &str = r#"
local out = {}
out.attached = vim.wait(20000, function() return next(vim.lsp.buf_get_clients(0)) ~= nil end, 20)
out.diagnostics = vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 20) and #vim.diagnostic.get(0) or 0
out.clients = {}
for _, client in pairs(vim.lsp.buf_get_clients(0)) do table.insert(out.clients, client.name) end
out.filetype = vim.bo.filetype
local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = LINE, character = CHARACTER } }
local answers = vim.lsp.buf_request_sync(0, 'textDocument/definition', params, 10000) or {}
out.definitions = {}
for _, answer in pairs(answers) do
  for _, location in ipairs(answer.result or {}) do
    table.insert(out.definitions, { uri = location.uri or location.targetUri, line = (location.range or location.targetRange).start.line })
  end
end
vim.fn.writefile({ vim.fn.json_encode(out) }, 'OUT')
vim.cmd('qa!')
"#;

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn the_snippet_for_the_installed_neovim_runs_against_aims_lsp() {
    let Some((nvim, version)) = neovim_wanted() else { return };
    let snippets = snippets();
    let Some(snippet) = snippets.iter().find(|s| s.from <= version && version <= s.to) else {
        panic!("no snippet for the installed Neovim 0.{}.{}", version.0, version.1)
    };
    let dir = tempfile::tempdir().expect("a folder");
    let project = dir.path().join("project");
    copy(&common::root().join("lsp/tests/fixture"), &project);
    let controls = project.join("policy/controls.aims");
    let text = std::fs::read_to_string(&controls).expect("the fixture");
    let at = text.find("A.6.2.4").expect("an Annex A identifier") + 2;
    let line = text[..at].matches('\n').count();
    let character = at - text[..at].rfind('\n').map_or(0, |i| i + 1);

    let init = dir.path().join("init.lua");
    std::fs::write(&init, &snippet.lua).expect("write");
    let result = dir.path().join("out.json");
    let check = dir.path().join("check.lua");
    let script = CHECK
        .replace("LINE", &line.to_string())
        .replace("CHARACTER", &character.to_string())
        .replace("OUT", &result.display().to_string());
    std::fs::write(&check, script).expect("write");

    // `aims` on PATH, as the snippets expect.
    let bin = Path::new(env!("CARGO_BIN_EXE_aims")).parent().expect("the binary's folder");
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let out = Command::new(&nvim)
        .args(["--headless", "-i", "NONE", "-n", "-u"])
        .arg(&init)
        .arg(&controls)
        .arg("-c")
        .arg(format!("luafile {}", check.display()))
        .current_dir(&project)
        .env("PATH", path)
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .expect("nvim runs");
    let found = std::fs::read_to_string(&result).unwrap_or_else(|_| {
        panic!(
            "Neovim {} wrote nothing: {}{}",
            snippet.label,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let found: serde_json::Value = serde_json::from_str(&found).expect("JSON");
    assert_eq!(found["filetype"], "aims", "{found}");
    assert_eq!(found["attached"], true, "{found}");
    assert_eq!(found["clients"], serde_json::json!(["aims"]), "{found}");
    assert_eq!(found["diagnostics"], 2, "the two failing controls: {found}");
    let definitions = found["definitions"].as_array().expect("a list");
    assert_eq!(definitions.len(), 1, "{found}");
    let uri = definitions[0]["uri"].as_str().expect("a URI");
    assert!(uri.starts_with("file://") && uri.ends_with("iso42001/annex_a.aims"), "{uri}");
}
