-- Invitations: a partner admin adds a colleague, who sets their own password through a link
-- sent to their address. Only the token's hash is stored.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES people (id),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    accepted_at TEXT NULL
);
CREATE INDEX invitations_person ON invitations (person_id);
