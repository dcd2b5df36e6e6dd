//! `deckd backup now|list` and `deckd restore BACKUP`.
//!
//! `restore` must not run under a live server: it takes the server's lock file
//! (`<data_dir>/deckd.pid`, held with flock while deckd serves). If the lock is held it
//! refuses, unless `--stop` is given, which sends SIGTERM to the PID in that file and
//! waits for the lock. The lock is kept for the whole restore, so a server started
//! meanwhile (e.g. by systemd) refuses to start instead of reading a half-restored
//! database. Under systemd prefer `systemctl stop deckd` first.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use deckd::backup::lock::{holder_pid, try_lock, Held, PID_FILE};
use deckd::config::Config;
use deckd::domain::{self, Actor};
use deckd::store::Db;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a verified backup now (safe while the server runs).
    Now,
    /// List backups: time, size, media and whether they verified.
    List,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Backup folder name (from `deckd backup list`) or path.
    backup: String,
    /// Stop a running server (SIGTERM to the PID in deckd.pid) before restoring.
    #[arg(long)]
    stop: bool,
}

/// How long `--stop` waits for the server to exit.
const STOP_WAIT: Duration = Duration::from_secs(60);

fn bar() -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg:24} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

pub async fn run(config: &Config, cmd: BackupCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BackupCommand::Now => {
            let db = Db::open(config).await?;
            let pb = bar();
            let result = domain::backups::take(
                &db,
                config,
                Actor::Admin,
                &pb,
                Arc::new(AtomicBool::new(false)),
            )
            .await;
            pb.finish_and_clear();
            db.close().await;
            let r = result?;
            println!(
                "backup {} in {}: database {} bytes, {} media files ({} bytes), {} added to the pool; pruned {} old backups",
                r.name,
                config.backup_path().display(),
                r.database_bytes,
                r.media_files,
                r.media_bytes,
                r.media_added,
                r.pruned.backups.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::List => {
            let db = Db::open(config).await?;
            let listed = domain::backups::list(&db, config, Actor::Admin).await;
            db.close().await;
            println!(
                "{:<24} {:<26} {:>14} {:>8} {:>14}  verified",
                "name", "time", "db bytes", "media", "media bytes"
            );
            for b in listed? {
                match &b.manifest {
                    Some(m) => println!(
                        "{:<24} {:<26} {:>14} {:>8} {:>14}  {}",
                        b.name,
                        m.created_at,
                        m.database_bytes,
                        m.media.len(),
                        m.media_bytes,
                        if b.is_good() { "yes" } else { "NO" }
                    ),
                    None => println!(
                        "{:<24} {:<26} {:>14} {:>8} {:>14}  NO (incomplete)",
                        b.name, "-", "-", "-", "-"
                    ),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&config.data_dir)?;
    let lock = server_lock(config, args.stop).await?;
    let pb = bar();
    let result = domain::backups::restore(config, Actor::Admin, &args.backup, &lock, &pb).await;
    pb.finish_and_clear();
    let done = result?;
    println!("restored {} and verified it", done.backup.display());
    if let Some(aside) = done.aside {
        println!("the previous database was kept in {}", aside.display());
    }
    println!(
        "{} media files were brought back from the backup",
        done.media_restored
    );
    Ok(ExitCode::SUCCESS)
}

/// Takes the server lock, stopping the server first when asked to.
async fn server_lock(config: &Config, stop: bool) -> anyhow::Result<Held> {
    let path = config.data_dir.join(PID_FILE);
    if let Some(held) = try_lock(&path)? {
        return Ok(held);
    }
    let pid = holder_pid(&path);
    let Some(pid) = pid.filter(|_| stop) else {
        anyhow::bail!(
            "deckd is running on {} (PID {}); stop it first (systemctl stop deckd) or pass --stop",
            config.data_dir.display(),
            pid.map_or("unknown".into(), |p| p.to_string())
        );
    };
    eprintln!("stopping the running server (PID {pid})…");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .with_context(|| format!("sending SIGTERM to PID {pid}"))?;
    let start = Instant::now();
    while start.elapsed() < STOP_WAIT {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(held) = try_lock(&path)? {
            return Ok(held);
        }
    }
    anyhow::bail!(
        "the server (PID {pid}) did not stop within {} s",
        STOP_WAIT.as_secs()
    )
}
