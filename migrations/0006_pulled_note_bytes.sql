-- Each stored pull object now carries its size in bytes, ahead of the text, so a pull can
-- cut a batch of notes by bytes while reading only the start of each row (a 4 MiB object
-- lives in overflow pages that the size check never touches). The table is only a copy:
-- it is recreated empty and the server's fill task stores every object again at start.
DROP TABLE pulled_notes;

CREATE TABLE pulled_notes (
    note INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    bytes INTEGER NOT NULL,
    json TEXT NOT NULL
);
-- The sizes alone, so reading them does not page through the objects.
CREATE INDEX pulled_notes_bytes ON pulled_notes(note, bytes);

-- A batch's sizes are read before its JSON: with the change time in the index, neither
-- pass reads the note rows themselves.
DROP INDEX notes_pull_order;
CREATE INDEX notes_pull_order ON notes(deck, reviewed, deleted, id, last_update);
