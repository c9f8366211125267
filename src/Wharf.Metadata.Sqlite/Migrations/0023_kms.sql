-- Version 23: the KMS-compatible key service. One row per key (its ARN names account, region and key id), one
-- row per version of its 256-bit material sealed with the master key (AES-GCM, bound to the key's ARN and the
-- version), aliases per account and region, and grants (the SHA-256 of each grant token, never the token).
-- Deleting a key deletes its material: what it encrypted is unrecoverable.

CREATE TABLE kms_keys (
    arn                  TEXT    PRIMARY KEY,
    key_id               TEXT    NOT NULL,
    account              TEXT    NOT NULL,
    region               TEXT    NOT NULL,
    description          TEXT,
    state                TEXT    NOT NULL,
    aws_managed          INTEGER NOT NULL,
    policy               TEXT    NOT NULL,
    rotation_enabled     INTEGER NOT NULL,
    rotation_period_days INTEGER NOT NULL,
    current_version      INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    deletion_date        INTEGER,
    tags                 TEXT    NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX kms_keys_by_registry ON kms_keys (account, region, key_id);
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE INDEX kms_keys_rotation ON kms_keys (rotation_enabled) WHERE rotation_enabled = 1;

CREATE TABLE kms_key_materials (
    key_arn    TEXT    NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    material   BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    on_demand  INTEGER NOT NULL,
    PRIMARY KEY (key_arn, version)
);

CREATE TABLE kms_aliases (
    account    TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    key_arn    TEXT    NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX kms_aliases_by_key ON kms_aliases (key_arn);

CREATE TABLE kms_grants (
    grant_id           TEXT    PRIMARY KEY,
    key_arn            TEXT    NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    name               TEXT,
    grantee_principal  TEXT    NOT NULL,
    retiring_principal TEXT,
    issuing_account    TEXT    NOT NULL,
    operations         TEXT    NOT NULL,
    context_subset     TEXT,
    context_equals     TEXT,
    token_hash         TEXT    NOT NULL UNIQUE,
    created_at         INTEGER NOT NULL
);
CREATE INDEX kms_grants_by_key ON kms_grants (key_arn);
