-- Media after PROTOCOL.md §5 and §7: files are content-addressed by MD5 on disk;
-- these tables record which notes use them under which names, pending upload
-- batches, and per-user daily counters for quotas.

CREATE TABLE media_files (
    id         INTEGER PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    size       INTEGER NOT NULL,
    mime       TEXT    NOT NULL,
    uploader   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    -- set by GC when it first finds no live note using the file; cleared when one does
    orphaned_at INTEGER
);
CREATE INDEX media_files_uploader ON media_files(uploader);

CREATE TABLE media_references (
    media_id  INTEGER NOT NULL REFERENCES media_files(id) ON DELETE CASCADE,
    note_id   INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    file_name TEXT    NOT NULL,
    PRIMARY KEY (media_id, note_id)
) WITHOUT ROWID;
CREATE INDEX media_references_note_name ON media_references(note_id, file_name);

CREATE TABLE media_batches (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    root       INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX media_batches_expiry ON media_batches(expires_at);

CREATE TABLE media_batch_files (
    batch     TEXT    NOT NULL REFERENCES media_batches(id) ON DELETE CASCADE,
    hash      TEXT    NOT NULL,
    note_id   INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    file_name TEXT    NOT NULL,
    PRIMARY KEY (batch, hash, note_id)
) WITHOUT ROWID;

CREATE TABLE media_usage (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day       INTEGER NOT NULL,
    uploads   INTEGER NOT NULL DEFAULT 0,
    downloads INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
