//! `[cluster]` in `aims.toml`: the Apache Ballista scheduler that measures
//! run on instead of in this process.
//!
//! Only the address is checked here (a malformed one is E0401 where it is
//! written); whether a scheduler answers there is known when measuring.

use serde::Deserialize;

use crate::diag::FileId;
use crate::diag::{Code, Diagnostic};

/// How long a cluster may take for all of a project's measures when
/// `aims.toml` does not say: a job queued on a cluster without executors
/// would otherwise wait for ever.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 1800;

/// The `[cluster]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterSection {
    scheduler: String,
    timeout_seconds: Option<u64>,
}

/// A Ballista cluster that computes the project's measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// The scheduler's address, `df://HOST:PORT`.
    pub scheduler: String,
    /// The scheduler's host (an IPv6 address without its brackets).
    pub host: String,
    /// The scheduler's port.
    pub port: u16,
    /// How long all measures together may take on the cluster.
    pub timeout_seconds: u64,
}

impl ClusterSection {
    /// The cluster, or E0401 at the address when it is not `df://HOST:PORT`.
    pub(crate) fn resolve(&self, file: FileId, text: &str) -> Result<Cluster, Box<Diagnostic>> {
        let written = self.scheduler.trim();
        let Some((host, port)) = scheduler_address(written) else {
            return Err(Box::new(
                Diagnostic::error(
                    Code::ProjectConfig,
                    format!("`scheduler = \"{written}\"` is not a scheduler address"),
                )
                .at_file(file, crate::project::find_quoted(text, &self.scheduler), "not df://HOST:PORT")
                .help("a Ballista scheduler is named `df://HOST:PORT`, as in `scheduler = \"df://10.0.0.5:50050\"`"),
            ));
        };
        if self.timeout_seconds == Some(0) {
            return Err(Box::new(
                Diagnostic::error(
                    Code::ProjectConfig,
                    "`timeout_seconds = 0` of `[cluster]` leaves no time to measure",
                )
                .at_file(file, crate::project::find_quoted(text, "timeout_seconds"), "zero")
                .help(format!("leave it out for {DEFAULT_TIMEOUT_SECONDS} seconds, or give a positive number")),
            ));
        }
        Ok(Cluster {
            scheduler: written.to_string(),
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            port,
            timeout_seconds: self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        })
    }
}

/// The host and port of `df://HOST:PORT`, if `address` is one. A host is a
/// name or IPv4 address (letters, digits, `.`, `-`, `_`) or an IPv6
/// address in brackets; the port a number from 1 to 65535.
pub fn scheduler_address(address: &str) -> Option<(&str, u16)> {
    let rest = address.strip_prefix("df://")?;
    let (host, port) = rest.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
    let plain = |h: &str| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let bracketed = |h: &str| {
        h.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|inner| inner.parse::<std::net::Ipv6Addr>().is_ok())
    };
    (plain(host) || bracketed(host)).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::scheduler_address;

    #[test]
    fn a_scheduler_is_df_host_port() {
        assert_eq!(scheduler_address("df://localhost:50050"), Some(("localhost", 50050)));
        assert_eq!(scheduler_address("df://10.0.0.5:1"), Some(("10.0.0.5", 1)));
        assert_eq!(scheduler_address("df://[::1]:50050"), Some(("[::1]", 50050)));
        for bad in [
            "localhost:50050",
            "http://localhost:50050",
            "df://localhost",
            "df://:50050",
            "df://localhost:0",
            "df://localhost:65536",
            "df://local host:50050",
            "df://user@host:50050",
            "df://host:50050/path",
            "df://[not-v6]:50050",
        ] {
            assert_eq!(scheduler_address(bad), None, "{bad}");
        }
    }
}
