//! `deckd healthcheck`: asks the running server's `/readyz` through the watchdog's probe.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use deckd::system::probe;
use deckd::Config;

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Server address to ask (defaults to the configured listen address).
    #[arg(long, env = "DECKD_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

pub async fn run(config: &Config, args: &HealthArgs) -> anyhow::Result<ExitCode> {
    let addr = probe::reachable(args.listen.unwrap_or(config.listen));
    let asked = probe::status_line(addr, "/readyz", "deckd-healthcheck");
    match tokio::time::timeout(Duration::from_secs(args.timeout), asked).await {
        Ok(Ok(line)) if probe::is_ok(&line) => {
            println!("ready ({addr})");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Ok(line)) => {
            let line = if line.is_empty() {
                "empty answer"
            } else {
                &line
            };
            eprintln!("not ready ({addr}): {line}");
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
