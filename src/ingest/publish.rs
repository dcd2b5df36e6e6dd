//! `/createDeck`: a whole tree inserted synchronously in one transaction, as reviewed
//! content. The notes come from the upload's spool file in batches, so memory stays
//! flat whatever the deck's size.

use std::collections::HashSet;

use super::notetypes::Resolver;
use super::{optional_group, sanitize_note, sanitize_shape};
use crate::error::{AppError, AppResult};
use crate::store::commits::CommitStatus;
use crate::store::{self, decks::NewDeck, notes::BulkNote, now_micros, Conn, Db};
use crate::wire::crowdanki::Note;
use crate::wire::deck_hash;
use crate::wire::gzb64::DecodeError;
use crate::wire::spool::{Spool, SpooledDeck};

/// Notes per bulk insert statement.
const BATCH: usize = 500;
/// Field bytes per bulk insert statement: a batch of big notes is cut short, so a deck of
/// notes near the string limit never holds 500 of them at once.
const BATCH_BYTES: usize = 2 * 1024 * 1024;

/// What publishing answered.
#[derive(Debug)]
pub enum Published {
    Created {
        hash: String,
    },
    /// The owner already has a root deck of that name.
    Exists,
}

/// Publishes a deck tree owned by `owner`, its notes read from `notes`.
pub async fn create_deck(
    db: &Db,
    owner: i64,
    mut deck: SpooledDeck,
    notes: &Spool,
) -> AppResult<Published> {
    sanitize_all_shapes(&mut deck);
    let mut tx = db.begin_write().await?;
    if store::decks::owner_has_root_named(&mut tx, owner, &deck.name).await? {
        return Ok(Published::Exists);
    }
    let now = now_micros();
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
        1,
        "Deck Creation",
        root,
        owner,
        CommitStatus::Applied,
        now,
    )
    .await?;

    let mut seen = HashSet::new();
    let mut groups = HashSet::new();
    let mut stack: Vec<(&SpooledDeck, i64, String)> = vec![(&deck, root, deck.name.clone())];
    while let Some((node, id, path)) = stack.pop() {
        insert_notes(
            &mut tx,
            &mut resolver,
            notes,
            node,
            root,
            id,
            commit,
            now,
            &mut seen,
            &mut groups,
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
    for group in groups {
        store::decks::set_optional_tag_group(&mut tx, root, &group, true).await?;
    }
    tx.commit().await?;
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

fn sanitize_all_shapes(deck: &mut SpooledDeck) {
    sanitize_shape(deck);
    deck.children.iter_mut().for_each(sanitize_all_shapes);
}

#[allow(clippy::too_many_arguments)]
async fn insert_notes(
    conn: &mut Conn,
    resolver: &mut Resolver,
    notes: &Spool,
    node: &SpooledDeck,
    root: i64,
    deck: i64,
    commit: i64,
    now: i64,
    seen: &mut HashSet<String>,
    groups: &mut HashSet<String>,
) -> AppResult<()> {
    let mut spooled = notes.notes(node.notes);
    loop {
        // Up to BATCH notes read back and cleaned, each with its notetype and stored positions.
        let mut batch: Vec<(Note, i64, Vec<usize>)> =
            Vec::with_capacity(BATCH.min(node.notes.count));
        let mut batch_bytes = 0;
        for note in spooled.by_ref() {
            let mut note = note.map_err(|e| DecodeError::Spool(e.to_string()))?;
            if note.guid.is_empty() || !seen.insert(note.guid.clone()) {
                continue;
            }
            sanitize_note(&mut note);
            let Some(nt) = resolver.get(conn, &note.note_model_uuid).await? else {
                return Err(AppError::BadRequest(format!(
                    "Invalid Deck: note {} uses notetype {} which the deck does not include",
                    note.guid, note.note_model_uuid
                )));
            };
            let positions: Vec<usize> = nt
                .stored_fields(&note.fields)
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            if positions.is_empty() {
                continue;
            }
            groups.extend(
                note.tags
                    .iter()
                    .filter_map(|t| optional_group(t))
                    .map(str::to_string),
            );
            batch_bytes += positions
                .iter()
                .map(|&i| note.fields[i].len())
                .sum::<usize>();
            batch.push((note, nt.id, positions));
            if batch.len() == BATCH || batch_bytes >= BATCH_BYTES {
                break;
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let bulk: Vec<BulkNote> = batch
            .iter()
            .map(|(note, notetype, positions)| BulkNote {
                guid: &note.guid,
                notetype: *notetype,
                anki_id: note.id,
                fields: positions
                    .iter()
                    .map(|&i| (i, note.fields[i].as_str()))
                    .collect(),
                tags: note.tags.iter().map(String::as_str).collect(),
            })
            .collect();
        store::notes::insert_bulk(conn, root, deck, true, commit, now, &bulk).await?;
    }
}
