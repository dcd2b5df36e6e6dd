//! The liveness probe behind readiness and the watchdog: the database answers
//! `SELECT 1` and the HTTP accept loop serves a real `GET /healthz`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::store::{self, Db};

/// Why a probe failed; the watchdog logs it and withholds its ping.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("database did not answer: {0}")]
    Database(#[from] sqlx::Error),
    #[error("HTTP listener did not answer: {0}")]
    Http(#[from] std::io::Error),
    #[error("/healthz answered {0:?} instead of 200")]
    BadAnswer(String),
    #[error("{0} did not answer within {1:?}")]
    Timeout(&'static str, Duration),
}

/// Checks both halves; each gets `timeout` on its own.
pub async fn alive(db: &Db, http: SocketAddr, timeout: Duration) -> Result<(), ProbeError> {
    tokio::time::timeout(timeout, store::overview::ping(db))
        .await
        .map_err(|_| ProbeError::Timeout("database", timeout))??;
    http_alive(http, timeout).await
}

/// Connects to our own listener and expects `200` for `GET /healthz`.
pub async fn http_alive(addr: SocketAddr, timeout: Duration) -> Result<(), ProbeError> {
    tokio::time::timeout(timeout, get_healthz(addr))
        .await
        .map_err(|_| ProbeError::Timeout("HTTP listener", timeout))?
}

async fn get_healthz(addr: SocketAddr) -> Result<(), ProbeError> {
    let line = status_line(addr, "/healthz", "deckd-watchdog").await?;
    if is_ok(&line) {
        Ok(())
    } else {
        Err(ProbeError::BadAnswer(line))
    }
}

/// Whether a status line is HTTP/1.x 200.
pub fn is_ok(status_line: &str) -> bool {
    status_line.starts_with("HTTP/1.") && status_line.split(' ').nth(1) == Some("200")
}

/// Asks our own server for `path` over plain HTTP/1.1 and answers its status line (no
/// HTTP client crate in the binary for two probes of our own listener).
pub async fn status_line(addr: SocketAddr, path: &str, agent: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    stream.take(256).read_to_end(&mut head).await?;
    let head = String::from_utf8_lossy(&head);
    Ok(head.lines().next().unwrap_or_default().to_string())
}

/// The address to reach a listener bound to `bound`: wildcard binds are probed on loopback.
pub fn reachable(bound: SocketAddr) -> SocketAddr {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bound.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_listener_that_accepts_but_never_answers_fails_the_probe() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accept and hold connections without ever writing, like a wedged accept loop.
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let err = http_alive(addr, SHORT).await.unwrap_err();
        assert!(matches!(err, ProbeError::Timeout(..)), "{err}");
        holder.abort();
    }

    #[tokio::test]
    async fn a_backlog_nobody_accepts_fails_the_probe() {
        // A bound socket whose owner never calls accept (a SIGSTOPped process looks like this).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = http_alive(listener.local_addr().unwrap(), SHORT)
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Timeout(..)), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_and_a_wrong_status_fail_the_probe() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(
            http_alive(addr, SHORT).await.is_err(),
            "nothing listens any more"
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf).await;
            conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let err = http_alive(addr, SHORT).await.unwrap_err();
        assert!(
            matches!(err, ProbeError::BadAnswer(ref s) if s.contains("503")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_real_200_passes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"GET /healthz HTTP/1.1\r\n"));
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
        });
        http_alive(addr, SHORT).await.unwrap();
    }

    #[test]
    fn wildcard_binds_are_probed_on_loopback() {
        assert_eq!(
            reachable("0.0.0.0:80".parse().unwrap()),
            "127.0.0.1:80".parse().unwrap()
        );
        assert_eq!(
            reachable("[::]:80".parse().unwrap()),
            "[::1]:80".parse().unwrap()
        );
        assert_eq!(
            reachable("10.0.0.2:80".parse().unwrap()),
            "10.0.0.2:80".parse().unwrap()
        );
    }
}
