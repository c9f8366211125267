-- Version 10, on PostgreSQL (mirrors the SQLite script): image scans and outbox consumers' positions.

CREATE TABLE image_scans (
    repository_id   bigint NOT NULL,
    digest          text   COLLATE "C" NOT NULL,
    status          text   NOT NULL,
    description     text,
    requested_at    bigint NOT NULL,
    completed_at    bigint,
    source_updated_at bigint,
    database_at     bigint,
    severity_counts text   NOT NULL DEFAULT '{}',
    findings        text,
    PRIMARY KEY (repository_id, digest),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX image_scans_pending ON image_scans (requested_at) WHERE status = 'IN_PROGRESS';

CREATE TABLE event_cursors (
    consumer text   PRIMARY KEY,
    position bigint NOT NULL
);
