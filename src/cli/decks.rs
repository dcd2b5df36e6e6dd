//! `deckd deck …`

use std::process::ExitCode;

use clap::Subcommand;
use deckd::domain::{self, Actor};
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
    /// Ask subscribers to share review statistics of the deck tree (`on`), or stop (`off`);
    /// uploads for a deck that does not ask are dropped.
    Stats { hash: String, switch: Switch },
}

/// A setting turned on or off.
#[derive(Debug, Clone, PartialEq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
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
            let done = domain::decks::set_maintainer(db, Actor::Admin, hash, user, add).await?;
            let verb = if add {
                "maintains"
            } else {
                "no longer maintains"
            };
            let note = if done.changed { "" } else { " (unchanged)" };
            println!("{} {verb} {}{note}", done.user, done.deck);
        }
        DeckCommand::Protect {
            hash,
            notetype,
            field,
            off,
        } => {
            domain::decks::set_protected(db, Actor::Admin, &hash, &notetype, &field, !off).await?;
            println!(
                "field {field:?} of {notetype:?} is {}protected",
                if off { "no longer " } else { "" }
            );
        }
        DeckCommand::Stats { hash, switch } => {
            let on = switch == Switch::On;
            let changed = domain::decks::set_stats(db, Actor::Admin, &hash, on).await?;
            let state = if on {
                "asks subscribers for review statistics"
            } else {
                "no longer asks for review statistics"
            };
            let note = if changed { "" } else { " (unchanged)" };
            println!("deck {hash} {state}{note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
