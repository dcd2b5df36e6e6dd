-- Deck links (the add-on's /CreateDeckLink and /CreateNewNoteLink): a subscriber deck
-- follows a base deck, and each linked note of the subscriber deck takes some fields and
-- the tags of the base deck's note with the same guid. The linked note keeps its own rows;
-- a pull merges the base note's content in (docs/protocol.md §6.5).

CREATE TABLE deck_links (
    id         INTEGER PRIMARY KEY,
    subscriber INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    base       INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (subscriber, base)
);
CREATE INDEX deck_links_base ON deck_links(base);

-- One linked note: `note` (of the subscriber deck) inherits from `base_note`.
CREATE TABLE note_links (
    note      INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    base_note INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    link      INTEGER NOT NULL REFERENCES deck_links(id) ON DELETE CASCADE
);
CREATE INDEX note_links_base ON note_links(base_note);
CREATE INDEX note_links_link ON note_links(link);

-- The field positions a linked note takes from its base note.
CREATE TABLE note_link_fields (
    note     INTEGER NOT NULL REFERENCES note_links(note) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (note, position)
) WITHOUT ROWID;

-- Tags of the base note a linked note leaves out.
CREATE TABLE note_link_removed_tags (
    note INTEGER NOT NULL REFERENCES note_links(note) ON DELETE CASCADE,
    tag  TEXT    NOT NULL,
    PRIMARY KEY (note, tag)
) WITHOUT ROWID;

-- A linked note's stored pull object is built from its base note too: a change there,
-- or to the link, drops the copy (as 0004 does for the note's own rows).
CREATE TRIGGER pulled_links_field_insert AFTER INSERT ON fields WHEN NEW.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.note);
END;
CREATE TRIGGER pulled_links_field_update AFTER UPDATE ON fields
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note IN (OLD.note, NEW.note));
END;
CREATE TRIGGER pulled_links_field_delete AFTER DELETE ON fields WHEN OLD.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = OLD.note);
END;
CREATE TRIGGER pulled_links_tag_insert AFTER INSERT ON tags WHEN NEW.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.note);
END;
CREATE TRIGGER pulled_links_tag_update AFTER UPDATE ON tags
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note IN (OLD.note, NEW.note));
END;
CREATE TRIGGER pulled_links_tag_delete AFTER DELETE ON tags WHEN OLD.reviewed = 1
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = OLD.note);
END;
CREATE TRIGGER pulled_links_base_state AFTER UPDATE OF reviewed, deleted ON notes
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.id);
END;
CREATE TRIGGER pulled_links_insert AFTER INSERT ON note_links
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.note;
END;
CREATE TRIGGER pulled_links_delete AFTER DELETE ON note_links
BEGIN
    DELETE FROM pulled_notes WHERE note = OLD.note;
END;
CREATE TRIGGER pulled_links_fields_insert AFTER INSERT ON note_link_fields
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.note;
END;
CREATE TRIGGER pulled_links_removed_tag_insert AFTER INSERT ON note_link_removed_tags
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.note;
END;
CREATE TRIGGER pulled_links_removed_tag_delete AFTER DELETE ON note_link_removed_tags
BEGIN
    DELETE FROM pulled_notes WHERE note = OLD.note;
END;

-- Whatever moves a base note's clock (an approval, a maintainer's push, a deletion, a
-- notetype edit) moves its linked notes' clocks and their decks' up to the root, so the
-- linked deck's subscribers get the change on their next pull.
CREATE TRIGGER note_links_follow_base AFTER UPDATE OF last_update ON notes
WHEN EXISTS (SELECT 1 FROM note_links WHERE base_note = NEW.id)
BEGIN
    UPDATE notes SET last_update = NEW.last_update
    WHERE id IN (SELECT note FROM note_links WHERE base_note = NEW.id) AND last_update < NEW.last_update;
    UPDATE decks SET last_update = NEW.last_update
    WHERE last_update < NEW.last_update AND id IN (
        WITH RECURSIVE up(id) AS (
            SELECT n.deck FROM notes n JOIN note_links l ON l.note = n.id WHERE l.base_note = NEW.id
            UNION SELECT d.parent FROM decks d JOIN up ON d.id = up.id WHERE d.parent IS NOT NULL)
        SELECT id FROM up);
END;
