-- Version 2: what the ECR API needs. Repository settings and resource tags, each image's size and
-- last recorded pull, and server-wide keys (signed download URLs, page tokens).

ALTER TABLE repositories ADD COLUMN tag_mutability TEXT NOT NULL DEFAULT 'MUTABLE';
-- JSON array of wildcard filters, for the *_WITH_EXCLUSION modes.
ALTER TABLE repositories ADD COLUMN tag_mutability_exclusions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE repositories ADD COLUMN scan_on_push INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN encryption_type TEXT NOT NULL DEFAULT 'AES256';
ALTER TABLE repositories ADD COLUMN kms_key TEXT;

CREATE TABLE repository_resource_tags (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    PRIMARY KEY (repository_id, key)
);

-- Sum of the referenced blob sizes; for an index the largest child's. Written with the manifest.
ALTER TABLE manifests ADD COLUMN image_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN last_pulled_at INTEGER;

UPDATE manifests SET image_size = (
    SELECT coalesce(sum(b.size), 0) FROM manifest_blobs mb JOIN blobs b ON b.digest = mb.blob_digest
    WHERE mb.repository_id = manifests.repository_id AND mb.manifest_digest = manifests.digest);
UPDATE manifests SET image_size = (
    SELECT coalesce(max(c.image_size), 0) FROM manifest_children mc
    JOIN manifests c ON c.repository_id = mc.repository_id AND c.digest = mc.child_digest
    WHERE mc.repository_id = manifests.repository_id AND mc.index_digest = manifests.digest)
WHERE EXISTS (SELECT 1 FROM manifest_children mc WHERE mc.repository_id = manifests.repository_id AND mc.index_digest = manifests.digest);

CREATE TABLE server_keys (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
