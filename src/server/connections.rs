//! Accepting HTTP/1.1 connections with the defences against slow clients that hyper
//! offers: a header read timeout, which also closes keep-alive connections that stay
//! idle (hyper starts it whenever a connection waits for the next request head), and a
//! cap on open connections so that idle sockets cannot use up the unit's file
//! descriptors, of which one client address gets a share only (see `per_client`).
//! Once requests stop the allocator is trimmed (see `quiet`).
//! Stopping drains connections gracefully; the caller bounds the drain.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

use super::per_client::{self, PerClient};
use crate::store::Db;

/// How the listener treats its clients.
#[derive(Debug)]
pub struct Limits {
    /// Time from waiting for a request head (new or idle connection) to having all of it.
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Connections one client address may hold; more are answered 429 and closed.
    pub per_client: usize,
    /// Addresses not held to `per_client` (the proxies in front).
    pub unlimited: Vec<IpAddr>,
}

/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves `app` until `stop` turns true and answers the handle that drains what is open;
/// `db` is the database whose idle caches are emptied once requests stop.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    db: Db,
    stop: CancellationToken,
) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = PerClient::new(limits.per_client, limits.unlimited);
    let refusals = Arc::new(Semaphore::new(per_client::REFUSALS_ANSWERED));
    let started = Arc::new(AtomicU64::new(0));
    tokio::spawn(super::quiet::trim_when_quiet(
        db,
        started.clone(),
        stop.clone(),
    ));
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
            _ = stop.cancelled() => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let Ok(held) = per_client.admit(peer.ip()) else {
            tracing::debug!(%peer, "refused a connection: the address holds its share already");
            if let Ok(slot) = refusals.clone().try_acquire_owned() {
                tokio::spawn(per_client::refuse(tcp, slot));
            }
            continue;
        };
        let service = match make_service.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let started = started.clone();
        let hyper_service = hyper::service::service_fn(move |req: Request<Incoming>| {
            started.fetch_add(1, Ordering::Relaxed);
            service.clone().oneshot(req)
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(tcp), hyper_service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(held);
            drop(slot);
        });
    }
    tracing::info!(open = graceful.count(), "shutting down: draining requests");
    graceful
}
