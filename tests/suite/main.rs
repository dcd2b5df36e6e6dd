//! deckd's integration tests as one test binary: real HTTP on port-0 listeners, real
//! SQLite files and the real `deckd` binary. One binary links deckd and its
//! dependencies once instead of once per file, which is most of the suite's build
//! time. Run one file's tests with `cargo test --test suite <file>::`.
//!
//! Three files stay test binaries of their own because they depend on their process:
//! `tests/fuzz_decoders.rs` and `tests/svg_sanitize.rs` measure its peak memory, which
//! other tests running beside them would inflate, and `tests/metrics.rs` installs the
//! process-wide metrics recorder, whose gauges every in-process server would then set.

mod auth_flow;
mod backup;
mod bad_input;
mod binary_layout;
mod bootstrap_archive;
mod cli;
mod concurrency;
mod console_access;
mod console_attacks;
mod console_dashboard;
mod console_decks;
mod console_review;
mod console_settings;
mod console_stats;
mod crash_loop;
mod deck_links;
mod disk_full;
mod domain_admin;
mod domain_review;
mod forwarded;
mod hostile_memory;
mod http_plumbing;
mod layering;
mod maintenance;
mod media_flow;
mod media_gc;
mod media_refusals;
mod media_rights;
mod never_401;
mod notetype_push;
mod notifications;
mod pressure;
mod pull_equivalence;
mod pull_rules;
mod sanitize;
mod slow_clients;
mod suggestion_privacy;
mod systemd_notify;
mod two_user_scenario;
mod unit_file;
mod wire_vectors;
