//! The systemd watchdog: `WATCHDOG=1` at half of `WATCHDOG_USEC`, each one earned by
//! a passing liveness probe, so a wedged deckd stops pinging and gets restarted.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::notify;
use super::probe::{self, ProbeError};
use crate::store::Db;

/// Upper bound on one probe; a healthy Pi answers in milliseconds.
const MAX_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Ping period when systemd asked for a watchdog (`WatchdogSec=`), else `None`.
pub fn ping_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .map(|timeout| timeout / 2)
        .filter(|every| !every.is_zero())
}

/// Probes every `every` and pings only on success, until shutdown begins.
pub async fn run(db: Db, http: SocketAddr, every: Duration, stop: CancellationToken) {
    let timeout = (every / 2).min(MAX_PROBE_TIMEOUT);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.cancelled() => return,
        }
        match beat(&db, http, timeout, notify::watchdog).await {
            Ok(()) => {
                if failing {
                    tracing::info!("liveness probe passes again; watchdog pings resume");
                    failing = false;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "liveness probe failed; withholding the watchdog ping");
                failing = true;
            }
        }
    }
}

/// One beat: probe, and call `ping` (`WATCHDOG=1` in production) only if it passed.
pub async fn beat(
    db: &Db,
    http: SocketAddr,
    timeout: Duration,
    ping: impl FnOnce(),
) -> Result<(), ProbeError> {
    probe::alive(db, http, timeout).await?;
    ping();
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::config::Config;

    const SHORT: Duration = Duration::from_millis(300);

    /// Answers `200 ok` to every connection, like a healthy accept loop.
    async fn healthy_listener() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut buf = [0u8; 512];
                let _ = conn.read(&mut buf).await;
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn pings_only_when_database_and_listener_both_answer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&Config::for_data_dir(dir.path())).await.unwrap();
        let pings = AtomicUsize::new(0);
        let ping = || {
            pings.fetch_add(1, Ordering::SeqCst);
        };

        beat(&db, healthy_listener().await, SHORT, ping)
            .await
            .unwrap();
        assert_eq!(pings.load(Ordering::SeqCst), 1, "a passing probe pings");

        // A listener whose backlog nobody accepts: what a wedged or SIGSTOPped server looks like.
        let wedged = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = beat(&db, wedged.local_addr().unwrap(), SHORT, ping)
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Timeout(..)), "{err}");
        assert_eq!(
            pings.load(Ordering::SeqCst),
            1,
            "a failing HTTP probe must not ping"
        );

        db.close().await;
        let err = beat(&db, healthy_listener().await, SHORT, ping)
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Database(_)), "{err}");
        assert_eq!(
            pings.load(Ordering::SeqCst),
            1,
            "a database that does not answer must not ping"
        );
    }
}
