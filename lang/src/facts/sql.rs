//! Databases as fact sources: a table or a query of a SQLite file or of a
//! PostgreSQL server, read in a read-only transaction into a table view
//! (see [`super::grid`]), with each column's declared type kept for the
//! loader to check against the entity.
//!
//! A table's rows are put in a defined order here (by their first column,
//! then the next…, texts by their bytes), whatever order the database
//! returns them in; a query's rows keep the query's order (its `ORDER BY`).
//! Reading stops once the view passes the fact file limit, and a SQLite
//! query stops after a bounded amount of work, so no source hangs a run.

use std::cmp::Ordering;
use std::path::Path;

use super::grid::{Cell, Grid, Meta};
use crate::time::Date;

/// What to read from a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Select {
    /// Every row of a table.
    Table(String),
    /// The rows of a query.
    Query(String),
}

impl Select {
    /// "table `systems`" or "query `SELECT …`", for messages.
    pub fn describe(&self) -> String {
        match self {
            Select::Table(t) => format!("table `{t}`"),
            Select::Query(q) => {
                let q = q.split_whitespace().collect::<Vec<_>>().join(" ");
                let short: String = q.chars().take(80).collect();
                let more = if short.len() < q.len() { "…" } else { "" };
                format!("query `{short}{more}`")
            }
        }
    }

    fn sql(&self) -> String {
        match self {
            Select::Table(t) => format!("SELECT * FROM \"{}\"", t.replace('"', "\"\"")),
            Select::Query(q) => q.clone(),
        }
    }
}

/// Why a database gave no table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SqlError {
    /// The database did not open (or the server did not answer).
    #[error("cannot open the database: {0}")]
    Open(String),
    /// The table or query failed.
    #[error("{what} failed: {reason}")]
    Query {
        /// [`Select::describe`].
        what: String,
        /// The database's reason.
        reason: String,
    },
    /// The view grew past the limit.
    #[error("{0} holds more than the limit of {1} bytes")]
    TooLarge(String, u64),
}

/// SQLite virtual-machine steps one source may take (about a minute of work).
const SQLITE_STEPS: u64 = 20_000_000_000;

/// Reads a table or query of a SQLite file, opened read-only.
pub fn read_sqlite(path: &Path, select: &Select, max: u64) -> Result<String, SqlError> {
    read_sqlite_within(path, select, max, SQLITE_STEPS)
}

/// [`read_sqlite`], stopping a query after about `limit` steps.
fn read_sqlite_within(path: &Path, select: &Select, max: u64, limit: u64) -> Result<String, SqlError> {
    use rusqlite::{types::ValueRef, Connection, OpenFlags};
    let what = select.describe();
    let failed = |e: rusqlite::Error| SqlError::Query { what: what.clone(), reason: e.to_string() };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| SqlError::Open(e.to_string()))?;
    // Nothing outside the file: no other database attached, no writes even
    // to a temporary table, and a bound on the work of one query.
    let _ = conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0);
    conn.pragma_update(None, "query_only", true).map_err(|e| SqlError::Open(e.to_string()))?;
    let mut steps = 0u64;
    let _ = conn.progress_handler(
        10_000,
        Some(move || {
            steps += 10_000;
            steps > limit
        }),
    );
    let tx = conn.transaction().map_err(|e| SqlError::Open(e.to_string()))?;
    let mut stmt = tx.prepare(&select.sql()).map_err(failed)?;
    let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
    // A declared type that is not UTF-8 makes rusqlite panic: taken as none.
    let types: Vec<String> = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        stmt.columns().iter().map(|c| c.decl_type().unwrap_or("").to_string()).collect()
    }))
    .unwrap_or_else(|_| vec![String::new(); names.len()]);
    let mut rows = Rows::new(max, &what);
    let mut query = stmt.query([]).map_err(failed)?;
    while let Some(row) = query.next().map_err(failed)? {
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let cell = match row.get_ref(i).map_err(failed)? {
                ValueRef::Null => Cell::Empty,
                ValueRef::Integer(n) => Cell::Int(n),
                ValueRef::Real(f) => Cell::Float(f),
                ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
                    Ok(s) => Cell::Text(s.to_string()),
                    Err(_) => Cell::Unreadable("a text that is not UTF-8".into()),
                },
                ValueRef::Blob(b) => Cell::Unreadable(format!("a binary value of {} bytes", b.len())),
            };
            cells.push(cell);
        }
        rows.push(cells)?;
    }
    drop(query);
    drop(stmt);
    let _ = tx.rollback();
    Ok(table(select, names, types, rows.rows))
}

/// Reads a table or query of a PostgreSQL database, in a read-only
/// transaction; `connection` is a libpq connection string or URL.
pub fn read_postgres(connection: &str, select: &Select, max: u64) -> Result<String, SqlError> {
    use postgres::fallible_iterator::FallibleIterator;
    use postgres::types::{Kind, Type};
    let what = select.describe();
    let failed = |e: postgres::Error| SqlError::Query { what: what.clone(), reason: pg_reason(&e) };
    let mut config: postgres::Config =
        connection.parse().map_err(|e: postgres::Error| SqlError::Open(pg_reason(&e)))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(20));
    }
    let mut client = config.connect(postgres::NoTls).map_err(|e| SqlError::Open(pg_reason(&e)))?;
    let mut tx = client.build_transaction().read_only(true).start().map_err(|e| SqlError::Open(pg_reason(&e)))?;
    tx.batch_execute("SET LOCAL statement_timeout = '120s'").map_err(|e| SqlError::Open(pg_reason(&e)))?;
    let stmt = tx.prepare(&select.sql()).map_err(failed)?;
    let names: Vec<String> = stmt.columns().iter().map(|c| c.name().to_string()).collect();
    let column_types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    let types: Vec<String> = column_types.iter().map(|t| t.name().to_string()).collect();
    let mut rows = Rows::new(max, &what);
    let mut iter = tx.query_raw(&stmt, std::iter::empty::<i32>()).map_err(failed)?;
    while let Some(row) = iter.next().map_err(failed)? {
        let mut cells = Vec::with_capacity(names.len());
        for (i, ty) in column_types.iter().enumerate() {
            let cell = pg_cell(&row, i, ty, &|ty| matches!(ty.kind(), Kind::Enum(_)));
            cells.push(cell);
        }
        rows.push(cells)?;
    }
    drop(iter);
    let _ = tx.rollback();
    Ok(table(select, names, types, rows.rows))
}

/// A PostgreSQL error's message, with the server's detail when it has one.
fn pg_reason(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// The text of a PostgreSQL enum value (sent as its label).
struct Label(String);

impl<'a> postgres::types::FromSql<'a> for Label {
    fn from_sql(_: &postgres::types::Type, raw: &'a [u8]) -> Result<Label, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Label(std::str::from_utf8(raw)?.to_string()))
    }
    fn accepts(ty: &postgres::types::Type) -> bool {
        matches!(ty.kind(), postgres::types::Kind::Enum(_))
    }
}

fn pg_cell(
    row: &postgres::Row,
    i: usize,
    ty: &postgres::types::Type,
    is_enum: &dyn Fn(&postgres::types::Type) -> bool,
) -> Cell {
    use postgres::types::Type;
    fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a postgres::Row, i: usize, f: impl FnOnce(T) -> Cell) -> Cell {
        match row.try_get::<_, Option<T>>(i) {
            Ok(Some(v)) => f(v),
            Ok(None) => Cell::Empty,
            Err(e) => Cell::Unreadable(format!("a value that cannot be read ({e})")),
        }
    }
    match *ty {
        Type::BOOL => get(row, i, Cell::Bool),
        Type::INT2 => get(row, i, |n: i16| Cell::Int(n.into())),
        Type::INT4 => get(row, i, |n: i32| Cell::Int(n.into())),
        Type::INT8 => get(row, i, Cell::Int),
        Type::FLOAT4 => get(row, i, |f: f32| Cell::Float(f.into())),
        Type::FLOAT8 => get(row, i, Cell::Float),
        Type::NUMERIC => get(row, i, Cell::Decimal),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => get(row, i, Cell::Text),
        Type::DATE => get(row, i, |d: chrono::NaiveDate| naive_date(d)),
        Type::TIMESTAMP => get(row, i, |d: chrono::NaiveDateTime| naive_date_time(d)),
        Type::TIMESTAMPTZ => get(row, i, |d: chrono::DateTime<chrono::Utc>| naive_date_time(d.naive_utc())),
        _ if is_enum(ty) => get(row, i, |l: Label| Cell::Text(l.0)),
        _ if ty.name() == "citext" => get(row, i, |l: Label| Cell::Text(l.0)),
        _ => match row.try_get::<_, Option<Skip>>(i) {
            Ok(None) => Cell::Empty,
            _ => Cell::Unreadable(format!("a `{}` value (convert it in the query: `CAST(... AS TEXT)`)", ty.name())),
        },
    }
}

/// Any value, not read: only whether it is null.
struct Skip;

impl<'a> postgres::types::FromSql<'a> for Skip {
    fn from_sql(_: &postgres::types::Type, _: &'a [u8]) -> Result<Skip, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Skip)
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
}

fn naive_date(d: chrono::NaiveDate) -> Cell {
    use chrono::Datelike;
    Date::from_ymd(d.year(), d.month(), d.day())
        .map_or_else(|| Cell::Unreadable(format!("the date {d}, out of range")), Cell::Date)
}

fn naive_date_time(d: chrono::NaiveDateTime) -> Cell {
    if d.time() == chrono::NaiveTime::MIN {
        naive_date(d.date())
    } else {
        Cell::DateTime(d.format("%Y-%m-%dT%H:%M:%S").to_string())
    }
}

/// The rows of a result (`what`, as the refusal names it) as they are
/// read, refused past `max` bytes of their table view.
struct Rows<'a> {
    rows: Vec<Vec<Cell>>,
    size: u64,
    max: u64,
    what: &'a str,
}

impl<'a> Rows<'a> {
    fn new(max: u64, what: &'a str) -> Rows<'a> {
        Rows { rows: Vec::new(), size: 0, max, what }
    }

    fn push(&mut self, cells: Vec<Cell>) -> Result<(), SqlError> {
        self.size += Grid::view_size(&cells) as u64;
        if self.size > self.max {
            return Err(SqlError::TooLarge(self.what.to_string(), self.max));
        }
        self.rows.push(cells);
        Ok(())
    }
}

/// The view of a result: header on line 1, row N on line N + 1; a table's
/// rows in the order of their cells.
fn table(select: &Select, names: Vec<String>, types: Vec<String>, mut rows: Vec<Vec<Cell>>) -> String {
    if matches!(select, Select::Table(_)) {
        rows.sort_by(|a, b| a.iter().zip(b).map(|(x, y)| order(x, y)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal));
    }
    Grid {
        meta: Meta { query: Some(select.describe()), types, ..Meta::default() },
        header: (1, names.into_iter().map(Cell::Text).collect()),
        rows: rows.into_iter().enumerate().map(|(i, cells)| (i as u32 + 2, cells)).collect(),
    }
    .to_view()
}

/// A total order of cells: empty, booleans, numbers, dates, texts, the rest.
fn order(a: &Cell, b: &Cell) -> Ordering {
    fn rank(c: &Cell) -> u8 {
        match c {
            Cell::Empty => 0,
            Cell::Bool(_) => 1,
            Cell::Int(_) | Cell::Float(_) | Cell::Decimal(_) => 2,
            Cell::Date(_) | Cell::DateTime(_) => 3,
            Cell::Text(_) => 4,
            Cell::Error(_) | Cell::Unreadable(_) => 5,
        }
    }
    fn number(c: &Cell) -> f64 {
        match c {
            Cell::Int(n) => *n as f64,
            Cell::Float(f) => *f,
            Cell::Decimal(d) => crate::num::to_f64(*d),
            _ => 0.0,
        }
    }
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::Int(x), Cell::Int(y)) => x.cmp(y),
        (Cell::Date(x), Cell::Date(y)) => x.cmp(y),
        (Cell::Text(x), Cell::Text(y)) | (Cell::DateTime(x), Cell::DateTime(y)) => x.cmp(y),
        (Cell::Error(x) | Cell::Unreadable(x), Cell::Error(y) | Cell::Unreadable(y)) => x.cmp(y),
        (Cell::Date(_), _) => Ordering::Less,
        (_, Cell::Date(_)) => Ordering::Greater,
        _ => number(a).total_cmp(&number(b)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_described_short_and_tables_quoted() {
        assert_eq!(Select::Table("a\"b".into()).sql(), "SELECT * FROM \"a\"\"b\"");
        let long = format!("SELECT id,\n  tier FROM systems WHERE {}", "x = 1 AND ".repeat(10));
        let described = Select::Query(long).describe();
        assert!(described.starts_with("query `SELECT id, tier FROM systems WHERE x = 1") && described.ends_with("…`"));
    }

    #[test]
    fn a_query_that_never_ends_is_stopped_and_a_large_one_at_the_limit() {
        let endless = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r";
        let started = std::time::Instant::now();
        let got = read_sqlite_within(Path::new(":memory:"), &Select::Query(endless.into()), 1 << 20, 10_000_000);
        assert!(matches!(&got, Err(SqlError::Query { reason, .. }) if reason.contains("interrupt")), "{got:?}");
        assert!(started.elapsed().as_secs() < 60);
        let rows = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x, 'some text' FROM r";
        let got = read_sqlite(Path::new(":memory:"), &Select::Query(rows.into()), 100_000);
        assert!(matches!(got, Err(SqlError::TooLarge(_, 100_000))), "{got:?}");
        let view = read_sqlite(
            Path::new(":memory:"),
            &Select::Query("SELECT 1 AS n, 'a' AS t, NULL AS e, 2.5 AS f".into()),
            1000,
        );
        assert_eq!(view, Ok("[\"n\", \"t\", \"e\", \"f\"]\n[1, \"a\", null, 2.5]\n{\"first_column\":0,\"query\":\"query `SELECT 1 AS n, 'a' AS t, NULL AS e, 2.5 AS f`\",\"types\":[\"\",\"\",\"\",\"\"]}\n".to_string()));
    }

    #[test]
    fn cells_are_ordered_totally() {
        let mut cells = vec![
            Cell::Text("b".into()),
            Cell::Int(10),
            Cell::Empty,
            Cell::Float(2.5),
            Cell::Text("a".into()),
            Cell::Bool(true),
        ];
        cells.sort_by(order);
        assert_eq!(
            cells,
            [
                Cell::Empty,
                Cell::Bool(true),
                Cell::Float(2.5),
                Cell::Int(10),
                Cell::Text("a".into()),
                Cell::Text("b".into())
            ]
        );
    }
}
