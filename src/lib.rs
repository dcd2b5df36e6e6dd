//! deckd: a self-hosted server for collaborative Anki decks that speaks the AnkiCollab
//! add-on's wire protocol, on one SQLite file.

pub(crate) mod accounts;
pub mod backup;
pub(crate) mod bootstrap;
pub mod config;
pub(crate) mod console;
pub mod domain;
pub(crate) mod error;
pub(crate) mod http;
pub mod ingest;
pub mod maintenance;
pub mod media;
pub(crate) mod pull;
pub mod server;
pub(crate) mod shares;
pub mod store;
pub mod system;
pub mod wire;

pub use config::Config;
pub use server::launch;
