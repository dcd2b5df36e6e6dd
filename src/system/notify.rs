//! `sd_notify(3)` messages to the service manager. Every function is a no-op when
//! `NOTIFY_SOCKET` is unset, i.e. when deckd is not run by systemd.

use std::future::Future;
use std::time::Duration;

use sd_notify::NotifyState;

/// How far each `EXTEND_TIMEOUT_USEC` pushes systemd's start timeout.
const EXTEND_BY: Duration = Duration::from_secs(30);
/// How often the extension is renewed while slow start-up work runs.
const EXTEND_EVERY: Duration = Duration::from_secs(10);

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "could not notify the service manager");
    }
}

/// `READY=1`: start-up finished, systemd may start units ordered after deckd.
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// `STOPPING=1`: shutdown began, so `systemctl status` says so while requests drain.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// `STATUS=…`: the one line a person sees in `systemctl status deckd`.
pub fn status(line: &str) {
    send(&[NotifyState::Status(line)]);
}

/// `WATCHDOG=1`: only call after a liveness probe succeeded.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// Runs `work` while renewing `EXTEND_TIMEOUT_USEC` with `what` as the status, so slow
/// start-up work on an SD card (a database check, a restore, migrations) is not
/// mistaken for a hung start.
pub async fn extending_start_timeout<F: Future>(what: &str, work: F) -> F::Output {
    let usec = u32::try_from(EXTEND_BY.as_micros()).expect("30 s fits in u32 microseconds");
    let mut ticks = tokio::time::interval(EXTEND_EVERY);
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = ticks.tick() => send(&[NotifyState::ExtendTimeoutUsec(usec), NotifyState::Status(what)]),
        }
    }
}
