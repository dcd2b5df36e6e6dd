-- Fields removed from a notetype. The add-on never deletes a field it once had: it keeps
-- it at the end of the local notetype, so an owner's next push still carries it. These
-- rows tell such a leftover from a field the owner just added.
CREATE TABLE notetype_removed_fields (
    notetype INTEGER NOT NULL REFERENCES notetypes(id) ON DELETE CASCADE,
    name     TEXT    NOT NULL,
    anki_id  INTEGER NOT NULL
);
CREATE INDEX notetype_removed_fields_of ON notetype_removed_fields(notetype);

-- A note's history, read by the console's note page.
CREATE INDEX note_events_note ON note_events(note, id);
