//! CrowdAnki JSON as the add-on uploads it (docs/protocol.md §2.1). Unknown keys are ignored;
//! keys the add-on may leave out get defaults.

use serde::{Deserialize, Serialize};

/// A deck node of an uploaded tree; `N` holds its notes (in memory, or where a spool
/// file keeps them).
#[derive(Debug, Deserialize)]
pub struct DeckOf<N> {
    pub crowdanki_uuid: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub desc: String,
    #[serde(default = "Vec::new")]
    pub children: Vec<DeckOf<N>>,
    #[serde(default)]
    pub notes: N,
    #[serde(default)]
    pub note_models: Vec<NoteModel>,
}

/// A deck tree with its notes in memory (suggestions: small trees, read more than once).
pub type Deck = DeckOf<Vec<Note>>;

/// A note: identity is its `guid` across all users.
#[derive(Debug, Deserialize, Serialize)]
pub struct Note {
    pub guid: String,
    pub fields: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub note_model_uuid: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: i64,
}

/// A notetype with its fields and templates.
#[derive(Debug, Serialize, Deserialize)]
pub struct NoteModel {
    pub crowdanki_uuid: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub css: String,
    #[serde(rename = "latexPre", default, deserialize_with = "null_as_default")]
    pub latex_pre: String,
    #[serde(rename = "latexPost", default, deserialize_with = "null_as_default")]
    pub latex_post: String,
    #[serde(rename = "latexsvg", default, deserialize_with = "null_as_default")]
    pub latex_svg: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sortf: i64,
    #[serde(default)]
    pub req: Vec<Requirement>,
    #[serde(
        rename = "originalStockKind",
        default,
        deserialize_with = "null_as_default"
    )]
    pub original_stock_kind: i64,
    pub flds: Vec<Field>,
    pub tmpls: Vec<Template>,
}

/// A notetype field definition.
#[derive(Debug, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub ord: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub font: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sticky: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rtl: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tag: i64,
}

/// A card template.
#[derive(Debug, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub ord: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub qfmt: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub afmt: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bqfmt: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bafmt: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bfont: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bsize: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: i64,
}

/// A card requirement: Anki sends `[ord, kind, [fields]]`, the server answers objects.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "RequirementWire")]
pub struct Requirement {
    pub card_ord: i64,
    pub kind: String,
    pub field_ords: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RequirementWire {
    Tuple(i64, String, Vec<i64>),
    Object {
        card_ord: i64,
        kind: String,
        field_ords: Vec<i64>,
    },
}

impl From<RequirementWire> for Requirement {
    fn from(w: RequirementWire) -> Self {
        match w {
            RequirementWire::Tuple(card_ord, kind, field_ords)
            | RequirementWire::Object {
                card_ord,
                kind,
                field_ords,
            } => Self {
                card_ord,
                kind,
                field_ords,
            },
        }
    }
}

/// Anki writes `null` for several numeric keys (`tag`, `id`); treat it as the default.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
