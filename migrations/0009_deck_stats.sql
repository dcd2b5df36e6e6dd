-- Deck statistics in the console. Reading 100 subscribers' figures for a 50,000-note
-- deck row by row would take seconds on a Pi, so sums are kept as figures arrive:
-- note_stat_totals holds each note's sums over the subscribers who reported on it, and
-- note_stat_reporters how many notes of a (sub)deck each subscriber has figures for.
-- Triggers keep both in step with note_stats (uploads, the maintenance purge) and with
-- notes moving between subdecks.
CREATE TABLE note_stat_totals (
    note      INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    root      INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    reporters INTEGER NOT NULL,
    retention INTEGER NOT NULL,
    lapses    INTEGER NOT NULL,
    reps      INTEGER NOT NULL
);
CREATE INDEX note_stat_totals_root ON note_stat_totals(root);

CREATE TABLE note_stat_reporters (
    deck      INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    user_hash TEXT    NOT NULL,
    notes     INTEGER NOT NULL,
    PRIMARY KEY (deck, user_hash)
) WITHOUT ROWID;

INSERT INTO note_stat_totals (note, root, reporters, retention, lapses, reps)
SELECT st.note, n.root, COUNT(*), SUM(st.retention), SUM(st.lapses), SUM(st.reps)
FROM note_stats st JOIN notes n ON n.id = st.note GROUP BY st.note;

INSERT INTO note_stat_reporters (deck, user_hash, notes)
SELECT n.deck, st.user_hash, COUNT(*) FROM note_stats st JOIN notes n ON n.id = st.note
GROUP BY n.deck, st.user_hash;

CREATE TRIGGER note_stats_added AFTER INSERT ON note_stats BEGIN
    INSERT INTO note_stat_totals (note, root, reporters, retention, lapses, reps)
    SELECT NEW.note, n.root, 1, NEW.retention, NEW.lapses, NEW.reps FROM notes n WHERE n.id = NEW.note
    ON CONFLICT (note) DO UPDATE SET reporters = reporters + 1,
        retention = retention + excluded.retention, lapses = lapses + excluded.lapses,
        reps = reps + excluded.reps;
    INSERT INTO note_stat_reporters (deck, user_hash, notes)
    SELECT n.deck, NEW.user_hash, 1 FROM notes n WHERE n.id = NEW.note
    ON CONFLICT (deck, user_hash) DO UPDATE SET notes = notes + 1;
END;

CREATE TRIGGER note_stats_changed AFTER UPDATE ON note_stats BEGIN
    UPDATE note_stat_totals SET retention = retention - OLD.retention + NEW.retention,
        lapses = lapses - OLD.lapses + NEW.lapses, reps = reps - OLD.reps + NEW.reps
    WHERE note = NEW.note;
END;

-- A note deleted outright takes its sums along (ON DELETE CASCADE); these rows go with
-- the purge of old uploads.
CREATE TRIGGER note_stats_removed AFTER DELETE ON note_stats BEGIN
    UPDATE note_stat_totals SET reporters = reporters - 1, retention = retention - OLD.retention,
        lapses = lapses - OLD.lapses, reps = reps - OLD.reps
    WHERE note = OLD.note;
    DELETE FROM note_stat_totals WHERE note = OLD.note AND reporters <= 0;
    UPDATE note_stat_reporters SET notes = notes - 1
    WHERE user_hash = OLD.user_hash AND deck = (SELECT deck FROM notes WHERE id = OLD.note);
    DELETE FROM note_stat_reporters
    WHERE user_hash = OLD.user_hash AND notes <= 0 AND deck = (SELECT deck FROM notes WHERE id = OLD.note);
END;

CREATE TRIGGER notes_moved_with_stats AFTER UPDATE OF deck ON notes WHEN OLD.deck != NEW.deck BEGIN
    UPDATE note_stat_reporters SET notes = notes - 1
    WHERE deck = OLD.deck AND user_hash IN (SELECT user_hash FROM note_stats WHERE note = NEW.id);
    DELETE FROM note_stat_reporters WHERE deck = OLD.deck AND notes <= 0;
    INSERT INTO note_stat_reporters (deck, user_hash, notes)
    SELECT NEW.deck, user_hash, 1 FROM note_stats WHERE note = NEW.id
    ON CONFLICT (deck, user_hash) DO UPDATE SET notes = notes + 1;
END;

-- When each subscription began. Rows from before this migration are dated to it.
ALTER TABLE subscriptions ADD COLUMN subscribed_at INTEGER NOT NULL DEFAULT 0;
UPDATE subscriptions SET subscribed_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000;
CREATE INDEX subscriptions_deck ON subscriptions(deck, subscribed_at);

-- Suggestions per week of one deck.
CREATE INDEX commits_deck_created ON commits(deck, created_at);
