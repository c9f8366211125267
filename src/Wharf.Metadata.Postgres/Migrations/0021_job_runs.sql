-- Version 21: how each background job's latest run ended, for `wharf status` (one row per job,
-- replaced by every run on whichever node ran it), and the live blobs' count and bytes from an index.
CREATE TABLE job_runs (
    job         text    COLLATE "C" PRIMARY KEY,
    owner       TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    duration_ms BIGINT  NOT NULL,
    outcome     TEXT    NOT NULL,
    -- NULL when the run succeeded; else the failure's one line (the exception's type and message).
    failure     TEXT,
    next_due_at BIGINT
);
-- `wharf status`'s blob count and bytes (state, then size: covering, the rows are not read).
CREATE INDEX blobs_state_size ON blobs (state, size);
