//! `READY=1` only once deckd really serves: migrations have run (launch awaits them
//! first) and the probe got an answer from the database and from our own listener.

use std::net::SocketAddr;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{notify, probe};
use crate::store::Db;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const RETRY_AFTER: Duration = Duration::from_millis(50);

/// Probes until the server answers, then tells systemd it is ready; gives up on shutdown.
pub async fn announce(db: Db, http: SocketAddr, stop: CancellationToken) {
    loop {
        match probe::alive(&db, http, PROBE_TIMEOUT).await {
            Ok(()) => {
                notify::ready();
                let setup = match crate::store::overview::read(&db).await {
                    Ok(o) if o.users == 0 => format!("{}; ", super::status::SETUP_PENDING),
                    _ => String::new(),
                };
                notify::status(&format!("{setup}ready, serving on {http}"));
                tracing::info!(%http, "ready");
                return;
            }
            Err(e) => tracing::debug!(error = %e, "not ready yet"),
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_AFTER) => {}
            _ = stop.cancelled() => return,
        }
    }
}
