-- Version 2, on PostgreSQL (mirrors the SQLite script): repository settings and resource tags, each
-- image's size and last recorded pull, and server-wide keys (signed download URLs, page tokens).

ALTER TABLE repositories ADD COLUMN tag_mutability text NOT NULL DEFAULT 'MUTABLE';
ALTER TABLE repositories ADD COLUMN tag_mutability_exclusions text NOT NULL DEFAULT '[]';
ALTER TABLE repositories ADD COLUMN scan_on_push boolean NOT NULL DEFAULT false;
ALTER TABLE repositories ADD COLUMN encryption_type text NOT NULL DEFAULT 'AES256';
ALTER TABLE repositories ADD COLUMN kms_key text;

CREATE TABLE repository_resource_tags (
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    key           text   COLLATE "C" NOT NULL,
    value         text   NOT NULL,
    PRIMARY KEY (repository_id, key)
);

ALTER TABLE manifests ADD COLUMN image_size bigint NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN last_pulled_at bigint;

UPDATE manifests SET image_size = (
    SELECT coalesce(sum(b.size), 0) FROM manifest_blobs mb JOIN blobs b ON b.digest = mb.blob_digest
    WHERE mb.repository_id = manifests.repository_id AND mb.manifest_digest = manifests.digest);
UPDATE manifests SET image_size = (
    SELECT coalesce(max(c.image_size), 0) FROM manifest_children mc
    JOIN manifests c ON c.repository_id = mc.repository_id AND c.digest = mc.child_digest
    WHERE mc.repository_id = manifests.repository_id AND mc.index_digest = manifests.digest)
WHERE EXISTS (SELECT 1 FROM manifest_children mc WHERE mc.repository_id = manifests.repository_id AND mc.index_digest = manifests.digest);

CREATE TABLE server_keys (
    name       text   COLLATE "C" PRIMARY KEY,
    value      bytea  NOT NULL,
    created_at bigint NOT NULL
);
