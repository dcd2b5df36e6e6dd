-- Rights over unreviewed content (issue 11): a subdeck a suggestion creates stays
-- hidden from pulls until that suggestion is approved; media references record who
-- attached them, and references a suggestion brings wait beside it for review.

-- Set while the deck exists only because of a pending suggestion; NULL once public.
ALTER TABLE decks ADD COLUMN pending_commit INTEGER REFERENCES commits(id) ON DELETE CASCADE;
CREATE INDEX decks_pending ON decks(pending_commit) WHERE pending_commit IS NOT NULL;

-- Who made the reference (owner, maintainer, or the reviewer who approved it) and when;
-- the manifest prefers references made by someone who holds the deck's rights.
ALTER TABLE media_references ADD COLUMN attached_by INTEGER REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE media_references ADD COLUMN attached_at INTEGER NOT NULL DEFAULT 0;
UPDATE media_references SET attached_by = (SELECT uploader FROM media_files WHERE media_files.id = media_references.media_id);

-- References a suggestion's upload asks for, applied when the suggestion is approved.
CREATE TABLE media_reference_suggestions (
    commit_id INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
    media_id  INTEGER NOT NULL REFERENCES media_files(id) ON DELETE CASCADE,
    note_id   INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    file_name TEXT    NOT NULL,
    PRIMARY KEY (commit_id, media_id, note_id)
) WITHOUT ROWID;
CREATE INDEX media_reference_suggestions_media ON media_reference_suggestions(media_id);
CREATE INDEX media_reference_suggestions_note ON media_reference_suggestions(note_id);
