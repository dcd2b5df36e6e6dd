//! Matching uploaded notetypes to stored ones: by UUID, then by shape, else new.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::domain::notetypes;
use crate::store::{self, notetypes::Notetype, Conn, DeckId, Micros, NotetypeId, UserId};
use crate::wire::crowdanki::{Deck, NoteModel};

/// What a note needs to know about its notetype.
#[derive(Debug)]
pub struct Resolved {
    pub id: NotetypeId,
    /// The stored notetype's UUID (an upload's model may match a stored one by shape).
    pub guid: String,
    pub field_count: usize,
    pub field_names: Vec<String>,
    /// Each field's `ord`, in order: the position a pull reads its content from.
    pub ords: Vec<i64>,
    pub protected: Vec<bool>,
}

impl Resolved {
    /// The `fields` array a pull sends for a note with these stored fields: one entry per
    /// notetype field, empty where nothing is stored.
    pub fn pulled_fields<'a>(&self, stored: &[(usize, &'a str)]) -> Vec<&'a str> {
        self.ords
            .iter()
            .map(|&ord| {
                stored
                    .iter()
                    .find(|(pos, _)| *pos as i64 == ord)
                    .map_or("", |(_, c)| c)
            })
            .collect()
    }

    /// Fields as stored: cut to the field count, `(position, content)` of non-empty ones
    /// outside protected positions (subscribers keep their own text there).
    pub fn stored_fields<'a>(&self, fields: &'a [String]) -> Vec<(usize, &'a str)> {
        fields
            .iter()
            .take(self.field_count)
            .enumerate()
            .filter(|(i, c)| !c.is_empty() && !self.protected.get(*i).copied().unwrap_or(false))
            .map(|(i, c)| (i, c.as_str()))
            .collect()
    }

    /// Where a suggested note differs from the reviewed one: `(position, before, after)`
    /// for each unprotected position whose content changes (a missing field is empty),
    /// except the positions in `unknown`, which the upload does not carry.
    pub fn field_changes<'a>(
        &self,
        suggested: &'a [String],
        reviewed: &'a BTreeMap<i64, String>,
        unknown: &[usize],
    ) -> Vec<(usize, &'a str, &'a str)> {
        (0..self.field_count)
            .filter(|pos| !self.protected.get(*pos).copied().unwrap_or(false))
            .filter(|pos| !unknown.contains(pos))
            .filter_map(|pos| {
                let after = suggested.get(pos).map_or("", String::as_str);
                let before = reviewed.get(&(pos as i64)).map_or("", String::as_str);
                (after != before).then_some((pos, before, after))
            })
            .collect()
    }
}

/// Resolves the notetypes of one upload against one owner's notetypes.
pub struct Resolver {
    owner: UserId,
    by_uuid: HashMap<String, Arc<Resolved>>,
    existing: Option<Vec<Notetype>>,
}

impl Resolver {
    pub fn new(owner: UserId) -> Self {
        Self {
            owner,
            by_uuid: HashMap::new(),
            existing: None,
        }
    }

    /// Resolves every model of an upload. Unknown ones are created only when `allow_create`.
    /// Returns the UUIDs that matched nothing.
    pub async fn resolve_all(
        &mut self,
        conn: &mut Conn,
        models: &[NoteModel],
        allow_create: bool,
    ) -> sqlx::Result<Vec<String>> {
        let mut unknown = Vec::new();
        for m in models {
            if self.by_uuid.contains_key(&m.crowdanki_uuid) {
                continue;
            }
            match self.lookup(conn, m).await? {
                Some(id) => self.remember(conn, &m.crowdanki_uuid, id).await?,
                None if allow_create => {
                    let id = store::notetypes::insert(conn, self.owner, m).await?;
                    self.existing = None;
                    self.remember(conn, &m.crowdanki_uuid, id).await?;
                }
                None => unknown.push(m.crowdanki_uuid.clone()),
            }
        }
        Ok(unknown)
    }

    /// The resolved notetype for a note's `note_model_uuid`; falls back to the owner's
    /// stored notetype of that UUID when the upload did not include the model.
    pub async fn get(
        &mut self,
        conn: &mut Conn,
        uuid: &str,
    ) -> sqlx::Result<Option<Arc<Resolved>>> {
        if let Some(r) = self.by_uuid.get(uuid) {
            return Ok(Some(r.clone()));
        }
        match store::notetypes::find(conn, uuid, self.owner).await? {
            Some(id) => {
                self.remember(conn, uuid, id).await?;
                Ok(self.by_uuid.get(uuid).cloned())
            }
            None => Ok(None),
        }
    }

    /// Lines each uploaded notetype up with the stored one of its UUID: when `apply` (the
    /// owner or a maintainer pushing from Anki, who must maintain every tree whose notes use
    /// the notetype) its renamed, new and moved fields, its templates and styling become
    /// the stored notetype's; otherwise a change to a notetype of `tree` is handed back to
    /// be suggested. An upload that is only an earlier shape of the stored notetype (an
    /// Anki that has not pulled its change yet) changes and suggests nothing. Answers, per
    /// uploaded UUID, where each uploaded field's
    /// content belongs in the stored layout, so a note's fields can be put in place
    /// before they are read by position.
    pub async fn line_up(
        &mut self,
        conn: &mut Conn,
        models: &[NoteModel],
        tree: DeckId,
        user: UserId,
        apply: bool,
        now: Micros,
    ) -> sqlx::Result<LinedUp> {
        let mut layouts = HashMap::new();
        let mut suggested = Vec::new();
        for m in models {
            let Some(id) = store::notetypes::find(conn, &m.crowdanki_uuid, self.owner).await?
            else {
                continue;
            };
            let Some(stored) = store::notetypes::load(conn, &[id]).await?.pop() else {
                continue;
            };
            let removed = store::notetype_edits::removed(conn, id).await?;
            let mut plan = notetypes::plan_upload(&stored, &removed, m);
            if !plan.change.is_empty()
                && notetypes::is_stale_upload(conn, &stored, &removed, m).await?
            {
                plan.change = notetypes::Change::default();
            }
            let mut may_change = apply;
            for root in store::notetypes::roots_using(conn, id).await? {
                may_change = may_change && store::decks::can_maintain(conn, root, user).await?;
            }
            let layout = if may_change && !plan.change.is_empty() {
                notetypes::apply(conn, &stored, &plan.change, now).await?;
                self.remember(conn, &m.crowdanki_uuid, id).await?;
                self.existing = None;
                Layout {
                    positions: plan.positions,
                    missing: plan.missing,
                }
            } else {
                if !plan.change.is_empty() && store::notetypes::used_in_tree(conn, tree, id).await?
                {
                    let json = serde_json::to_string(m).expect("a notetype serialises");
                    suggested.push((id, json, notetypes::version_of(&stored)));
                }
                Layout {
                    positions: plan.current,
                    missing: plan.missing_now,
                }
            };
            layouts.insert(m.crowdanki_uuid.clone(), layout);
        }
        Ok(LinedUp { layouts, suggested })
    }

    /// The resolved notetype for a UUID seen before, without asking the database.
    pub fn cached(&self, uuid: &str) -> Option<Arc<Resolved>> {
        self.by_uuid.get(uuid).cloned()
    }

    async fn remember(&mut self, conn: &mut Conn, uuid: &str, id: NotetypeId) -> sqlx::Result<()> {
        let fields = store::notetypes::fields(conn, id).await?;
        self.by_uuid.insert(
            uuid.to_string(),
            Arc::new(Resolved {
                id,
                guid: store::notetypes::guid(conn, id).await?,
                field_count: fields.len(),
                field_names: fields.iter().map(|f| f.name.clone()).collect(),
                ords: fields.iter().map(|f| f.ord).collect(),
                protected: fields.iter().map(|f| f.protected).collect(),
            }),
        );
        Ok(())
    }

    async fn lookup(&mut self, conn: &mut Conn, m: &NoteModel) -> sqlx::Result<Option<NotetypeId>> {
        if let Some(id) = store::notetypes::find(conn, &m.crowdanki_uuid, self.owner).await? {
            return Ok(Some(id));
        }
        if self.existing.is_none() {
            self.existing = Some(store::notetypes::of_owner(conn, self.owner).await?);
        }
        Ok(self
            .existing
            .as_ref()
            .and_then(|all| all.iter().find(|nt| same_shape(nt, m)))
            .map(|nt| nt.id))
    }
}

/// When an uploaded notetype is the same as a stored one (docs/protocol.md §2.1).
fn same_shape(nt: &Notetype, m: &NoteModel) -> bool {
    nt.kind == m.kind
        && nt.req == m.req
        && nt.flds.len() == m.flds.len()
        && nt
            .flds
            .iter()
            .zip(&m.flds)
            .all(|(a, b)| a.name == b.name || (a.id != 0 && a.id == b.id))
        && nt.tmpls.len() == m.tmpls.len()
        && nt
            .tmpls
            .iter()
            .zip(&m.tmpls)
            .all(|(a, b)| (a.qfmt == b.qfmt && a.afmt == b.afmt) || (a.id != 0 && a.id == b.id))
}

/// What lining an upload's notetypes up found.
pub struct LinedUp {
    /// Per uploaded notetype UUID, where its fields go.
    pub layouts: HashMap<String, Layout>,
    /// Stored notetypes of the tree the upload would change, with the uploaded notetype as
    /// JSON and the stored one's version, for a suggestion to carry.
    pub suggested: Vec<(NotetypeId, String, String)>,
}

/// Where an uploaded notetype's fields go in the stored one.
pub struct Layout {
    /// For each uploaded field, its stored position (`None`: not kept).
    positions: Vec<Option<usize>>,
    /// Stored positions the upload does not carry; their content is left alone.
    pub missing: Vec<usize>,
}

/// Puts each note's uploaded fields where the stored notetype keeps them (see
/// [`Resolver::line_up`]); notes of notetypes without a layout keep their order.
pub fn put_fields_in_place(deck: &mut Deck, layouts: &HashMap<String, Layout>) {
    let mut stack = vec![deck];
    while let Some(node) = stack.pop() {
        for note in &mut node.notes {
            let Some(layout) = layouts.get(&note.note_model_uuid) else {
                continue;
            };
            let width = layout.positions.iter().flatten().max().map_or(0, |m| m + 1);
            let mut placed = vec![String::new(); width];
            for (content, to) in std::mem::take(&mut note.fields)
                .into_iter()
                .zip(&layout.positions)
            {
                if let Some(to) = to {
                    placed[*to] = content;
                }
            }
            note.fields = placed;
        }
        stack.extend(node.children.iter_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(protected: Vec<bool>) -> Resolved {
        Resolved {
            id: NotetypeId(1),
            guid: "basic".into(),
            field_count: 3,
            field_names: vec!["Front".into(), "Back".into(), "Extra".into()],
            ords: vec![0, 1, 2],
            protected,
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn field_changes_list_only_what_differs() {
        let nt = basic(vec![false; 3]);
        let reviewed = BTreeMap::from([(0, "q".to_string()), (1, "a".to_string())]);
        assert_eq!(
            nt.field_changes(&strings(&["q", "a2", "x"]), &reviewed, &[]),
            vec![(1, "a", "a2"), (2, "", "x")]
        );
        assert_eq!(
            nt.field_changes(&strings(&["q", "a"]), &reviewed, &[]),
            vec![]
        );
        // A field beyond the notetype's count is not content; a missing one is empty.
        assert_eq!(
            nt.field_changes(&strings(&["q"]), &reviewed, &[]),
            vec![(1, "a", "")]
        );
        assert_eq!(
            nt.field_changes(&strings(&["q", "a", "", "beyond"]), &reviewed, &[]),
            vec![]
        );
    }

    #[test]
    fn field_changes_skip_protected_fields() {
        let nt = basic(vec![false, true, false]);
        let reviewed = BTreeMap::from([(0, "q".to_string()), (1, "a".to_string())]);
        assert_eq!(
            nt.field_changes(&strings(&["q2", "mine", ""]), &reviewed, &[]),
            vec![(0, "q", "q2")]
        );
    }

    #[test]
    fn pulled_fields_have_one_entry_per_notetype_field() {
        let nt = basic(vec![false, true, false]);
        let fields = strings(&["q", "secret", "", "beyond"]);
        let stored = nt.stored_fields(&fields);
        assert_eq!(nt.pulled_fields(&stored), ["q", "", ""]);
        assert_eq!(nt.pulled_fields(&[(2, "x")]), ["", "", "x"]);
    }

    #[test]
    fn stored_fields_drop_empty_and_protected() {
        let nt = basic(vec![false, false, true]);
        assert_eq!(
            nt.stored_fields(&strings(&["q", "", "secret", "beyond"])),
            vec![(0, "q")]
        );
    }
}
