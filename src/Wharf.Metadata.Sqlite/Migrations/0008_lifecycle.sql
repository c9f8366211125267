-- Version 8: lifecycle policies, their previews, image storage classes (archive), and the event outbox.

ALTER TABLE repositories ADD COLUMN lifecycle_policy TEXT;
ALTER TABLE repositories ADD COLUMN lifecycle_evaluated_at INTEGER;

ALTER TABLE manifests ADD COLUMN storage_class TEXT NOT NULL DEFAULT 'standard' CHECK (storage_class IN ('standard', 'archive'));
ALTER TABLE manifests ADD COLUMN archived_at INTEGER;
ALTER TABLE manifests ADD COLUMN activated_at INTEGER;

-- One preview per repository: the policy it ran, its status and (when complete) its results as JSON.
CREATE TABLE lifecycle_previews (
    repository_id INTEGER PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    policy        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    results       TEXT,
    started_at    INTEGER NOT NULL
);

-- Events recorded in the same transaction as the write they describe; consumers read them in id order.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
