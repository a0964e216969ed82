-- The item bank: every version of an item is kept, so attempts can show what they were asked.
CREATE TABLE items (
    program_id  TEXT NOT NULL REFERENCES programs (id),
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    domain      TEXT NOT NULL,
    status      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (program_id, id, version)
);
CREATE INDEX items_domain ON items (program_id, domain, status);

-- A published exam: the blueprint candidates read, as it was checked against the bank.
CREATE TABLE exam_publications (
    program_id   TEXT NOT NULL REFERENCES programs (id),
    exam_id      TEXT NOT NULL,
    title        TEXT NOT NULL,
    blueprint    TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (program_id, exam_id)
);

-- status: awaiting_proctor, in_progress, submitted, timed_out, invalidated.
CREATE TABLE attempts (
    id                 TEXT PRIMARY KEY,
    person_id          TEXT NOT NULL REFERENCES people (id),
    program_id         TEXT NOT NULL REFERENCES programs (id),
    exam_id            TEXT NOT NULL,
    status             TEXT NOT NULL,
    seed               TEXT NOT NULL,
    form               TEXT NOT NULL,
    blueprint          TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    started_at         TEXT NULL,
    deadline_at        TEXT NULL,
    finished_at        TEXT NULL,
    score_percent      DOUBLE PRECISION NULL,
    passed             INTEGER NULL,
    result             TEXT NULL,
    proctor_id         TEXT NULL,
    invalidated_reason TEXT NULL
);
CREATE INDEX attempts_person ON attempts (person_id, program_id, exam_id);
CREATE INDEX attempts_open ON attempts (status, deadline_at);
-- Two racing starts cannot both open an attempt.
CREATE UNIQUE INDEX attempts_one_open ON attempts (person_id, program_id, exam_id)
    WHERE status IN ('awaiting_proctor', 'in_progress');

CREATE TABLE attempt_answers (
    attempt_id TEXT NOT NULL REFERENCES attempts (id),
    item_id    TEXT NOT NULL,
    response   TEXT NULL,
    flagged    INTEGER NOT NULL,
    saved_at   TEXT NOT NULL,
    PRIMARY KEY (attempt_id, item_id)
);

-- What the exam page reports for the proctor: focus lost, paste.
CREATE TABLE attempt_events (
    attempt_id TEXT NOT NULL REFERENCES attempts (id),
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX attempt_events_attempt ON attempt_events (attempt_id, at);
