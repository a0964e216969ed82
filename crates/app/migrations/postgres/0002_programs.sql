-- The program files applied, current and past.
CREATE TABLE programs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    source      TEXT NOT NULL,
    definition  TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  TEXT NOT NULL,
    applied_by  TEXT NOT NULL
);

CREATE TABLE program_revisions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id  TEXT NOT NULL REFERENCES programs (id),
    version     TEXT NOT NULL,
    source      TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  TEXT NOT NULL,
    applied_by  TEXT NOT NULL
);

CREATE TABLE partner_programs (
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    program_id  TEXT NOT NULL REFERENCES programs (id),
    enrolled_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, program_id)
);
CREATE INDEX partner_programs_program ON partner_programs (program_id);

ALTER TABLE people ADD COLUMN job_role TEXT NULL;

-- Records the rules read. Later features write them (content progress, exams, reviews,
-- issuance, health imports); tier evaluation and entitlement checks only read them.
CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES people (id),
    program_id  TEXT NOT NULL REFERENCES programs (id),
    track_id    TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX credentials_person ON credentials (person_id);

CREATE TABLE module_completions (
    person_id    TEXT NOT NULL REFERENCES people (id),
    program_id   TEXT NOT NULL REFERENCES programs (id),
    module_id    TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (person_id, program_id, module_id)
);

CREATE TABLE exam_passes (
    person_id  TEXT NOT NULL REFERENCES people (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    exam_id    TEXT NOT NULL,
    passed_at  TEXT NOT NULL,
    PRIMARY KEY (person_id, program_id, exam_id)
);

CREATE TABLE practical_approvals (
    id           TEXT PRIMARY KEY,
    partner_id   TEXT NOT NULL REFERENCES partners (id),
    person_id    TEXT NULL REFERENCES people (id),
    program_id   TEXT NOT NULL REFERENCES programs (id),
    practical_id TEXT NOT NULL,
    approved_at  TEXT NOT NULL
);
CREATE INDEX practical_approvals_partner ON practical_approvals (partner_id);

CREATE TABLE health_scores (
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    program_id  TEXT NOT NULL REFERENCES programs (id),
    quarter     TEXT NOT NULL,
    score       DOUBLE PRECISION NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, program_id, quarter)
);

-- The tier each partner stands at in each program, with the explanation of the last evaluation.
CREATE TABLE partner_tiers (
    partner_id   TEXT NOT NULL REFERENCES partners (id),
    program_id   TEXT NOT NULL REFERENCES programs (id),
    tier_id      TEXT NULL,
    explanation  TEXT NOT NULL,
    evaluated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, program_id)
);
