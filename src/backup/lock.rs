//! Advisory locks (flock) that tell processes apart: the server holds `deckd.pid` in
//! the data directory while it serves (and `deckd restore` holds it while restoring),
//! and a backup holds `.lock` in the backup directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The PID file the server holds locked while serving.
pub const PID_FILE: &str = "deckd.pid";

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Held {
    _lock: Flock<File>,
}

/// Locks `path` (creating it) and writes our PID into it; `Ok(None)` when another process holds it.
pub fn try_lock(path: &Path) -> anyhow::Result<Option<Held>> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut locked) => {
            locked.set_len(0)?;
            locked.rewind()?;
            write!(locked, "{}", std::process::id())?;
            Ok(Some(Held { _lock: locked }))
        }
        Err((_, Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// The PID written in a lock file, if any.
pub fn holder_pid(path: &Path) -> Option<i32> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
