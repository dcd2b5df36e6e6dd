//! Running a deck: changelogs, co-maintainers, protected fields, review statistics.

use super::{users, Actor, DomainError, DomainResult};
use crate::store::{self, decks::Deck, Conn, Db, Micros};
use crate::wire::deck_hash;

/// Longest changelog kept, in characters (the console's form allows as many): every
/// subscriber's add-on receives and shows it.
const MAX_CHANGELOG: usize = 20_000;

/// Refuses what cannot be a deck hash, before any lookup.
pub fn check_hash(hash: &str) -> DomainResult<()> {
    if deck_hash::is_valid(hash) {
        Ok(())
    } else {
        Err(DomainError::InvalidHash(hash.to_string()))
    }
}

/// The deck a hash names.
pub async fn by_hash(conn: &mut Conn, hash: &str) -> DomainResult<Deck> {
    check_hash(hash)?;
    store::decks::by_hash(conn, hash)
        .await?
        .ok_or_else(|| DomainError::NoDeck(hash.to_string()))
}

/// Refuses an account that neither owns nor maintains `deck` (or an ancestor of it).
pub(super) async fn check_maintainer(
    conn: &mut Conn,
    actor: Actor,
    deck: &Deck,
) -> DomainResult<()> {
    match actor {
        Actor::Admin => Ok(()),
        Actor::User(id) if store::decks::can_maintain(conn, deck.id, id).await? => Ok(()),
        Actor::User(_) => Err(DomainError::NotMaintainer),
    }
}

/// Refuses an account that does not own `deck`.
fn check_owner(actor: Actor, deck: &Deck) -> DomainResult<()> {
    match actor {
        Actor::User(id) if id != deck.owner => Err(DomainError::NotOwner),
        _ => Ok(()),
    }
}

/// Publishes a changelog message (sanitised HTML) that subscribers see on their next pull,
/// also when no card changed: the deck's clock moves so the pull makes an entry for it.
pub async fn add_changelog(db: &Db, actor: Actor, hash: &str, text: &str) -> DomainResult<()> {
    check_hash(hash)?;
    if text.chars().count() > MAX_CHANGELOG {
        return Err(DomainError::Invalid(anyhow::anyhow!(
            "The changelog is longer than {MAX_CHANGELOG} characters"
        )));
    }
    let message = crate::ingest::sanitize::html(text.trim());
    if message.is_empty() {
        return Err(DomainError::EmptyChangelog);
    }
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    let now = Micros::now();
    store::changelogs::insert(&mut tx, deck.id, &message, now).await?;
    store::decks::bump_with_ancestors(&mut tx, deck.id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// What [`set_maintainer`] did.
#[derive(Debug)]
pub struct MaintainerChange {
    pub user: String,
    pub deck: String,
    /// False when the account already was (or already was not) a maintainer.
    pub changed: bool,
}

/// Makes `user` a co-maintainer of the deck (or no longer one); only its owner may.
pub async fn set_maintainer(
    db: &Db,
    actor: Actor,
    hash: &str,
    user: &str,
    maintains: bool,
) -> DomainResult<MaintainerChange> {
    let name = users::username(user)?;
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    check_owner(actor, &deck)?;
    let u = store::users::by_name(&mut tx, &name)
        .await?
        .ok_or_else(|| DomainError::NoUser(name.clone()))?;
    let changed = if maintains {
        store::decks::add_maintainer(&mut tx, deck.id, u.id).await?
    } else {
        store::decks::remove_maintainer(&mut tx, deck.id, u.id).await?
    };
    tx.commit().await?;
    Ok(MaintainerChange {
        user: name,
        deck: deck.name,
        changed,
    })
}

/// Protects a notetype field (subscribers keep their own content there) or lifts it; the
/// deck is bumped so its subscribers get the new list on their next pull.
pub async fn set_protected(
    db: &Db,
    actor: Actor,
    hash: &str,
    notetype: &str,
    field: &str,
    protected: bool,
) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    let nt = store::notetypes::by_name(&mut tx, deck.owner, notetype)
        .await?
        .ok_or_else(|| DomainError::NoNotetype(notetype.to_string()))?;
    if !store::notetypes::set_protected(&mut tx, nt, field, protected).await? {
        return Err(DomainError::NoField {
            notetype: notetype.to_string(),
            field: field.to_string(),
        });
    }
    store::decks::bump_with_ancestors(&mut tx, deck.id, Micros::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Asks subscribers for review statistics of the whole tree (or stops asking); the
/// tree's owner and its maintainers may. Answers false when it already was so.
pub async fn set_stats(db: &Db, actor: Actor, hash: &str, on: bool) -> DomainResult<bool> {
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    let root = match deck.parent {
        None => deck,
        Some(_) => store::decks::by_id(&mut tx, deck.root)
            .await?
            .ok_or_else(|| DomainError::NoDeck(hash.to_string()))?,
    };
    check_maintainer(&mut tx, actor, &root).await?;
    let changed = store::decks::set_stats_enabled(&mut tx, root.id, on, Micros::now()).await?;
    tx.commit().await?;
    Ok(changed)
}
