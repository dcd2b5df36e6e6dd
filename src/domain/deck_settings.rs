//! A deck's settings page: description, maintainers, protected fields, optional tag
//! groups, changelogs, deck links, and deleting the deck. Each change that subscribers must learn
//! about moves the deck's clock so their next pull carries it.

use std::collections::HashSet;

use super::decks::{by_hash, check_maintainer};
use super::{Actor, DomainError, DomainResult};
use crate::ingest::sanitize;
use crate::store::changelogs::Changelog;
use crate::store::deck_links::Link;
use crate::store::decks::Deck;
use crate::store::notetypes::Notetype;
use crate::store::{self, Db, Micros, NotetypeId};

/// Changelogs a settings page lists.
const CHANGELOGS_SHOWN: i64 = 50;
/// Longest description kept, in bytes.
const MAX_DESCRIPTION: usize = 20_000;
/// Longest optional tag group name.
const MAX_GROUP: usize = 64;

/// Everything the settings page shows.
pub struct Settings {
    pub deck: Deck,
    pub is_owner: bool,
    pub maintainers: Vec<String>,
    pub notetypes: Vec<Notetype>,
    pub tag_groups: Vec<String>,
    pub changelogs: Vec<Changelog>,
    /// The base decks the decks of this tree are linked to.
    pub links: Vec<Link>,
}

fn invalid(message: String) -> DomainError {
    DomainError::Invalid(anyhow::anyhow!(message))
}

/// The root deck a hash names; subdecks have no settings page of their own.
async fn root(conn: &mut store::Conn, hash: &str) -> DomainResult<Deck> {
    let deck = by_hash(conn, hash).await?;
    if deck.parent.is_some() || deck.pending_commit.is_some() {
        return Err(DomainError::NoDeck(hash.to_string()));
    }
    Ok(deck)
}

/// The settings of a deck, for its owner and maintainers.
pub async fn settings(db: &Db, actor: Actor, hash: &str) -> DomainResult<Settings> {
    let mut conn = db.reader().acquire().await?;
    let deck = root(&mut conn, hash).await?;
    check_maintainer(&mut conn, actor, &deck).await?;
    let ids = store::notetypes::ids_in_tree(&mut conn, deck.id).await?;
    Ok(Settings {
        is_owner: match actor {
            Actor::Admin => true,
            Actor::User(id) => id == deck.owner,
        },
        maintainers: store::decks::maintainers(&mut conn, deck.id).await?,
        notetypes: store::notetypes::load(&mut conn, &ids).await?,
        tag_groups: store::decks::optional_tag_groups(&mut conn, deck.id).await?,
        changelogs: store::changelogs::list(&mut conn, deck.id, CHANGELOGS_SHOWN).await?,
        links: store::deck_links::of_tree(&mut conn, deck.id).await?,
        deck,
    })
}

/// Sets the deck's description (cleaned HTML); subscribers' add-ons take it on their
/// next pull.
pub async fn set_description(db: &Db, actor: Actor, hash: &str, text: &str) -> DomainResult<()> {
    if text.len() > MAX_DESCRIPTION {
        return Err(invalid(format!(
            "The description is longer than {MAX_DESCRIPTION} bytes"
        )));
    }
    let text = sanitize::html(text.trim());
    let mut tx = db.begin_write().await?;
    let deck = root(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    if deck.description != text {
        store::decks::set_description(&mut tx, deck.id, &text).await?;
        store::decks::bump_with_ancestors(&mut tx, deck.id, Micros::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets which fields of a notetype the deck's subscribers keep their own content in.
pub async fn set_protected_fields(
    db: &Db,
    actor: Actor,
    hash: &str,
    notetype: NotetypeId,
    protected: &HashSet<String>,
) -> DomainResult<bool> {
    let mut tx = db.begin_write().await?;
    let deck = root(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    if !store::notetypes::used_in_tree(&mut tx, deck.id, notetype).await? {
        return Err(DomainError::NotetypeNotInDeck(notetype));
    }
    super::notetypes::check_may_change(&mut tx, actor, notetype).await?;
    let fields = store::notetypes::fields(&mut tx, notetype).await?;
    if let Some(unknown) = protected
        .iter()
        .find(|name| !fields.iter().any(|f| &f.name == *name))
    {
        return Err(DomainError::NoField {
            notetype: notetype.to_string(),
            field: unknown.clone(),
        });
    }
    let mut changed = false;
    for f in &fields {
        let on = protected.contains(&f.name);
        if f.protected != on {
            store::notetypes::set_protected(&mut tx, notetype, &f.name, on).await?;
            changed = true;
        }
    }
    if changed {
        store::decks::bump_with_ancestors(&mut tx, deck.id, Micros::now()).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// A tag group name the add-on can carry in `AnkiCollab_Optional::<group>` tags.
fn group_name(group: &str) -> DomainResult<String> {
    let group = group.trim();
    if group.is_empty()
        || group.chars().count() > MAX_GROUP
        || group.contains("::")
        || group.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(format!(
            "An optional tag group name is 1 to {MAX_GROUP} characters without spaces or ::"
        )));
    }
    Ok(group.to_string())
}

/// Registers an optional tag group (or removes one); subscribers choose the groups they
/// want on their next pull.
pub async fn set_tag_group(
    db: &Db,
    actor: Actor,
    hash: &str,
    group: &str,
    on: bool,
) -> DomainResult<bool> {
    let group = group_name(group)?;
    let mut tx = db.begin_write().await?;
    let deck = root(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    let changed = store::decks::set_optional_tag_group(&mut tx, deck.id, &group, on).await?;
    if changed {
        store::decks::bump_with_ancestors(&mut tx, deck.id, Micros::now()).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Sets whether suggestions may create subdecks and bring new notetypes (the owner's and
/// maintainers' own pushes always may).
pub async fn set_restrictions(
    db: &Db,
    actor: Actor,
    hash: &str,
    no_new_subdecks: bool,
    no_new_notetypes: bool,
) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let deck = root(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    store::decks::set_restrictions(&mut tx, deck.id, no_new_subdecks, no_new_notetypes).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a changelog message; subscribers who have not pulled it yet never see it.
pub async fn delete_changelog(db: &Db, actor: Actor, hash: &str, id: i64) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let deck = root(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    if !store::changelogs::delete(&mut tx, deck.id, id).await? {
        return Err(invalid(format!("This deck has no changelog number {id}")));
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the deck with all its notes, suggestions and changelogs; only its owner may,
/// typing its name. Subscribers' add-ons then learn from `/CheckDeckAlive` that it is gone.
pub async fn delete_deck(
    db: &Db,
    actor: Actor,
    hash: &str,
    typed_name: &str,
) -> DomainResult<String> {
    let mut tx = db.begin_write().await?;
    let deck = root(&mut tx, hash).await?;
    if let Actor::User(id) = actor {
        if id != deck.owner {
            return Err(DomainError::NotOwner);
        }
    }
    if typed_name.trim() != deck.name {
        return Err(invalid(format!(
            "Type the deck's name, {:?}, to delete it",
            deck.name
        )));
    }
    store::deck_links::bump_followed_in_tree(&mut tx, deck.id, Micros::now()).await?;
    store::decks::delete_root(&mut tx, deck.id).await?;
    tx.commit().await?;
    Ok(deck.name)
}
