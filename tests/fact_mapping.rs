//! End-to-end tests of the mapping options of a `[[facts]]` source in
//! aims.toml (docs/facts.md): how the columns of a file are chosen and how
//! its values are read.

mod common;

use std::path::Path;

use common::{aims_in, stderr, stdout, write_files};

/// A project of `policy`, one fact file and its `[[facts]]` source.
fn project(policy: &str, file: &str, text: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = format!("[project]\nname = \"t\"\n\n[[facts]]\npath = \"{file}\"\n{source}");
    write_files(dir.path(), &[("p.aims", policy), (file, text), ("aims.toml", &manifest)]);
    dir
}

/// `aims check` at a fixed date: (standard output, standard error, exit code).
fn check(dir: &Path) -> (String, String, Option<i32>) {
    let out = aims_in(&["check", ".", "--as-of", "2026-01-01"], dir);
    (stdout(&out), stderr(&out), out.status.code())
}

const SYSTEMS: &str = "entity System { id: Text key, owner: Text }\n\
    control named \"Owned\" for s: System { require s.owner != \"\" }\n";

#[test]
fn rename_and_ignore_entries_are_trimmed_like_headers() {
    let csv = "Use Case ID , Owner Name,Notes\na,Ann,x\n";
    let source = "entity = \" System \"\nignore = [\" Notes\"]\n\
        [facts.rename]\n\" id \" = \"Use Case ID \"\nowner = \" Owner Name\"\n";
    let dir = project(SYSTEMS, "s.csv", csv, source);
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
}

#[test]
fn other_columns_are_ignored_when_asked() {
    // 62 columns of a real inventory, two of them repeated: only the ones
    // the entity declares are read.
    let csv = "id,Agency,owner,Comments,Comments\r\na,X,Ann,,\r\n";
    let dir = project(SYSTEMS, "s.csv", csv, "entity = \"System\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[E0302]") && err.contains("has no field `Agency`"), "{err}");
    let dir = project(SYSTEMS, "s.csv", csv, "entity = \"System\"\nignore_other_columns = true\n");
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    // The same for the keys of a JSON record.
    let json = "[{\"id\": \"a\", \"agency\": \"X\", \"owner\": \"Ann\"}]";
    let dir = project(SYSTEMS, "s.json", json, "entity = \"System\"\nignore_other_columns = true\n");
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
}

/// An inventory as organisations keep it, and the mapping that reads it.
const INVENTORY_POLICY: &str = "enum Impact { rights, safety, neither }\n\
    entity UseCase {\n  id: Text key,\n  impact: Impact,\n  reviewed: Bool?,\n  due: Date?,\n  teams: [Text] = [],\n}\n\
    control named \"Reviewed\" for u: UseCase where u.impact != neither { require u.reviewed == true }\n";

const INVENTORY: &str = "id,impact,reviewed,due,teams\r\n\
    a,\"Rights-Impacting\r\n\",Yes – by the CAIO,3/7/2026,\"ops, legal\r\nrisk\"\r\n\
    b,Safety-impacting,YES,12/31/2025,N/A\r\n\
    c,Neither ,N/A,,\r\n\
    d,safety-Impacting,Not Applicable,Not Applicable,ops\r\n";

const INVENTORY_MAPPING: &str = "entity = \"UseCase\"\n\
    ignore_case = true\n\
    null = [\"N/A\", \"Not Applicable\"]\n\
    date_format = \"%m/%d/%Y\"\n\
    list_separator = [\",\", \"\\n\"]\n\
    [facts.columns.impact]\n\
    values = { \"Rights-Impacting\" = \"rights\", \"Safety-Impacting\" = \"safety\" }\n\
    [facts.columns.reviewed]\n\
    values = { \"Yes – by the CAIO\" = \"true\" }\n";

#[test]
fn a_messy_inventory_is_read_through_its_mapping() {
    let dir = project(INVENTORY_POLICY, "inventory.csv", INVENTORY, INVENTORY_MAPPING);
    let (out, err, code) = check(dir.path());
    // `d` is safety-impacting and not recorded as reviewed: the one finding.
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("2 pass, 1 fail, 0 waived, 1 not applicable"), "{out}");
    assert!(out.contains("  d: ") && !out.contains("  a: ") && !out.contains("  b: "), "{out}");
    // Each option is needed: without it, the file does not load.
    for (option, line) in [
        ("ignore_case", "ignore_case = true\n"),
        ("null", "null = [\"N/A\", \"Not Applicable\"]\n"),
        ("date_format", "date_format = \"%m/%d/%Y\"\n"),
        ("values", "values = { \"Yes – by the CAIO\" = \"true\" }\n"),
    ] {
        let dir = project(INVENTORY_POLICY, "inventory.csv", INVENTORY, &INVENTORY_MAPPING.replace(line, ""));
        let (_, err, code) = check(dir.path());
        assert_eq!(code, Some(2), "without {option}: {err}");
        assert!(err.contains("[E0303]") || err.contains("[E0304]"), "without {option}: {err}");
    }
    // The list items, split on commas and line breaks.
    let dir = project(
        &INVENTORY_POLICY.replace("require u.reviewed == true", "require len(u.teams) == 3"),
        "inventory.csv",
        INVENTORY,
        INVENTORY_MAPPING,
    );
    let (out, _, _) = check(dir.path());
    assert!(out.contains("  b: ") && out.contains("  d: ") && !out.contains("  a: "), "{out}");
}

#[test]
fn a_value_that_matches_nothing_names_its_place_and_the_nearest_values() {
    let csv = format!(
        "id,impact\n{}x,Rights-Impactng\n",
        (0..1204).map(|i| format!("s{i},Safety-Impactng\n")).collect::<String>()
    );
    let dir = project(INVENTORY_POLICY, "inventory.csv", &csv, INVENTORY_MAPPING);
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    let summary = "column `impact`: 1,205 values are not a `Impact` value (first: `Safety-Impactng`, record 1, line 2)";
    let first = err.find(summary);
    let detail = err.find("`Safety-Impactng` is not a `Impact` value");
    assert!(first.is_some() && first < detail, "{err}");
    assert!(err.contains("Note: record 1, line 2, column `impact`"), "{err}");
    assert!(err.contains("did you mean \"safety-impacting\"?"), "{err}");
    assert!(err.contains("─[ inventory.csv:2:"), "{err}");
}

#[test]
fn bad_mapping_options_are_refused() {
    let csv = "id,impact\na,rights\n";
    for (option, wanted) in [
        ("date_format = \"%m/%d\"\n", "[E0401]"),
        ("list_separator = 3\n", "[E0401]"),
        ("[facts.columns.impcat]\ntrim = true\n", "did you mean `impact`?"),
        ("[facts.columns.impact]\nnulls = []\n", "[E0401]"),
        ("number_format = \"1,234,5\"\n", "`number_format` of fact source `inventory.csv`: `1,234,5` is not 1234.5"),
        ("[facts.columns.impact]\npercent_format = \"12 percent\"\n", "`percent_format` of fact source"),
    ] {
        let dir = project(INVENTORY_POLICY, "inventory.csv", csv, &format!("entity = \"UseCase\"\n{option}"));
        let (_, err, code) = check(dir.path());
        assert_eq!(code, Some(2), "{option}: {err}");
        assert!(err.contains(wanted), "{option}: {err}");
    }
}

/// Budgets and shares as a European spreadsheet exports them.
const BUDGETS_POLICY: &str = "entity Project {\n  id: Text key,\n  budget: Number,\n  staff: Int,\n  \
    automated: Percent,\n}\n\
    control named \"Small\" for p: Project { require p.budget < 10000 and p.automated <= 50% and p.staff < 1000 }\n";

#[test]
fn numbers_and_percentages_are_read_in_the_file_s_format() {
    let csv = "id,budget,staff,automated\na,\"1.234,5\",12,\"12,5 %\"\nb,\"12.000,75\",1.200,60\nc,50,3,0\n";
    let mapping =
        "entity = \"Project\"\nnumber_format = \"1.234,5\"\n[facts.columns.automated]\npercent_format = \"12\"\n";
    let dir = project(BUDGETS_POLICY, "p.csv", csv, mapping);
    let (out, err, code) = check(dir.path());
    // b: 12,000.75 > 10,000, 1,200 staff, 60 % automated; a and c pass.
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("2 pass, 1 fail"), "{out}");
    assert!(out.contains("  b: "), "{out}");
    // Without the format, the error names the column, the value, what was
    // expected and the option that would read it.
    let dir = project(BUDGETS_POLICY, "p.csv", csv, "entity = \"Project\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`1.234,5` is not a number (`number_format = \"1.234,5\"` would read it)"), "{err}");
    assert!(err.contains("Note: record 1, line 2, column `budget`"), "{err}");
    assert!(err.contains("column `staff`: 1 value is not a whole number (first: `1.200`, record 2, line 3)"), "{err}");
    // A value in another format is refused, not misread: under
    // `1,234.5`, `1.234,5` is no number and `12,5` is not 125.
    let dir = project(BUDGETS_POLICY, "p.csv", csv, "entity = \"Project\"\nnumber_format = \"1,234.5\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`1.234,5` is not a number (written 1,234.5)"), "{err}");
    assert!(err.contains("`12,5 %` is not a percentage (0.05 or \"5%\")"), "{err}");
    assert!(err.contains("column `automated`"), "{err}");
    // The same options read the texts of a JSON document.
    let json = "[{\"id\": \"a\", \"budget\": \"1.234,5\", \"staff\": 3, \"automated\": \"12\"}]";
    let mapping = "entity = \"Project\"\nnumber_format = \"1.234,5\"\npercent_format = \"12\"\n";
    let dir = project(BUDGETS_POLICY, "p.json", json, mapping);
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
}

#[test]
fn a_literal_no_fact_holds_is_warned_with_the_nearest_value() {
    // The mistake: the policy's spelling is not the inventory's, and
    // the rule applies to nothing, without this warning.
    let policy = "entity UseCase { id: Text key, impact: Text }\n\
        control named \"Reviewed\" for u: UseCase where u.impact == \"Rights-Impacting\" { require false }\n";
    let csv = "id,impact\na,\"Rights-Impacting\n\"\nb,rights-impacting\nc,Neither\n";
    let dir = project(policy, "u.csv", csv, "entity = \"UseCase\"\ntrim = false\n");
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("0 pass, 0 fail, 0 waived, 3 not applicable"), "{out}");
    assert!(
        err.contains(
            "[W0004] Warning: no `UseCase` in the facts has `u.impact` = \"Rights-Impacting\": this comparison never matches"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean \"rights-impacting\"?"), "{err}");
    assert!(
        err.contains(
            "the values of `u.impact`: \"Neither\" (1), \"Rights-Impacting\\n\" (1), \"rights-impacting\" (1)"
        ),
        "{err}"
    );
    // Trimmed (the default), the value occurs: no warning.
    let dir = project(policy, "u.csv", csv, "entity = \"UseCase\"\n");
    let (out, err, _) = check(dir.path());
    assert!(out.contains("1 fail") && !err.contains("W0004"), "{out}{err}");
}
