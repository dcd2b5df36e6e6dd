//! Where log lines go: natively to journald (structured fields, priorities) when
//! stderr is connected to the journal, else human-readable lines on stderr (coloured
//! only on a terminal, so a redirected log holds no escape codes).

use std::io::IsTerminal;

use systemd_journal_logger::JournalLog;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use super::journal::JournalLayer;
use crate::config::Config;

/// Installs the global subscriber; `RUST_LOG` overrides `log_level`. Records of the
/// `log` crate are bridged into the same sink.
pub fn init(config: &Config) {
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    if systemd_journal_logger::connected_to_journal() {
        match JournalLog::new() {
            Ok(journal) => {
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(JournalLayer::new(journal))
                    .try_init();
                return;
            }
            Err(e) => eprintln!("deckd: cannot reach journald ({e}); logging to stderr"),
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
