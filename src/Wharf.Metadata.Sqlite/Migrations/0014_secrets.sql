-- Version 14: the secrets of the Secrets Manager-compatible API. One row per secret (its name unique in
-- its registry, its ARN unique everywhere; deletion_date set while it waits out its recovery window), and
-- one row per version holding the value sealed with the master key (AES-GCM, bound to the secret's ARN and
-- the version id) and its staging labels as a JSON array.

CREATE TABLE secrets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    arn           TEXT    NOT NULL UNIQUE,
    description   TEXT,
    kms_key_id    TEXT,
    tags          TEXT    NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL,
    accessed_at   INTEGER,
    deleted_at    INTEGER,
    deletion_date INTEGER,
    UNIQUE (account, region, name)
);
CREATE INDEX secrets_deletion ON secrets (deletion_date) WHERE deletion_date IS NOT NULL;

CREATE TABLE secret_versions (
    secret_id  INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version_id TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    is_binary  INTEGER NOT NULL,
    stages     TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (secret_id, version_id)
);
