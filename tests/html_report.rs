//! The HTML report of the credit-scoring example, rendered by a real
//! browser: headless Chromium (Debian's `chromium`, installed by .ci/run)
//! loads it from a file, the rendered DOM is checked (finding count, heat
//! map cells), Chromium's network log shows the page requested nothing,
//! and a screenshot is kept in `target/ci-artifacts/` for people to look at.
//! It runs when asked for (`AIMS_TEST_CHROMIUM=1` or `AIMS_CI_TOOLS=1`, set
//! by .ci/run), and then fails if Chromium is missing.

mod common;

use std::path::{Path, PathBuf};

use common::root;
use std::process::Command;

fn chromium() -> PathBuf {
    let path = std::env::var_os("AIMS_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: install Debian's `chromium` (.ci/run does) or set AIMS_CHROMIUM",
        path.display()
    );
    path
}

/// Chromium's flags for a closed machine: headless, and none of its own
/// background connections (which would otherwise fill the network log).
fn headless(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Hosts Chromium itself contacts (time, sign-in, suggestions) whatever the page.
fn is_browser_service(url: &str) -> bool {
    let host = url.split("://").nth(1).and_then(|rest| rest.split(['/', '?', ':']).next()).unwrap_or("");
    ["google.com", "gstatic.com", "googleapis.com", "gvt1.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

#[test]
fn the_html_report_renders_in_chromium_without_network_requests() {
    if !common::tool_test_wanted("CHROMIUM", "the HTML report rendered in headless Chromium") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_aims"))
        .arg("check")
        .arg(root().join("examples/credit-scoring"))
        .args(["--as-of", "2026-11-01", "--format", "html", "--output", "report.html"])
        .current_dir(dir.path())
        .output()
        .expect("aims runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let url = format!("file://{}", page.display());

    let net_log = dir.path().join("net-log.json");
    let dom = headless(&dir.path().join("profile-dom"))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("chromium runs");
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("id=\"finding-count\">8</b>"), "the finding count is rendered");
    assert_eq!(dom.matches("<tr class=\"finding\">").count(), 8);
    // Two risk entries sit in the likely × major cell before treatment.
    assert!(dom.contains("data-cell=\"inherent:likely:major\" title=\"score 16\">"), "the heat map has its cells");
    let cells = dom.matches("data-cell=\"inherent:").count();
    assert_eq!(cells, 25, "a 5 × 5 grid");
    assert!(dom.contains("id=\"soa-table\""));

    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&net_log).expect("net log written")).expect("net log is JSON");
    let mut requested: Vec<String> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| !u.starts_with("file://") && !is_browser_service(u))
        .map(String::from)
        .collect();
    requested.sort();
    requested.dedup();
    assert!(requested.is_empty(), "the page made network requests: {requested:?}");

    let artefacts = root().join("target/ci-artifacts");
    std::fs::create_dir_all(&artefacts).expect("artefact folder");
    let shot = artefacts.join("credit-scoring-report.png");
    let _ = std::fs::remove_file(&shot);
    let status = headless(&dir.path().join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1280,2400", "--hide-scrollbars", &url])
        .output()
        .expect("chromium runs");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 50_000, "a rendered page, not a blank one ({} bytes)", png.len());
}
