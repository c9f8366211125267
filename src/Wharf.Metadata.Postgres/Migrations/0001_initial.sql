-- Wharf metadata schema, version 1, on PostgreSQL. Mirrors the SQLite schema: timestamps are bigint
-- unix milliseconds UTC, digests text 'algorithm:hex', and every text that is ordered or compared
-- uses COLLATE "C" so that order is ordinal, as SQLite's BINARY collation is.

CREATE TABLE repositories (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     text   COLLATE "C" NOT NULL,
    region      text   COLLATE "C" NOT NULL,
    name        text   COLLATE "C" NOT NULL,
    created_at  bigint NOT NULL,
    UNIQUE (account, region, name)
);

CREATE TABLE blobs (
    digest      text   COLLATE "C" PRIMARY KEY,
    size        bigint NOT NULL,
    state       text   NOT NULL CHECK (state IN ('live', 'deleting')),
    touched_at  bigint NOT NULL
);
CREATE INDEX blobs_state_touched ON blobs (state, touched_at);

CREATE TABLE repository_blobs (
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        text   COLLATE "C" NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
    linked_at     bigint NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
CREATE INDEX repository_blobs_digest ON repository_blobs (digest);

CREATE TABLE manifests (
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        text   COLLATE "C" NOT NULL,
    media_type    text   NOT NULL,
    artifact_type text,
    subject       text   COLLATE "C",
    content       bytea  NOT NULL,
    annotations   text,
    pushed_at     bigint NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
CREATE INDEX manifests_subject ON manifests (repository_id, subject, digest) WHERE subject IS NOT NULL;

CREATE TABLE manifest_blobs (
    repository_id   bigint NOT NULL,
    manifest_digest text   COLLATE "C" NOT NULL,
    -- No cascade: a blob row that a manifest references can never be deleted.
    blob_digest     text   COLLATE "C" NOT NULL REFERENCES blobs (digest),
    PRIMARY KEY (repository_id, manifest_digest, blob_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX manifest_blobs_blob ON manifest_blobs (blob_digest, repository_id);

CREATE TABLE manifest_children (
    repository_id bigint NOT NULL,
    index_digest  text   COLLATE "C" NOT NULL,
    child_digest  text   COLLATE "C" NOT NULL,
    PRIMARY KEY (repository_id, index_digest, child_digest),
    FOREIGN KEY (repository_id, index_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE,
    -- Deferred: deleting a repository cascades to indexes and children in one statement, in no
    -- particular order; the check runs at commit, when both are gone.
    FOREIGN KEY (repository_id, child_digest) REFERENCES manifests (repository_id, digest) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX manifest_children_child ON manifest_children (repository_id, child_digest);

CREATE TABLE tags (
    repository_id bigint NOT NULL,
    name          text   COLLATE "C" NOT NULL,
    digest        text   COLLATE "C" NOT NULL,
    updated_at    bigint NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX tags_manifest ON tags (repository_id, digest);

CREATE TABLE uploads (
    id            text   COLLATE "C" PRIMARY KEY,
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    "offset"      bigint NOT NULL,
    started_at    bigint NOT NULL,
    expires_at    bigint NOT NULL
);
CREATE INDEX uploads_expires ON uploads (expires_at);
CREATE INDEX uploads_repository ON uploads (repository_id);

CREATE TABLE job_leases (
    job        text   COLLATE "C" PRIMARY KEY,
    owner      text   NOT NULL,
    expires_at bigint NOT NULL
);
