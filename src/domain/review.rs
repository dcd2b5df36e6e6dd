//! Approving and denying suggestions (docs/protocol.md §6.2): the CLI and the console
//! call these, and the deck's owner, its maintainers and the administrator may decide.

use std::collections::{BTreeMap, BTreeSet};

use super::{decks, Actor, DomainError, DomainResult};
use crate::store::commits::{Commit, CommitStatus, Decision};
use crate::store::notes::{ChangeKind, Event};
use crate::store::{self, CommitId, Conn, Db, DeckId, Micros, NoteId, UserId};

/// What a decision did, for the CLI to report.
#[derive(Debug)]
pub struct Outcome {
    pub notes_changed: usize,
}

/// The pending commit `id`, if `actor` may decide on it.
async fn load_pending(conn: &mut Conn, id: CommitId, actor: Actor) -> DomainResult<Commit> {
    let commit = store::commits::get(conn, id)
        .await?
        .ok_or(DomainError::NoCommit(id))?;
    let deck = store::decks::by_id(conn, commit.deck_id)
        .await?
        .ok_or_else(|| DomainError::NoDeck(commit.deck.clone()))?;
    decks::check_maintainer(conn, actor, &deck).await?;
    if commit.status != CommitStatus::Pending {
        return Err(DomainError::Decided {
            commit: id,
            status: commit.status,
        });
    }
    Ok(commit)
}

/// The deciding account, when it is one (its own suggestions notify nobody).
fn user_of(actor: Actor) -> Option<UserId> {
    match actor {
        Actor::User(id) => Some(id),
        Actor::Admin => None,
    }
}

/// Applies a pending commit, making public the subdecks it created and attaching the media
/// references it carries. Media references count as the reviewing account's, or as the
/// tree owner's when the administrator decides.
pub async fn approve(db: &Db, actor: Actor, id: CommitId) -> DomainResult<Outcome> {
    let mut tx = db.begin_write().await?;
    let commit = load_pending(&mut tx, id, actor).await?;
    let pending = store::commits::pending_rows(&mut tx, id).await?;
    let now = Micros::now();
    let mut touched: BTreeSet<NoteId> = BTreeSet::new();

    for note in &pending.new_notes {
        store::notes::set_state(&mut tx, *note, true, false, now).await?;
        store::notes::insert_event(&mut tx, Event::new(*note, id, ChangeKind::NoteCreated, now))
            .await?;
        touched.insert(*note);
    }
    for f in &pending.fields {
        if f.position == 0 && f.content.is_empty() {
            continue;
        }
        let old: BTreeMap<i64, String> = store::notes::reviewed_fields(&mut tx, f.note)
            .await?
            .into_iter()
            .collect();
        let before = old.get(&f.position).cloned();
        store::notes::delete_reviewed_field(&mut tx, f.note, f.position).await?;
        if !f.content.is_empty() {
            store::commits::accept_field(&mut tx, f.id).await?;
        }
        let kind = ChangeKind::of_field(before.is_none(), f.content.is_empty());
        let name = store::commits::field_name(&mut tx, f.note, f.position).await?;
        store::notes::insert_event(
            &mut tx,
            Event::new(f.note, id, kind, now)
                .field(f.position, name.as_deref())
                .texts(before.as_deref(), Some(&f.content)),
        )
        .await?;
        touched.insert(f.note);
    }
    for t in &pending.tags {
        if t.action {
            store::commits::accept_tag(&mut tx, t.id).await?;
            store::notes::insert_event(
                &mut tx,
                Event::new(t.note, id, ChangeKind::TagAdded, now).texts(None, Some(&t.content)),
            )
            .await?;
        } else {
            store::notes::delete_reviewed_tag(&mut tx, t.note, &t.content).await?;
            store::notes::insert_event(
                &mut tx,
                Event::new(t.note, id, ChangeKind::TagRemoved, now).texts(Some(&t.content), None),
            )
            .await?;
        }
        touched.insert(t.note);
    }
    let mut decks: BTreeSet<DeckId> = BTreeSet::new();
    for (note, target) in &pending.moves {
        if let Some(n) = store::notes::deck_of(&mut tx, *note).await? {
            decks.insert(n);
        }
        store::notes::set_deck(&mut tx, *note, *target).await?;
        store::notes::insert_event(&mut tx, Event::new(*note, id, ChangeKind::NoteMoved, now))
            .await?;
        touched.insert(*note);
    }
    for note in &touched {
        store::notes::set_state(&mut tx, *note, true, false, now).await?;
    }
    for note in &pending.removals {
        store::notes::delete_pending_content(&mut tx, *note).await?;
        store::notes::set_state(&mut tx, *note, true, true, now).await?;
        store::notes::insert_event(&mut tx, Event::new(*note, id, ChangeKind::NoteDeleted, now))
            .await?;
        touched.insert(*note);
    }
    for note in &touched {
        if let Some(d) = store::notes::deck_of(&mut tx, *note).await? {
            decks.insert(d);
        }
    }
    decks.extend(store::decks::pending_of_commit(&mut tx, id).await?);
    for deck in &decks {
        store::decks::publish_with_ancestors(&mut tx, *deck).await?;
        store::decks::bump_with_ancestors(&mut tx, *deck, now).await?;
    }
    let reviewer = match user_of(actor) {
        Some(user) => user,
        None => {
            store::decks::by_id(&mut tx, commit.deck_id)
                .await?
                .ok_or_else(|| DomainError::NoDeck(commit.deck.clone()))?
                .owner
        }
    };
    for (media, note, name) in store::media::suggested_references(&mut tx, id).await? {
        store::media::attach_reference(&mut tx, media, note, &name, reviewer, now).await?;
    }
    store::commits::clear_pending(&mut tx, id).await?;
    store::commits::decide(&mut tx, id, Decision::Approved, None, now).await?;
    notify(&mut tx, &commit, actor, Decision::Approved, None, now).await?;
    tx.commit().await?;
    Ok(Outcome {
        notes_changed: touched.len(),
    })
}

/// Rejects a pending commit, dropping its rows and telling the author why.
pub async fn deny(
    db: &Db,
    actor: Actor,
    id: CommitId,
    reason: Option<&str>,
) -> DomainResult<Outcome> {
    let mut tx = db.begin_write().await?;
    let commit = load_pending(&mut tx, id, actor).await?;
    let pending = store::commits::pending_rows(&mut tx, id).await?;
    let now = Micros::now();
    let reason = reason.map(crate::ingest::sanitize::html);
    for f in &pending.fields {
        let before = store::notes::reviewed_fields(&mut tx, f.note)
            .await?
            .into_iter()
            .find(|(p, _)| *p == f.position)
            .map(|x| x.1);
        let name = store::commits::field_name(&mut tx, f.note, f.position).await?;
        store::notes::insert_event(
            &mut tx,
            Event::new(f.note, id, ChangeKind::FieldChangeDenied, now)
                .field(f.position, name.as_deref())
                .texts(before.as_deref(), Some(&f.content)),
        )
        .await?;
    }
    for t in &pending.tags {
        store::notes::insert_event(
            &mut tx,
            Event::new(t.note, id, ChangeKind::TagChangeDenied, now).texts(Some(&t.content), None),
        )
        .await?;
    }
    store::commits::clear_pending(&mut tx, id).await?;
    // Subdecks only this suggestion wanted go; one another suggestion still fills stays hidden.
    for deck in store::decks::pending_of_commit(&mut tx, id).await? {
        store::decks::delete_if_unused(&mut tx, deck).await?;
    }
    store::commits::decide(&mut tx, id, Decision::Denied, reason.as_deref(), now).await?;
    notify(
        &mut tx,
        &commit,
        actor,
        Decision::Denied,
        reason.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome { notes_changed: 0 })
}

async fn notify(
    conn: &mut Conn,
    c: &Commit,
    actor: Actor,
    status: Decision,
    reason: Option<&str>,
    now: Micros,
) -> DomainResult<()> {
    if let Some(author) = c.author_id {
        if user_of(actor) != Some(author) {
            store::notifications::insert(conn, author, c.id, c.deck_id, status, reason, now)
                .await?;
        }
    }
    Ok(())
}
