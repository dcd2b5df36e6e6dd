//! Running the HTTP server: open the store, bind the routes, tell systemd when it is
//! really ready, keep the watchdog and the monitor going, serve until shutdown (with
//! timeouts for slow clients), then drain in-flight requests for a bounded time.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::backup::background::Background;
use crate::bootstrap::Archives;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::maintenance::{self, Maintenance, MaintenanceStatus};
use crate::media::Media;
use crate::pull::Puller;
use crate::store::Db;
use crate::system::lifecycle::Run;
use crate::system::vitals::Vitals;
use crate::system::{monitor, notify, probe, prometheus, readiness, watchdog};

mod connections;
mod per_client;
mod quiet;

/// Serves on `listener` until `shutdown` resolves; tests pass a port-0 listener.
pub async fn launch(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.validate()?;
    let _serving = notify::extending_start_timeout(
        "checking the database",
        crate::backup::startup::prepare(&config),
    )
    .await?;
    let run = Arc::new(Run::begin(&config.data_dir));
    let served = serve(config, listener, shutdown, run.clone()).await;
    run.end();
    served
}

/// Everything after the server lock is held and the run recorded: open, serve, drain.
async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    run: Arc<Run>,
) -> anyhow::Result<()> {
    let db =
        notify::extending_start_timeout("applying database migrations", Db::open(&config)).await?;
    let media = Media::open(&config)?;
    if let Err(e) = crate::media::leftovers::sweep(&config) {
        tracing::warn!(
            error = format!("{e:#}"),
            "could not remove the temporary files of an interrupted run"
        );
    }
    let metrics = match config.metrics_listen {
        Some(addr) => Some(prometheus::Endpoint::bind(addr).await?),
        None => None,
    };
    let grace = config.shutdown_grace_secs;
    if let Some(token) = crate::domain::setup::pending_token(&db, &config.data_dir).await? {
        tracing::warn!(
            setup_token = %token,
            "no account exists yet: open the console in a browser and create the administrator with this setup token (`deckd setup-token` prints it again)"
        );
    }
    let stop = CancellationToken::new();
    let maintenance = Arc::new(MaintenanceStatus::default());
    let puller = Puller::new(db.clone(), config.pull_cache_bytes);
    let archives = Archives::open(&config, db.clone(), media.clone(), puller.unfilled())?;
    let state = AppState {
        stop: stop.clone(),
        live_pages: Arc::default(),
        puller: Arc::new(puller.with_archives(archives.clone())),
        archives,
        decoding: crate::wire::meter::Pool::new(config.decode_memory_bytes),
        db: db.clone(),
        config: Arc::new(config),
        media,
        vitals: Arc::new(Vitals::default()),
        maintenance: maintenance.clone(),
        history: Arc::default(),
        run,
        backup: Arc::new(Background::new(maintenance, stop.clone())),
    };
    let vitals = state.vitals.clone();
    let scheduler = Maintenance {
        db: db.clone(),
        media: state.media.clone(),
        config: state.config.clone(),
        status: state.maintenance.clone(),
        pressure: Arc::new(move || vitals.under_memory_pressure()),
    };
    let app = http::router(state.clone());
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, "deckd is serving");

    let stopper = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        notify::stopping();
        stopper.cancel();
    });
    let tasks = TaskTracker::new();
    spawn_companions(&tasks, &state, addr, metrics, &stop);
    tasks.spawn(crate::pull::fill::run(
        db.clone(),
        state.puller.unfilled(),
        stop.clone(),
    ));
    if let Some(archives) = &state.archives {
        tasks.spawn(archives.clone().run(stop.clone()));
    }
    tasks.close();
    let jobs = maintenance::spawn(scheduler, stop.clone());
    let limits = connections::Limits {
        header_read_timeout: state.config.header_read_timeout_secs,
        max_connections: state.config.max_connections,
        per_client: state.config.max_connections_per_client,
        unlimited: state.config.trusted_proxies.clone(),
    };
    let open = connections::serve(listener, app, limits, db.clone(), stop).await;
    if tokio::time::timeout(grace, open.shutdown()).await.is_err() {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "requests still running after the grace period; stopping anyway"
        );
    }
    if tokio::time::timeout(grace, jobs).await.is_err() {
        tracing::warn!("a maintenance job was still running at shutdown");
    }
    if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
        tracing::warn!("a background task was still running at shutdown");
    }
    db.close().await;
    tracing::info!("deckd stopped");
    Ok(())
}

/// Readiness, watchdog, resource monitor and the optional metrics listener; all end at
/// shutdown, and the database closes only once they have.
fn spawn_companions(
    tasks: &TaskTracker,
    state: &AppState,
    addr: SocketAddr,
    metrics: Option<prometheus::Endpoint>,
    stop: &CancellationToken,
) {
    let http = probe::reachable(addr);
    tasks.spawn(readiness::announce(state.db.clone(), http, stop.clone()));
    if let Some(every) = watchdog::ping_interval() {
        tracing::info!(
            every_ms = every.as_millis() as u64,
            "systemd watchdog enabled"
        );
        tasks.spawn(watchdog::run(state.db.clone(), http, every, stop.clone()));
    }
    tasks.spawn(monitor::run(state.clone(), stop.clone()));
    if let Some(endpoint) = metrics {
        let stop = stop.clone();
        tasks.spawn(async move {
            if let Err(e) = endpoint.serve(stop).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
