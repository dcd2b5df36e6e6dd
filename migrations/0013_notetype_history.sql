-- Earlier shapes of a notetype (its fields, templates and styling as JSON), kept when it
-- changes: a suggestion that carries one of them comes from a subscriber whose Anki has
-- not pulled the change yet, not from someone asking to undo it.
CREATE TABLE notetype_history (
    id       INTEGER PRIMARY KEY,
    notetype INTEGER NOT NULL REFERENCES notetypes(id) ON DELETE CASCADE,
    shape    TEXT    NOT NULL
);
CREATE INDEX notetype_history_notetype ON notetype_history(notetype, id);
