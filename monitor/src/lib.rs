//! `aims-monitor`: the measures of a policy computed over logs with Apache
//! DataFusion, in process.
//!
//! [`DataFusionRunner`] implements `aims_lang`'s [`MeasureRunner`]: each
//! log becomes a listing table (its files, its Hive-style partitions), its
//! schema is checked against the record the policy declares for its rows
//! ([`schema`]). Every measure of a log that counts rows (counts, rates,
//! rates by group, `psi`) is answered by one query of that log, grouped by
//! the entity keys ([`counts`]); a `percentile` or a `mean` by a query of
//! its own ([`percentile`], [`query`]); never one query per entity. The few
//! rows per entity they return are folded into the metric's value here
//! ([`fold`]), in exact decimals where the metric is a ratio of counts.
//!
//! When `aims.toml` names a cluster (`[cluster] scheduler = "df://…"`), the
//! same plans run on Apache Ballista ([`cluster`]): the logs are registered
//! here, each query is planned here and executed by the cluster's
//! executors, and the same fold turns the rows into values.
//!
//! This crate knows nothing of terminals or editors; `aims-lang` knows
//! nothing of DataFusion.

#![warn(missing_docs)]

mod cluster;
mod counts;
mod fold;
mod percentile;
mod query;
pub mod sample;
pub mod schema;

use std::sync::Arc;

use aims_lang::diag::{Code, Diagnostic};
use aims_lang::measure::{LogFormat, LogSource, MeasureOutput, MeasurePlan, MeasureRequest, MeasureRunner, MetricKind};
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::prelude::SessionContext;

/// Runs measures on DataFusion in this process, on every core.
#[derive(Clone, Debug, Default)]
pub struct DataFusionRunner {
    /// Threads of the query runtime (`None`: one per core).
    pub threads: Option<usize>,
}

impl MeasureRunner for DataFusionRunner {
    fn run(&self, request: &MeasureRequest) -> Result<Vec<MeasureOutput>, Vec<Diagnostic>> {
        // A runtime of its own, on a thread of its own: the caller may be
        // inside another runtime (the language server's), where blocking
        // on a future would panic.
        let threads = self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(threads.max(1))
                        .thread_name("aims-measure")
                        // Timers and sockets: a cluster is reached over
                        // the network, within a timeout.
                        .enable_all()
                        .build()
                        .map_err(|e| {
                            vec![Diagnostic::error(Code::LogRead, format!("cannot start the query runtime: {e}"))]
                        })?;
                    runtime.block_on(run(request, threads))
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(vec![Diagnostic::error(Code::LogRead, "the query runtime stopped unexpectedly")])
                })
        })
    }
}

/// The table name a log is registered under.
fn table_name(index: usize) -> String {
    format!("log_{index}")
}

async fn run(request: &MeasureRequest<'_>, threads: usize) -> Result<Vec<MeasureOutput>, Vec<Diagnostic>> {
    match request.cluster {
        None => run_in(&local_context(threads), request).await,
        Some(cluster) => cluster::run(cluster, request).await,
    }
}

/// Partitions of a log per thread of the query runtime. DataFusion splits
/// a log's files into equal byte ranges, one per partition, before the
/// window's range skips whole row groups: with one range per thread, the
/// thread whose range holds the window does most of the work while the
/// other waits. Many small ranges are shared out as threads come free: the
/// six measures of `benches/monitoring` over 50,000,000 rows (the windows
/// cover two of four month files) take 1.52 s with one range per thread,
/// 0.98 s with eight.
const PARTITIONS_PER_THREAD: usize = 8;

/// A session of this process, on `threads` threads, in batches of 32,768
/// rows (DataFusion's default is 8,192): fewer, larger batches through
/// every filter and aggregate (the counting query of the benchmark 8 %
/// faster).
fn local_context(threads: usize) -> SessionContext {
    let config = datafusion::prelude::SessionConfig::new()
        .with_batch_size(32_768)
        .with_target_partitions(threads.saturating_mul(PARTITIONS_PER_THREAD).max(1));
    SessionContext::new_with_config(config)
}

/// Runs every plan of `request` in `ctx`: this process's, or a client's
/// of the request's cluster (then a query that fails is the cluster's
/// error, E0362).
async fn run_in(ctx: &SessionContext, request: &MeasureRequest<'_>) -> Result<Vec<MeasureOutput>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut tables = Vec::new();
    for (index, source) in request.sources.iter().enumerate() {
        if !request.plans.iter().any(|p| p.record == source.record) {
            tables.push(None);
            continue;
        }
        let name = table_name(index);
        match register(ctx, &name, source, request).await {
            Ok(()) => tables.push(Some(name)),
            Err(mut d) => {
                problems.append(&mut d);
                tables.push(None);
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Where a percentile's values are put in order: gathered into this
    // process, or ranked on a cluster's executors (its values stay there).
    let ordering = match request.cluster {
        None => percentile::Ordering::Here,
        Some(_) => percentile::Ordering::OnExecutors,
    };
    let plans = request.plans;
    let mut groups: Vec<Option<Vec<query::Group>>> = vec![None; plans.len()];
    let log_of: Vec<Option<usize>> =
        plans.iter().map(|plan| request.sources.iter().position(|s| s.record == plan.record)).collect();
    for (plan, log) in plans.iter().zip(&log_of) {
        if log.is_none() {
            problems.push(Diagnostic::error(Code::LogSchema, format!("no log holds `{}` rows", plan.record)));
        }
    }
    for (index, source) in request.sources.iter().enumerate() {
        let Some(table) = &tables[index] else { continue };
        let here: Vec<usize> = (0..plans.len()).filter(|&i| log_of[i] == Some(index)).collect();
        let fail = |names: &[&str], e: &datafusion::error::DataFusionError| match request.cluster {
            None => read_error(source, names, e),
            Some(cluster) => cluster::query_error(cluster, source, names, e),
        };
        // Every measure of this log that counts rows: one query, one scan;
        // each percentile or mean a query of its own.
        let (counted, alone): (Vec<usize>, Vec<usize>) =
            here.iter().partition(|&&i| counts::counts_rows(plans[i].metric));
        if !counted.is_empty() {
            let these: Vec<&MeasurePlan> = counted.iter().map(|&i| &plans[i]).collect();
            match counts::measure(ctx, table, &these, request.as_of).await {
                Ok(answers) => counted.iter().zip(answers).for_each(|(&i, rows)| groups[i] = Some(rows)),
                Err(e) => {
                    let names: Vec<&str> = these.iter().map(|p| p.measure.as_str()).collect();
                    problems.push(fail(&names, &e));
                }
            }
        }
        for i in alone {
            let plan = &plans[i];
            let rows = match plan.metric {
                MetricKind::Percentile => percentile::measure(ctx, table, plan, request.as_of, ordering).await,
                _ => query::mean(ctx, table, plan, request.as_of).await,
            };
            match rows {
                Ok(rows) => groups[i] = Some(rows),
                Err(e) => problems.push(fail(&[&plan.measure], &e)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(plans.iter().zip(groups).map(|(plan, rows)| fold::output(plan, rows.unwrap_or_default())).collect())
}

/// "measure `a`", "measures `a`, `b`": what a failed query was for.
fn measures_named(names: &[&str]) -> String {
    let listed = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if names.len() == 1 {
        format!("measure {listed}")
    } else {
        format!("measures {listed}")
    }
}

/// Registers a log as a listing table and checks its schema.
async fn register(
    ctx: &SessionContext,
    name: &str,
    source: &LogSource,
    request: &MeasureRequest<'_>,
) -> Result<(), Vec<Diagnostic>> {
    let format: Arc<dyn FileFormat> = match source.format {
        LogFormat::Parquet => Arc::new(ParquetFormat::default()),
        LogFormat::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
        LogFormat::Ndjson => Arc::new(JsonFormat::default()),
    };
    let extension = source
        .files
        .first()
        .and_then(|f| f.path.extension())
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let record = request.record(&source.record);
    let partitions = source
        .partitions
        .iter()
        .map(|p| (p.clone(), schema::partition_type(record.and_then(|r| r.columns.iter().find(|c| &c.name == p)))))
        .collect();
    let options = ListingOptions::new(format).with_file_extension(extension).with_table_partition_cols(partitions);
    let url = table_url(source);
    ctx.register_listing_table(name, &url, options, None, None).await.map_err(|e| vec![read_error(source, &[], &e)])?;
    let table = ctx.table(name).await.map_err(|e| vec![read_error(source, &[], &e)])?;
    match record {
        Some(record) => schema::check(source, record, table.schema().as_arrow()),
        None => Ok(()),
    }
}

/// The location DataFusion lists: the file, the folder, or the glob in it.
fn table_url(source: &LogSource) -> String {
    let table = source.table.to_string_lossy();
    match (&source.glob, source.is_folder) {
        (Some(glob), _) => format!("{}/{glob}", table.trim_end_matches('/')),
        (None, true) => format!("{}/", table.trim_end_matches('/')),
        (None, false) => table.into_owned(),
    }
}

/// E0361 for a log that could not be read or queried.
fn read_error(source: &LogSource, measures: &[&str], e: &datafusion::error::DataFusionError) -> Diagnostic {
    let what = if measures.is_empty() { String::new() } else { format!(" for {}", measures_named(measures)) };
    let reason = e.to_string();
    let reason = reason.trim().to_string();
    Diagnostic::error(Code::LogRead, format!("cannot read log `{}`{what}: {reason}", source.location))
        .note(format!("files: {}", source.files_shown()))
        .help(format!(
            "check that the files are {} ({} files under `{}`)",
            match source.format {
                LogFormat::Parquet => "Parquet",
                LogFormat::Csv => "CSV with a header row",
                LogFormat::Ndjson => "one JSON object per line",
            },
            source.files.len(),
            source.location
        ))
}
