-- The version of the notetype a suggested change was made against: a change accepted
-- after the notetype changed again would undo what changed in between.
ALTER TABLE notetype_suggestions ADD COLUMN base_version TEXT NOT NULL DEFAULT '';
