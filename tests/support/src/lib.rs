//! Helpers shared by deckd's integration tests (`tests/suite/`, `tests/*.rs`), which use the crate as
//! `use deckd_testkit as common;`.
//!
//! Every test starts its own [`TestServer`]: a fresh temporary data directory, a
//! port-0 listener on 127.0.0.1 and `deckd::launch` running on a dedicated thread
//! with its own tokio runtime (so blocking CLI invocations from the test never stall
//! the server). Tests that need the real binary as a process use [`spawned::Deckd`].
//! Helpers speak the wire protocol of docs/protocol.md.

pub mod cli;
pub mod clock;
pub mod console;
pub mod fixtures;
pub mod inspect;
pub mod media;
pub mod notetypes;
pub mod server;
pub mod spawned;
pub mod wire;

pub use cli::*;
pub use clock::*;
pub use fixtures::*;
pub use inspect::*;
pub use server::*;
pub use wire::*;
