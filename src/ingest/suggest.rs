//! `/submitCard` and `/requestRemoval`: suggestions stored for review, or applied at once
//! when a maintainer auto-approves (docs/protocol.md §6.1).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::notetypes::{put_fields_in_place, Resolved, Resolver};
use super::{optional_group, sanitize_tree, CleanLimits};
use crate::domain::{DomainError, DomainResult};
use crate::store::commits::{CommitStatus, Decision, Rationale};
use crate::store::deck_links::Inheritance;
use crate::store::notes::{ChangeKind, Event, NewNote};
use crate::store::{self, decks::NewDeck, CommitId, Conn, Db, DeckId, Micros, NoteId, UserId};
use crate::wire::crowdanki::{Deck, Note};
use crate::wire::deck_hash;
use crate::wire::envelope::SubmitCard;

/// State shared while one submission is processed.
struct Submission {
    root: store::decks::Deck,
    /// Per uploaded notetype UUID, the stored positions its notes do not carry.
    unknown_fields: HashMap<String, Vec<usize>>,
    commit: CommitId,
    approved: bool,
    now: Micros,
    groups: BTreeSet<String>,
    touched_decks: BTreeSet<DeckId>,
    changes: usize,
    /// What a suggestion forwarded to a base deck is filed as.
    rationale: Rationale,
    info: String,
    user: UserId,
    /// Per base deck tree, the suggestion this submission forwards changes of inherited
    /// fields of linked notes to (docs/protocol.md §6.5).
    forwarded: BTreeMap<DeckId, CommitId>,
}

impl Submission {
    /// The stored positions a note's upload does not carry.
    fn unknown_of(&self, note: &Note) -> Vec<usize> {
        self.unknown_fields
            .get(&note.note_model_uuid)
            .cloned()
            .unwrap_or_default()
    }
}

/// Stores a suggestion (or applies a maintainer's auto-approved edit).
pub async fn submit(
    db: &Db,
    user: UserId,
    mut req: SubmitCard,
    limits: CleanLimits,
) -> DomainResult<()> {
    if !deck_hash::is_valid(&req.remote_deck) {
        return Err(DomainError::InvalidHash(req.remote_deck.clone()));
    }
    sanitize_tree(&mut req.deck, limits)?;
    let mut tx = db.begin_write().await?;
    let root = find_root(&mut tx, &req.remote_deck).await?;
    let path = server_path(&req.deck_path, &req.new_name, &root.full_path);
    let approved =
        req.force_overwrite && store::decks::can_maintain(&mut tx, root.id, user).await?;
    let now = Micros::now();
    let (rationale, status) = if approved {
        (Rationale::OTHER, CommitStatus::Applied)
    } else {
        (Rationale::from(req.rationale), CommitStatus::Pending)
    };
    let info = super::sanitize::html(&req.commit_text);
    let commit =
        store::commits::insert(&mut tx, rationale, &info, root.id, user, status, now).await?;
    let forward_info = super::sanitize::html(&format!(
        "Forwarded from the linked deck {}{}{}",
        root.name,
        if info.is_empty() { "" } else { ": " },
        info
    ));
    let hidden = (!approved).then_some(commit);
    let mut new_decks = 0;
    let mut created = Vec::new();
    let target = match store::decks::by_path(&mut tx, root.id, &path).await? {
        Some(d) => d.id,
        None => {
            let (parent_path, name) = path.rsplit_once("::").ok_or(DomainError::NoParentDeck)?;
            let parent = store::decks::by_path(&mut tx, root.id, parent_path)
                .await?
                .ok_or(DomainError::NoParentDeck)?;
            new_decks += 1;
            let id = new_subdeck(
                &mut tx, &root, parent.id, &path, name, &req.deck, hidden, now,
            )
            .await?;
            created.push(id);
            id
        }
    };

    let mut resolver = Resolver::new(root.owner);
    let allow_new_notetypes = approved || !root.restrict_notetypes;
    let unknown = resolver
        .resolve_all(&mut tx, &req.deck.note_models, allow_new_notetypes)
        .await?;
    if let Some(uuid) = unknown.first() {
        return Err(DomainError::UnknownNotetype(uuid.clone()));
    }
    let lined_up = resolver
        .line_up(&mut tx, &req.deck.note_models, root.id, user, approved, now)
        .await?;
    put_fields_in_place(&mut req.deck, &lined_up.layouts);
    for (notetype, model, version) in &lined_up.suggested {
        store::notetype_edits::insert_suggestion(&mut tx, commit, *notetype, model, version)
            .await?;
    }
    let suggested_notetypes = lined_up.suggested.len();
    let unknown_fields = lined_up
        .layouts
        .into_iter()
        .map(|(uuid, layout)| (uuid, layout.missing))
        .collect();

    let groups = store::decks::optional_tag_groups(&mut tx, root.id)
        .await?
        .into_iter()
        .collect();
    let mut sub = Submission {
        root,
        unknown_fields,
        commit,
        approved,
        now,
        groups,
        touched_decks: BTreeSet::new(),
        changes: new_decks + suggested_notetypes,
        rationale: Rationale::from(req.rationale),
        info: forward_info,
        user,
        forwarded: BTreeMap::new(),
    };
    let mut visited = vec![target];

    let mut stack: Vec<(&Deck, DeckId, String)> = vec![(&req.deck, target, path)];
    while let Some((node, deck_id, node_path)) = stack.pop() {
        for note in &node.notes {
            let Some(nt) = resolver.get(&mut tx, &note.note_model_uuid).await? else {
                return Err(DomainError::UnknownNotetype(note.note_model_uuid.clone()));
            };
            process_note(&mut tx, &mut sub, deck_id, note, &nt).await?;
        }
        for child in &node.children {
            let child_path = format!("{node_path}::{}", child.name);
            let child_id = match store::decks::by_path(&mut tx, sub.root.id, &child_path).await? {
                Some(d) => d.id,
                None => {
                    sub.changes += 1;
                    let id = new_subdeck(
                        &mut tx,
                        &sub.root,
                        deck_id,
                        &child_path,
                        &child.name,
                        child,
                        hidden,
                        now,
                    )
                    .await?;
                    created.push(id);
                    id
                }
            };
            visited.push(child_id);
            stack.push((child, child_id, child_path));
        }
    }
    if sub.approved {
        // An auto-approved change into a suggested (still hidden) subdeck makes it public.
        // A deck that appears (new, or made public) and a new optional tag group reach
        // subscribers only when the tree's clock moves, even if no note changed.
        for deck in &visited {
            if store::decks::publish_with_ancestors(&mut tx, *deck).await? {
                sub.touched_decks.insert(*deck);
            }
        }
        sub.touched_decks.extend(&created);
        for group in &sub.groups {
            if store::decks::set_optional_tag_group(&mut tx, sub.root.id, group, true).await? {
                sub.touched_decks.insert(sub.root.id);
            }
        }
    }
    for deck in &sub.touched_decks {
        store::decks::bump_with_ancestors(&mut tx, *deck, now).await?;
    }
    if sub.changes == 0 && !sub.approved {
        let reason = if sub.forwarded.is_empty() {
            "nothing to change"
        } else {
            "forwarded to the base deck of its linked notes"
        };
        store::commits::decide(&mut tx, commit, Decision::Denied, Some(reason), now).await?;
    }
    tx.commit().await?;
    if !sub.approved {
        db.announce_queue(sub.root.id);
    }
    for base_root in sub.forwarded.keys() {
        db.announce_queue(*base_root);
    }
    Ok(())
}

/// Stores a removal suggestion for notes of a deck (`/requestRemoval`).
pub async fn request_removal(
    db: &Db,
    user: UserId,
    remote_deck: &str,
    guids: &[String],
    commit_text: &str,
) -> DomainResult<()> {
    if !deck_hash::is_valid(remote_deck) {
        return Err(DomainError::InvalidHash(remote_deck.to_string()));
    }
    if guids.is_empty() {
        return Err(DomainError::NoNotes);
    }
    let mut tx = db.begin_write().await?;
    let root = find_root(&mut tx, remote_deck).await?;
    let found = store::notes::live_ids_by_guid(&mut tx, root.id, guids).await?;
    if found.is_empty() {
        // Notes only the suggester has: nothing to review, and the add-on offers to
        // delete them locally only after a 2xx.
        return Ok(());
    }
    let info = super::sanitize::html(commit_text);
    let commit = store::commits::insert(
        &mut tx,
        Rationale::NOTE_REMOVAL,
        &info,
        root.id,
        user,
        CommitStatus::Pending,
        Micros::now(),
    )
    .await?;
    for (_, note) in found {
        store::notes::insert_removal(&mut tx, note, commit).await?;
    }
    tx.commit().await?;
    db.announce_queue(root.id);
    Ok(())
}

/// The root deck of the tree a (root or sub-) deck hash belongs to.
async fn find_root(conn: &mut Conn, hash: &str) -> DomainResult<store::decks::Deck> {
    let deck = store::decks::by_hash(conn, hash)
        .await?
        .ok_or(DomainError::DeckGone)?;
    if deck.parent.is_none() {
        return Ok(deck);
    }
    store::decks::by_id(conn, deck.root)
        .await?
        .ok_or(DomainError::DeckGone)
}

/// Creates a subdeck of the tree; with `hidden` set it stays out of pulls until that
/// suggestion is approved.
#[allow(clippy::too_many_arguments)]
async fn new_subdeck(
    conn: &mut Conn,
    root: &store::decks::Deck,
    parent: DeckId,
    path: &str,
    name: &str,
    node: &Deck,
    hidden: Option<CommitId>,
    now: Micros,
) -> DomainResult<DeckId> {
    if root.restrict_subdecks {
        return Err(DomainError::SubdecksNotAllowed);
    }
    let hash = super::publish::free_hash(conn, &node.crowdanki_uuid).await?;
    let new = NewDeck {
        name,
        description: &node.desc,
        owner: root.owner,
        parent: Some(parent),
        root: Some(root.id),
        full_path: path,
        crowdanki_uuid: &node.crowdanki_uuid,
        human_hash: &hash,
        now,
    };
    let id = store::decks::insert(conn, new).await?;
    if let Some(commit) = hidden {
        store::decks::mark_pending(conn, id, commit).await?;
    }
    Ok(id)
}

/// Maps the add-on's local deck path onto the server's tree (docs/protocol.md §1.3).
pub fn server_path(deck_path: &str, new_name: &str, root_name: &str) -> String {
    for local_root in [new_name.to_string(), strip_collab_suffix(new_name)] {
        if !local_root.is_empty() && deck_path.starts_with(&local_root) {
            return deck_path.replacen(&local_root, root_name, 1);
        }
    }
    strip_collab_suffix(deck_path)
}

/// Drops ` (AnkiCollab)` and `(AnkiCollab)_<n>` that the add-on appends to local names.
fn strip_collab_suffix(name: &str) -> String {
    let mut s = name.trim_end();
    if let Some((head, tail)) = s.rsplit_once("(AnkiCollab)_") {
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            s = head;
        }
    }
    s.strip_suffix("(AnkiCollab)")
        .unwrap_or(s)
        .trim_end()
        .to_string()
}

/// Drops optional tags of groups the deck does not have (unless a maintainer adds them).
fn allowed_tags<'a>(sub: &mut Submission, tags: &'a [String]) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for t in tags {
        match optional_group(t) {
            Some(g) if !sub.groups.contains(g) => {
                if sub.approved {
                    sub.groups.insert(g.to_string());
                    out.insert(t.as_str());
                }
            }
            _ => {
                out.insert(t.as_str());
            }
        }
    }
    out
}

async fn process_note(
    conn: &mut Conn,
    sub: &mut Submission,
    deck: DeckId,
    note: &Note,
    nt: &Resolved,
) -> DomainResult<()> {
    let tags = allowed_tags(sub, &note.tags);
    let existing = store::notes::find(conn, sub.root.id, &note.guid).await?;
    match existing {
        None => new_note(conn, sub, deck, note, nt, &tags).await,
        Some(n) if !n.reviewed => {
            if sub.approved {
                store::notes::delete_pending_content(conn, n.id).await?;
                overwrite(conn, sub, deck, &n, note, nt, &tags).await
            } else {
                replace_pending(conn, sub, deck, &n, note, nt, &tags).await
            }
        }
        Some(n) if sub.approved => overwrite(conn, sub, deck, &n, note, nt, &tags).await,
        Some(n) if n.deleted => Ok(()),
        Some(n) => suggest_changes(conn, sub, deck, &n, note, nt, &tags).await,
    }
}

async fn new_note(
    conn: &mut Conn,
    sub: &mut Submission,
    deck: DeckId,
    note: &Note,
    nt: &Resolved,
    tags: &BTreeSet<&str>,
) -> DomainResult<()> {
    let fields = nt.stored_fields(&note.fields);
    if fields.is_empty() || note.guid.is_empty() {
        return Ok(());
    }
    let id = store::notes::next_id(conn).await?;
    let row = NewNote {
        id,
        guid: &note.guid,
        notetype: nt.id,
        anki_id: note.id,
        fields,
        tags: tags.iter().copied().collect(),
        pulled: None,
    };
    store::notes::insert_new(
        conn,
        sub.root.id,
        deck,
        sub.approved,
        sub.commit,
        sub.now,
        &[row],
    )
    .await?;
    sub.changes += 1;
    if sub.approved {
        sub.touched_decks.insert(deck);
        store::notes::insert_event(
            conn,
            Event::new(id, sub.commit, ChangeKind::NoteCreated, sub.now),
        )
        .await?;
    }
    Ok(())
}

/// A pending new note is edited again by its suggester: replace its pending content.
async fn replace_pending(
    conn: &mut Conn,
    sub: &mut Submission,
    deck: DeckId,
    n: &store::notes::Note,
    note: &Note,
    nt: &Resolved,
    tags: &BTreeSet<&str>,
) -> DomainResult<()> {
    let commit = n.commit_id.unwrap_or(sub.commit);
    store::notes::delete_pending_content(conn, n.id).await?;
    for (pos, content) in nt.stored_fields(&note.fields) {
        store::notes::insert_field(conn, n.id, pos as i64, content, false, commit).await?;
    }
    for t in tags {
        store::notes::insert_tag(conn, n.id, t, false, true, commit).await?;
    }
    store::notes::set_deck(conn, n.id, deck).await?;
    store::notes::set_notetype(conn, n.id, nt.id).await?;
    sub.changes += 1;
    Ok(())
}

/// A maintainer's auto-approved edit replaces reviewed content directly.
async fn overwrite(
    conn: &mut Conn,
    sub: &mut Submission,
    deck: DeckId,
    n: &store::notes::Note,
    note: &Note,
    nt: &Resolved,
    tags: &BTreeSet<&str>,
) -> DomainResult<()> {
    if note
        .fields
        .iter()
        .take(nt.field_count)
        .all(String::is_empty)
    {
        return Err(DomainError::EmptyUpdate);
    }
    // A note that was pending or deleted changes state even when its content does not.
    let mut changed = !n.reviewed || n.deleted;
    if n.notetype != nt.id {
        // Links are kept by field name, so what the note shows is read in its new layout.
        store::deck_links::follow_notetype_change(conn, n.id, n.notetype, nt.id).await?;
    }
    let inherits = store::deck_links::inheritance(conn, n.id).await?;
    let old = shown_fields(conn, n.id, inherits.as_ref()).await?;
    let unknown = sub.unknown_of(note);
    for (pos, before, new) in nt.field_changes(&note.fields, &old, &unknown) {
        if forward(conn, sub, inherits.as_ref(), pos, new).await? {
            continue;
        }
        changed = true;
        store::notes::delete_reviewed_field(conn, n.id, pos as i64).await?;
        if !new.is_empty() {
            store::notes::insert_field(conn, n.id, pos as i64, new, true, sub.commit).await?;
        }
        let kind = ChangeKind::of_field(before.is_empty(), new.is_empty());
        let name = nt.field_names.get(pos).map(String::as_str);
        store::notes::insert_event(
            conn,
            Event::new(n.id, sub.commit, kind, sub.now)
                .field(pos as i64, name)
                .texts(Some(before), Some(new)),
        )
        .await?;
    }
    let old_tags: BTreeSet<String> = store::pull::pulled_tags(conn, n.id)
        .await?
        .into_iter()
        .collect();
    for t in tags.iter().filter(|t| !old_tags.contains(**t)) {
        changed = true;
        store::notes::insert_tag(conn, n.id, t, true, true, sub.commit).await?;
        store::deck_links::restore_base_tag(conn, n.id, t).await?;
        store::notes::insert_event(
            conn,
            Event::new(n.id, sub.commit, ChangeKind::TagAdded, sub.now).texts(None, Some(t)),
        )
        .await?;
    }
    for t in old_tags.iter().filter(|t| !tags.contains(t.as_str())) {
        changed = true;
        store::notes::delete_reviewed_tag(conn, n.id, t).await?;
        store::deck_links::drop_base_tag(conn, n.id, t).await?;
        store::notes::insert_event(
            conn,
            Event::new(n.id, sub.commit, ChangeKind::TagRemoved, sub.now).texts(Some(t), None),
        )
        .await?;
    }
    if n.deck != deck {
        changed = true;
        store::notes::set_deck(conn, n.id, deck).await?;
        sub.touched_decks.insert(n.deck);
        store::notes::insert_event(
            conn,
            Event::new(n.id, sub.commit, ChangeKind::NoteMoved, sub.now),
        )
        .await?;
    }
    if n.notetype != nt.id {
        changed = true;
        store::notes::set_notetype(conn, n.id, nt.id).await?;
    }
    if !changed {
        // Unchanged notes keep their clock, so the next pull leaves them out.
        return Ok(());
    }
    store::notes::set_state(conn, n.id, true, false, sub.now).await?;
    sub.touched_decks.insert(deck);
    sub.changes += 1;
    Ok(())
}

/// A normal suggestion on a reviewed note: one pending row per difference.
async fn suggest_changes(
    conn: &mut Conn,
    sub: &mut Submission,
    deck: DeckId,
    n: &store::notes::Note,
    note: &Note,
    nt: &Resolved,
    tags: &BTreeSet<&str>,
) -> DomainResult<()> {
    let inherits = store::deck_links::inheritance(conn, n.id).await?;
    let old = shown_fields(conn, n.id, inherits.as_ref()).await?;
    let unknown = sub.unknown_of(note);
    for (pos, _, new) in nt.field_changes(&note.fields, &old, &unknown) {
        if forward(conn, sub, inherits.as_ref(), pos, new).await? {
            continue;
        }
        store::notes::insert_field(conn, n.id, pos as i64, new, false, sub.commit).await?;
        sub.changes += 1;
    }
    let old_tags: HashSet<String> = store::pull::pulled_tags(conn, n.id)
        .await?
        .into_iter()
        .collect();
    for t in tags.iter().filter(|t| !old_tags.contains(**t)) {
        store::notes::insert_tag(conn, n.id, t, false, true, sub.commit).await?;
        sub.changes += 1;
    }
    for t in old_tags.iter().filter(|t| !tags.contains(t.as_str())) {
        store::notes::insert_tag(conn, n.id, t, false, false, sub.commit).await?;
        sub.changes += 1;
    }
    if n.deck != deck {
        store::notes::insert_move(conn, n.id, deck, sub.commit).await?;
        sub.changes += 1;
    }
    Ok(())
}

/// The fields a note shows: its reviewed ones, and its base note's at the positions a
/// linked note inherits.
async fn shown_fields(
    conn: &mut Conn,
    note: NoteId,
    inherits: Option<&Inheritance>,
) -> DomainResult<BTreeMap<i64, String>> {
    let mut shown: BTreeMap<i64, String> = store::notes::reviewed_fields(conn, note)
        .await?
        .into_iter()
        .collect();
    if let Some(inh) = inherits {
        let base: BTreeMap<i64, String> = store::notes::reviewed_fields(conn, inh.base_note)
            .await?
            .into_iter()
            .collect();
        for f in &inh.fields {
            match base.get(&f.base_position) {
                Some(c) => shown.insert(f.position, c.clone()),
                None => shown.remove(&f.position),
            };
        }
    }
    Ok(shown)
}

/// Files a change of an inherited field of a linked note as a suggestion on its base
/// note, pending review by the base deck's maintainers; false for a field the note
/// does not inherit.
async fn forward(
    conn: &mut Conn,
    sub: &mut Submission,
    inherits: Option<&Inheritance>,
    pos: usize,
    new: &str,
) -> DomainResult<bool> {
    let Some((inh, base_position)) =
        inherits.and_then(|i| i.base_position(pos as i64).map(|b| (i, b)))
    else {
        return Ok(false);
    };
    let commit = match sub.forwarded.get(&inh.base_root) {
        Some(c) => *c,
        None => {
            let c = store::commits::insert(
                conn,
                sub.rationale,
                &sub.info,
                inh.base_root,
                sub.user,
                CommitStatus::Pending,
                sub.now,
            )
            .await?;
            sub.forwarded.insert(inh.base_root, c);
            c
        }
    };
    store::notes::insert_field(conn, inh.base_note, base_position, new, false, commit).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_local_paths() {
        assert_eq!(
            server_path("Demo Deck", "Demo Deck", "Demo Deck"),
            "Demo Deck"
        );
        assert_eq!(
            server_path("Local (AnkiCollab)::Sub", "Local (AnkiCollab)", "Demo Deck"),
            "Demo Deck::Sub"
        );
        assert_eq!(
            server_path(
                "Demo Deck (AnkiCollab)_2::A::B",
                "Demo Deck (AnkiCollab)_2",
                "Demo Deck"
            ),
            "Demo Deck::A::B"
        );
        assert_eq!(strip_collab_suffix("X (AnkiCollab)_12"), "X");
    }
}
