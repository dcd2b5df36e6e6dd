//! The actions that change a deckd database, one function each, shared by the add-on
//! handlers in `http/`, the CLI and the web console, so all three run the same checks.
//! Every action takes typed inputs, checks who may do it, runs in one transaction and
//! answers a [`DomainError`], which knows nothing of HTTP.

pub mod backups;
pub mod browse;
pub mod deck_links;
pub mod deck_settings;
pub mod deck_stats;
pub mod decks;
pub mod error;
pub mod invites;
pub mod media;
pub mod notetypes;
pub mod notifications;
pub mod queue;
pub mod review;
pub mod sessions;
pub mod setup;
pub mod stats;
pub mod subscriptions;
pub mod users;
pub mod web_sessions;

pub use error::{DomainError, DomainResult};

/// Who asks for an action: a logged-in account, or the box's administrator at the CLI
/// (who may do anything).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Actor {
    User(crate::store::UserId),
    Admin,
}

/// Lets the box's administrator through: the CLI and the scheduler, or an account
/// marked as an administrator.
async fn require_admin(db: &crate::store::Db, actor: Actor) -> DomainResult<()> {
    match actor {
        Actor::Admin => Ok(()),
        Actor::User(id) => {
            let mut conn = db.reader().acquire().await?;
            if crate::store::users::is_admin(&mut conn, id).await? {
                Ok(())
            } else {
                Err(DomainError::NotAdmin)
            }
        }
    }
}
