//! Living under systemd on a small board: readiness and watchdog notifications,
//! journald logging, the resource monitor, metrics, and the root check.

pub mod allocator;
pub mod journal;
pub mod logging;
pub mod monitor;
pub mod notify;
pub mod probe;
pub mod prometheus;
pub mod readiness;
pub mod root;
pub mod status;
pub mod vitals;
pub mod watchdog;
