//! A note's object as a pull sends it, built when a note is published so the first pull
//! finds a stored copy, and for large notes without one. It means the same as the object
//! `store::pull` builds in SQL for a small note without one (tests/suite/pull_equivalence.rs
//! compares the two).

use serde::Serialize;

use crate::store::{self, Conn, NoteId};

#[derive(Serialize)]
struct PulledNote<'a> {
    id: i64,
    fields: &'a [&'a str],
    guid: &'a str,
    note_model_uuid: &'a str,
    tags: &'a [&'a str],
}

/// The JSON object for a note: `fields` one per notetype field, `tags` as stored
/// (sorted, each once).
pub fn note_object(
    anki_id: i64,
    fields: &[&str],
    guid: &str,
    notetype_guid: &str,
    tags: &[&str],
) -> String {
    let mut tags = tags.to_vec();
    tags.sort_unstable();
    tags.dedup();
    serde_json::to_string(&PulledNote {
        id: anki_id,
        fields,
        guid,
        note_model_uuid: notetype_guid,
        tags: &tags,
    })
    .expect("strings and integers serialise")
}

/// The stored form of a note's object read from its rows: `""` for a note that is not
/// pulled (no reviewed content) or no longer exists.
pub async fn build(conn: &mut Conn, note: NoteId) -> sqlx::Result<String> {
    let Some(head) = store::pull::note_head(conn, note).await? else {
        return Ok(String::new());
    };
    if !head.has_content {
        return Ok(String::new());
    }
    let fields = store::pull::pulled_fields(conn, note).await?;
    let tags = store::pull::pulled_tags(conn, note).await?;
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    Ok(note_object(
        head.anki_id,
        &fields,
        &head.guid,
        &head.notetype_guid,
        &tags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_sorted_once_and_text_escaped() {
        let json = note_object(7, &["a\"b", "", "\u{1}é"], "g", "m", &["z", "a", "z"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id": 7, "fields": ["a\"b", "", "\u{1}é"], "guid": "g",
                "note_model_uuid": "m", "tags": ["a", "z"]})
        );
    }
}
