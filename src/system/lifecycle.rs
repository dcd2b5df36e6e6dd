//! Why this process started, for the console's dashboard. The data directory keeps one
//! tiny file, `run-state`, written once at start (`running <version>`) and once at a
//! clean stop (`stopped <version>`). Found saying `running`, the previous run never
//! stopped cleanly: it crashed, was killed (the watchdog's SIGABRT too) or lost power.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The file in the data directory.
pub const FILE: &str = "run-state";

/// This build's version, recorded in [`FILE`].
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How the previous run of this data directory ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restart {
    /// No previous run recorded: the first start (or the first of a deckd that records runs).
    First,
    /// The previous run, of this version, stopped cleanly.
    Clean,
    /// The previous run, of this version, never stopped cleanly.
    Killed,
    /// The previous run was another version; `clean` tells how it stopped.
    Upgrade { from: String, clean: bool },
}

impl Restart {
    /// What the dashboard says about the last restart.
    pub fn describe(&self) -> String {
        match self {
            Restart::First => "first start".to_string(),
            Restart::Clean => "clean stop and start".to_string(),
            Restart::Killed => "killed (crash, watchdog or power loss)".to_string(),
            Restart::Upgrade { from, clean: true } => format!("upgrade from {from}"),
            Restart::Upgrade { from, clean: false } => format!(
                "upgrade from {from}; that version was killed (crash, watchdog or power loss)"
            ),
        }
    }

    /// Judges the previous run's record against this build's version.
    fn from_record(record: Option<&str>) -> Self {
        let mut words = record.unwrap_or_default().split_whitespace();
        let (state, version) = (words.next(), words.next());
        let clean = state == Some("stopped");
        match version {
            None => Restart::First,
            Some(v) if v != VERSION => Restart::Upgrade {
                from: v.to_string(),
                clean,
            },
            Some(_) if clean => Restart::Clean,
            Some(_) => Restart::Killed,
        }
    }
}

/// This run of the server: when it started and how the previous one ended.
#[derive(Debug)]
pub struct Run {
    started: Instant,
    pub restart: Restart,
    path: PathBuf,
}

impl Run {
    /// Reads the previous run's record and writes this run's `running` line.
    pub fn begin(data_dir: &Path) -> Self {
        let path = data_dir.join(FILE);
        let record = std::fs::read_to_string(&path).ok();
        let restart = Restart::from_record(record.as_deref());
        write(&path, "running");
        match &restart {
            Restart::Killed | Restart::Upgrade { clean: false, .. } => {
                tracing::warn!(restart = %restart.describe(), "the previous run did not stop cleanly")
            }
            _ => tracing::info!(restart = %restart.describe(), "starting"),
        }
        Self {
            started: Instant::now(),
            restart,
            path,
        }
    }

    /// Records a clean stop.
    pub fn end(&self) {
        write(&self.path, "stopped");
    }

    /// Time since this run began.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Replaces the record durably (a new file renamed over the old one); a failure is
/// only logged, since the dashboard is all that needs it.
fn write(path: &Path, state: &str) {
    let tmp = path.with_extension("tmp");
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{state} {VERSION}\n").as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        tracing::warn!(file = %path.display(), error = %e, "could not record the run state");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_first_clean_killed_and_upgrade_apart() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Run::begin(dir.path()).restart, Restart::First);
        let run = Run::begin(dir.path());
        assert_eq!(run.restart, Restart::Killed, "never ended");
        run.end();
        assert_eq!(Run::begin(dir.path()).restart, Restart::Clean);
        std::fs::write(dir.path().join(FILE), "stopped 0.0.1\n").unwrap();
        assert_eq!(
            Run::begin(dir.path()).restart,
            Restart::Upgrade {
                from: "0.0.1".into(),
                clean: true
            }
        );
        std::fs::write(dir.path().join(FILE), "running 0.0.1\n").unwrap();
        assert_eq!(
            Run::begin(dir.path()).restart.describe(),
            "upgrade from 0.0.1; that version was killed (crash, watchdog or power loss)"
        );
    }
}
