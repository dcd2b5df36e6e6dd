//! Notetypes (with fields and templates), owned per user.

use super::{DeckId, NotetypeId, UserId};
use serde::{Deserialize, Serialize};

use super::Conn;
use crate::wire::crowdanki::{NoteModel, Requirement};

/// A stored notetype in the server form the add-on pulls (docs/protocol.md §2.3).
#[derive(Debug, Serialize)]
pub struct Notetype {
    #[serde(skip)]
    pub id: NotetypeId,
    pub crowdanki_uuid: String,
    pub css: String,
    pub flds: Vec<NotetypeField>,
    #[serde(rename = "latexPost")]
    pub latex_post: String,
    #[serde(rename = "latexPre")]
    pub latex_pre: String,
    pub latexsvg: bool,
    pub name: String,
    #[serde(rename = "originalStockKind")]
    pub original_stock_kind: i64,
    pub req: Vec<Requirement>,
    pub sortf: i64,
    pub tmpls: Vec<NotetypeTemplate>,
    #[serde(rename = "type")]
    pub kind: i64,
}

/// A field of a stored notetype.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct NotetypeField {
    pub description: String,
    pub font: String,
    pub id: i64,
    pub name: String,
    pub ord: i64,
    pub rtl: bool,
    pub size: i64,
    pub sticky: bool,
    pub tag: i64,
    #[serde(skip)]
    pub protected: bool,
}

/// A template of a stored notetype.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct NotetypeTemplate {
    pub afmt: String,
    pub bafmt: String,
    pub bfont: String,
    pub bqfmt: String,
    pub bsize: i64,
    pub id: i64,
    pub name: String,
    pub ord: i64,
    pub qfmt: String,
}

/// The notetype of `owner` with this CrowdAnki UUID.
pub async fn find(conn: &mut Conn, guid: &str, owner: UserId) -> sqlx::Result<Option<NotetypeId>> {
    sqlx::query_scalar("SELECT id FROM notetypes WHERE guid = ? AND owner = ?")
        .bind(guid)
        .bind(owner)
        .fetch_optional(conn)
        .await
}

/// A stored notetype's CrowdAnki UUID.
pub async fn guid(conn: &mut Conn, id: NotetypeId) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT guid FROM notetypes WHERE id = ?")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Inserts an (already sanitised) notetype for `owner`.
pub async fn insert(conn: &mut Conn, owner: UserId, m: &NoteModel) -> sqlx::Result<NotetypeId> {
    let req = serde_json::to_string(&m.req).expect("requirements serialise");
    let id: NotetypeId = sqlx::query_scalar(
        "INSERT INTO notetypes (guid, owner, name, kind, css, latex_pre, latex_post, latex_svg, sortf, req, original_stock_kind)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&m.crowdanki_uuid)
    .bind(owner)
    .bind(&m.name)
    .bind(m.kind)
    .bind(&m.css)
    .bind(&m.latex_pre)
    .bind(&m.latex_post)
    .bind(m.latex_svg)
    .bind(m.sortf)
    .bind(req)
    .bind(m.original_stock_kind)
    .fetch_one(&mut *conn)
    .await?;
    let fields: Vec<NotetypeField> = m
        .flds
        .iter()
        .map(|f| NotetypeField {
            description: f.description.clone(),
            font: f.font.clone(),
            id: f.id,
            name: f.name.clone(),
            ord: f.ord,
            rtl: f.rtl,
            size: f.size,
            sticky: f.sticky,
            tag: f.tag,
            protected: false,
        })
        .collect();
    insert_fields(conn, id, fields.iter()).await?;
    let templates: Vec<NotetypeTemplate> = m
        .tmpls
        .iter()
        .map(|t| NotetypeTemplate {
            afmt: t.afmt.clone(),
            bafmt: t.bafmt.clone(),
            bfont: t.bfont.clone(),
            bqfmt: t.bqfmt.clone(),
            bsize: t.bsize,
            id: t.id,
            name: t.name.clone(),
            ord: t.ord,
            qfmt: t.qfmt.clone(),
        })
        .collect();
    insert_templates(conn, id, &templates).await?;
    Ok(id)
}

/// Stores a notetype's fields, numbered in the given order.
pub async fn insert_fields<'a>(
    conn: &mut Conn,
    notetype: NotetypeId,
    fields: impl Iterator<Item = &'a NotetypeField>,
) -> sqlx::Result<()> {
    for (ord, f) in fields.enumerate() {
        sqlx::query(
            "INSERT INTO notetype_fields (notetype, ord, name, font, size, rtl, sticky, description, anki_id, tag, protected)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(notetype)
        .bind(ord as i64)
        .bind(&f.name)
        .bind(&f.font)
        .bind(f.size)
        .bind(f.rtl)
        .bind(f.sticky)
        .bind(&f.description)
        .bind(f.id)
        .bind(f.tag)
        .bind(f.protected)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Stores a notetype's card templates, numbered in the given order.
pub async fn insert_templates(
    conn: &mut Conn,
    notetype: NotetypeId,
    templates: &[NotetypeTemplate],
) -> sqlx::Result<()> {
    for (ord, t) in templates.iter().enumerate() {
        sqlx::query(
            "INSERT INTO notetype_templates (notetype, ord, name, qfmt, afmt, bqfmt, bafmt, bfont, bsize, anki_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(notetype)
        .bind(ord as i64)
        .bind(&t.name)
        .bind(&t.qfmt)
        .bind(&t.afmt)
        .bind(&t.bqfmt)
        .bind(&t.bafmt)
        .bind(&t.bfont)
        .bind(t.bsize)
        .bind(t.id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A `notetypes` row as stored, before its fields and templates are attached.
#[derive(sqlx::FromRow)]
struct NotetypeRow {
    id: NotetypeId,
    crowdanki_uuid: String,
    css: String,
    latex_post: String,
    latex_pre: String,
    latexsvg: bool,
    name: String,
    original_stock_kind: i64,
    /// The requirements as the JSON text they are stored in.
    req: String,
    sortf: i64,
    kind: i64,
}

/// Loads notetypes with their fields and templates.
pub async fn load(conn: &mut Conn, ids: &[NotetypeId]) -> sqlx::Result<Vec<Notetype>> {
    let json = serde_json::to_string(ids).expect("ids serialise");
    let rows: Vec<NotetypeRow> = sqlx::query_as(
        "SELECT id, guid AS crowdanki_uuid, css, latex_post, latex_pre, latex_svg AS latexsvg, name, original_stock_kind, req, sortf, kind
         FROM notetypes WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(&json)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Notetype {
            id: r.id,
            crowdanki_uuid: r.crowdanki_uuid,
            css: r.css,
            flds: fields(&mut *conn, r.id).await?,
            latex_post: r.latex_post,
            latex_pre: r.latex_pre,
            latexsvg: r.latexsvg,
            name: r.name,
            original_stock_kind: r.original_stock_kind,
            req: serde_json::from_str(&r.req).unwrap_or_default(),
            sortf: r.sortf,
            tmpls: templates(&mut *conn, r.id).await?,
            kind: r.kind,
        });
    }
    Ok(out)
}

/// Every notetype of an owner, for matching uploads against existing ones.
pub async fn of_owner(conn: &mut Conn, owner: UserId) -> sqlx::Result<Vec<Notetype>> {
    let ids: Vec<NotetypeId> = sqlx::query_scalar("SELECT id FROM notetypes WHERE owner = ?")
        .bind(owner)
        .fetch_all(&mut *conn)
        .await?;
    load(conn, &ids).await
}

/// Fields of one notetype in order.
pub async fn fields(conn: &mut Conn, notetype: NotetypeId) -> sqlx::Result<Vec<NotetypeField>> {
    sqlx::query_as(
        "SELECT description, font, anki_id AS id, name, ord, rtl, size, sticky, tag, protected
         FROM notetype_fields WHERE notetype = ? ORDER BY ord",
    )
    .bind(notetype)
    .fetch_all(conn)
    .await
}

async fn templates(conn: &mut Conn, notetype: NotetypeId) -> sqlx::Result<Vec<NotetypeTemplate>> {
    sqlx::query_as(
        "SELECT afmt, bafmt, bfont, bqfmt, bsize, anki_id AS id, name, ord, qfmt FROM notetype_templates WHERE notetype = ? ORDER BY ord",
    )
    .bind(notetype)
    .fetch_all(conn)
    .await
}

/// Marks a field (by name) of a notetype protected or not; returns false if no such field.
pub async fn set_protected(
    conn: &mut Conn,
    notetype: NotetypeId,
    field: &str,
    on: bool,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE notetype_fields SET protected = ? WHERE notetype = ? AND name = ?")
            .bind(on)
            .bind(notetype)
            .bind(field)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// A notetype id by owner and name, for the CLI.
pub async fn by_name(
    conn: &mut Conn,
    owner: UserId,
    name: &str,
) -> sqlx::Result<Option<NotetypeId>> {
    sqlx::query_scalar("SELECT id FROM notetypes WHERE owner = ? AND name = ? ORDER BY id LIMIT 1")
        .bind(owner)
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// Whether notes of a deck tree use a notetype.
pub async fn used_in_tree(
    conn: &mut Conn,
    root: DeckId,
    notetype: NotetypeId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM notes WHERE root = ? AND notetype = ?)")
        .bind(root)
        .bind(notetype)
        .fetch_one(conn)
        .await
}

/// The notetypes the notes of a deck tree use.
pub async fn ids_in_tree(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<NotetypeId>> {
    sqlx::query_scalar("SELECT DISTINCT notetype FROM notes WHERE root = ? ORDER BY notetype")
        .bind(root)
        .fetch_all(conn)
        .await
}

/// The root decks whose notes use a notetype.
pub async fn roots_using(conn: &mut Conn, notetype: NotetypeId) -> sqlx::Result<Vec<DeckId>> {
    sqlx::query_scalar("SELECT DISTINCT root FROM notes WHERE notetype = ? ORDER BY root")
        .bind(notetype)
        .fetch_all(conn)
        .await
}
