//! Living under systemd on a small board: readiness and watchdog notifications,
//! journald logging, the resource monitor, metrics, and the root check.

pub mod allocator;
pub(crate) mod journal;
pub mod lifecycle;
pub mod logging;
pub(crate) mod monitor;
pub(crate) mod notify;
pub mod probe;
pub(crate) mod prometheus;
pub(crate) mod readiness;
pub mod root;
pub(crate) mod status;
pub(crate) mod traffic;
pub(crate) mod vitals;
pub(crate) mod watchdog;
