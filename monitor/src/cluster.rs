//! Measures on an Apache Ballista cluster: the scheduler named in
//! `aims.toml` plans each query into stages, its executors read the log
//! files and return the grouped rows, and this process folds them exactly
//! as it does rows computed in process.
//!
//! Executors read the files at the paths this process sees (the project
//! folder), so the logs must be on a file system every executor mounts at
//! the same path. Everything the cluster does is bounded by the cluster's
//! timeout: a job queued on a scheduler without executors would otherwise
//! wait for ever.

use std::time::Duration;

use aims_lang::diag::{Code, Diagnostic};
use aims_lang::measure::{Cluster, LogSource, MeasureOutput, MeasureRequest};
use ballista::prelude::SessionContextExt;
use datafusion::prelude::SessionContext;

/// How long the scheduler has to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every plan of `request`, computed on `cluster`.
pub(crate) async fn run(
    cluster: &Cluster,
    request: &MeasureRequest<'_>,
) -> Result<Vec<MeasureOutput>, Vec<Diagnostic>> {
    reachable(cluster).await?;
    let ctx = SessionContext::remote(&cluster.scheduler)
        .await
        .map_err(|e| vec![error(cluster, format!("cannot open a session: {}", e.to_string().trim()))])?;
    let limit = Duration::from_secs(cluster.timeout_seconds);
    match tokio::time::timeout(limit, crate::run_in(&ctx, request)).await {
        Ok(result) => result,
        Err(_) => {
            Err(vec![error(cluster, format!("the measures took longer than {} seconds", cluster.timeout_seconds))
                .help(
                    "check that executors are registered with the scheduler (a job waits for one), \
             or raise `timeout_seconds` in `[cluster]`",
                )])
        }
    }
}

/// Refuses at once, with a plain reason, when nothing answers at the
/// scheduler's address (Ballista's own error is a transport dump).
async fn reachable(cluster: &Cluster) -> Result<(), Vec<Diagnostic>> {
    let address = (cluster.host.as_str(), cluster.port);
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(vec![error(cluster, format!("no scheduler answers: {e}"))
            .help("start the scheduler, or remove `[cluster]` from aims.toml to measure in this process")]),
        Err(_) => {
            Err(vec![error(cluster, format!("no scheduler answered within {} seconds", CONNECT_TIMEOUT.as_secs()))
                .help("check the address and that the scheduler's port is open to this machine")])
        }
    }
}

/// E0362 for a query the cluster could not run.
pub(crate) fn query_error(
    cluster: &Cluster,
    source: &LogSource,
    measures: &[&str],
    e: &datafusion::error::DataFusionError,
) -> Diagnostic {
    error(cluster, format!("{} failed: {}", crate::measures_named(measures), e.to_string().trim()))
        .note(format!("log `{}`, files: {}", source.location, source.files_shown()))
        .help("executors read the log at the path this machine sees: check that they mount the project folder there")
}

fn error(cluster: &Cluster, reason: String) -> Diagnostic {
    Diagnostic::error(Code::Cluster, format!("the cluster at `{}` cannot measure: {reason}", cluster.scheduler))
}
