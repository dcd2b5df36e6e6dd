//! `deckd media …`

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use deckd::config::Config;
use deckd::domain::Actor;
use deckd::media::Media;
use deckd::store::Db;

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Remove media files no live note has used for the grace period.
    Gc {
        /// Grace period in hours (default: the `media_gc_grace_hours` setting).
        #[arg(long, value_name = "HOURS")]
        grace_hours: Option<u64>,
    },
    /// Print the path of a stored image's preview, making it if needed (for review pages).
    Thumbnail { hash: String },
}

pub async fn run(db: &Db, config: &Config, cmd: MediaCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MediaCommand::Gc { grace_hours } => {
            let media = Media::open(config)?;
            let grace = grace_hours.map_or(config.media_gc_grace_hours, |h| {
                Duration::from_secs(h.saturating_mul(3600))
            });
            let r = deckd::domain::media::gc(db, &media, Actor::Admin, grace).await?;
            println!(
                "removed {} files ({} bytes); {} newly unused, {} used again; {} stale uploads and {} stray files swept",
                r.removed_files, r.removed_bytes, r.newly_orphaned, r.revived, r.stale_uploads, r.stray_files
            );
            Ok(ExitCode::SUCCESS)
        }
        MediaCommand::Thumbnail { hash } => {
            match Media::open(config)?.thumbnail(db, &hash).await? {
                Some(path) => {
                    println!("{}", path.display());
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("{hash} is not an image; only images have previews");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
