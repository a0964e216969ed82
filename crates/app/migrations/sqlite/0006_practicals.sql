-- Practical assessments: what a partner submitted, and each reviewer's signed decision.
-- status: submitted, changes_requested, approved, rejected.
CREATE TABLE practical_submissions (
    id           TEXT PRIMARY KEY,
    program_id   TEXT NOT NULL REFERENCES programs (id),
    practical_id TEXT NOT NULL,
    partner_id   TEXT NOT NULL REFERENCES partners (id),
    person_id    TEXT NULL REFERENCES people (id),
    submitted_by TEXT NOT NULL REFERENCES people (id),
    description  TEXT NOT NULL,
    links        TEXT NOT NULL,
    status       TEXT NOT NULL,
    round        INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX practical_submissions_status ON practical_submissions (status, program_id);

CREATE TABLE practical_reviews (
    id            TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES practical_submissions (id),
    round         INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    reviewer_id   TEXT NOT NULL REFERENCES people (id),
    verdict       TEXT NOT NULL,
    scores        TEXT NOT NULL,
    comment       TEXT NOT NULL,
    signed_at     TEXT NOT NULL,
    UNIQUE (submission_id, round, reviewer_id),
    UNIQUE (submission_id, round, position)
);
