//! `/createDeck`: a whole tree inserted synchronously in one transaction, as reviewed
//! content. The notes come from the upload's spool file in batches, so memory stays
//! flat whatever the deck's size.

use std::collections::HashSet;
use std::sync::Arc;

use super::notetypes::{Resolved, Resolver};
use super::{optional_group, sanitize_note, sanitize_shape};
use crate::domain::{DomainError, DomainResult};
use crate::pull::note_object::note_object;
use crate::store::commits::{CommitStatus, Rationale};
use crate::store::{
    self, decks::NewDeck, notes::NewNote, CommitId, Conn, Db, DeckId, Micros, NoteId, UserId,
};
use crate::wire::crowdanki::Note;
use crate::wire::deck_hash;
use crate::wire::gzb64::DecodeError;
use crate::wire::spool::{Spool, SpooledDeck};

/// Notes per bulk insert statement.
const BATCH: usize = 500;
/// Field bytes per bulk insert statement: a batch of big notes is cut short, so a deck of
/// notes near the string limit never holds 500 of them at once.
const BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Batches smaller than this are inserted while the next one is read. Only a batch cut
/// short by a note near the string limit reaches it: 500 ordinary notes with their
/// objects come to about 0.5 MB, and a lower bound here made most of them wait.
const OVERLAP_BYTES: usize = BATCH_BYTES;

/// Notes from which a publish leaves copying its WAL back to a checkpoint after its
/// commit: about 4 MB of WAL, where SQLite's automatic checkpoint (1,000 pages) would run
/// in the commit anyway. Smaller publishes leave it to SQLite, which checkpoints only
/// once the WAL has grown that far.
const DEFER_CHECKPOINT_NOTES: usize = 2_500;

/// Notes from which a publish takes the per-row triggers on new field and tag rows out of
/// its transaction (`store::new_note_triggers`): dropping and creating them again costs a
/// few milliseconds and every connection's prepared statements, the triggers about 10 µs
/// a note.
const SUSPEND_TRIGGERS_NOTES: usize = 1_000;

/// What publishing answered.
#[derive(Debug)]
pub enum Published {
    Created {
        hash: String,
    },
    /// The owner already has a root deck of that name.
    Exists,
}

/// Publishes a deck tree owned by `owner`, its notes read from `notes`; a note whose
/// fields hold more than `max_note` bytes once cleaned is refused.
pub async fn create_deck(
    db: &Db,
    owner: UserId,
    mut deck: SpooledDeck,
    notes: &Spool,
    max_note: usize,
) -> DomainResult<Published> {
    sanitize_all_shapes(&mut deck);
    let mut tx = db.begin_write().await?;
    if store::decks::owner_has_root_named(&mut tx, owner, &deck.name).await? {
        return Ok(Published::Exists);
    }
    let now = Micros::now();
    let mut resolver = Resolver::new(owner);
    let unknown = resolver
        .resolve_all(&mut tx, &deck.note_models, true)
        .await?;
    debug_assert!(unknown.is_empty());

    let hash = free_hash(&mut tx, &deck.crowdanki_uuid).await?;
    let root = store::decks::insert(
        &mut tx,
        NewDeck {
            name: &deck.name,
            description: &deck.desc,
            owner,
            parent: None,
            root: None,
            full_path: &deck.name,
            crowdanki_uuid: &deck.crowdanki_uuid,
            human_hash: &hash,
            now,
        },
    )
    .await?;
    let commit = store::commits::insert(
        &mut tx,
        Rationale::DECK_CREATION,
        "Deck Creation",
        root,
        owner,
        CommitStatus::Applied,
        now,
    )
    .await?;

    let mut intake = Intake {
        seen: HashSet::new(),
        groups: HashSet::new(),
        max_note,
    };
    let mut next_id = store::notes::next_id(&mut tx).await?;
    let suspended = if note_count(&deck) >= SUSPEND_TRIGGERS_NOTES {
        Some(store::new_note_triggers::suspend(&mut tx).await?)
    } else {
        None
    };
    let mut stack: Vec<(&SpooledDeck, DeckId, String)> = vec![(&deck, root, deck.name.clone())];
    while let Some((node, id, path)) = stack.pop() {
        let target = Target {
            root,
            deck: id,
            commit,
            now,
        };
        insert_notes(
            &mut tx,
            &mut resolver,
            notes,
            node,
            target,
            &mut next_id,
            &mut intake,
        )
        .await?;
        for child in node.children.iter().rev() {
            let child_path = format!("{path}::{}", child.name);
            let child_hash = free_hash(&mut tx, &child.crowdanki_uuid).await?;
            let child_id = store::decks::insert(
                &mut tx,
                NewDeck {
                    name: &child.name,
                    description: &child.desc,
                    owner,
                    parent: Some(id),
                    root: Some(root),
                    full_path: &child_path,
                    crowdanki_uuid: &child.crowdanki_uuid,
                    human_hash: &child_hash,
                    now,
                },
            )
            .await?;
            stack.push((child, child_id, child_path));
        }
    }
    if let Some(suspended) = suspended {
        store::new_note_triggers::restore(&mut tx, suspended).await?;
    }
    for group in intake.groups {
        store::decks::set_optional_tag_group(&mut tx, root, &group, true).await?;
    }
    let big = intake.seen.len() >= DEFER_CHECKPOINT_NOTES;
    if big {
        store::defer_checkpoint(&mut tx).await?;
    }
    tx.commit().await?;
    if big {
        db.checkpoint_soon();
    }
    Ok(Published::Created { hash })
}

/// The UUID's hash, or a random one when that is taken (docs/protocol.md §3).
pub async fn free_hash(conn: &mut Conn, uuid: &str) -> sqlx::Result<String> {
    let mut hash = deck_hash::for_uuid(uuid);
    while store::decks::hash_taken(conn, &hash).await? {
        hash = deck_hash::random();
    }
    Ok(hash)
}

/// Notes the upload holds over the whole tree, repeated guids included.
fn note_count(deck: &SpooledDeck) -> usize {
    deck.notes.count + deck.children.iter().map(note_count).sum::<usize>()
}

fn sanitize_all_shapes(deck: &mut SpooledDeck) {
    sanitize_shape(deck);
    deck.children.iter_mut().for_each(sanitize_all_shapes);
}

/// Where one deck node's notes go and what they are recorded under.
struct Target {
    root: DeckId,
    deck: DeckId,
    commit: CommitId,
    now: Micros,
}

/// Inserts a node's notes: while SQLite inserts one batch on its thread, the next is
/// read back from the spool, cleaned and turned into rows on ours.
async fn insert_notes(
    conn: &mut Conn,
    resolver: &mut Resolver,
    notes: &Spool,
    node: &SpooledDeck,
    target: Target,
    next_id: &mut NoteId,
    intake: &mut Intake,
) -> DomainResult<()> {
    let mut spooled = notes.notes(node.notes);
    let mut ready: Vec<Ready> = Vec::new();
    loop {
        let rows: Vec<NewNote> = ready
            .iter()
            .map(|r| {
                let id = *next_id;
                *next_id = next_id.next();
                r.row(id)
            })
            .collect();
        // A batch of big notes is inserted before the next is read, so at most one such
        // batch (its notes, their objects and SQLite's copies) is in memory at a time.
        let prepared = if ready.iter().map(Ready::bytes).sum::<usize>() < OVERLAP_BYTES {
            let (inserted, prepared) = tokio::join!(
                insert_batch(conn, &target, &rows),
                prepare(&mut spooled, resolver, intake)
            );
            inserted?;
            prepared
        } else {
            insert_batch(conn, &target, &rows).await?;
            drop(rows);
            drop(std::mem::take(&mut ready));
            prepare(&mut spooled, resolver, intake).await
        };
        let Prepared {
            notes: next,
            unresolved,
            done,
        } = prepared?;
        ready = next;
        if let Some(note) = unresolved {
            // A notetype the upload did not include: look for the owner's stored one.
            let Some(nt) = resolver.get(conn, &note.note_model_uuid).await? else {
                return Err(DomainError::NotetypeNotIncluded {
                    note: note.guid,
                    notetype: note.note_model_uuid,
                });
            };
            ready.extend(Ready::new(note, nt, &mut intake.groups));
        }
        if done && ready.is_empty() {
            return Ok(());
        }
    }
}

async fn insert_batch(conn: &mut Conn, t: &Target, rows: &[NewNote<'_>]) -> DomainResult<()> {
    store::notes::insert_new(conn, t.root, t.deck, true, t.commit, t.now, rows).await?;
    Ok(())
}

/// What the notes of one publish share while they are read.
struct Intake {
    /// Guids met so far: a repeated one is skipped.
    seen: HashSet<String>,
    /// Optional tag groups the notes use.
    groups: HashSet<String>,
    /// Most bytes one note's fields may hold once cleaned.
    max_note: usize,
}

/// A cleaned note with its notetype and the object a pull will send for it.
struct Ready {
    note: Note,
    nt: Arc<Resolved>,
    pulled: String,
}

impl Ready {
    /// None for a note with nothing to store (every field empty or protected).
    fn new(note: Note, nt: Arc<Resolved>, groups: &mut HashSet<String>) -> Option<Ready> {
        let stored = nt.stored_fields(&note.fields);
        if stored.is_empty() {
            return None;
        }
        groups.extend(
            note.tags
                .iter()
                .filter_map(|t| optional_group(t))
                .map(str::to_string),
        );
        let tags: Vec<&str> = note.tags.iter().map(String::as_str).collect();
        let pulled = note_object(
            note.id,
            &nt.pulled_fields(&stored),
            &note.guid,
            &nt.guid,
            &tags,
        );
        Some(Ready { note, nt, pulled })
    }

    /// What the note keeps in memory until it is inserted: its fields and its object.
    fn bytes(&self) -> usize {
        self.note.fields.iter().map(String::len).sum::<usize>() + self.pulled.len()
    }

    fn row(&self, id: NoteId) -> NewNote<'_> {
        NewNote {
            id,
            guid: &self.note.guid,
            notetype: self.nt.id,
            anki_id: self.note.id,
            fields: self.nt.stored_fields(&self.note.fields),
            tags: self.note.tags.iter().map(String::as_str).collect(),
            pulled: Some(&self.pulled),
        }
    }
}

/// The next batch of notes, up to one whose notetype is not resolved yet.
struct Prepared {
    notes: Vec<Ready>,
    unresolved: Option<Note>,
    /// The node has no more notes.
    done: bool,
}

/// Notes cleaned between two chances for the insert running alongside to go on.
const YIELD_EVERY: usize = 32;

/// Reads up to [`BATCH`] notes (or [`BATCH_BYTES`] of notes and objects) from the spool and cleans
/// them, stopping early at a note whose notetype needs a database lookup.
async fn prepare(
    spooled: &mut (impl Iterator<Item = serde_json::Result<Note>> + Send),
    resolver: &Resolver,
    intake: &mut Intake,
) -> DomainResult<Prepared> {
    let mut notes = Vec::with_capacity(BATCH);
    let mut bytes = 0;
    let mut read = 0;
    loop {
        let Some(note) = spooled.next() else {
            return Ok(Prepared {
                notes,
                unresolved: None,
                done: true,
            });
        };
        let mut note = note.map_err(|e| DecodeError::Spool(e.to_string()))?;
        read += 1;
        if read % YIELD_EVERY == 0 {
            tokio::task::yield_now().await;
        }
        if note.guid.is_empty() || !intake.seen.insert(note.guid.clone()) {
            continue;
        }
        sanitize_note(&mut note, intake.max_note)?;
        let Some(nt) = resolver.cached(&note.note_model_uuid) else {
            return Ok(Prepared {
                notes,
                unresolved: Some(note),
                done: false,
            });
        };
        if let Some(ready) = Ready::new(note, nt, &mut intake.groups) {
            bytes += ready.bytes();
            notes.push(ready);
        }
        if notes.len() == BATCH || bytes >= BATCH_BYTES {
            return Ok(Prepared {
                notes,
                unresolved: None,
                done: false,
            });
        }
    }
}
