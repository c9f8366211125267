-- Version 10: image scans (one per image, replaced by each rescan) and outbox consumers' positions.

CREATE TABLE image_scans (
    repository_id   INTEGER NOT NULL,
    digest          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    description     TEXT,
    requested_at    INTEGER NOT NULL,
    completed_at    INTEGER,
    source_updated_at INTEGER,
    database_at     INTEGER,
    severity_counts TEXT    NOT NULL DEFAULT '{}',
    findings        TEXT,
    PRIMARY KEY (repository_id, digest),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
-- The scan job's queue: scans in progress, oldest request first.
CREATE INDEX image_scans_pending ON image_scans (requested_at) WHERE status = 'IN_PROGRESS';

CREATE TABLE event_cursors (
    consumer TEXT    PRIMARY KEY,
    position INTEGER NOT NULL
);
