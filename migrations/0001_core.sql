-- Core schema after PROTOCOL.md §7, adapted for SQLite: several tokens per user,
-- maintainers per deck, every deck knows its root so tree queries need no recursion.
-- Times are integer unix microseconds (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE auth_tokens (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash         BLOB    NOT NULL UNIQUE,
    refresh_hash       BLOB    NOT NULL UNIQUE,
    expires_at         INTEGER NOT NULL,
    refresh_expires_at INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER NOT NULL
);
CREATE INDEX auth_tokens_user ON auth_tokens(user_id);
CREATE INDEX auth_tokens_refresh_expiry ON auth_tokens(refresh_expires_at);

CREATE TABLE decks (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    owner              INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    parent             INTEGER REFERENCES decks(id) ON DELETE CASCADE,
    root               INTEGER REFERENCES decks(id) ON DELETE CASCADE,
    full_path          TEXT    NOT NULL,
    crowdanki_uuid     TEXT    NOT NULL,
    human_hash         TEXT    NOT NULL UNIQUE,
    stats_enabled      INTEGER NOT NULL DEFAULT 0,
    restrict_notetypes INTEGER NOT NULL DEFAULT 1,
    restrict_subdecks  INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    last_update        INTEGER NOT NULL
);
CREATE INDEX decks_root_path ON decks(root, full_path);
CREATE INDEX decks_parent ON decks(parent);
CREATE INDEX decks_owner_root_name ON decks(owner, name) WHERE parent IS NULL;

CREATE TABLE maintainers (
    deck    INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (deck, user_id)
) WITHOUT ROWID;

CREATE TABLE notetypes (
    id                  INTEGER PRIMARY KEY,
    guid                TEXT    NOT NULL,
    owner               INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    kind                INTEGER NOT NULL,
    css                 TEXT    NOT NULL,
    latex_pre           TEXT    NOT NULL,
    latex_post          TEXT    NOT NULL,
    latex_svg           INTEGER NOT NULL,
    sortf               INTEGER NOT NULL,
    req                 TEXT    NOT NULL,
    original_stock_kind INTEGER NOT NULL,
    UNIQUE (guid, owner)
);

CREATE TABLE notetype_fields (
    notetype    INTEGER NOT NULL REFERENCES notetypes(id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    font        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    rtl         INTEGER NOT NULL,
    sticky      INTEGER NOT NULL,
    description TEXT    NOT NULL,
    anki_id     INTEGER NOT NULL,
    tag         INTEGER NOT NULL,
    protected   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (notetype, ord)
) WITHOUT ROWID;

CREATE TABLE notetype_templates (
    notetype INTEGER NOT NULL REFERENCES notetypes(id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    qfmt     TEXT    NOT NULL,
    afmt     TEXT    NOT NULL,
    bqfmt    TEXT    NOT NULL,
    bafmt    TEXT    NOT NULL,
    bfont    TEXT    NOT NULL,
    bsize    INTEGER NOT NULL,
    anki_id  INTEGER NOT NULL,
    PRIMARY KEY (notetype, ord)
) WITHOUT ROWID;

CREATE TABLE commits (
    id         INTEGER PRIMARY KEY,
    rationale  INTEGER NOT NULL,
    info       TEXT    NOT NULL,
    deck       INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    -- 'pending' awaits review; 'applied' was auto-approved on arrival.
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'applied', 'approved', 'denied')),
    decided_at INTEGER,
    reason     TEXT
);
CREATE INDEX commits_pending ON commits(status, deck, id);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    guid        TEXT    NOT NULL,
    root        INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    deck        INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    notetype    INTEGER NOT NULL REFERENCES notetypes(id),
    anki_id     INTEGER NOT NULL,
    reviewed    INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    commit_id   INTEGER REFERENCES commits(id) ON DELETE SET NULL,
    last_update INTEGER NOT NULL,
    UNIQUE (root, guid)
);
CREATE INDEX notes_pull ON notes(deck, reviewed, deleted, last_update);
CREATE INDEX notes_deleted ON notes(root, deleted, last_update);
CREATE INDEX notes_commit ON notes(commit_id) WHERE reviewed = 0;

CREATE TABLE fields (
    id        INTEGER PRIMARY KEY,
    note      INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    content   TEXT    NOT NULL,
    reviewed  INTEGER NOT NULL,
    commit_id INTEGER REFERENCES commits(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX fields_reviewed ON fields(note, position) WHERE reviewed = 1;
CREATE INDEX fields_commit ON fields(commit_id) WHERE reviewed = 0;
CREATE INDEX fields_note ON fields(note, reviewed);

CREATE TABLE tags (
    id        INTEGER PRIMARY KEY,
    note      INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    content   TEXT    NOT NULL,
    reviewed  INTEGER NOT NULL,
    -- 1 adds the tag, 0 removes it (only meaningful while unreviewed).
    action    INTEGER NOT NULL DEFAULT 1,
    commit_id INTEGER REFERENCES commits(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX tags_reviewed ON tags(note, content) WHERE reviewed = 1;
CREATE INDEX tags_commit ON tags(commit_id) WHERE reviewed = 0;
CREATE INDEX tags_note ON tags(note, reviewed);

CREATE TABLE note_moves (
    id          INTEGER PRIMARY KEY,
    note        INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    target_deck INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    commit_id   INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE
);
CREATE INDEX note_moves_commit ON note_moves(commit_id);

CREATE TABLE removal_suggestions (
    id        INTEGER PRIMARY KEY,
    note      INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    commit_id INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
    UNIQUE (note, commit_id)
);
CREATE INDEX removal_suggestions_commit ON removal_suggestions(commit_id);

CREATE TABLE note_events (
    id         INTEGER PRIMARY KEY,
    note       INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    commit_id  INTEGER REFERENCES commits(id) ON DELETE CASCADE,
    event_type TEXT    NOT NULL,
    position   INTEGER,
    field_name TEXT,
    old_text   TEXT,
    new_text   TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX note_events_commit ON note_events(commit_id);

CREATE TABLE changelogs (
    id         INTEGER PRIMARY KEY,
    deck       INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    message    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX changelogs_deck ON changelogs(deck, created_at);

CREATE TABLE optional_tags (
    deck      INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    tag_group TEXT    NOT NULL,
    PRIMARY KEY (deck, tag_group)
) WITHOUT ROWID;

CREATE TABLE subscriptions (
    user_hash TEXT    NOT NULL,
    deck      INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    PRIMARY KEY (user_hash, deck)
) WITHOUT ROWID;

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    commit_id  INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
    deck       INTEGER NOT NULL REFERENCES decks(id) ON DELETE CASCADE,
    status     TEXT    NOT NULL CHECK (status IN ('approved', 'denied')),
    reason     TEXT,
    is_read    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, is_read, id);

CREATE TABLE note_stats (
    note        INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    user_hash   TEXT    NOT NULL,
    retention   INTEGER NOT NULL,
    lapses      INTEGER NOT NULL,
    reps        INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (note, user_hash)
) WITHOUT ROWID;
