-- Version 23, on PostgreSQL (mirrors the SQLite script): the KMS-compatible key service's keys, their material
-- versions sealed with the master key, aliases and grants.

CREATE TABLE kms_keys (
    arn                  text    COLLATE "C" PRIMARY KEY,
    key_id               text    COLLATE "C" NOT NULL,
    account              text    NOT NULL,
    region               text    COLLATE "C" NOT NULL,
    description          text,
    state                text    NOT NULL,
    aws_managed          integer NOT NULL,
    policy               text    NOT NULL,
    rotation_enabled     integer NOT NULL,
    rotation_period_days integer NOT NULL,
    current_version      integer NOT NULL,
    created_at           bigint  NOT NULL,
    deletion_date        bigint,
    tags                 text    NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX kms_keys_by_registry ON kms_keys (account, region, key_id);
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE INDEX kms_keys_rotation ON kms_keys (rotation_enabled) WHERE rotation_enabled = 1;

CREATE TABLE kms_key_materials (
    key_arn    text    COLLATE "C" NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    version    integer NOT NULL,
    material   bytea   NOT NULL,
    created_at bigint  NOT NULL,
    on_demand  integer NOT NULL,
    PRIMARY KEY (key_arn, version)
);

CREATE TABLE kms_aliases (
    account    text   NOT NULL,
    region     text   COLLATE "C" NOT NULL,
    name       text   COLLATE "C" NOT NULL,
    key_arn    text   COLLATE "C" NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX kms_aliases_by_key ON kms_aliases (key_arn);

CREATE TABLE kms_grants (
    grant_id           text   COLLATE "C" PRIMARY KEY,
    key_arn            text   COLLATE "C" NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    name               text,
    grantee_principal  text   NOT NULL,
    retiring_principal text,
    issuing_account    text   NOT NULL,
    operations         text   NOT NULL,
    context_subset     text,
    context_equals     text,
    token_hash         text   COLLATE "C" NOT NULL UNIQUE,
    created_at         bigint NOT NULL
);
CREATE INDEX kms_grants_by_key ON kms_grants (key_arn);
