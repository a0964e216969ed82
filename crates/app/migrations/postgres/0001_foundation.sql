-- Deployment-wide settings such as the vendor's name.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE partners (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    partner_type       TEXT NOT NULL,
    region             TEXT NOT NULL,
    account_manager_id TEXT NULL,
    deactivated_at     TEXT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE people (
    id             TEXT PRIMARY KEY,
    partner_id     TEXT NULL REFERENCES partners (id),
    display_name   TEXT NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NULL,
    deactivated_at TEXT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX people_partner ON people (partner_id);

CREATE TABLE person_roles (
    person_id TEXT NOT NULL REFERENCES people (id),
    role      TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE email_changes (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES people (id),
    new_email    TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    requested_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    confirmed_at TEXT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);

CREATE TABLE login_failures (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login     TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_login ON login_failures (login, failed_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hint         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   TEXT NULL REFERENCES people (id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT NULL,
    revoked_at   TEXT NULL
);

CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    occurred_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    summary     TEXT NOT NULL,
    request_id  TEXT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

-- One row; updating it first in every audited transaction serialises appends to the chain.
CREATE TABLE audit_head (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Messages that leave the process only after the transaction that wrote them committed.
CREATE TABLE outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    dispatched_at TEXT NULL
);
