//! The opt-in Prometheus endpoint: one recorder per process, served on its own
//! loopback-only listener so it never faces the network. Without it every
//! `metrics` call is a no-op.

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context;
use axum::routing::get;
use axum::Router;
use metrics::{counter, describe_counter, describe_gauge, gauge, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::monitor::sample::Sample;

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the global recorder the first time; every later server in the process shares it.
fn recorder() -> anyhow::Result<PrometheusHandle> {
    let installed = RECORDER.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .map_err(|e| e.to_string())?;
        describe();
        Ok(handle)
    });
    installed
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))
}

fn describe() {
    describe_counter!(
        "deckd_http_requests_total",
        "HTTP requests answered, by route template and status"
    );
    describe_gauge!(
        "deckd_process_resident_memory_bytes",
        Unit::Bytes,
        "resident set size of deckd"
    );
    describe_gauge!(
        "deckd_process_cpu_percent",
        "CPU used by deckd since the previous sample; 100 = one core"
    );
    describe_gauge!(
        "deckd_host_cpu_percent",
        "CPU used by the whole machine; 100 = every core"
    );
    describe_gauge!(
        "deckd_host_memory_used_percent",
        "RAM in use on the machine (total minus available)"
    );
    describe_gauge!(
        "deckd_cgroup_memory_current_bytes",
        Unit::Bytes,
        "memory.current of deckd's cgroup"
    );
    describe_gauge!(
        "deckd_cgroup_memory_high_bytes",
        Unit::Bytes,
        "memory.high of deckd's cgroup, when limited"
    );
    describe_gauge!(
        "deckd_cgroup_memory_max_bytes",
        Unit::Bytes,
        "memory.max of deckd's cgroup, when limited"
    );
    describe_gauge!(
        "deckd_cgroup_memory_pressure_some_avg10",
        "memory PSI of deckd's cgroup: percent of the last 10 s stalled"
    );
    describe_gauge!(
        "deckd_disk_used_percent",
        "used space of the data directory's filesystem"
    );
    describe_gauge!(
        "deckd_disk_free_bytes",
        Unit::Bytes,
        "space left for deckd in the data directory's filesystem"
    );
    describe_gauge!("deckd_soc_temperature_celsius", "hottest thermal zone");
    describe_gauge!(
        "deckd_backup_last_good_timestamp_seconds",
        "unix time of the newest verified backup; 0 = none"
    );
    describe_gauge!(
        "deckd_backup_failing",
        "1 while the last backup attempt failed"
    );
    describe_counter!(
        "deckd_maintenance_runs_total",
        "maintenance job runs, by job"
    );
    describe_counter!(
        "deckd_maintenance_failures_total",
        "failed maintenance job runs, by job"
    );
    describe_counter!(
        "deckd_maintenance_skipped_total",
        "maintenance job runs postponed under memory pressure, by job"
    );
    describe_gauge!(
        "deckd_maintenance_last_success_timestamp_seconds",
        "unix time of the last successful run, by job"
    );
    describe_gauge!(
        "deckd_memory_pressure",
        "1 while large uploads are refused because memory is short"
    );
}

/// The `/metrics` listener, bound before READY=1 so a port clash fails the start.
pub struct Endpoint {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl Endpoint {
    /// Installs the recorder and binds `addr` (validated as loopback by the config).
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let handle = recorder()?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding metrics_listen {addr}"))?;
        Ok(Self { listener, handle })
    }

    /// Serves `GET /metrics` until shutdown begins.
    pub async fn serve(self, stop: CancellationToken) -> std::io::Result<()> {
        let handle = self.handle;
        let app = Router::new().route("/metrics", get(move || std::future::ready(handle.render())));
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                stop.cancelled().await;
            })
            .await
    }
}

/// Maintenance job counters and the backup state, refreshed on every monitor tick.
pub fn maintenance(s: &crate::maintenance::status::Snapshot) {
    gauge!("deckd_backup_last_good_timestamp_seconds").set(s.last_good_backup.unwrap_or(0) as f64);
    gauge!("deckd_backup_failing").set(if s.backup_error.is_some() { 1.0 } else { 0.0 });
    for (&job, runs) in &s.jobs {
        counter!("deckd_maintenance_runs_total", "job" => job).absolute(runs.runs);
        counter!("deckd_maintenance_failures_total", "job" => job).absolute(runs.failures);
        counter!("deckd_maintenance_skipped_total", "job" => job).absolute(runs.skipped);
        gauge!("deckd_maintenance_last_success_timestamp_seconds", "job" => job)
            .set(runs.last_success.unwrap_or(0) as f64);
    }
}

/// Drains histogram buffers; the monitor calls it on every tick.
pub fn upkeep() {
    if let Some(Ok(handle)) = RECORDER.get() {
        handle.run_upkeep();
    }
}

/// Counts one answered request under its route template (bounded label values).
pub fn count_request(route: &str, status: u16) {
    counter!("deckd_http_requests_total", "route" => route.to_string(), "status" => status.to_string()).increment(1);
}

/// Publishes one monitor sample as gauges; figures the system lacks are left out.
pub fn publish(sample: &Sample, memory_pressure: bool) {
    let gauges = [
        (
            "deckd_process_resident_memory_bytes",
            sample.rss_bytes.map(|v| v as f64),
        ),
        ("deckd_process_cpu_percent", sample.cpu_percent),
        ("deckd_host_cpu_percent", sample.host_cpu_percent),
        ("deckd_host_memory_used_percent", sample.host_memory_percent),
        (
            "deckd_cgroup_memory_current_bytes",
            sample.cgroup.map(|c| c.current as f64),
        ),
        (
            "deckd_cgroup_memory_high_bytes",
            sample.cgroup.and_then(|c| c.high).map(|v| v as f64),
        ),
        (
            "deckd_cgroup_memory_max_bytes",
            sample.cgroup.and_then(|c| c.max).map(|v| v as f64),
        ),
        (
            "deckd_cgroup_memory_pressure_some_avg10",
            sample.cgroup.and_then(|c| c.pressure_some_avg10),
        ),
        ("deckd_disk_used_percent", sample.disk_used_percent),
        (
            "deckd_disk_free_bytes",
            sample.disk_free_bytes.map(|v| v as f64),
        ),
        ("deckd_soc_temperature_celsius", sample.temperature_celsius),
        (
            "deckd_memory_pressure",
            Some(if memory_pressure { 1.0 } else { 0.0 }),
        ),
    ];
    for (name, value) in gauges {
        if let Some(value) = value {
            gauge!(name).set(value);
        }
    }
}
