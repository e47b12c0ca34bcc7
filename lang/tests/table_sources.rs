//! Spreadsheets and SQLite databases as fact sources, end to end: real
//! files written here (`.xlsx` with rust_xlsxwriter, `.ods` as the zip of
//! XML it is, SQLite with rusqlite) in a project folder under the target
//! folder, read through `aims.toml` like any other fact file.

use std::path::{Path, PathBuf};

use aims_lang::diag::Code;
use aims_lang::facts::Facts;
use aims_lang::ir::Value;
use aims_lang::project::LoadOptions;
use aims_lang::{Engine, LoadFailure};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const POLICY: &str = "enum Tier { low, high }\n\
    entity Sys { id: Text key, tier: Tier?, n: Int = 0, share: Percent?, reviewed: Date?, active: Bool = false, tags: [Text] = [] }\n\
    control c for s: Sys { require s.tier == low }\n";

/// A fresh project folder holding the policy, `aims.toml` and the files.
fn project(name: &str, toml: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("table_sources").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project folder");
    std::fs::write(dir.join("policy.aims"), POLICY).expect("policy");
    std::fs::write(dir.join("aims.toml"), toml).expect("aims.toml");
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).expect("fact file");
    }
    dir
}

fn load(dir: &Path) -> Result<Engine, LoadFailure> {
    Engine::load(dir, &LoadOptions::default())
}

fn loaded(dir: &Path) -> Engine {
    load(dir).unwrap_or_else(|f| panic!("{}", aims_lang::diag::render(&f.diagnostics, &f.sources, Default::default())))
}

fn refused(dir: &Path) -> LoadFailure {
    match load(dir) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(failure) => failure,
    }
}

/// Every row of `Sys`, each field shown.
fn rows(engine: &Engine) -> Vec<String> {
    let sys = engine.program().entity_by_name("Sys").expect("Sys");
    let facts = engine.facts();
    (0..facts.len(sys))
        .map(|r| {
            let values = facts.values(sys, r).unwrap_or_default();
            values.iter().map(show).collect::<Vec<_>>().join(" | ")
        })
        .collect()
}

fn show(v: &Value) -> String {
    match v {
        Value::Text(t) => t.to_string(),
        Value::Enum(_, i) => ["low", "high"][*i as usize].to_string(),
        Value::Int(n) => n.to_string(),
        Value::Percent(p) => format!("{p}"),
        Value::Date(d) => d.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Absent => "-".to_string(),
        Value::List(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}

/// (code, message, notes) of each diagnostic.
/// A message naming its file by its path in the project folder is shown
/// with the file's name alone.
fn problems(failure: &LoadFailure) -> Vec<(Code, String, String)> {
    let short = |m: &str| match m.strip_prefix('`').and_then(|rest| rest.split_once('`')) {
        Some((path, rest)) if path.contains('/') => format!("`{}`{rest}", path.rsplit('/').next().unwrap_or(path)),
        _ => m.to_string(),
    };
    failure.diagnostics.iter().map(|d| (d.code, short(&d.message), d.notes.join("; "))).collect()
}

/// A workbook with a title sheet first, then the inventory: a title row,
/// the header on row 3, typed and text cells, an empty row.
fn inventory_xlsx(extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let percent = Format::new().set_num_format("0%");
    let title = book.add_worksheet();
    title.set_name("Read me").expect("name");
    title.write_string(0, 0, "Not the inventory").expect("cell");
    let sheet = book.add_worksheet();
    sheet.set_name("AI systems").expect("name");
    sheet.write_string(0, 0, "Inventory 2026").expect("cell");
    for (c, h) in ["ID", "Tier", "N", "Share", "Reviewed", "Active", "Tags", "Notes"].iter().enumerate() {
        sheet.write_string(2, c as u16, *h).expect("header");
    }
    // Row 4: typed cells.
    sheet.write_string(3, 0, "s1").expect("cell");
    sheet.write_string(3, 1, "High").expect("cell");
    sheet.write_number(3, 2, 3).expect("cell");
    sheet.write_number_with_format(3, 3, 0.25, &percent).expect("cell");
    let reviewed = ExcelDateTime::from_ymd(2026, 1, 31).expect("date");
    sheet.write_datetime_with_format(3, 4, &reviewed, &date).expect("cell");
    sheet.write_boolean(3, 5, true).expect("cell");
    sheet.write_string(3, 6, "a, b").expect("cell");
    sheet.write_string(3, 7, "a note").expect("cell");
    // Row 5: the same as texts, written as people write them.
    sheet.write_string(4, 0, " s2 ").expect("cell");
    sheet.write_string(4, 1, "LOW").expect("cell");
    sheet.write_string(4, 2, "4").expect("cell");
    sheet.write_string(4, 3, "12%").expect("cell");
    sheet.write_string(4, 4, "2/1/2026").expect("cell");
    sheet.write_string(4, 5, "yes").expect("cell");
    // Row 6 is empty; row 7: a numeric key, "not recorded" tokens.
    sheet.write_number(6, 0, 1001).expect("cell");
    sheet.write_string(6, 1, "N/A").expect("cell");
    sheet.write_string(6, 3, "n/a").expect("cell");
    extra(sheet);
    book.save_to_buffer().expect("workbook")
}

const SHEET_TOML: &str = r#"[[facts]]
path = "inventory.xlsx"
entity = "Sys"
sheet = "AI systems"
header_row = 3
rename = { id = "ID", tier = "Tier", n = "N", share = "Share", reviewed = "Reviewed", active = "Active", tags = "Tags" }
ignore = ["Notes"]
ignore_case = true
null = ["N/A"]
date_format = "%m/%d/%Y"
list_separator = ","
"#;

#[test]
fn an_xlsx_sheet_loads_through_every_mapping_option() {
    let dir = project("xlsx", SHEET_TOML, &[("inventory.xlsx", inventory_xlsx(|_| {}))]);
    let engine = loaded(&dir);
    assert_eq!(
        rows(&engine),
        [
            "s1 | high | 3 | 0.25 | 2026-01-31 | true | [a, b]",
            "s2 | low | 4 | 0.12 | 2026-02-01 | true | []",
            "1001 | - | 0 | - | - | false | []",
        ]
    );
}

#[test]
fn bad_cells_are_named_by_sheet_and_cell_and_typed_cells_say_what_they_are() {
    let xlsx = inventory_xlsx(|sheet| {
        sheet.write_string(7, 0, "s3").expect("cell");
        sheet.write_string(7, 1, "Hihg").expect("cell");
        sheet.write_number(7, 4, 45000).expect("cell");
        sheet.write_string(7, 5, "maybe").expect("cell");
        sheet.write_number(8, 0, 4).expect("cell");
        sheet.write_string(8, 2, "many").expect("cell");
    });
    let dir = project("xlsx-bad", SHEET_TOML, &[("inventory.xlsx", xlsx)]);
    let failure = refused(&dir);
    let found = problems(&failure);
    let shown: Vec<(Code, &str, &str)> = found.iter().map(|(c, m, n)| (*c, m.as_str(), n.as_str())).collect();
    assert_eq!(
        shown,
        [
            (Code::FactType, "column `Tier`: 1 value is not a `Tier` value (first: `Hihg`, 'AI systems'!B8)", ""),
            (Code::FactType, "column `N`: 1 value is not a whole number (first: `many`, 'AI systems'!C9)", ""),
            (
                Code::FactType,
                "column `Reviewed`: 1 value is not a date (%m/%d/%Y, or YYYY-MM-DD) (first: `45000` (a number), 'AI systems'!E8)",
                ""
            ),
            (Code::FactType, "column `Active`: 1 value is not true or false (first: `maybe`, 'AI systems'!F8)", ""),
            (Code::FactType, "`Hihg` is not a `Tier` value", "'AI systems'!B8"),
            (Code::FactType, "`45000` (a number) is not a date (%m/%d/%Y, or YYYY-MM-DD)", "'AI systems'!E8"),
            (Code::FactType, "`maybe` is not true or false", "'AI systems'!F8"),
            (Code::FactType, "`many` is not a whole number", "'AI systems'!C9"),
        ]
    );
    // The snippet's line is the sheet's row.
    let text = aims_lang::diag::render(&failure.diagnostics, &failure.sources, Default::default());
    assert!(text.contains("inventory.xlsx:8:"), "{text}");
    assert!(text.contains("did you mean `high`"), "{text}");
}

#[test]
fn sheets_headers_and_ranges_are_chosen_and_refused_clearly() {
    let xlsx = inventory_xlsx(|_| {});
    let add = |option: &str| SHEET_TOML.replace("header_row = 3\n", &format!("header_row = 3\n{option}\n"));
    let cases = [
        (
            SHEET_TOML.replace("sheet = \"AI systems\"", "sheet = \"Systems\""),
            "`inventory.xlsx`: it has no sheet `Systems`; its sheets are: Read me, AI systems",
        ),
        (
            SHEET_TOML.replace("header_row = 3", "header_row = 2"),
            "`inventory.xlsx`: row 2 of sheet `AI systems` is empty: it has no header",
        ),
        (
            SHEET_TOML.replace("header_row = 3", "header_row = 0"),
            "`inventory.xlsx`: `header_row` counts from 1, as the sheet does",
        ),
        (add("range = \"A3:F\""), "`inventory.xlsx`: `range = \"A3:F\"` is not a range of cells such as \"B3:F200\""),
        (add("range = \"A10:F20\""), "`inventory.xlsx`: `header_row = 3` is outside the range"),
    ];
    for (toml, message) in cases {
        let found = problems(&refused(&project("xlsx-choose", &toml, &[("inventory.xlsx", xlsx.clone())])));
        assert_eq!((found[0].0, found[0].1.as_str()), (Code::FactSheet, message), "{toml}");
    }
    // A range that leaves out the columns it does not need loads.
    let toml = SHEET_TOML.replace("ignore = [\"Notes\"]\n", "range = \"A3:G7\"\n");
    let engine = loaded(&project("xlsx-range", &toml, &[("inventory.xlsx", xlsx.clone())]));
    assert_eq!(rows(&engine).len(), 3);
    // Without `sheet`, the first sheet is read: its header is not the inventory's.
    let toml = SHEET_TOML.replace("sheet = \"AI systems\"\n", "").replace("header_row = 3\n", "");
    let found = problems(&refused(&project("xlsx-first", &toml, &[("inventory.xlsx", xlsx)])));
    assert!(
        found.iter().any(|p| p.0 == Code::FactUnknownField && p.1 == "`Sys` has no field `Not the inventory`"),
        "{found:?}"
    );
}

#[test]
fn garbage_and_far_apart_cells_neither_crash_nor_hang() {
    for (name, bytes) in [
        ("zip", b"PK\x03\x04\x14\x00\x00\x00garbage".to_vec()),
        ("text", b"id,tier\ns1,low\n".to_vec()),
        ("empty", Vec::new()),
        ("cfb", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00".to_vec()),
    ] {
        let toml = "[[facts]]\npath = \"inventory.xlsx\"\nentity = \"Sys\"\n";
        let found = problems(&refused(&project(&format!("garbage-{name}"), toml, &[("inventory.xlsx", bytes)])));
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].0, Code::FactSheet, "{name}");
        assert!(found[0].1.starts_with("`inventory.xlsx`: it is not a spreadsheet that can be read"), "{found:?}");
    }
    // Two cells 17 billion cells apart: read cell by cell, not as a rectangle.
    let xlsx = inventory_xlsx(|sheet| {
        sheet.write_string(1_048_575, 16_383, "far away").expect("cell");
    });
    let started = std::time::Instant::now();
    let found = problems(&refused(&project("far", SHEET_TOML, &[("inventory.xlsx", xlsx.clone())])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (Code::FactSyntax, "'AI systems'!XFD1048576 holds a value, but its column has no header")
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    let toml = SHEET_TOML.replace("header_row = 3\n", "header_row = 3\nrange = \"A1:H100\"\n");
    assert_eq!(rows(&loaded(&project("far-range", &toml, &[("inventory.xlsx", xlsx)]))).len(), 3);
    // A sheet larger than the fact file limit stops at the limit.
    let xlsx = inventory_xlsx(|sheet| {
        for r in 10..3000u32 {
            sheet.write_string(r, 0, format!("s{r}")).expect("cell");
            sheet.write_string(r, 7, "x".repeat(50)).expect("cell");
        }
    });
    let toml = format!("{SHEET_TOML}\n[limits]\nmax_fact_bytes = 100000\n");
    let found = problems(&refused(&project("large", &toml, &[("inventory.xlsx", xlsx)])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (Code::FactSheet, "`inventory.xlsx`: its cells hold more than the limit of 100000 bytes")
    );
}

/// A minimal OpenDocument spreadsheet: the zip of its `mimetype` and
/// `content.xml`, as LibreOffice writes them.
fn ods(rows: &[&str]) -> Vec<u8> {
    ods_xml(&rows.iter().map(|r| format!("<table:table-row>{r}</table:table-row>")).collect::<String>())
}

/// An OpenDocument spreadsheet of the sheet's XML as given (its rows).
fn ods_xml(body: &str) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).expect("zip");
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet").expect("zip");
        zip.start_file("META-INF/manifest.xml", stored).expect("zip");
        zip.write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#,
        )
        .expect("zip");
        zip.start_file("content.xml", stored).expect("zip");
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Inventory">{body}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
        .expect("zip");
        zip.finish().expect("zip");
    }
    out.into_inner()
}

fn text(s: &str) -> String {
    format!("<table:table-cell office:value-type=\"string\"><text:p>{s}</text:p></table:table-cell>")
}

#[test]
fn an_ods_sheet_loads_with_typed_cells() {
    let header = ["id", "tier", "n", "reviewed", "active"].map(text).concat();
    let row = format!(
        "{}{}<table:table-cell office:value-type=\"float\" office:value=\"7\"><text:p>7</text:p></table:table-cell>\
         <table:table-cell office:value-type=\"date\" office:date-value=\"2026-03-01\"><text:p>01/03/2026</text:p></table:table-cell>\
         <table:table-cell office:value-type=\"boolean\" office:boolean-value=\"false\"><text:p>FALSE</text:p></table:table-cell>",
        text("a"),
        text("low")
    );
    let bad = format!("{}{}", text("b"), text("medium"));
    let toml = "[[facts]]\npath = \"inventory.ods\"\nentity = \"Sys\"\n";
    let engine = loaded(&project("ods", toml, &[("inventory.ods", ods(&[&header, &row]))]));
    assert_eq!(rows(&engine), ["a | low | 7 | - | 2026-03-01 | false | []"]);
    let found = problems(&refused(&project("ods-bad", toml, &[("inventory.ods", ods(&[&header, &row, &bad]))])));
    assert_eq!(
        found.iter().map(|p| (p.1.as_str(), p.2.as_str())).collect::<Vec<_>>(),
        [("`medium` is not a `Tier` value", "Inventory!B3")]
    );
}

/// A SQLite database with a `systems` table, rows out of key order.
fn sqlite(dir_name: &str, extra: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("table_sources").join("db-build");
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join(format!("{dir_name}.sqlite"));
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path).expect("database");
    conn.execute_batch(&format!(
        "CREATE TABLE systems (id TEXT PRIMARY KEY, tier TEXT, n INTEGER, share REAL, reviewed DATE, active BOOLEAN, photo BLOB);\n\
         INSERT INTO systems VALUES ('s2', 'low', 4, 0.5, '2026-02-01', 0, x'00ff');\n\
         INSERT INTO systems VALUES ('s1', 'HIGH', 3, NULL, '01/31/2026', 1, NULL);\n{extra}"
    ))
    .expect("schema");
    drop(conn);
    std::fs::read(&path).expect("bytes")
}

const DB_TOML: &str = r#"[[facts]]
path = "inventory.sqlite"
entity = "Sys"
table = "systems"
ignore = ["photo"]
ignore_case = true
date_format = "%m/%d/%Y"
"#;

#[test]
fn a_sqlite_table_loads_in_key_order_and_a_query_in_its_own() {
    let engine = loaded(&project("sqlite", DB_TOML, &[("inventory.sqlite", sqlite("plain", ""))]));
    assert_eq!(
        rows(&engine),
        ["s1 | high | 3 | - | 2026-01-31 | true | []", "s2 | low | 4 | 0.5 | 2026-02-01 | false | []"]
    );
    let toml = DB_TOML.replace("table = \"systems\"", "query = \"SELECT id, tier FROM systems ORDER BY id DESC\"");
    let engine = loaded(&project("sqlite-query", &toml, &[("inventory.sqlite", sqlite("query", ""))]));
    assert_eq!(rows(&engine), ["s2 | low | 0 | - | - | false | []", "s1 | high | 0 | - | - | false | []"]);
}

#[test]
fn sqlite_types_are_checked_and_problems_name_the_query_column_and_row() {
    // A text where SQLite let one be stored in an INTEGER column.
    let db = sqlite("bad", "INSERT INTO systems VALUES ('s3', 'low', 'many', 2, '2026-13-01', 2, NULL);");
    let found = problems(&refused(&project("sqlite-bad", DB_TOML, &[("inventory.sqlite", db)])));
    let shown: Vec<(Code, &str, &str)> = found.iter().map(|(c, m, n)| (*c, m.as_str(), n.as_str())).collect();
    assert_eq!(
        shown,
        [
            (Code::FactType, "column `n`: 1 value is not a whole number (first: `many`, row 3, column `n` of table `systems`)", ""),
            (Code::FactType, "column `reviewed`: 1 value is not a date (%m/%d/%Y, or YYYY-MM-DD) (first: `2026-13-01`, row 3, column `reviewed` of table `systems`)", ""),
            (Code::FactType, "column `active`: 1 value is not true or false (first: `2` (a number), row 3, column `active` of table `systems`)", ""),
            (Code::FactType, "`many` is not a whole number", "row 3, column `n` of table `systems`"),
            (Code::FactType, "`2026-13-01` is not a date (%m/%d/%Y, or YYYY-MM-DD)", "row 3, column `reviewed` of table `systems`"),
            (Code::FactType, "`2` (a number) is not true or false", "row 3, column `active` of table `systems`"),
        ]
    );
    // A binary column mapped to a field is refused by its declared type.
    let toml = DB_TOML.replace("ignore = [\"photo\"]", "rename = { tags = \"photo\" }");
    let found = problems(&refused(&project("sqlite-blob", &toml, &[("inventory.sqlite", sqlite("blob", ""))])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (
            Code::FactColumnType,
            "column `photo` of table `systems` is `BLOB`, which cannot hold a list of a text (field `Sys.tags`)"
        )
    );
    // A declared type that cannot be the field's: a date column for a number.
    let toml = DB_TOML.replace("ignore = [\"photo\"]", "ignore = [\"photo\", \"n\"]\nrename = { n = \"reviewed\" }");
    let found = problems(&refused(&project("sqlite-date", &toml, &[("inventory.sqlite", sqlite("date", ""))])));
    assert_eq!(found[0].0, Code::FactColumnType, "{found:?}");
}

#[test]
fn a_sqlite_source_cannot_write_attach_or_leave_the_project() {
    for (name, query) in [
        ("delete", "DELETE FROM systems RETURNING id"),
        ("create", "CREATE TABLE x (a)"),
        ("attach", "ATTACH DATABASE 'other.sqlite' AS other"),
        ("missing", "SELECT * FROM nowhere"),
    ] {
        let toml = DB_TOML.replace("table = \"systems\"", &format!("query = \"{query}\""));
        let dir = project(&format!("sqlite-{name}"), &toml, &[("inventory.sqlite", sqlite(name, ""))]);
        let before = std::fs::read(dir.join("inventory.sqlite")).expect("bytes");
        let found = problems(&refused(&dir));
        assert_eq!(found[0].0, Code::FactDatabase, "{name}: {found:?}");
        assert!(found[0].1.starts_with("`inventory.sqlite`: query `"), "{found:?}");
        assert_eq!(std::fs::read(dir.join("inventory.sqlite")).expect("bytes"), before, "{name}");
        assert!(!dir.join("other.sqlite").exists());
    }
    // Neither or both of `table` and `query`.
    let toml = DB_TOML.replace("table = \"systems\"\n", "");
    let found = problems(&refused(&project("sqlite-none", &toml, &[("inventory.sqlite", sqlite("none", ""))])));
    assert_eq!(found[0].0, Code::FactDatabase);
    // Garbage named .sqlite.
    let found =
        problems(&refused(&project("sqlite-garbage", DB_TOML, &[("inventory.sqlite", b"not a database".to_vec())])));
    assert_eq!(found[0].0, Code::FactDatabase, "{found:?}");
    // A link out of the project is not followed.
    #[cfg(unix)]
    {
        let outside = project("sqlite-outside-target", DB_TOML, &[("inventory.sqlite", sqlite("outside", ""))]);
        let dir = project("sqlite-link", DB_TOML, &[]);
        std::os::unix::fs::symlink(outside.join("inventory.sqlite"), dir.join("inventory.sqlite")).expect("link");
        let found = problems(&refused(&dir));
        assert_eq!(found[0].0, Code::OutsideProject, "{found:?}");
    }
    // Options that do not apply to the source are refused.
    let toml = SHEET_TOML.replace("ignore_case = true", "ignore_case = true\nencoding = \"windows-1252\"");
    let found = problems(&refused(&project("xlsx-encoding", &toml, &[("inventory.xlsx", inventory_xlsx(|_| {}))])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (Code::ProjectConfig, "`encoding` of fact source `inventory.xlsx` applies to text files only")
    );
    let toml = DB_TOML.replace("table = \"systems\"", "table = \"systems\"\nsheet = \"x\"");
    let found = problems(&refused(&project("sqlite-sheet", &toml, &[("inventory.sqlite", sqlite("sheet", ""))])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (Code::ProjectConfig, "`sheet` of fact source `inventory.sqlite` applies to spreadsheets only")
    );
}

#[test]
fn a_postgres_source_without_its_variable_is_refused_naming_it() {
    let toml = "[[facts]]\npostgres = \"AIMS_TEST_NO_SUCH_VARIABLE\"\nentity = \"Sys\"\ntable = \"systems\"\n";
    let found = problems(&refused(&project("pg-unset", toml, &[])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (
            Code::FactDatabase,
            "`postgres:AIMS_TEST_NO_SUCH_VARIABLE`: the environment variable `AIMS_TEST_NO_SUCH_VARIABLE` that names its connection is not set"
        )
    );
}

/// Use cases keyed by their agency and name, read in data-quality mode:
/// the policy of the tests below, which every table source reads alike.
const USES: &str = "enum Tier { low, high }\n\
    entity Use { id: Text key, agency: Text, name: Text, tier: Tier, active: Bool = false }\n\
    entity Note { who: Text, tier: Tier }\n\
    control c for u: Use { require u.tier == low }\n";

/// The rows of `Use`: a name repeated across agencies, a tier that is no
/// tier (row 2) and a Bool that is none (row 3).
const USE_ROWS: [[&str; 4]; 3] = [
    ["Benefits", "Chatbot", "low", "yes"],
    ["Health", "Chatbot", "Hihg", "no"],
    ["Benefits", "Triage", "HIGH", "maybe"],
];

/// The options of a `Use` source: a composite key, a label, data-quality mode.
const USE_OPTIONS: &str = "entity = \"Use\"\nkey = [\"agency\", \"name\"]\nlabel = \"{name} ({agency})\"\n\
    bad_values = \"unknown\"\nignore_case = true\n";

/// A project of the `USES` policy.
fn uses_project(name: &str, toml: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = project(name, toml, files);
    std::fs::write(dir.join("policy.aims"), USES).expect("policy");
    dir
}

/// Every source reads the rows of `USE_ROWS` alike: keys made of two
/// columns, labels, and the two bad cells unknown, each named by `places`
/// (the tier of row 2, the Bool of row 3) as its source names cells.
fn reads_uses_alike(dir: &Path, places: [&str; 2]) {
    let engine = loaded(dir);
    let program = engine.program();
    let uses = program.entity_by_name("Use").expect("Use");
    let facts = engine.facts();
    let keys: Vec<String> = (0..facts.len(uses)).map(|r| facts.key_of(program, uses, r).to_string()).collect();
    assert_eq!(keys, ["Benefits / Chatbot", "Health / Chatbot", "Benefits / Triage"]);
    let labels: Vec<String> =
        (0..3).map(|r| facts.row(uses, r).and_then(|row| row.label.clone()).unwrap_or_default().to_string()).collect();
    assert_eq!(labels, ["Chatbot (Benefits)", "Chatbot (Health)", "Triage (Benefits)"]);
    let unknown = |row: u32, field: usize| match facts.values(uses, row).map(|v| v[field].clone()) {
        Some(Value::Unknown(u)) => u.to_string(),
        other => format!("{other:?}"),
    };
    assert_eq!(unknown(1, 3), format!("unreadable: `Hihg` is not a `Tier` value, {}", places[0]));
    assert_eq!(unknown(2, 4), format!("unreadable: `maybe` is not true or false, {}", places[1]));
    assert_eq!(show(&facts.values(uses, 2).unwrap_or_default()[3]), "high", "the rest of the row is read");
    let quality: Vec<(String, u64, Vec<String>)> = engine
        .data_quality()
        .columns
        .iter()
        .map(|c| (c.column.clone(), c.count, c.cells.iter().map(|cell| cell.location()).collect()))
        .collect();
    assert_eq!(
        quality,
        [("tier".to_string(), 1, vec![places[0].to_string()]), ("active".to_string(), 1, vec![places[1].to_string()])]
    );
    let warning = engine.warnings().iter().find(|w| w.code == Code::UnreadableCells).expect("W0031");
    assert!(
        warning.notes[0].ends_with(&format!("(first: `Hihg` is not a `Tier` value, {})", places[0])),
        "{warning:?}"
    );
}

fn uses_xlsx(extra: &[[&str; 4]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Uses").expect("name");
    for (r, row) in
        std::iter::once(&["agency", "name", "tier", "active"]).chain(USE_ROWS.iter()).chain(extra).enumerate()
    {
        for (c, cell) in row.iter().enumerate().filter(|(_, cell)| !cell.is_empty()) {
            sheet.write_string(r as u32, c as u16, *cell).expect("cell");
        }
    }
    // Notes without a key, two of them the same.
    let notes = book.add_worksheet();
    notes.set_name("Notes").expect("name");
    for (r, row) in [["who", "tier"], ["ana", "low"], ["ana", "low"], ["bo", "high"]].iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            notes.write_string(r as u32, c as u16, *cell).expect("cell");
        }
    }
    book.save_to_buffer().expect("workbook")
}

#[test]
fn an_xlsx_source_has_composite_keys_labels_hashes_and_data_quality_mode() {
    let toml = format!(
        "[[facts]]\npath = \"uses.xlsx\"\nsheet = \"Uses\"\n{USE_OPTIONS}\n\
         [[facts]]\npath = \"uses.xlsx\"\nsheet = \"Notes\"\nentity = \"Note\"\n"
    );
    let dir = uses_project("uses-xlsx", &toml, &[("uses.xlsx", uses_xlsx(&[]))]);
    reads_uses_alike(&dir, ["Uses!C3", "Uses!D4"]);
    // Facts without a key are named by a hash of their values; the same
    // values twice are numbered, and warned of.
    let engine = loaded(&dir);
    let notes = engine.program().entity_by_name("Note").expect("Note");
    let ids: Vec<String> = (0..3).map(|r| engine.facts().key_of(engine.program(), notes, r).to_string()).collect();
    assert!(ids[0].starts_with('#') && ids[1] == format!("{}-2", ids[0]) && ids[2] != ids[0], "{ids:?}");
    assert!(engine.warnings().iter().any(|w| w.code == Code::IdenticalFacts), "{:?}", engine.warnings());
    // A part of the key not recorded stops the load, naming the cell.
    let dir = uses_project("uses-xlsx-incomplete", &toml, &[("uses.xlsx", uses_xlsx(&[["", "Forms", "low", "no"]]))]);
    let found = problems(&refused(&dir));
    assert_eq!(
        found.iter().map(|(c, m, n)| (*c, m.as_str(), n.as_str())).collect::<Vec<_>>(),
        [(
            Code::IncompleteKey,
            "the key of this `Use` is incomplete: `agency` is not recorded",
            "Uses!A5; the key is made of `agency` and `name`"
        )]
    );
    // The key field cannot be a column too.
    let both = toml.replace("ignore_case = true", "ignore_case = true\nrename = { id = \"name\" }");
    let found = problems(&refused(&uses_project("uses-xlsx-both", &both, &[("uses.xlsx", uses_xlsx(&[]))])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (Code::IncompleteKey, "`id` is a column of this source and made by `key` too")
    );
}

#[test]
fn an_ods_source_has_composite_keys_labels_and_data_quality_mode() {
    let rows: Vec<String> = std::iter::once(&["agency", "name", "tier", "active"])
        .chain(USE_ROWS.iter())
        .map(|row| row.iter().map(|c| text(c)).collect())
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let toml = format!("[[facts]]\npath = \"uses.ods\"\n{USE_OPTIONS}");
    let dir = uses_project("uses-ods", &toml, &[("uses.ods", ods(&rows))]);
    reads_uses_alike(&dir, ["Inventory!C3", "Inventory!D4"]);
}

#[test]
fn a_sqlite_source_has_composite_keys_labels_and_data_quality_mode() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("table_sources").join("db-build");
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("uses.sqlite");
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path).expect("database");
    conn.execute_batch("CREATE TABLE uses (agency TEXT, name TEXT, tier TEXT, active TEXT);").expect("schema");
    for row in USE_ROWS {
        conn.execute("INSERT INTO uses VALUES (?1, ?2, ?3, ?4)", row).expect("row");
    }
    drop(conn);
    let query = "SELECT agency, name, tier, active FROM uses ORDER BY rowid";
    let toml = format!("[[facts]]\npath = \"uses.sqlite\"\nquery = \"{query}\"\n{USE_OPTIONS}");
    let dir = uses_project("uses-sqlite", &toml, &[("uses.sqlite", std::fs::read(&path).expect("bytes"))]);
    reads_uses_alike(
        &dir,
        [&format!("row 2, column `tier` of query `{query}`"), &format!("row 3, column `active` of query `{query}`")],
    );
}

#[test]
fn a_genuine_xls_workbook_loads_with_sheet_header_row_and_range() {
    // BIFF8, written by xlwt (fixtures/make_inventory_xls.py).
    let xls = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory.xls")).expect("xls");
    assert!(xls.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "a compound file, as Excel 97-2003 writes");
    let toml = "[[facts]]\npath = \"inventory.xls\"\nentity = \"Sys\"\nsheet = \"AI systems\"\nheader_row = 3\n\
        range = \"A3:E16\"\nrename = { id = \"ID\", tier = \"Tier\", n = \"N\", reviewed = \"Reviewed\", active = \"Active\" }\n\
        ignore_case = true\nnull = [\"N/A\"]\ndate_format = \"%m/%d/%Y\"\n";
    let engine = loaded(&project("xls", toml, &[("inventory.xls", xls.clone())]));
    let rows = rows(&engine);
    assert_eq!(rows.len(), 13);
    assert_eq!(
        rows[..3],
        [
            "s1 | high | 3 | - | 2026-01-31 | true | []",
            "s2 | high | 4 | - | 2026-05-05 | true | []",
            "s3 | - | 5 | - | 2026-06-06 | false | []"
        ]
    );
    // The whole sheet (the notes ignored) reaches the bad cell of row 17.
    let toml = toml.replace("range = \"A3:E16\"", "ignore = [\"Notes\"]");
    let found = problems(&refused(&project("xls-bad", &toml, &[("inventory.xls", xls)])));
    assert_eq!(
        found.iter().map(|(c, m, n)| (*c, m.as_str(), n.as_str())).collect::<Vec<_>>(),
        [(Code::FactType, "`Hihg` is not a `Tier` value", "'AI systems'!B17")]
    );
}

#[test]
fn a_crafted_ods_is_refused_before_its_repeated_cells_are_laid_out() {
    let header = format!("<table:table-row>{}</table:table-row>", ["id", "tier"].map(text).concat());
    let toml = "[[facts]]\npath = \"inventory.ods\"\nentity = \"Sys\"\n";
    // A few hundred bytes that calamine would lay out as 16 billion cells.
    let huge = "<table:table-row table:number-rows-repeated=\"1000000\">\
        <table:table-cell office:value-type=\"float\" office:value=\"1\" table:number-columns-repeated=\"16384\"/></table:table-row>";
    let started = std::time::Instant::now();
    let found =
        problems(&refused(&project("ods-crafted", toml, &[("inventory.ods", ods_xml(&format!("{header}{huge}")))])));
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (
            Code::FactSheet,
            "`inventory.ods`: its sheets would lay out 16384032770 cells in memory, more than the limit of 536870912 bytes holds at 64 bytes a cell"
        )
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    // Rows far apart: the empty rows between them are laid out too.
    let value = format!("<table:table-row>{}{}</table:table-row>", text("a"), text("low"));
    let apart = format!("{header}{value}<table:table-row table:number-rows-repeated=\"1048000\"/>{value}");
    let small = format!("{toml}\n[limits]\nmax_fact_bytes = 1000000\n");
    let found = problems(&refused(&project("ods-apart", &small, &[("inventory.ods", ods_xml(&apart))])));
    assert_eq!(found[0].0, Code::FactSheet, "{found:?}");
    assert!(found[0].1.contains("would lay out 2096012 cells"), "{found:?}");
    // The empty rows and columns a spreadsheet program writes after the
    // table cost nothing.
    let padded = format!(
        "<table:table-row>{}{}<table:table-cell table:number-columns-repeated=\"1022\"/></table:table-row>",
        text("a"),
        text("low")
    );
    let tail = "<table:table-row table:number-rows-repeated=\"1048573\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>";
    let engine =
        loaded(&project("ods-padded", &small, &[("inventory.ods", ods_xml(&format!("{header}{padded}{tail}")))]));
    assert_eq!(rows(&engine), ["a | low | 0 | - | - | false | []"]);
}

#[test]
fn a_crafted_xls_is_refused_before_calamine_reserves_what_it_declares() {
    let xls = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory.xls")).expect("xls");
    let toml = "[[facts]]\npath = \"inventory.xls\"\nentity = \"Sys\"\nsheet = \"AI systems\"\nheader_row = 3\n";
    let find = |pattern: &[u8]| -> Vec<usize> {
        (0..xls.len() - pattern.len()).filter(|&i| xls[i..].starts_with(pattern)).collect()
    };
    // The DIMENSIONS record of "AI systems" (rows 0 to 16, columns 0 to 5)
    // declares 4 billion rows of 65,535 columns instead.
    let dims = find(b"\x00\x02\x0e\x00\x00\x00\x00\x00\x11\x00\x00\x00\x00\x00\x06\x00");
    assert_eq!(dims.len(), 1, "the fixture's DIMENSIONS record");
    let mut crafted = xls.clone();
    crafted[dims[0] + 8..dims[0] + 12].copy_from_slice(&[0xff; 4]);
    crafted[dims[0] + 14..dims[0] + 16].copy_from_slice(&[0xff; 2]);
    let started = std::time::Instant::now();
    let found = problems(&refused(&project("xls-dims", toml, &[("inventory.xls", crafted)])));
    assert_eq!(found[0].0, Code::FactSheet, "{found:?}");
    assert!(found[0].1.starts_with("`inventory.xls`: its sheets would lay out 281470681677929 cells"), "{found:?}");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    // Its last cell moved to the sheet's last row and column: the rectangle
    // between the first cell and it is laid out.
    let labels = find(b"\xfd\x00\x0a\x00\x10\x00\x01\x00");
    assert_eq!(labels.len(), 1, "the fixture's `Hihg` at B17");
    let mut crafted = xls.clone();
    crafted[labels[0] + 4..labels[0] + 8].copy_from_slice(&[0xff, 0xff, 0xff, 0x00]);
    let found = problems(&refused(&project("xls-far", toml, &[("inventory.xls", crafted)])));
    assert_eq!(found[0].0, Code::FactSheet, "{found:?}");
    assert!(found[0].1.contains("would lay out 16777"), "{found:?}");
}

/// The data office's register of datasets in `examples/inventory`: a title
/// row, the header on row 3, typed and text cells as people type them.
fn inventory_datasets_xlsx() -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("d mmm yyyy");
    let sheet = book.add_worksheet();
    sheet.set_name("Datasets").expect("name");
    sheet.write_string(0, 0, "Data office register, exported 27 Feb 2026").expect("cell");
    let header = ["Dataset", "Used by", "Personal data", "Last checked", "Owner", "Notes"];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).expect("header");
    }
    let rows: [[&str; 6]; 4] = [
        ["Applicant CVs", "HR / Résumé screening", "YES", "", "K. Osei", ""],
        [
            "Claims 2019-2025",
            "Benefits / Fraud triage",
            "Yes – special category",
            "2/3/2026",
            "",
            "ask Legal who owns it",
        ],
        ["Camera footage", "Facilities / Camera analytics", "N/A", "", "Facilities desk", ""],
        ["Leave FAQ", "HR / Chatbot", "no", "", "HR web team", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate().filter(|(_, cell)| !cell.is_empty()) {
            sheet.write_string(3 + r as u32, c as u16, *cell).expect("cell");
        }
    }
    // A date typed as a date, beside the text dates.
    let checked = ExcelDateTime::from_ymd(2026, 1, 15).expect("date");
    sheet.write_datetime_with_format(3, 3, &checked, &date).expect("cell");
    book.save_to_buffer().expect("workbook")
}

/// The assessment tool's SQLite database in `examples/inventory`.
fn inventory_assessments_sqlite(path: &Path) {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path).expect("database");
    conn.execute_batch(
        "CREATE TABLE assessments (ref TEXT, use_case TEXT, completed TEXT, outcome TEXT, assessor TEXT);
         INSERT INTO assessments VALUES
           (' IA-2025-014', 'HR / Résumé screening', '3/1/2025', 'APPROVED', 'M. Silva'),
           ('IA-2025-031 ', 'Benefits / Chatbot', '10/20/2025', 'Approved with conditions', 'M. Silva'),
           ('IA-2026-002', 'Facilities / Forklift routing', '1/12/2026', 'rejected', 'J. Park');",
    )
    .expect("assessments");
}

/// `examples/inventory/facts/datasets.xlsx` and `assessments.sqlite` are
/// what the generators above write: the same cells and rows (the bytes of
/// a workbook hold the time it was written). `AIMS_BLESS=1` writes them.
#[test]
fn the_inventory_examples_workbook_and_database_are_what_the_generators_write() {
    let facts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory/facts");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("table_sources").join("inventory-generated");
    std::fs::create_dir_all(&dir).expect("folder");
    let workbook = inventory_datasets_xlsx();
    inventory_assessments_sqlite(&dir.join("assessments.sqlite"));
    if std::env::var_os("AIMS_BLESS").is_some() {
        std::fs::write(facts.join("datasets.xlsx"), &workbook).expect("write the workbook");
        std::fs::copy(dir.join("assessments.sqlite"), facts.join("assessments.sqlite")).expect("write the database");
    }
    let options = aims_lang::facts::sheet::SheetOptions { sheet: Some("Datasets".into()), ..Default::default() };
    let view = |bytes: &[u8]| aims_lang::facts::sheet::read(bytes, &options, 1 << 20).expect("the sheet reads");
    let committed = std::fs::read(facts.join("datasets.xlsx")).expect("datasets.xlsx is committed");
    assert_eq!(view(&committed), view(&workbook), "datasets.xlsx differs from what the generator writes");
    let rows = |path: &Path| -> Vec<Vec<String>> {
        let conn = rusqlite::Connection::open(path).expect("database");
        let mut statement = conn.prepare("SELECT * FROM assessments ORDER BY rowid").expect("query");
        let found = statement
            .query_map([], |row| (0..5).map(|i| row.get::<_, String>(i)).collect::<Result<Vec<_>, _>>())
            .expect("rows")
            .collect::<Result<Vec<_>, _>>()
            .expect("texts");
        found
    };
    let schema = |path: &Path| -> String {
        let conn = rusqlite::Connection::open(path).expect("database");
        conn.query_row("SELECT group_concat(sql, ';') FROM sqlite_master", [], |r| r.get(0)).expect("schema")
    };
    let committed = facts.join("assessments.sqlite");
    assert_eq!(rows(&committed), rows(&dir.join("assessments.sqlite")), "assessments.sqlite differs");
    assert_eq!(schema(&committed), schema(&dir.join("assessments.sqlite")));
}
