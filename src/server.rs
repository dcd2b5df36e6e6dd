//! Running the HTTP server: open the store, bind the routes, serve until shutdown,
//! then drain in-flight requests for a bounded time.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::{self, AppState};
use crate::maintenance::{self, never_under_pressure, Maintenance, MaintenanceStatus};
use crate::media::Media;
use crate::pull::Puller;
use crate::store::Db;

/// Serves on `listener` until `shutdown` resolves; tests pass a port-0 listener.
pub async fn launch(config: Config, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    config.validate()?;
    let _serving = crate::backup::startup::prepare(&config).await?;
    let db = Db::open(&config).await?;
    let media = Media::open(&config)?;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let state = AppState {
        puller: Arc::new(Puller::new(db.clone(), config.pull_cache_bytes)),
        db: db.clone(),
        config: Arc::new(config),
        media,
        maintenance: Arc::new(MaintenanceStatus::default()),
    };
    let scheduler = Maintenance { db: db.clone(), media: state.media.clone(), config: state.config.clone(), status: state.maintenance.clone(), pressure: never_under_pressure() };
    let app = http::router(state);
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, "deckd is serving");

    let (stop_tx, mut stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let jobs = maintenance::spawn(scheduler, stop_rx.clone());
    let mut drain_rx = stop_rx.clone();
    let serve = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
        tracing::info!("shutting down: draining requests");
    });
    let deadline = async move {
        let _ = drain_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = serve => served.context("serving HTTP")?,
        () = deadline => tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway"),
    }
    if tokio::time::timeout(grace, jobs).await.is_err() {
        tracing::warn!("a maintenance job was still running at shutdown");
    }
    db.close().await;
    tracing::info!("deckd stopped");
    Ok(())
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
