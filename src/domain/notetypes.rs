//! Changing a deck's notetypes: fields renamed, added, moved or removed, card templates
//! and styling edited, in the console or pushed by the owner from Anki. Every note's
//! content follows its field, and subscribers get the notetype with all of its notes on
//! their next pull, since the add-on lays pulled fields out by position.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::decks::{by_hash, check_maintainer};
use super::{Actor, DomainError, DomainResult};
use crate::ingest::sanitize;
use crate::store::notetype_edits::{self, NewField};
use crate::store::notetypes::{Notetype, NotetypeField, NotetypeTemplate};
use crate::store::{self, CommitId, Conn, Db, Micros, NotetypeId};
use crate::wire::crowdanki::NoteModel;

/// A field after a change, with the stored position its content comes from (`None` for a
/// new, empty field).
pub struct PlannedField {
    pub from: Option<i64>,
    pub field: NotetypeField,
}

/// Everything that changes about one notetype; `None` parts stay as they are.
#[derive(Default)]
pub struct Change {
    pub fields: Option<Vec<PlannedField>>,
    pub templates: Option<Vec<NotetypeTemplate>>,
    pub css: Option<String>,
}

impl Change {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.fields.is_none() && self.templates.is_none() && self.css.is_none()
    }
}

/// How many earlier shapes of a notetype are kept to recognise stale uploads.
const KEPT_SHAPES: i64 = 20;

/// What a change alters about a notetype: its fields, templates and styling.
#[derive(Serialize, Deserialize)]
struct Shape {
    flds: Vec<NotetypeField>,
    tmpls: Vec<NotetypeTemplate>,
    css: String,
}

/// Whether an upload that would change notetype `stored` is only an earlier shape of it:
/// the uploader's Anki has not pulled the change yet, so it asks for nothing new.
pub(crate) async fn is_stale_upload(
    conn: &mut Conn,
    stored: &Notetype,
    removed: &[(String, i64)],
    up: &NoteModel,
) -> sqlx::Result<bool> {
    for shape in notetype_edits::earlier_shapes(conn, stored.id).await? {
        let Ok(shape) = serde_json::from_str::<Shape>(&shape) else {
            continue;
        };
        let Some(mut earlier) = store::notetypes::load(conn, &[stored.id]).await?.pop() else {
            return Ok(false);
        };
        (earlier.flds, earlier.tmpls, earlier.css) = (shape.flds, shape.tmpls, shape.css);
        if plan_upload(&earlier, removed, up).change.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Applies a change inside the caller's transaction and makes every note of the notetype
/// due for its subscribers' next pull.
pub(crate) async fn apply(
    conn: &mut Conn,
    nt: &Notetype,
    change: &Change,
    now: Micros,
) -> sqlx::Result<()> {
    if change.is_empty() {
        return Ok(());
    }
    let before = Shape {
        flds: nt.flds.clone(),
        tmpls: nt.tmpls.clone(),
        css: nt.css.clone(),
    };
    let before = serde_json::to_string(&before).expect("a notetype shape serialises");
    notetype_edits::remember_shape(conn, nt.id, &before, KEPT_SHAPES).await?;
    if let Some(fields) = &change.fields {
        let kept: HashSet<i64> = fields.iter().filter_map(|f| f.from).collect();
        for gone in nt.flds.iter().filter(|f| !kept.contains(&f.ord)) {
            notetype_edits::remember_removed(conn, nt.id, gone).await?;
        }
        let layout: Vec<NewField> = fields
            .iter()
            .map(|p| NewField {
                from: p.from,
                field: &p.field,
            })
            .collect();
        notetype_edits::set_fields(conn, nt.id, &layout).await?;
    }
    if let Some(templates) = &change.templates {
        notetype_edits::set_templates(conn, nt.id, templates).await?;
    }
    if let Some(css) = &change.css {
        notetype_edits::set_css(conn, nt.id, css).await?;
    }
    for deck in notetype_edits::touch_notes(conn, nt.id, now).await? {
        store::decks::bump_with_ancestors(conn, deck, now).await?;
    }
    Ok(())
}

/// The change a suggested notetype (kept as the uploaded JSON) makes to the notetype as
/// it is now, which may differ from when it was suggested.
pub(crate) async fn suggested_change(
    conn: &mut Conn,
    notetype: NotetypeId,
    model: &str,
) -> DomainResult<Option<(Notetype, Change)>> {
    let Some(stored) = store::notetypes::load(conn, &[notetype]).await?.pop() else {
        return Ok(None);
    };
    let model: NoteModel = serde_json::from_str(model)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("a kept notetype suggestion: {e}")))?;
    let removed = notetype_edits::removed(conn, notetype).await?;
    let plan = plan_upload(&stored, &removed, &model);
    Ok(Some((stored, plan.change)))
}

/// Applies a suggested notetype change, if the notetype is still as it was when the
/// change was suggested (otherwise accepting it would undo what changed since) and
/// `actor` may change it for every deck using it; answers whether anything changed.
pub(crate) async fn apply_suggested(
    conn: &mut Conn,
    actor: Actor,
    suggested: &notetype_edits::SuggestedChange,
    now: Micros,
) -> DomainResult<bool> {
    let Some((stored, change)) =
        suggested_change(conn, suggested.notetype, &suggested.model).await?
    else {
        return Ok(false);
    };
    if version_of(&stored) != suggested.base_version {
        return Err(DomainError::SuggestionOutdated(stored.name));
    }
    check_may_change(conn, actor, suggested.notetype).await?;
    apply(conn, &stored, &change, now).await?;
    Ok(!change.is_empty())
}

/// How a suggested notetype change reads on a review page.
#[derive(Debug)]
pub struct ChangeSummary {
    /// The suggestion's row, for deciding it.
    pub row: i64,
    pub notetype: String,
    pub fields_before: Vec<String>,
    /// `None` when the fields stay as they are.
    pub fields_after: Option<Vec<String>>,
    /// The card templates that change, when the templates do.
    pub templates: Vec<TemplateChange>,
    /// The styling as it is and as it would be, when it changes.
    pub css: Option<(String, String)>,
}

/// A card template as it is and as it would be, so a reviewer sees what the upload does
/// to every card; a side is empty for a template added or removed.
#[derive(Debug)]
pub struct TemplateChange {
    pub name: String,
    pub front: (String, String),
    pub back: (String, String),
}

/// The templates of a suggested change that differ from the stored ones, paired by place.
fn template_changes(
    before: &[NotetypeTemplate],
    after: &[NotetypeTemplate],
) -> Vec<TemplateChange> {
    let side = |t: Option<&NotetypeTemplate>, pick: fn(&NotetypeTemplate) -> &String| {
        t.map(pick).cloned().unwrap_or_default()
    };
    (0..before.len().max(after.len()))
        .map(|i| {
            let (b, a) = (before.get(i), after.get(i));
            let name = match (b, a) {
                (Some(b), Some(a)) if b.name != a.name => format!("{} → {}", b.name, a.name),
                _ => a.or(b).map(|t| t.name.clone()).unwrap_or_default(),
            };
            TemplateChange {
                name,
                front: (side(b, |t| &t.qfmt), side(a, |t| &t.qfmt)),
                back: (side(b, |t| &t.afmt), side(a, |t| &t.afmt)),
            }
        })
        .filter(|t| t.front.0 != t.front.1 || t.back.0 != t.back.1 || t.name.contains(" → "))
        .collect()
}

/// The waiting notetype changes of a suggestion, as they would apply now.
pub(crate) async fn summaries(
    conn: &mut Conn,
    commit: CommitId,
) -> DomainResult<Vec<ChangeSummary>> {
    let mut out = Vec::new();
    for s in notetype_edits::pending_suggestions(conn, commit).await? {
        let Some((stored, change)) = suggested_change(conn, s.notetype, &s.model).await? else {
            continue;
        };
        out.push(ChangeSummary {
            row: s.id,
            fields_before: stored.flds.iter().map(|f| f.name.clone()).collect(),
            fields_after: change
                .fields
                .as_ref()
                .map(|f| f.iter().map(|p| p.field.name.clone()).collect()),
            templates: change
                .templates
                .as_deref()
                .map(|after| template_changes(&stored.tmpls, after))
                .unwrap_or_default(),
            css: change.css.map(|after| (stored.css.clone(), after)),
            notetype: stored.name,
        });
    }
    Ok(out)
}

/// How an uploaded notetype lines up with the stored one of the same UUID.
pub struct UploadPlan {
    /// For each uploaded field, the stored position its content belongs to once `change`
    /// is applied; `None` for a field the server does not keep.
    pub positions: Vec<Option<usize>>,
    /// The same before the change (for a suggestion, which changes no notetype).
    pub current: Vec<Option<usize>>,
    /// Stored positions no uploaded field fills once `change` is applied: their content
    /// stays as it is, whatever the note's upload says.
    pub missing: Vec<usize>,
    /// The same before the change.
    pub missing_now: Vec<usize>,
    /// What the upload changes; applied only when the owner or a maintainer pushes it.
    pub change: Change,
}

enum Slot {
    Stored(usize),
    New,
    Leftover,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Whether Anki would keep an uploaded field name as it is.
fn acceptable_name(name: &str) -> bool {
    check_name("field", name).is_ok_and(|n| n == name)
}

/// Lines an upload up with the stored notetype. Fields match by Anki's field id, then by
/// name. A field the add-on keeps after the server renamed or removed it (a copy with a
/// known id, or a removed name) is a leftover; any other unknown field is new. A push
/// never removes a field (clients keep old fields at the end), but renames, adds and
/// reorders do apply, as do template and styling edits.
pub fn plan_upload(stored: &Notetype, removed: &[(String, i64)], up: &NoteModel) -> UploadPlan {
    let s = &stored.flds;
    let mut taken = vec![false; s.len()];
    let slots: Vec<Slot> = up
        .flds
        .iter()
        .map(|u| {
            let by_id = (u.id != 0)
                .then(|| s.iter().position(|f| f.id == u.id))
                .flatten();
            let by_name = s.iter().position(|f| same_name(&f.name, &u.name));
            match by_id
                .filter(|&i| !taken[i])
                .or(by_name.filter(|&i| !taken[i]))
            {
                Some(i) => {
                    taken[i] = true;
                    Slot::Stored(i)
                }
                None if by_id.is_some()
                    || by_name.is_some()
                    || removed
                        .iter()
                        .any(|(n, id)| (*id != 0 && *id == u.id) || same_name(n, &u.name)) =>
                {
                    Slot::Leftover
                }
                None => Slot::New,
            }
        })
        .collect();

    let mut planned: Vec<PlannedField> = Vec::new();
    let mut positions = Vec::with_capacity(slots.len());
    let current = slots
        .iter()
        .map(|slot| match slot {
            Slot::Stored(i) => Some(s[*i].ord as usize),
            Slot::New | Slot::Leftover => None,
        })
        .collect();
    let taken_name = |planned: &[PlannedField], name: &str, except: Option<usize>| {
        planned.iter().any(|p| same_name(&p.field.name, name))
            || s.iter()
                .enumerate()
                .any(|(i, f)| Some(i) != except && same_name(&f.name, name))
    };
    for (u, slot) in up.flds.iter().zip(&slots) {
        match slot {
            Slot::Stored(i) => {
                let f = &s[*i];
                let renamed = f.id != 0
                    && f.id == u.id
                    && f.name != u.name
                    && acceptable_name(&u.name)
                    && !taken_name(&planned, &u.name, Some(*i));
                positions.push(Some(planned.len()));
                planned.push(PlannedField {
                    from: Some(f.ord),
                    field: NotetypeField {
                        name: if renamed {
                            u.name.clone()
                        } else {
                            f.name.clone()
                        },
                        ..f.clone()
                    },
                });
            }
            Slot::New if acceptable_name(&u.name) && !taken_name(&planned, &u.name, None) => {
                positions.push(Some(planned.len()));
                planned.push(PlannedField {
                    from: None,
                    field: NotetypeField {
                        description: u.description.clone(),
                        font: u.font.clone(),
                        id: u.id,
                        name: u.name.clone(),
                        ord: 0,
                        rtl: u.rtl,
                        size: u.size,
                        sticky: u.sticky,
                        tag: u.tag,
                        protected: false,
                    },
                });
            }
            Slot::New | Slot::Leftover => positions.push(None),
        }
    }
    let mut missing = Vec::new();
    let mut missing_now = Vec::new();
    for f in s.iter().zip(&taken).filter(|(_, t)| !**t).map(|(f, _)| f) {
        missing.push(planned.len());
        missing_now.push(f.ord as usize);
        planned.push(PlannedField {
            from: Some(f.ord),
            field: f.clone(),
        });
    }
    let fields_change = planned.len() != s.len()
        || planned
            .iter()
            .zip(s)
            .any(|(p, f)| p.from != Some(f.ord) || p.field.name != f.name);

    let templates: Vec<NotetypeTemplate> = up
        .tmpls
        .iter()
        .enumerate()
        .map(|(ord, t)| NotetypeTemplate {
            afmt: t.afmt.clone(),
            bafmt: t.bafmt.clone(),
            bfont: t.bfont.clone(),
            bqfmt: t.bqfmt.clone(),
            bsize: t.bsize,
            id: t.id,
            name: t.name.clone(),
            ord: ord as i64,
            qfmt: t.qfmt.clone(),
        })
        .collect();
    let shown = |t: &NotetypeTemplate| (t.name.clone(), t.qfmt.clone(), t.afmt.clone());
    let templates_change = !templates.is_empty()
        && templates.iter().map(shown).collect::<Vec<_>>()
            != stored.tmpls.iter().map(shown).collect::<Vec<_>>();
    UploadPlan {
        positions,
        current,
        missing,
        missing_now,
        change: Change {
            fields: fields_change.then_some(planned),
            templates: templates_change.then_some(templates),
            css: (up.css != stored.css).then(|| up.css.clone()),
        },
    }
}

/// A field as the console's notetype form sends it: where its content comes from (a
/// stored position, or `None` for a new field) and its name.
pub struct FieldEdit {
    pub from: Option<i64>,
    pub name: String,
}

/// A card template as the console's form sends it.
pub struct TemplateEdit {
    pub name: String,
    pub qfmt: String,
    pub afmt: String,
}

/// The whole notetype form: fields in their new order, the stored positions of fields
/// removed, templates, styling, and the notetype's version the form was made from.
pub struct NotetypeEdit {
    pub fields: Vec<FieldEdit>,
    pub removed: Vec<i64>,
    pub templates: Vec<TemplateEdit>,
    pub css: String,
    pub version: String,
}

/// A notetype's version: changes whenever its fields, templates or styling do, so a form
/// made from an older notetype is refused instead of undoing what changed since.
pub fn version_of(nt: &Notetype) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(nt).expect("a notetype serialises");
    hex::encode(&Sha256::digest(json)[..12])
}

/// Refuses a change to a notetype that notes of decks `actor` does not maintain also use:
/// notetypes belong to the deck owner, and one can serve several of their decks.
pub(crate) async fn check_may_change(
    conn: &mut Conn,
    actor: Actor,
    notetype: NotetypeId,
) -> DomainResult<()> {
    let Actor::User(user) = actor else {
        return Ok(());
    };
    for root in store::notetypes::roots_using(conn, notetype).await? {
        if !store::decks::can_maintain(conn, root, user).await? {
            return Err(DomainError::NotetypeShared);
        }
    }
    Ok(())
}

/// What [`edit`] changed, for the console's notice.
#[derive(Debug, PartialEq)]
pub struct Edited {
    pub notetype: String,
    pub fields_changed: bool,
    pub templates_changed: bool,
    pub css_changed: bool,
}

/// Most fields and templates a notetype may have, and the longest name.
const MAX_FIELDS: usize = 100;
const MAX_TEMPLATES: usize = 50;
const MAX_NAME: usize = 100;
/// Longest template or stylesheet, in bytes.
const MAX_TEXT: usize = 100_000;

fn invalid(message: String) -> DomainError {
    DomainError::Invalid(anyhow::anyhow!(message))
}

/// A field or template name Anki accepts: not empty, no `:{}"`, not starting with `#/^`.
fn check_name(kind: &str, name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(format!("A {kind} needs a name")));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(format!(
            "The {kind} name {name:?} is longer than {MAX_NAME} characters"
        )));
    }
    if name.contains([':', '{', '}', '"']) || name.starts_with(['#', '/', '^']) {
        return Err(invalid(format!(
            "The {kind} name {name:?} may not contain : {{ }} \" or start with # / ^"
        )));
    }
    Ok(name.to_string())
}

fn check_unique<'a>(kind: &str, names: impl Iterator<Item = &'a str>) -> DomainResult<()> {
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n.to_lowercase()) {
            return Err(invalid(format!("Two {kind}s are named {n:?}")));
        }
    }
    Ok(())
}

/// Renames fields wherever a template shows them (`{{old}}`, `{{#old}}`, `{{/old}}`,
/// `{{^old}}`, `{{text:old}}`, `{{cloze:old}}`, …), as Anki does when fields are renamed;
/// all renames at once, so swapped names end up swapped.
pub fn rename_in_template(template: &str, renames: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start + 2]);
        let (sigil, body) = match inner.chars().next() {
            Some(c @ ('#' | '/' | '^')) => (&inner[..c.len_utf8()], &inner[c.len_utf8()..]),
            _ => ("", inner),
        };
        let (filters, field) = match body.rfind(':') {
            Some(i) => (&body[..=i], &body[i + 1..]),
            None => ("", body),
        };
        out.push_str(sigil);
        out.push_str(filters);
        match renames.iter().find(|(old, _)| old == field.trim()) {
            Some((_, new)) => out.push_str(new),
            None => out.push_str(field),
        }
        out.push_str("}}");
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// A random Anki field id for a field made in the console, as Anki gives new fields.
fn new_field_id() -> i64 {
    rand::random::<i64>().unsigned_abs() as i64 >> 1
}

/// Changes a notetype of a deck from the console form; only the deck's owner and its
/// maintainers may, and only a notetype its notes use.
pub async fn edit(
    db: &Db,
    actor: Actor,
    hash: &str,
    notetype: NotetypeId,
    form: NotetypeEdit,
) -> DomainResult<Edited> {
    if form.fields.is_empty() || form.fields.len() > MAX_FIELDS {
        return Err(invalid(format!(
            "A notetype has between 1 and {MAX_FIELDS} fields"
        )));
    }
    if form.templates.is_empty() || form.templates.len() > MAX_TEMPLATES {
        return Err(invalid(format!(
            "A notetype has between 1 and {MAX_TEMPLATES} card templates"
        )));
    }
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    let nt = of_deck(&mut tx, deck.root, notetype).await?;
    check_may_change(&mut tx, actor, notetype).await?;
    if form.version != version_of(&nt) {
        return Err(DomainError::Stale);
    }
    let listed: Vec<i64> = form
        .fields
        .iter()
        .filter_map(|f| f.from)
        .chain(form.removed.iter().copied())
        .collect();
    if let Some(missing) = nt.flds.iter().find(|f| !listed.contains(&f.ord)) {
        return Err(invalid(format!(
            "The form does not say what happens to the field {:?}; reload the page",
            missing.name
        )));
    }

    let mut fields = Vec::with_capacity(form.fields.len());
    let mut sources = HashSet::new();
    let mut renames = Vec::new();
    for f in &form.fields {
        let name = check_name("field", &f.name)?;
        let field = match f.from {
            Some(from) => {
                let old =
                    nt.flds.iter().find(|s| s.ord == from).ok_or_else(|| {
                        invalid(format!("The notetype has no field number {from}"))
                    })?;
                if !sources.insert(from) {
                    return Err(invalid(format!("The field {:?} appears twice", old.name)));
                }
                if old.name != name {
                    renames.push((old.name.clone(), name.clone()));
                }
                NotetypeField {
                    name,
                    ..old.clone()
                }
            }
            None => NotetypeField {
                description: String::new(),
                font: "Arial".into(),
                id: new_field_id(),
                name,
                ord: 0,
                rtl: false,
                size: 20,
                sticky: false,
                tag: 0,
                protected: false,
            },
        };
        fields.push(PlannedField {
            from: f.from,
            field,
        });
    }
    check_unique("field", fields.iter().map(|f| f.field.name.as_str()))?;

    let mut templates = Vec::with_capacity(form.templates.len());
    for (ord, t) in form.templates.iter().enumerate() {
        let name = check_name("card template", &t.name)?;
        if t.qfmt.len() > MAX_TEXT || t.afmt.len() > MAX_TEXT {
            return Err(invalid(format!(
                "The card template {name:?} is longer than {MAX_TEXT} bytes"
            )));
        }
        let (mut qfmt, mut afmt) = (t.qfmt.replace("\r\n", "\n"), t.afmt.replace("\r\n", "\n"));
        sanitize::html_in_place(&mut qfmt);
        sanitize::html_in_place(&mut afmt);
        qfmt = rename_in_template(&qfmt, &renames);
        afmt = rename_in_template(&afmt, &renames);
        if qfmt.trim().is_empty() {
            return Err(invalid(format!(
                "The card template {name:?} has an empty front"
            )));
        }
        let old = nt.tmpls.get(ord);
        templates.push(NotetypeTemplate {
            afmt,
            bafmt: old.map(|o| o.bafmt.clone()).unwrap_or_default(),
            bfont: old.map(|o| o.bfont.clone()).unwrap_or_default(),
            bqfmt: old.map(|o| o.bqfmt.clone()).unwrap_or_default(),
            bsize: old.map_or(0, |o| o.bsize),
            id: old.map_or_else(new_field_id, |o| o.id),
            name,
            ord: ord as i64,
            qfmt,
        });
    }
    check_unique("card template", templates.iter().map(|t| t.name.as_str()))?;
    if form.css.len() > MAX_TEXT {
        return Err(invalid(format!(
            "The styling is longer than {MAX_TEXT} bytes"
        )));
    }
    let mut css = form.css.replace("\r\n", "\n");
    sanitize::css(&mut css);

    let fields_changed = fields.len() != nt.flds.len()
        || fields
            .iter()
            .zip(&nt.flds)
            .any(|(p, f)| p.from != Some(f.ord) || p.field.name != f.name);
    let shown = |t: &NotetypeTemplate| (t.name.clone(), t.qfmt.clone(), t.afmt.clone());
    let templates_changed = templates.len() != nt.tmpls.len()
        || templates.iter().map(shown).ne(nt.tmpls.iter().map(shown));
    let css_changed = css != nt.css;
    let change = Change {
        fields: fields_changed.then_some(fields),
        templates: templates_changed.then_some(templates),
        css: css_changed.then_some(css),
    };
    apply(&mut tx, &nt, &change, Micros::now()).await?;
    tx.commit().await?;
    Ok(Edited {
        notetype: nt.name,
        fields_changed,
        templates_changed,
        css_changed,
    })
}

/// A notetype the notes of a deck tree use; any other is unknown there.
async fn of_deck(
    conn: &mut Conn,
    root: store::DeckId,
    notetype: NotetypeId,
) -> DomainResult<Notetype> {
    if !store::notetypes::used_in_tree(conn, root, notetype).await? {
        return Err(DomainError::NotetypeNotInDeck(notetype));
    }
    store::notetypes::load(conn, &[notetype])
        .await?
        .pop()
        .ok_or_else(|| DomainError::NotetypeNotInDeck(notetype))
}

/// The notetypes a deck's notes use, with their fields and templates, for whoever may
/// edit them.
pub async fn of_tree(db: &Db, actor: Actor, hash: &str) -> DomainResult<Vec<Notetype>> {
    let mut conn = db.reader().acquire().await?;
    let deck = by_hash(&mut conn, hash).await?;
    check_maintainer(&mut conn, actor, &deck).await?;
    let ids = store::notetypes::ids_in_tree(&mut conn, deck.root).await?;
    Ok(store::notetypes::load(&mut conn, &ids).await?)
}

/// One notetype of a deck, for its edit page.
pub async fn one(
    db: &Db,
    actor: Actor,
    hash: &str,
    notetype: NotetypeId,
) -> DomainResult<Notetype> {
    let mut conn = db.reader().acquire().await?;
    let deck = by_hash(&mut conn, hash).await?;
    check_maintainer(&mut conn, actor, &deck).await?;
    of_deck(&mut conn, deck.root, notetype).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_references_follow_a_rename() {
        let t = "{{Front}} {{#Front}}x{{/Front}} {{^Front}}{{/Front}} {{cloze:Front}} \
                 {{text:hint:Front}} {{FrontSide}} {{Back}} {{ Front }}";
        assert_eq!(
            rename_in_template(t, &[("Front".into(), "Question".into())]),
            "{{Question}} {{#Question}}x{{/Question}} {{^Question}}{{/Question}} \
             {{cloze:Question}} {{text:hint:Question}} {{FrontSide}} {{Back}} {{Question}}"
        );
        assert_eq!(
            rename_in_template("{{Front", &[("Front".into(), "Q".into())]),
            "{{Front"
        );
        let swap = [
            ("Front".to_string(), "Back".to_string()),
            ("Back".to_string(), "Front".to_string()),
        ];
        assert_eq!(
            rename_in_template("{{Front}}<hr>{{Back}}", &swap),
            "{{Back}}<hr>{{Front}}"
        );
    }

    #[test]
    fn names_anki_refuses_are_refused() {
        for bad in ["", "  ", "a:b", "{x}", "say \"hi\"", "#x", "/x", "^x"] {
            assert!(check_name("field", bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_name("field", " Extra ").unwrap(), "Extra");
    }
}
