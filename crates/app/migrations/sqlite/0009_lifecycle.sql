-- Delivery of outgoing messages: a channel, a deduplication key (one message per cause, however
-- often the cause is processed), and retries with backoff until delivered or dead.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE outbox ADD COLUMN dedup_key TEXT NULL;
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until TEXT NULL;
ALTER TABLE outbox ADD COLUMN last_error TEXT NULL;
UPDATE outbox SET state = 'delivered' WHERE dispatched_at IS NOT NULL;
UPDATE outbox SET next_attempt_at = created_at;
CREATE UNIQUE INDEX outbox_dedup ON outbox (dedup_key);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';

-- Messages shown on people's home pages.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NULL,
    dedup_key  TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    read_at    TEXT NULL
);
CREATE INDEX notifications_person ON notifications (person_id, created_at);

-- The credential lifecycle: the next day something is due for a credential (reminder, renewal
-- window, expiry), so the daily sweep reads only what is due; and renewal lineage.
ALTER TABLE credentials ADD COLUMN next_due_on TEXT NULL;
ALTER TABLE credentials ADD COLUMN renewed_from TEXT NULL;
ALTER TABLE credentials ADD COLUMN superseded_on TEXT NULL;
-- When the holder finished the delta module of this credential (renewal by delta module).
ALTER TABLE credentials ADD COLUMN delta_read_on TEXT NULL;
CREATE INDEX credentials_due ON credentials (next_due_on) WHERE next_due_on IS NOT NULL;

CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_by  TEXT NULL,
    created_at  TEXT NOT NULL,
    disabled_at TEXT NULL
);

-- Recertification demanded by a regulatory update or a major release.
CREATE TABLE recert_triggers (
    id         TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    tracks     TEXT NOT NULL,
    modules    TEXT NOT NULL,
    domains    TEXT NOT NULL,
    recorded_on TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE recert_tasks (
    trigger_id    TEXT NOT NULL REFERENCES recert_triggers (id),
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    person_id     TEXT NOT NULL REFERENCES people (id),
    deadline      TEXT NOT NULL,
    completed_on  TEXT NULL,
    lapsed_on     TEXT NULL,
    PRIMARY KEY (trigger_id, credential_id)
);
CREATE INDEX recert_tasks_open ON recert_tasks (deadline) WHERE completed_on IS NULL AND lapsed_on IS NULL;
CREATE INDEX recert_tasks_person ON recert_tasks (person_id);

-- A partner below the program's health threshold must complete remediation by a deadline.
CREATE TABLE remediation_cases (
    id         TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    quarter    TEXT NOT NULL,
    score      DOUBLE PRECISION NOT NULL,
    modules    TEXT NOT NULL,
    opened_on  TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    closed_on  TEXT NULL,
    outcome    TEXT NULL
);
CREATE UNIQUE INDEX remediation_one_open ON remediation_cases (partner_id, program_id) WHERE outcome IS NULL;
CREATE INDEX remediation_open_deadline ON remediation_cases (deadline) WHERE outcome IS NULL;

-- Each reminder a credential was sent, once per milestone; the Partner Account Manager's daily
-- digest lists the day's reminders of their partners' people.
CREATE TABLE lifecycle_reminders (
    credential_id      TEXT NOT NULL REFERENCES credentials (id),
    milestone          TEXT NOT NULL,
    due_on             TEXT NOT NULL,
    swept_on           TEXT NOT NULL,
    account_manager_id TEXT NULL,
    PRIMARY KEY (credential_id, milestone)
);
CREATE INDEX lifecycle_reminders_digest ON lifecycle_reminders (swept_on, account_manager_id);
-- Active credentials not yet given a lifecycle schedule (issued before it existed).
CREATE INDEX credentials_unscheduled ON credentials (id) WHERE next_due_on IS NULL AND status = 'active';
