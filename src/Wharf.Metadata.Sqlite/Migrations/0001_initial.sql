-- Wharf metadata schema, version 1. Timestamps are INTEGER unix milliseconds UTC; digests are
-- TEXT 'algorithm:hex'; text compares with SQLite's BINARY collation, i.e. ordinal (PostgreSQL
-- mirrors it with COLLATE "C"). See docs/metadata.md.

CREATE TABLE repositories (
    -- AUTOINCREMENT: ids are never reused, so a stale id held by an in-flight push can never
    -- address a repository created later under the same name.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (account, region, name)
);

CREATE TABLE blobs (
    digest      TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('live', 'deleting')),
    touched_at  INTEGER NOT NULL
);
-- GC candidates: live rows by touch time.
CREATE INDEX blobs_state_touched ON blobs (state, touched_at);

CREATE TABLE repository_blobs (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        TEXT    NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
    linked_at     INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
-- Cascades from blobs (ForgetClaimed) look links up by digest.
CREATE INDEX repository_blobs_digest ON repository_blobs (digest);

CREATE TABLE manifests (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        TEXT    NOT NULL,
    media_type    TEXT    NOT NULL,
    artifact_type TEXT,
    subject       TEXT,
    content       BLOB    NOT NULL,
    annotations   TEXT,
    pushed_at     INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
-- Referrers: by subject, ordered by digest.
CREATE INDEX manifests_subject ON manifests (repository_id, subject, digest) WHERE subject IS NOT NULL;

CREATE TABLE manifest_blobs (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT    NOT NULL,
    -- No cascade: a blob row that a manifest references can never be deleted.
    blob_digest     TEXT    NOT NULL REFERENCES blobs (digest),
    PRIMARY KEY (repository_id, manifest_digest, blob_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
-- GC ("is any manifest referencing this blob?") and mount checks (per repository).
CREATE INDEX manifest_blobs_blob ON manifest_blobs (blob_digest, repository_id);

CREATE TABLE manifest_children (
    repository_id INTEGER NOT NULL,
    index_digest  TEXT    NOT NULL,
    child_digest  TEXT    NOT NULL,
    PRIMARY KEY (repository_id, index_digest, child_digest),
    FOREIGN KEY (repository_id, index_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE,
    FOREIGN KEY (repository_id, child_digest) REFERENCES manifests (repository_id, digest)
);
-- "Does an index in this repository list it?" on manifest delete.
CREATE INDEX manifest_children_child ON manifest_children (repository_id, child_digest);

CREATE TABLE tags (
    repository_id INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    digest        TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX tags_manifest ON tags (repository_id, digest);

CREATE TABLE uploads (
    id            TEXT    PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    "offset"      INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX uploads_expires ON uploads (expires_at);
CREATE INDEX uploads_repository ON uploads (repository_id);

CREATE TABLE job_leases (
    job        TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
