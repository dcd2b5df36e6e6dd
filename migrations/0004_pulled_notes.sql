-- Each note's JSON object as /pullChanges sends it, kept so a pull concatenates stored
-- text instead of building 5,000 objects from fields and tags on every request.
-- A row is only ever a copy: the triggers below delete it whenever anything it was
-- built from changes, and a pull builds the object itself for a note without a row
-- (a background task then stores it). An empty `json` means the note is not pulled
-- (all its reviewed fields are empty).
CREATE TABLE pulled_notes (
    note INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);

CREATE TRIGGER pulled_notes_field_insert AFTER INSERT ON fields WHEN NEW.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.note;
END;
CREATE TRIGGER pulled_notes_field_update AFTER UPDATE ON fields
BEGIN
    DELETE FROM pulled_notes WHERE note IN (OLD.note, NEW.note);
END;
CREATE TRIGGER pulled_notes_field_delete AFTER DELETE ON fields WHEN OLD.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note = OLD.note;
END;

CREATE TRIGGER pulled_notes_tag_insert AFTER INSERT ON tags WHEN NEW.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.note;
END;
CREATE TRIGGER pulled_notes_tag_update AFTER UPDATE ON tags
BEGIN
    DELETE FROM pulled_notes WHERE note IN (OLD.note, NEW.note);
END;
CREATE TRIGGER pulled_notes_tag_delete AFTER DELETE ON tags WHEN OLD.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note = OLD.note;
END;

CREATE TRIGGER pulled_notes_note_update AFTER UPDATE OF notetype, anki_id, guid ON notes
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.id;
END;

-- The field list of a notetype decides how many fields each of its notes shows.
CREATE TRIGGER pulled_notes_notetype_field_insert AFTER INSERT ON notetype_fields
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT id FROM notes WHERE notetype = NEW.notetype);
END;
CREATE TRIGGER pulled_notes_notetype_field_delete AFTER DELETE ON notetype_fields
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT id FROM notes WHERE notetype = OLD.notetype);
END;
CREATE TRIGGER pulled_notes_notetype_field_update AFTER UPDATE OF ord, notetype ON notetype_fields
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT id FROM notes WHERE notetype IN (OLD.notetype, NEW.notetype));
END;
CREATE TRIGGER pulled_notes_notetype_update AFTER UPDATE OF guid ON notetypes
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT id FROM notes WHERE notetype = NEW.id);
END;

-- A pull walks a deck's live notes in id order, a batch at a time.
CREATE INDEX notes_pull_order ON notes(deck, reviewed, deleted, id);
