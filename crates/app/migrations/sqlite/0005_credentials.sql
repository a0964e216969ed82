-- Issued credentials: what they were earned on, their place in the status list, the signed
-- document, and revocation.
ALTER TABLE credentials ADD COLUMN content_versions TEXT NULL;
ALTER TABLE credentials ADD COLUMN status_index INTEGER NULL;
ALTER TABLE credentials ADD COLUMN document TEXT NULL;
ALTER TABLE credentials ADD COLUMN status_reason TEXT NULL;
ALTER TABLE credentials ADD COLUMN status_changed_at TEXT NULL;
-- One active credential per person and track, even when two requests race to issue it.
CREATE UNIQUE INDEX credentials_one_active ON credentials (person_id, program_id, track_id)
    WHERE status = 'active';
CREATE UNIQUE INDEX credentials_status_index ON credentials (status_index);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('status_index', 0);
