-- Files attached to a practical submission (reports, exports, screenshots).
CREATE TABLE submission_files (
    id            TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES practical_submissions (id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content       BYTEA NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX submission_files_submission ON submission_files (submission_id);
