-- Version 8, on PostgreSQL (mirrors the SQLite script): lifecycle policies, their previews, image
-- storage classes (archive), and the event outbox.

ALTER TABLE repositories ADD COLUMN lifecycle_policy text;
ALTER TABLE repositories ADD COLUMN lifecycle_evaluated_at bigint;

ALTER TABLE manifests ADD COLUMN storage_class text NOT NULL DEFAULT 'standard' CHECK (storage_class IN ('standard', 'archive'));
ALTER TABLE manifests ADD COLUMN archived_at bigint;
ALTER TABLE manifests ADD COLUMN activated_at bigint;

CREATE TABLE lifecycle_previews (
    repository_id bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    policy        text   NOT NULL,
    status        text   NOT NULL,
    results       text,
    started_at    bigint NOT NULL
);

CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type       text   NOT NULL,
    payload    text   NOT NULL,
    created_at bigint NOT NULL
);
