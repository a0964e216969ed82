-- Each import of a module's files is a new version; versions are never changed afterwards.
CREATE TABLE module_versions (
    id          TEXT PRIMARY KEY,
    program_id  TEXT NOT NULL REFERENCES programs (id),
    module_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    UNIQUE (program_id, module_id, version)
);

CREATE TABLE module_documents (
    id                TEXT PRIMARY KEY,
    module_version_id TEXT NOT NULL REFERENCES module_versions (id),
    position          INTEGER NOT NULL,
    title             TEXT NOT NULL,
    file_name         TEXT NOT NULL,
    source_kind       TEXT NOT NULL,
    recording_url     TEXT NULL
);

CREATE TABLE sections (
    id                TEXT PRIMARY KEY,
    module_version_id TEXT NOT NULL REFERENCES module_versions (id),
    document_id       TEXT NOT NULL REFERENCES module_documents (id),
    position          INTEGER NOT NULL,
    anchor            TEXT NOT NULL,
    heading           TEXT NOT NULL,
    start_ms          INTEGER NULL,
    body              TEXT NOT NULL,
    blocks            TEXT NOT NULL
);
CREATE INDEX sections_version ON sections (module_version_id, position);

CREATE TABLE section_reads (
    person_id  TEXT NOT NULL REFERENCES people (id),
    section_id TEXT NOT NULL REFERENCES sections (id),
    read_at    TEXT NOT NULL,
    PRIMARY KEY (person_id, section_id)
);

CREATE TABLE module_time (
    person_id  TEXT NOT NULL REFERENCES people (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    module_id  TEXT NOT NULL,
    seconds    INTEGER NOT NULL,
    PRIMARY KEY (person_id, program_id, module_id)
);
