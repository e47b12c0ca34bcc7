//! Measures on an Apache Ballista cluster: a scheduler and two executors
//! started on loopback in this process (each on a port of its own, talking
//! gRPC and Arrow Flight as they would across machines), and a project
//! whose aims.toml names the scheduler. The cluster must give exactly the
//! values this process computes, on the hand-worked log and on the
//! lending example's partitioned Parquet; a cluster that cannot run is
//! E0362, promptly, with every measured field left unknown.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use aims_lang::diag::Code;
use aims_lang::ir::Value;
use aims_lang::{Date, Engine};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::BallistaCodec;
use common::{assert_worked_out_by_hand, csv, measured, options, parquet, project_with, POLICY};

/// A scheduler with `executors` executors, alive as long as the runtime.
fn start_cluster(executors: usize) -> (tokio::runtime::Runtime, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let scheduler = runtime.block_on(async {
        let scheduler = ballista_scheduler::standalone::new_standalone_scheduler().await.unwrap();
        let url = format!("http://localhost:{}", scheduler.port());
        let client = loop {
            match SchedulerGrpcClient::connect(url.clone()).await {
                Ok(client) => break client,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        for _ in 0..executors {
            ballista_executor::new_standalone_executor(client.clone(), 1, BallistaCodec::default()).await.unwrap();
        }
        scheduler
    });
    (runtime, scheduler)
}

fn cluster_table(scheduler: SocketAddr, timeout: u64) -> String {
    format!("\n[cluster]\nscheduler = \"df://localhost:{}\"\ntimeout_seconds = {timeout}\n", scheduler.port())
}

#[test]
fn a_cluster_of_two_executors_gives_the_values_computed_in_process() {
    let (_cluster, scheduler) = start_cluster(2);

    // The hand-worked log, as CSV and as Parquet.
    for (name, file, bytes) in [("csv", "decisions.csv", csv()), ("parquet", "decisions.parquet", parquet())] {
        let local = measured(&project_with(&format!("local_{name}"), file, bytes.clone(), POLICY, ""));
        let on_cluster =
            measured(&project_with(&format!("cluster_{name}"), file, bytes, POLICY, &cluster_table(scheduler, 120)));
        assert_worked_out_by_hand(&on_cluster);
        assert_eq!(on_cluster, local, "{name}");
    }

    // The lending example's policy over its partitioned log (three months
    // of Parquet files, so the executors share the scan).
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lending-monitoring");
    let policy = std::fs::read_to_string(example.join("policy/monitoring.aims")).unwrap();
    let systems = std::fs::read_to_string(example.join("facts/systems.json")).unwrap();
    let lending = |name: &str, manifest: &str| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("monitor").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("facts")).unwrap();
        std::fs::write(dir.join("monitoring.aims"), &policy).unwrap();
        std::fs::write(dir.join("facts/systems.json"), &systems).unwrap();
        aims_monitor::sample::write_lending_log(&dir.join("logs/decisions"), 60_000).unwrap();
        std::fs::write(
            dir.join("aims.toml"),
            format!(
                "[[facts]]\npath = \"facts/systems.json\"\n\n[[logs]]\nrecord = \"Decision\"\npath = \"logs/decisions\"\n{manifest}"
            ),
        )
        .unwrap();
        measured(&dir)
    };
    let local = lending("lending_local", "");
    let on_cluster = lending("lending_cluster", &cluster_table(scheduler, 120));
    assert_eq!(on_cluster, local);
    let known = local.iter().filter(|(_, _, v)| !matches!(v, Value::Unknown(_))).count();
    assert!(known >= 12, "most measures have values: {local:?}");
}

/// Loads a project of the hand-worked log whose aims.toml ends with
/// `manifest` and sets the date; asserts that measuring failed with one
/// E0362, leaving every measured field unknown, and returns its message.
fn cluster_error(name: &str, manifest: &str) -> String {
    let mut engine = Engine::load(&project_with(name, "decisions.csv", csv(), POLICY, manifest), &options()).unwrap();
    engine.set_as_of(Date::parse("2026-11-01").unwrap());
    let errors = engine.measure_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, Code::Cluster);
    assert!(engine.measured_values().iter().all(|(_, _, v)| matches!(v, Value::Unknown(_))), "nothing half-applied");
    errors[0].message.clone()
}

#[test]
fn no_scheduler_at_the_address_is_an_error_naming_it() {
    // Port 1 on loopback: nothing listens there.
    let message = cluster_error("no_scheduler", "\n[cluster]\nscheduler = \"df://127.0.0.1:1\"\n");
    assert!(message.starts_with("the cluster at `df://127.0.0.1:1` cannot measure: no scheduler answers"), "{message}");
}

#[test]
fn a_scheduler_without_executors_times_out_instead_of_waiting_for_ever() {
    let (_cluster, scheduler) = start_cluster(0);
    let message = cluster_error("no_executor", &cluster_table(scheduler, 2));
    assert!(message.ends_with("cannot measure: the measures took longer than 2 seconds"), "{message}");
}

#[test]
fn a_malformed_scheduler_address_is_refused_where_it_is_written() {
    let manifest = "\n[cluster]\nscheduler = \"localhost:50050\"\n";
    let dir = project_with("bad_address", "decisions.csv", csv(), POLICY, manifest);
    let Err(failure) = Engine::load(&dir, &options()) else { panic!("a malformed address is refused") };
    assert_eq!(failure.diagnostics[0].code, Code::ProjectConfig);
    assert_eq!(failure.diagnostics[0].message, "`scheduler = \"localhost:50050\"` is not a scheduler address");
}
