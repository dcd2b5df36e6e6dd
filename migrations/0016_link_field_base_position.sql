-- A linked note inherits the field at `position` of its own notetype from the field at
-- `base_position` of its base note's notetype. Both are equal when the notes are linked
-- (their notetypes have the same fields then), but either deck's owner may later add,
-- move or remove fields; each side's edit renumbers its own column (store/deck_links.rs),
-- so an inherited field keeps showing the base field it was linked to.

CREATE TABLE note_link_fields_new (
    note          INTEGER NOT NULL REFERENCES note_links(note) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    base_position INTEGER NOT NULL,
    PRIMARY KEY (note, position)
) WITHOUT ROWID;
INSERT INTO note_link_fields_new (note, position, base_position)
    SELECT note, position, position FROM note_link_fields;
DROP TABLE note_link_fields;
ALTER TABLE note_link_fields_new RENAME TO note_link_fields;

-- Dropping the table dropped its trigger; a change of what a linked note inherits drops
-- its stored pull object, as 0012 does for new inherited fields.
CREATE TRIGGER pulled_links_fields_insert AFTER INSERT ON note_link_fields
BEGIN
    DELETE FROM pulled_notes WHERE note = NEW.note;
END;
CREATE TRIGGER pulled_links_fields_update AFTER UPDATE ON note_link_fields
BEGIN
    DELETE FROM pulled_notes WHERE note IN (OLD.note, NEW.note);
END;
CREATE TRIGGER pulled_links_fields_delete AFTER DELETE ON note_link_fields
BEGIN
    DELETE FROM pulled_notes WHERE note = OLD.note;
END;
