//! `deckd deck …`

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use deckd::store::{self, Db};
use deckd::wire::timestamp;

#[derive(Debug, Subcommand)]
pub enum DeckCommand {
    /// Root decks with owner, note count, pending suggestions and subscribers.
    List,
    /// Co-maintainers (may auto-approve and publish changelogs).
    #[command(subcommand)]
    Maintainer(MaintainerCommand),
    /// Mark a notetype field protected: subscribers keep their own content there.
    Protect {
        hash: String,
        notetype: String,
        field: String,
        /// Remove the protection instead.
        #[arg(long)]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MaintainerCommand {
    Add { hash: String, user: String },
    Remove { hash: String, user: String },
}

pub async fn run(db: &Db, cmd: DeckCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DeckCommand::List => {
            let mut conn = db.reader().acquire().await?;
            for d in store::decks::list_roots(&mut conn).await? {
                println!(
                    "{}\t{}\towner={}\tnotes={}\tpending={}\tsubscribers={}\tupdated={}",
                    d.hash,
                    d.name,
                    d.owner,
                    d.notes,
                    d.pending,
                    d.subscribers,
                    timestamp::rfc3339(d.last_update)
                );
            }
        }
        DeckCommand::Maintainer(cmd) => {
            let (hash, user, add) = match &cmd {
                MaintainerCommand::Add { hash, user } => (hash, user, true),
                MaintainerCommand::Remove { hash, user } => (hash, user, false),
            };
            let name = deckd::accounts::normalize_username(user)?;
            let mut tx = db.begin_write().await?;
            let deck = store::decks::by_hash(&mut tx, hash)
                .await?
                .with_context(|| format!("no deck {hash}"))?;
            let u = store::users::by_name(&mut tx, &name)
                .await?
                .with_context(|| format!("no user {name}"))?;
            let changed = if add {
                store::decks::add_maintainer(&mut tx, deck.id, u.id).await?
            } else {
                store::decks::remove_maintainer(&mut tx, deck.id, u.id).await?
            };
            tx.commit().await?;
            let verb = if add {
                "maintains"
            } else {
                "no longer maintains"
            };
            let note = if changed { "" } else { " (unchanged)" };
            println!("{name} {verb} {}{note}", deck.name);
        }
        DeckCommand::Protect {
            hash,
            notetype,
            field,
            off,
        } => {
            let mut tx = db.begin_write().await?;
            let deck = store::decks::by_hash(&mut tx, &hash)
                .await?
                .with_context(|| format!("no deck {hash}"))?;
            let nt = store::notetypes::by_name(&mut tx, deck.owner, &notetype)
                .await?
                .with_context(|| format!("the deck owner has no notetype named {notetype:?}"))?;
            anyhow::ensure!(
                store::notetypes::set_protected(&mut tx, nt, &field, !off).await?,
                "notetype {notetype:?} has no field {field:?}"
            );
            store::decks::bump_with_ancestors(&mut tx, deck.id, store::now_micros()).await?;
            tx.commit().await?;
            println!(
                "field {field:?} of {notetype:?} is {}protected",
                if off { "no longer " } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
