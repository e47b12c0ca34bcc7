//! Deterministic sample logs: the decisions log of
//! `examples/lending-monitoring` (a lender's credit decisions over the 90
//! days to 2026-11-01, Parquet partitioned by month), written from a fixed
//! seed so that every run, on every machine, writes the same rows. The
//! example's generator, the tests and the benchmarks write it through
//! [`write_lending_log`].
//!
//! What the rows hold, by system (the example's README explains the findings):
//! - `credit-scoring-v3`: half the decisions; group C is approved about 15
//!   points less often than groups A and B.
//! - `credit-limit-v2`: a third; approval rates within 3 points, but its
//!   score bands moved in the last 30 days (more `high`, fewer `low`).
//! - `fraud-screen-v1`: the rest; a heavy latency tail (p95 above 800 ms).
//! - `collections-prio-v1`: one decision in 2,000, all in September.

use std::collections::BTreeMap;
use std::sync::Arc;

use aims_lang::Date;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

/// A small, fast, seeded generator (splitmix64): the same rows on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One decision.
struct Row {
    model: &'static str,
    at_micros: i64,
    group: &'static str,
    approved: bool,
    repaid: Option<bool>,
    score_band: &'static str,
    latency_ms: i64,
    channel: &'static str,
}

const AS_OF: &str = "2026-11-01";
const DAYS: i64 = 90;

fn decision(rng: &mut Rng, as_of: Date) -> Row {
    let days_ago = rng.below(DAYS as u64) as i64;
    let day = as_of.add_days(-days_ago);
    let second = rng.below(86_400) as i64;
    let at_micros = (day.days_since(Date::UNIX_EPOCH) * 86_400 + second) * 1_000_000;
    let pick = rng.unit();
    let model = match pick {
        p if p < 0.50 => "credit-scoring-v3",
        p if p < 0.83 => "credit-limit-v2",
        _ => "fraud-screen-v1",
    };
    let group = ["A", "B", "C"][rng.below(3) as usize];
    let recent = days_ago <= 30;
    let approval = match (model, group) {
        ("credit-scoring-v3", "C") => 0.47,
        ("credit-scoring-v3", _) => 0.62,
        ("credit-limit-v2", "A") => 0.55,
        ("credit-limit-v2", "B") => 0.53,
        ("credit-limit-v2", _) => 0.52,
        _ => 0.97,
    };
    let approved = rng.unit() < approval;
    let repaid = (approved && days_ago > 60).then(|| rng.unit() < 0.93);
    let bands: [f64; 2] = if model == "credit-limit-v2" && recent { [0.10, 0.50] } else { [0.30, 0.80] };
    let u = rng.unit();
    let score_band = if u < bands[0] {
        "low"
    } else if u < bands[1] {
        "mid"
    } else {
        "high"
    };
    let tail = if model == "fraud-screen-v1" { 0.12 } else { 0.01 };
    let latency_ms = if rng.unit() < tail { 900 + rng.below(1_500) as i64 } else { 80 + rng.below(300) as i64 };
    let channel = if rng.unit() < 0.7 { "web" } else { "branch" };
    Row { model, at_micros, group, approved, repaid, score_band, latency_ms, channel }
}

/// The last decisions of the system that stopped logging: September only.
fn old_decision(rng: &mut Rng, as_of: Date) -> Row {
    let mut row = decision(rng, as_of);
    row.model = "collections-prio-v1";
    let day = Date::parse("2026-09-01").unwrap_or(as_of).add_days(rng.below(30) as i64);
    row.at_micros = (day.days_since(Date::UNIX_EPOCH) * 86_400) * 1_000_000;
    row
}

fn month_of(micros: i64) -> String {
    let day = Date::UNIX_EPOCH.add_days(micros.div_euclid(86_400 * 1_000_000));
    let (y, m, _) = day.ymd();
    format!("{y:04}-{m:02}")
}

fn batch(rows: &[Row]) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("decided_at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
        Field::new("applicant_group", DataType::Utf8, false),
        Field::new("approved", DataType::Boolean, false),
        Field::new("repaid", DataType::Boolean, true),
        Field::new("score_band", DataType::Utf8, false),
        Field::new("latency_ms", DataType::Int64, false),
        Field::new("channel", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.model))),
        Arc::new(TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.at_micros)).with_timezone("UTC")),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.group))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r.approved)))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.repaid))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.score_band))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.latency_ms))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.channel))),
    ];
    RecordBatch::try_new(schema, columns)
}

/// Writes `rows` decisions under `folder` (replacing what is there), one
/// `month=YYYY-MM/decisions.parquet` per month; returns each month and its
/// number of decisions.
pub fn write_lending_log(
    folder: &std::path::Path,
    rows: usize,
) -> Result<Vec<(String, usize)>, Box<dyn std::error::Error>> {
    let as_of = Date::parse(AS_OF).ok_or("as_of")?;
    let mut rng = Rng(42);
    let mut by_month: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for i in 0..rows {
        // One decision in 2,000 is the retired system's, all in September.
        let row = if i % 2_000 == 0 { old_decision(&mut rng, as_of) } else { decision(&mut rng, as_of) };
        by_month.entry(month_of(row.at_micros)).or_default().push(row);
    }
    let _ = std::fs::remove_dir_all(folder);
    let properties = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?)).build();
    let mut written = Vec::new();
    for (month, mut rows) in by_month {
        rows.sort_by_key(|r| r.at_micros);
        let dir = folder.join(format!("month={month}"));
        std::fs::create_dir_all(&dir)?;
        let file = std::fs::File::create(dir.join("decisions.parquet"))?;
        let first = batch(&rows[..0])?;
        let mut writer = ArrowWriter::try_new(file, first.schema(), Some(properties.clone()))?;
        for chunk in rows.chunks(65_536) {
            writer.write(&batch(chunk)?)?;
        }
        writer.close()?;
        written.push((month, rows.len()));
    }
    Ok(written)
}
