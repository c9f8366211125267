-- Version 14, on PostgreSQL (mirrors the SQLite script): the secrets of the Secrets Manager-compatible API
-- and their versions, each value sealed with the master key.

CREATE TABLE secrets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       text   NOT NULL,
    region        text   COLLATE "C" NOT NULL,
    name          text   COLLATE "C" NOT NULL,
    arn           text   COLLATE "C" NOT NULL UNIQUE,
    description   text,
    kms_key_id    text,
    tags          text   NOT NULL DEFAULT '[]',
    created_at    bigint NOT NULL,
    changed_at    bigint NOT NULL,
    accessed_at   bigint,
    deleted_at    bigint,
    deletion_date bigint,
    UNIQUE (account, region, name)
);
CREATE INDEX secrets_deletion ON secrets (deletion_date) WHERE deletion_date IS NOT NULL;

CREATE TABLE secret_versions (
    secret_id  bigint NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version_id text   COLLATE "C" NOT NULL,
    value      bytea  NOT NULL,
    is_binary  boolean NOT NULL,
    stages     text   NOT NULL DEFAULT '[]',
    created_at bigint NOT NULL,
    PRIMARY KEY (secret_id, version_id)
);
