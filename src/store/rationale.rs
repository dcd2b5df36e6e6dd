//! The reason code a suggestion carries (docs/protocol.md §6.3), stored as the add-on's
//! integer. The add-on may send codes newer than this list; they are kept as they came.

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// Why a commit was made.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub struct Rationale(i64);

impl Rationale {
    pub const NONE: Self = Self(0);
    pub const DECK_CREATION: Self = Self(1);
    pub const OTHER: Self = Self(10);
    pub const NOTE_REMOVAL: Self = Self(11);

    /// The add-on's code for it.
    pub fn code(self) -> i64 {
        self.0
    }

    /// The add-on's name for it, as reviewers see it.
    pub fn label(self) -> &'static str {
        match self.0 {
            0 => "None",
            1 => "Deck Creation",
            2 => "Updated content",
            3 => "New content",
            4 => "Content error",
            5 => "Spelling/Grammar",
            6 => "New card",
            7 => "Updated Tags",
            8 => "New Tags",
            9 => "Bulk Suggestion",
            10 => "Other",
            11 => "Note Removal",
            12 => "Changed Deck",
            _ => "Unknown",
        }
    }
}

impl From<i64> for Rationale {
    fn from(code: i64) -> Self {
        Self(code)
    }
}

/// Written as two keys, `rationale` (the code) and `rationale_text` (its name), where a
/// commit is shown as JSON (flattened into the commit).
impl Serialize for Rationale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Rationale", 2)?;
        out.serialize_field("rationale", &self.code())?;
        out.serialize_field("rationale_text", self.label())?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_codes() {
        assert_eq!(Rationale::from(5).label(), "Spelling/Grammar");
        assert_eq!(Rationale::NOTE_REMOVAL.label(), "Note Removal");
        assert_eq!(Rationale::from(99).label(), "Unknown");
        assert_eq!(Rationale::from(99).code(), 99);
        assert_eq!(
            serde_json::to_value(Rationale::OTHER).unwrap(),
            serde_json::json!({"rationale": 10, "rationale_text": "Other"})
        );
    }
}
