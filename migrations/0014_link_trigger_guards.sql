-- The triggers that renew linked notes' pull objects ran their `IN (SELECT ...)` body for
-- every field and tag written, and SQLite opens and closes a temporary table for each
-- run: most of a big publish's time in the database. Guarded, the body runs only for a
-- note some other deck follows; the guard is one lookup in note_links_base.
DROP TRIGGER pulled_links_field_insert;
DROP TRIGGER pulled_links_field_update;
DROP TRIGGER pulled_links_field_delete;
DROP TRIGGER pulled_links_tag_insert;
DROP TRIGGER pulled_links_tag_update;
DROP TRIGGER pulled_links_tag_delete;
DROP TRIGGER pulled_links_base_state;

CREATE TRIGGER pulled_links_field_insert AFTER INSERT ON fields
WHEN NEW.reviewed = 1 AND EXISTS (SELECT 1 FROM note_links WHERE base_note = NEW.note)
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.note);
END;
CREATE TRIGGER pulled_links_field_update AFTER UPDATE ON fields
WHEN EXISTS (SELECT 1 FROM note_links WHERE base_note IN (OLD.note, NEW.note))
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note IN (OLD.note, NEW.note));
END;
CREATE TRIGGER pulled_links_field_delete AFTER DELETE ON fields
WHEN OLD.reviewed = 1 AND EXISTS (SELECT 1 FROM note_links WHERE base_note = OLD.note)
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = OLD.note);
END;
CREATE TRIGGER pulled_links_tag_insert AFTER INSERT ON tags
WHEN NEW.reviewed = 1 AND EXISTS (SELECT 1 FROM note_links WHERE base_note = NEW.note)
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.note);
END;
CREATE TRIGGER pulled_links_tag_update AFTER UPDATE ON tags
WHEN EXISTS (SELECT 1 FROM note_links WHERE base_note IN (OLD.note, NEW.note))
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note IN (OLD.note, NEW.note));
END;
CREATE TRIGGER pulled_links_tag_delete AFTER DELETE ON tags
WHEN OLD.reviewed = 1 AND EXISTS (SELECT 1 FROM note_links WHERE base_note = OLD.note)
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = OLD.note);
END;
CREATE TRIGGER pulled_links_base_state AFTER UPDATE OF reviewed, deleted ON notes
WHEN EXISTS (SELECT 1 FROM note_links WHERE base_note = NEW.id)
BEGIN
    DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.id);
END;
