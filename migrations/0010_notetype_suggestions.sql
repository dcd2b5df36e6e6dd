-- A notetype change in someone's suggestion (a /submitCard from an account that may not
-- change the deck): the uploaded notetype, kept until a maintainer decides. An accepted
-- one stays as the record that the suggestion was (partly) approved.
CREATE TABLE notetype_suggestions (
    id        INTEGER PRIMARY KEY,
    commit_id INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
    notetype  INTEGER NOT NULL REFERENCES notetypes(id) ON DELETE CASCADE,
    model     TEXT    NOT NULL,
    state     TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted'))
);
CREATE INDEX notetype_suggestions_commit ON notetype_suggestions(commit_id, state);
