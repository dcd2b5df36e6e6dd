//! `deckd healthcheck`: asks the running server's `/readyz` with a tiny HTTP/1.1 client.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use deckd::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Server address to ask (defaults to the configured listen address).
    #[arg(long, env = "DECKD_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

/// A wildcard bind address is reached through loopback.
fn reachable(mut addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => addr.set_ip(Ipv4Addr::LOCALHOST.into()),
        IpAddr::V6(ip) if ip.is_unspecified() => addr.set_ip(Ipv6Addr::LOCALHOST.into()),
        _ => {}
    }
    addr
}

async fn probe(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut answer = Vec::new();
    stream.take(4096).read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

pub async fn run(config: &Config, args: &HealthArgs) -> anyhow::Result<ExitCode> {
    let addr = reachable(args.listen.unwrap_or(config.listen));
    match tokio::time::timeout(Duration::from_secs(args.timeout), probe(addr)).await {
        Ok(Ok(answer)) if answer.starts_with("HTTP/1.1 200") => {
            println!("ready ({addr})");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Ok(answer)) => {
            eprintln!(
                "not ready ({addr}): {}",
                answer.lines().next().unwrap_or("empty answer")
            );
            Ok(ExitCode::FAILURE)
        }
        Ok(Err(e)) => {
            eprintln!("not reachable ({addr}): {e}");
            Ok(ExitCode::FAILURE)
        }
        Err(_) => {
            eprintln!("no answer from {addr} within {} s", args.timeout);
            Ok(ExitCode::FAILURE)
        }
    }
}
