//! Writes a CSV file as a spreadsheet or a SQLite table, with cells typed
//! as a person or a database would type them, to make fact sources for
//! examples and tests:
//!
//! ```text
//! cargo run -p aims-lang --example csv_to_table -- in.csv out.xlsx [SHEET] [TITLE]
//! cargo run -p aims-lang --example csv_to_table -- in.csv out.sqlite TABLE
//! ```
//!
//! In a workbook, a cell that reads as a whole or decimal number is a
//! number, `YYYY-MM-DD` a date, `TRUE`/`FALSE` a boolean, anything else a
//! text; with a TITLE, the sheet starts with it on row 1 and the header on
//! row 3 (as inventories often do: `header_row = 3`). In a database, a
//! column whose every value is a whole number is `INTEGER`, a number
//! `REAL`, anything else `TEXT`; an empty cell is `NULL`.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rest @ ..] = args.as_slice() else {
        return Err("usage: csv_to_table IN.csv OUT.xlsx [SHEET] [TITLE] | IN.csv OUT.sqlite TABLE".into());
    };
    let mut reader = csv::Reader::from_path(input)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.map(|r| r.iter().map(str::to_string).collect())).collect::<Result<_, _>>()?;
    if output.ends_with(".sqlite") || output.ends_with(".sqlite3") {
        let table = rest.first().ok_or("name the table")?;
        sqlite(output, table, &header, &rows)
    } else {
        xlsx(output, rest.first().map(String::as_str), rest.get(1).map(String::as_str), &header, &rows)
    }
}

fn xlsx(
    output: &str,
    sheet: Option<&str>,
    title: Option<&str>,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<(), Box<dyn Error>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let ws = book.add_worksheet();
    if let Some(name) = sheet {
        ws.set_name(name)?;
    }
    let top: u32 = match title {
        Some(title) => {
            ws.write_string(0, 0, title)?;
            2
        }
        None => 0,
    };
    for (c, name) in header.iter().enumerate() {
        ws.write_string(top, c as u16, name)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = top + 1 + r as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            let t = cell.trim();
            if t.is_empty() {
                continue;
            } else if let Ok(n) = t.parse::<f64>() {
                ws.write_number(r, c, n)?;
            } else if let (10, Ok(d)) = (t.len(), rust_xlsxwriter::ExcelDateTime::parse_from_str(t)) {
                ws.write_datetime_with_format(r, c, &d, &date)?;
            } else if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
                ws.write_boolean(r, c, t.eq_ignore_ascii_case("true"))?;
            } else {
                ws.write_string(r, c, cell)?;
            }
        }
    }
    book.save(output)?;
    Ok(())
}

fn sqlite(output: &str, table: &str, header: &[String], rows: &[Vec<String>]) -> Result<(), Box<dyn Error>> {
    let _ = std::fs::remove_file(output);
    let conn = rusqlite::Connection::open(output)?;
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let kind = |c: usize| {
        let values: Vec<&str> =
            rows.iter().filter_map(|r| r.get(c)).map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        if !values.is_empty() && values.iter().all(|v| v.parse::<i64>().is_ok()) {
            "INTEGER"
        } else if !values.is_empty() && values.iter().all(|v| v.parse::<f64>().is_ok()) {
            "REAL"
        } else {
            "TEXT"
        }
    };
    let columns: Vec<String> = header.iter().enumerate().map(|(c, h)| format!("{} {}", quote(h), kind(c))).collect();
    conn.execute_batch(&format!("CREATE TABLE {} ({});", quote(table), columns.join(", ")))?;
    let marks = vec!["?"; header.len()].join(", ");
    let mut insert = conn.prepare(&format!("INSERT INTO {} VALUES ({marks})", quote(table)))?;
    for row in rows {
        let values: Vec<rusqlite::types::Value> = (0..header.len())
            .map(|c| {
                let v = row.get(c).map(String::as_str).unwrap_or("");
                match kind(c) {
                    _ if v.trim().is_empty() => rusqlite::types::Value::Null,
                    "INTEGER" => v.trim().parse().map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Integer),
                    "REAL" => v.trim().parse().map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Real),
                    _ => rusqlite::types::Value::Text(v.to_string()),
                }
            })
            .collect();
        insert.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}
