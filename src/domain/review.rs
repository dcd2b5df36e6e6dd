//! Approving and denying suggestions (docs/protocol.md §6.2): the CLI and the console
//! call these, and the deck's owner, its maintainers and the administrator may decide.

use std::collections::{BTreeMap, BTreeSet};

use super::{Actor, DomainError, DomainResult};
use crate::store::commits::{Commit, CommitStatus, Decision, PendingField, PendingTag};
use crate::store::notes::{ChangeKind, Event};
use crate::store::{self, CommitId, Conn, Db, DeckId, Micros, NoteId, UserId};

/// What a decision did, for the CLI to report.
#[derive(Debug)]
pub struct Outcome {
    pub notes_changed: usize,
}

/// The pending commit `id`, if `actor` may decide on it.
async fn load_pending(conn: &mut Conn, id: CommitId, actor: Actor) -> DomainResult<Commit> {
    let commit = super::queue::reviewable(conn, actor, id).await?;
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
        apply_field(&mut tx, id, f, now).await?;
        touched.insert(f.note);
    }
    for t in &pending.tags {
        apply_tag(&mut tx, id, t, now).await?;
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
    for nt in store::notetype_edits::pending_suggestions(&mut tx, id).await? {
        super::notetypes::apply_suggested(&mut tx, actor, &nt, now).await?;
        store::notetype_edits::accept_suggestion(&mut tx, nt.id).await?;
    }
    publish_decks(&mut tx, &touched, decks, now).await?;
    close_approved(&mut tx, &commit, actor, now).await?;
    tx.commit().await?;
    db.announce_queue(commit.deck_id);
    Ok(Outcome {
        notes_changed: touched.len(),
    })
}

/// Writes a pending field row as the note's reviewed content and records the change.
async fn apply_field(
    conn: &mut Conn,
    id: CommitId,
    f: &PendingField,
    now: Micros,
) -> DomainResult<()> {
    let old: BTreeMap<i64, String> = store::notes::reviewed_fields(conn, f.note)
        .await?
        .into_iter()
        .collect();
    let before = old.get(&f.position).cloned();
    store::notes::delete_reviewed_field(conn, f.note, f.position).await?;
    if !f.content.is_empty() {
        store::commits::accept_field(conn, f.id).await?;
    }
    let kind = ChangeKind::of_field(before.is_none(), f.content.is_empty());
    let name = store::commits::field_name(conn, f.note, f.position).await?;
    store::notes::insert_event(
        conn,
        Event::new(f.note, id, kind, now)
            .field(f.position, name.as_deref())
            .texts(before.as_deref(), Some(&f.content)),
    )
    .await?;
    Ok(())
}

/// Adds or removes a note's reviewed tag as a pending tag row asks, and records it.
async fn apply_tag(conn: &mut Conn, id: CommitId, t: &PendingTag, now: Micros) -> DomainResult<()> {
    if t.action {
        store::commits::accept_tag(conn, t.id).await?;
        store::deck_links::restore_base_tag(conn, t.note, &t.content).await?;
        store::notes::insert_event(
            conn,
            Event::new(t.note, id, ChangeKind::TagAdded, now).texts(None, Some(&t.content)),
        )
        .await?;
    } else {
        store::notes::delete_reviewed_tag(conn, t.note, &t.content).await?;
        store::deck_links::drop_base_tag(conn, t.note, &t.content).await?;
        store::notes::insert_event(
            conn,
            Event::new(t.note, id, ChangeKind::TagRemoved, now).texts(Some(&t.content), None),
        )
        .await?;
    }
    Ok(())
}

/// Records that a field change was turned down (the row itself goes with the caller).
async fn record_denied_field(
    conn: &mut Conn,
    id: CommitId,
    f: &PendingField,
    now: Micros,
) -> DomainResult<()> {
    let before = store::notes::reviewed_fields(conn, f.note)
        .await?
        .into_iter()
        .find(|(p, _)| *p == f.position)
        .map(|x| x.1);
    let name = store::commits::field_name(conn, f.note, f.position).await?;
    store::notes::insert_event(
        conn,
        Event::new(f.note, id, ChangeKind::FieldChangeDenied, now)
            .field(f.position, name.as_deref())
            .texts(before.as_deref(), Some(&f.content)),
    )
    .await?;
    Ok(())
}

/// Records that a tag change was turned down.
async fn record_denied_tag(
    conn: &mut Conn,
    id: CommitId,
    t: &PendingTag,
    now: Micros,
) -> DomainResult<()> {
    store::notes::insert_event(
        conn,
        Event::new(t.note, id, ChangeKind::TagChangeDenied, now).texts(Some(&t.content), None),
    )
    .await?;
    Ok(())
}

/// Makes the decks of changed notes (and `decks`) public and moves their clocks, so the
/// next pull of every subscriber carries the change.
async fn publish_decks(
    conn: &mut Conn,
    touched: &BTreeSet<NoteId>,
    mut decks: BTreeSet<DeckId>,
    now: Micros,
) -> DomainResult<()> {
    for note in touched {
        if let Some(d) = store::notes::deck_of(conn, *note).await? {
            decks.insert(d);
        }
    }
    for deck in &decks {
        store::decks::publish_with_ancestors(conn, *deck).await?;
        store::decks::bump_with_ancestors(conn, *deck, now).await?;
    }
    Ok(())
}

/// Ends a suggestion as approved: its hidden subdecks become public, its media references
/// are attached, and its author is told.
async fn close_approved(
    conn: &mut Conn,
    commit: &Commit,
    actor: Actor,
    now: Micros,
) -> DomainResult<()> {
    let id = commit.id;
    let hidden: BTreeSet<DeckId> = store::decks::pending_of_commit(conn, id)
        .await?
        .into_iter()
        .collect();
    publish_decks(conn, &BTreeSet::new(), hidden, now).await?;
    let reviewer = match user_of(actor) {
        Some(user) => user,
        None => {
            store::decks::by_id(conn, commit.deck_id)
                .await?
                .ok_or_else(|| DomainError::NoDeck(commit.deck.clone()))?
                .owner
        }
    };
    for (media, note, name) in store::media::suggested_references(conn, id).await? {
        store::media::attach_reference(conn, media, note, &name, reviewer, now).await?;
    }
    store::commits::clear_pending(conn, id).await?;
    store::commits::decide(conn, id, Decision::Approved, None, now).await?;
    notify(conn, commit, actor, Decision::Approved, None, now).await
}

/// Ends a suggestion as denied: what is left of it goes, subdecks only it wanted go, and
/// its author is told why.
async fn close_denied(
    conn: &mut Conn,
    commit: &Commit,
    actor: Actor,
    reason: Option<&str>,
    now: Micros,
) -> DomainResult<()> {
    let id = commit.id;
    store::commits::clear_pending(conn, id).await?;
    // Subdecks only this suggestion wanted go; one another suggestion still fills stays hidden.
    for deck in store::decks::pending_of_commit(conn, id).await? {
        store::decks::delete_if_unused(conn, deck).await?;
    }
    store::commits::decide(conn, id, Decision::Denied, reason, now).await?;
    notify(conn, commit, actor, Decision::Denied, reason, now).await
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
        record_denied_field(&mut tx, id, f, now).await?;
    }
    for t in &pending.tags {
        record_denied_tag(&mut tx, id, t, now).await?;
    }
    close_denied(&mut tx, &commit, actor, reason.as_deref(), now).await?;
    tx.commit().await?;
    db.announce_queue(commit.deck_id);
    Ok(Outcome { notes_changed: 0 })
}

/// One change of a suggestion to an existing note, decided on its own.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A pending field row.
    Field(i64),
    /// A pending tag row.
    Tag(i64),
    /// A suggested notetype change.
    Notetype(i64),
}

/// Where a suggestion stands after one of its changes was decided.
#[derive(Debug, PartialEq)]
pub enum AfterChange {
    /// Other changes still wait.
    Open,
    /// That was the last one: the suggestion is closed and its author notified.
    Closed(Decision),
}

/// Accepts or denies one change of a pending suggestion. When no change is left the
/// suggestion closes: approved if anything of it was accepted, denied otherwise.
pub async fn decide_change(
    db: &Db,
    actor: Actor,
    id: CommitId,
    change: Change,
    accept: bool,
) -> DomainResult<AfterChange> {
    let mut tx = db.begin_write().await?;
    let commit = load_pending(&mut tx, id, actor).await?;
    let now = Micros::now();
    match change {
        Change::Field(row) => {
            let found = store::review::pending_field(&mut tx, id, row)
                .await?
                .ok_or(DomainError::NoChange)?;
            let f = found.row;
            if found.new_note {
                return Err(DomainError::WholeNoteOnly);
            }
            if accept {
                apply_field(&mut tx, id, &f, now).await?;
                store::notes::set_state(&mut tx, f.note, true, false, now).await?;
                publish_decks(&mut tx, &BTreeSet::from([f.note]), BTreeSet::new(), now).await?;
            } else {
                record_denied_field(&mut tx, id, &f, now).await?;
                store::review::delete_pending_field(&mut tx, f.id).await?;
            }
        }
        Change::Tag(row) => {
            let found = store::review::pending_tag(&mut tx, id, row)
                .await?
                .ok_or(DomainError::NoChange)?;
            let t = found.row;
            if found.new_note {
                return Err(DomainError::WholeNoteOnly);
            }
            if accept {
                apply_tag(&mut tx, id, &t, now).await?;
                store::notes::set_state(&mut tx, t.note, true, false, now).await?;
                publish_decks(&mut tx, &BTreeSet::from([t.note]), BTreeSet::new(), now).await?;
            } else {
                record_denied_tag(&mut tx, id, &t, now).await?;
                store::review::delete_pending_tag(&mut tx, t.id).await?;
            }
        }
        Change::Notetype(row) => {
            let nt = store::notetype_edits::pending_suggestion(&mut tx, id, row)
                .await?
                .ok_or(DomainError::NoChange)?;
            if accept {
                super::notetypes::apply_suggested(&mut tx, actor, &nt, now).await?;
                store::notetype_edits::accept_suggestion(&mut tx, nt.id).await?;
            } else {
                store::notetype_edits::delete_suggestion(&mut tx, nt.id).await?;
            }
        }
    }
    let after = if store::review::has_pending_rows(&mut tx, id).await? {
        AfterChange::Open
    } else if store::review::any_accepted(&mut tx, id).await? {
        close_approved(&mut tx, &commit, actor, now).await?;
        AfterChange::Closed(Decision::Approved)
    } else {
        close_denied(&mut tx, &commit, actor, None, now).await?;
        AfterChange::Closed(Decision::Denied)
    };
    tx.commit().await?;
    db.announce_queue(commit.deck_id);
    Ok(after)
}

/// Replaces a suggested field's content before it is accepted (cleaned like any note).
pub async fn edit_field(
    db: &Db,
    actor: Actor,
    id: CommitId,
    row: i64,
    content: &str,
    max_bytes: usize,
) -> DomainResult<()> {
    let content = crate::ingest::sanitize::html(content);
    if content.len() > max_bytes {
        return Err(DomainError::CleanedTooLarge {
            what: "the field".into(),
            bytes: content.len(),
            limit: max_bytes,
        });
    }
    let mut tx = db.begin_write().await?;
    load_pending(&mut tx, id, actor).await?;
    store::review::pending_field(&mut tx, id, row)
        .await?
        .ok_or(DomainError::NoChange)?;
    store::review::set_pending_field(&mut tx, row, &content).await?;
    tx.commit().await?;
    Ok(())
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
