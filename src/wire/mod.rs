//! What travels on the wire: the GZB64 envelope, CrowdAnki deck JSON, deck hashes
//! and the add-on's timestamp format.

pub mod crowdanki;
pub(crate) mod deck_hash;
pub mod envelope;
pub mod gzb64;
pub(crate) mod json_guard;
pub mod meter;
pub(crate) mod spool;
pub mod timestamp;
