//! End-to-end tests of `aims check` on the bundled example.

mod common;

use common::{aims_in as aims, root};

use std::path::Path;

#[test]
fn the_example_has_findings_and_exits_1() {
    let out = aims(&["check", "examples/credit-scoring", "--as-of", "2026-11-01"], root());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("major"), "{text}");
    insta::assert_snapshot!("credit_scoring_text", text);
}

#[test]
fn the_json_report_is_stable_and_byte_identical() {
    let args = ["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", "json"];
    let first = aims(&args, root());
    let second = aims(&args, root());
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(first.stdout, second.stdout, "two runs differ");
    let from_inside =
        aims(&["check", ".", "--as-of", "2026-11-01", "--format", "json"], &root().join("examples/credit-scoring"));
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("valid JSON");
    let inside: serde_json::Value = serde_json::from_slice(&from_inside.stdout).expect("valid JSON");
    let without_paths = |v: &serde_json::Value| {
        let mut findings = v["findings"].clone();
        for f in findings.as_array_mut().expect("findings") {
            f.as_object_mut().expect("finding").remove("location");
        }
        findings
    };
    assert_eq!(without_paths(&report), without_paths(&inside), "the working directory changes nothing but paths");
    assert_eq!(report["schema"], "aims-report/1");
    assert_eq!(report["as_of"], "2026-11-01");
    insta::assert_snapshot!("credit_scoring_json", String::from_utf8_lossy(&first.stdout));
}

#[test]
fn fail_on_major_ignores_minor_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.aims"),
        "entity S { id: Text key, ok: Bool }\ncontrol c severity minor for s: S where true { require s.ok }\nfact S { id: \"a\", ok: false }\n",
    )
    .expect("write");
    let path = dir.path().to_string_lossy().to_string();
    let minor = aims(&["check", &path, "--as-of", "2026-01-01"], root());
    assert_eq!(minor.status.code(), Some(1));
    let major_only = aims(&["check", &path, "--as-of", "2026-01-01", "--fail-on", "major"], root());
    assert_eq!(major_only.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_3() {
    assert_eq!(aims(&["check", "no/such/project"], root()).status.code(), Some(3));
    assert_eq!(aims(&["check", "examples/credit-scoring", "--as-of", "tomorrow"], root()).status.code(), Some(3));
    assert_eq!(aims(&["frobnicate"], root()).status.code(), Some(3));
}

#[test]
fn output_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report.json");
    let project = root().join("examples/credit-scoring").to_string_lossy().to_string();
    let out =
        aims(&["check", &project, "--as-of", "2026-11-01", "--format", "json", "--output", "report.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&file).expect("report written");
    assert!(written.starts_with('{') && written.ends_with("}\n"));
}

#[test]
fn every_diagnostic_code_is_documented() {
    let errors = std::fs::read_to_string(root().join("docs/errors.md")).expect("docs/errors.md");
    for code in aims_lang::diag::Code::ALL {
        assert!(errors.contains(&format!("## {}", code.as_str())), "{} is not in docs/errors.md", code.as_str());
    }
}

#[test]
fn aims_test_runs_the_example_test_blocks() {
    let out = aims(&["test", "examples/credit-scoring"], root());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("test a missing bias test is no evidence, never a pass ... ok"), "{text}");
    assert!(text.trim_end().ends_with("8 passed, 0 failed"), "{text}");
}

#[test]
fn aims_test_reports_a_failing_expectation() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.aims"),
        "entity S { id: Text key, ok: Bool }\ncontrol c for s: S where true { require s.ok }\n\
         test \"wrong\" { as of 2026-01-01 given S { id: \"a\", ok: true } expect c fails for \"a\" }\n",
    )
    .expect("write");
    let out = aims(&["test", &dir.path().to_string_lossy()], root());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("`c` for \"a\": expected fail, got pass"), "{text}");
}

/// The 20 checks of the peer benchmark (`benches/peers`) find exactly what
/// the harness's hand-written `native` oracle finds on its N = 1,000 facts
/// (counts per rule from `../shared/peers/README.md`, seed 42).
#[test]
fn the_peer_checks_match_the_native_oracle() {
    let out = aims(&common::PEERS_CHECK_N1000, root());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let findings = report["findings"].as_array().expect("findings");
    let counts: Vec<usize> =
        (1..=20).map(|i| findings.iter().filter(|f| f["name"] == format!("R{i:02}").as_str()).count()).collect();
    let native = [176, 90, 194, 48, 128, 265, 34, 325, 60, 25, 30, 213, 217, 274, 113, 19, 18, 181, 43, 232];
    assert_eq!(counts, native);
    assert_eq!(findings.len(), 2685);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Same inputs, byte-identical output: whatever the working directory and
/// the order in which `aims.toml` lists the fact files.
#[test]
fn the_report_does_not_depend_on_fact_file_order_or_working_directory() {
    let args = ["check", ".", "--as-of", "2026-11-01", "--format", "json"];
    let original = aims(&args, &root().join("examples/credit-scoring"));
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("credit-scoring");
    copy_dir(&root().join("examples/credit-scoring"), &copy);
    let manifest = std::fs::read_to_string(copy.join("aims.toml")).expect("aims.toml");
    let (head, sources) = manifest.split_once("[[facts]]").expect("fact sources");
    let mut blocks: Vec<String> = sources.split("[[facts]]").map(|b| format!("[[facts]]{b}")).collect();
    blocks.reverse();
    std::fs::write(copy.join("aims.toml"), format!("{head}{}\n", blocks.join("\n"))).expect("write");
    let shuffled = aims(&args, &copy);
    assert_eq!(original.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&original.stdout),
        String::from_utf8_lossy(&shuffled.stdout),
        "fact file order changed the report"
    );
}

#[test]
fn as_of_in_aims_toml_may_be_a_toml_date() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("aims.toml"), "[project]\nas_of = 2027-01-05\n").expect("write");
    std::fs::write(
        dir.path().join("p.aims"),
        "entity S { id: Text key, d: Date }\ncontrol c for s: S where true { require s.d within 30 days }\n\
         fact S { id: \"a\", d: 2027-01-01 }\n",
    )
    .expect("write");
    let out = aims(&["check", &dir.path().to_string_lossy(), "--format", "json"], root());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(report["as_of"], "2027-01-05", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
}

/// A project whose evaluation takes a few seconds (3,000 entities, each
/// counting the others): long enough to interrupt it while it works.
fn slow_project(dir: &Path) {
    let systems: Vec<String> = (0..3000).map(|i| format!("{{\"id\":\"s{i}\",\"v\":{i}}}")).collect();
    common::write_files(
        dir,
        &[
            ("aims.toml", "[project]\nname = \"slow\"\nas_of = \"2026-01-01\"\n\n[[facts]]\npath = \"facts.json\"\n"),
            ("facts.json", &format!("{{\"S\":[{}]}}", systems.join(","))),
            (
                "p.aims",
                "entity S { id: Text key, v: Int }\n\
                 control c for s: S where true { require count(t for t: S where t.v > s.v) >= 0 }\n",
            ),
        ],
    );
}

/// The temporary files `aims` leaves in a folder.
fn temporaries(dir: &Path) -> Vec<String> {
    common::listing(dir).into_iter().filter(|n| n.starts_with(".aims-") && n.ends_with(".tmp")).collect()
}

/// Starts `aims check` writing to `out/report.txt` and waits until its
/// temporary file is there (it is made before the facts are loaded).
fn start_writing(project: &Path, out: &Path) -> std::process::Child {
    let report = out.join("report.txt").to_string_lossy().into_owned();
    let mut child = common::aims_command(&["check", ".", "--output", &report], project)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("aims starts");
    for _ in 0..2000 {
        if !temporaries(out).is_empty() {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("aims ended ({status}) before its temporary file was seen");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    panic!("no temporary file appeared in {}", out.display());
}

#[cfg(unix)]
#[test]
fn an_interrupted_output_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    slow_project(&project);
    for (signal, number) in [("TERM", 15), ("INT", 2)] {
        let mut child = start_writing(&project, &out);
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: kill(2) with a live child's pid and a valid signal number.
        assert_eq!(unsafe { libc::kill(pid, number) }, 0, "SIG{signal} sent");
        let status = child.wait().expect("aims ends");
        assert_eq!(status.signal(), Some(number), "aims was stopped by SIG{signal} while it worked: {status}");
        assert_eq!(common::listing(&out), Vec::<String>::new(), "SIG{signal} left a file behind");
    }
}

#[cfg(unix)]
#[test]
fn a_temporary_left_by_kill_9_is_removed_by_the_next_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    slow_project(&project);
    let mut child = start_writing(&project, &out);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(temporaries(&out).len(), 1, "SIGKILL cannot be caught: the temporary stays");
    // One left by an older run, by another name.
    std::fs::write(out.join(".aims-Ab12Cd.tmp"), "half a report").expect("write");
    let small = dir.path().join("small");
    common::write_files(
        &small,
        &[("p.aims", "entity S { id: Text key }\ncontrol c for s: S where true { require true }\n")],
    );
    let again = aims(&["check", ".", "--output", &out.join("report.txt").to_string_lossy()], &small);
    assert_eq!(again.status.code(), Some(0), "{}", common::stderr(&again));
    assert_eq!(common::listing(&out), ["report.txt"], "the stale temporaries are gone");
}

#[test]
fn output_goes_wherever_the_command_line_points() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = root().join("examples/credit-scoring").to_string_lossy().into_owned();
    // Neither the current folder (the repository) nor the project folder.
    let report = dir.path().join("report.json");
    let out = aims(
        &["check", &project, "--as-of", "2026-11-01", "--format", "json", "--output", &report.to_string_lossy()],
        root(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("written")).expect("JSON");
    assert_eq!(written["as_of"], "2026-11-01");
    let gap = dir.path().join("gap.md");
    let out = aims(&["gap", &project, "--format", "markdown", "--output", &gap.to_string_lossy()], root());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let soa = dir.path().join("soa.txt");
    let out = aims(&["soa", &project, "--output", &soa.to_string_lossy()], root());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(common::listing(dir.path()), ["gap.md", "report.json", "soa.txt"]);
}

#[cfg(unix)]
#[test]
fn output_replaces_a_symbolic_link_and_leaves_its_target_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").expect("write");
    let link = dir.path().join("report.txt");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let out = aims(&["check", "examples/credit-scoring", "--output", &link.to_string_lossy()], root());
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    assert!(!link.symlink_metadata().expect("meta").file_type().is_symlink(), "the link is replaced by the report");
    assert!(std::fs::read_to_string(&link).expect("read").contains("credit-scoring"));
}

/// A refused `--output` is reported before any work: the project here is
/// broken, and its errors (exit 2) never show.
#[test]
fn a_refused_output_is_reported_before_the_project_is_loaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::write_files(dir.path(), &[("p.aims", "control broken {\n"), ("a folder/keep", "")]);
    let project = dir.path().to_string_lossy().into_owned();
    let cases = [
        (dir.path().join("no such folder/report.txt"), "no such file or folder"),
        (dir.path().join("a folder"), "is a folder"),
        (dir.path().join("p.aims/report.txt"), "is not a folder"),
    ];
    for (output, why) in &cases {
        for command in ["check", "gap", "soa"] {
            let out = aims(&[command, &project, "--output", &output.to_string_lossy()], root());
            let stderr = common::stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{command}: {stderr}");
            assert!(stderr.contains(why) && stderr.contains("cannot write"), "{command}: {stderr}");
            assert!(!stderr.contains("[E0"), "{command}: the project was loaded: {stderr}");
        }
    }
    assert_eq!(common::listing(dir.path()), ["a folder", "p.aims"]);
}

/// A symbolic link inside a source folder to a file outside the project is
/// not read (its text never reaches a diagnostic): with and without
/// aims.toml, in a policy folder and in a fact folder.
#[cfg(unix)]
#[test]
fn a_symlinked_file_leading_outside_the_project_is_refused_unread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("secret.env");
    std::fs::write(&secret, "API_TOKEN=hunter2-very-secret\n").expect("write");
    let policy = "entity S { id: Text key }\ncontrol c for s: S where true { require true }\n";
    let with_manifest = dir.path().join("with");
    common::write_files(
        &with_manifest,
        &[
            ("aims.toml", "[project]\nsources = [\"policy\"]\n\n[[facts]]\npath = \"facts/s.yaml\"\nentity = \"S\"\n"),
            ("policy/p.aims", policy),
            ("facts/s.yaml", "- id: a\n"),
        ],
    );
    let without = dir.path().join("without");
    common::write_files(&without, &[("p.aims", policy)]);
    let links = [
        (with_manifest.join("policy/leak.aims"), &with_manifest),
        (without.join("sub/leak.aims"), &without),
        (without.join("leak.aims"), &without),
    ];
    for (link, project) in links {
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(&secret, &link).expect("symlink");
        let out = aims(&["check", &project.to_string_lossy(), "--as-of", "2026-01-01"], root());
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("E0404") && stderr.contains("leak.aims"), "{stderr}");
        assert!(!stderr.contains("hunter2") && !common::stdout(&out).contains("hunter2"), "{stderr}");
        std::fs::remove_file(&link).expect("rm");
    }
    // A fact file in a folder given with --facts, and one aims.toml names.
    std::fs::copy(&secret, dir.path().join("secret.yaml")).expect("copy");
    std::os::unix::fs::symlink(dir.path().join("secret.yaml"), with_manifest.join("facts/leak.yaml")).expect("link");
    let named = std::fs::read_to_string(with_manifest.join("aims.toml")).expect("read").replace("s.yaml", "leak.yaml");
    let other = dir.path().join("other");
    common::write_files(&other, &[("aims.toml", &named), ("policy/p.aims", policy)]);
    std::fs::create_dir_all(other.join("facts")).expect("mkdir");
    std::os::unix::fs::symlink(dir.path().join("secret.yaml"), other.join("facts/leak.yaml")).expect("link");
    for (project, extra) in [(&with_manifest, &["--facts", "facts"][..]), (&other, &[][..])] {
        let mut args = vec!["check", ".", "--as-of", "2026-01-01"];
        args.extend_from_slice(extra);
        let out = aims(&args, project);
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains("E0404") && stderr.contains("leak.yaml"), "{extra:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{extra:?}: {stderr}");
    }
    // A link that stays inside the project is fine.
    std::fs::remove_file(with_manifest.join("facts/leak.yaml")).expect("rm");
    std::os::unix::fs::symlink(with_manifest.join("policy/p.aims"), with_manifest.join("policy/again.aims"))
        .expect("link");
    let inside = aims(&["check", ".", "--as-of", "2026-01-01"], &with_manifest);
    assert!(!common::stderr(&inside).contains("E0404"), "{}", common::stderr(&inside));
}

#[test]
fn an_unknown_fact_format_in_aims_toml_is_an_error_naming_the_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::write_files(
        dir.path(),
        &[
            ("aims.toml", "[[facts]]\npath = \"s.json\"\nformat = \"exe\"\n"),
            ("s.json", "{\"S\": [{\"id\": \"a\"}]}"),
            ("p.aims", "entity S { id: Text key }\n"),
        ],
    );
    let out = aims(&["check", ".", "--as-of", "2026-01-01"], dir.path());
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("E0401") && stderr.contains("\"exe\""), "{stderr}");
    assert!(stderr.contains("json, yaml (or yml), toml, csv, xlsx (or xls, ods) and sqlite"), "{stderr}");
    assert!(stderr.contains("aims.toml:3:"), "the error points at the line: {stderr}");
}

#[test]
fn a_limit_of_zero_is_an_error_naming_the_bound() {
    for limit in ["eval_steps", "eval_total_steps", "max_entities", "max_fact_bytes", "max_policy_bytes"] {
        let dir = tempfile::tempdir().expect("temp dir");
        common::write_files(
            dir.path(),
            &[("aims.toml", &format!("[limits]\n{limit} = 0\n")), ("p.aims", "entity S { id: Text key }\n")],
        );
        let out = aims(&["check", ".", "--as-of", "2026-01-01"], dir.path());
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{limit}: {stderr}");
        assert!(stderr.contains(&format!("`{limit} = 0`: the limit must be at least 1")), "{stderr}");
        assert!(!stderr.contains("more than 1"), "{stderr}");
    }
}

/// A fact file outside the project folder, named by its absolute path, is
/// shown by that path (not glued to the project's: `proj//tmp/x`).
#[test]
fn a_fact_file_outside_the_project_is_named_by_its_own_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    common::write_files(
        &project,
        &[("p.aims", "entity S { id: Text key, n: Int }\ncontrol c for s: S where true { require s.n > 0 }\n")],
    );
    let facts = dir.path().join("elsewhere/s.json");
    common::write_files(dir.path(), &[("elsewhere/s.json", "{\"S\": [{\"id\": \"a\", \"n\": \"x\"}]}")]);
    let relative = std::path::PathBuf::from("elsewhere/s.json");
    for (given, cwd) in [(facts.clone(), root().to_path_buf()), (relative.clone(), dir.path().to_path_buf())] {
        let out = aims(
            &["check", &project.to_string_lossy(), "--facts", &given.to_string_lossy(), "--as-of", "2026-01-01"],
            &cwd,
        );
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("{}:1:", given.display())), "{stderr}");
        assert!(!stderr.contains("//"), "{stderr}");
    }
}

/// The default evaluation date is today in UTC, whatever the machine's
/// time zone: 26 hours apart, these two zones never share a date.
#[test]
fn the_default_as_of_is_the_utc_date_in_every_time_zone() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::write_files(
        dir.path(),
        &[("p.aims", "entity S { id: Text key }\ncontrol c for s: S where true { require true }\n")],
    );
    let as_of = |tz: &str| {
        let out =
            common::aims_command(&["check", ".", "--format", "json"], dir.path()).env("TZ", tz).output().expect("runs");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        report["as_of"].as_str().unwrap_or_default().to_string()
    };
    let utc = || aims_lang::Date::today_utc().to_string();
    for _ in 0..2 {
        let before = utc();
        let (east, west) = (as_of("XXX-14"), as_of("YYY+12"));
        if before != utc() {
            continue; // midnight UTC passed between the runs
        }
        assert_eq!((east.as_str(), west.as_str()), (before.as_str(), before.as_str()));
        return;
    }
}
