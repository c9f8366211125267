-- Version 3: accounts, principals and access keys. Secrets are sealed (AES-GCM) under the server's
-- master key, which is not in the database.

CREATE TABLE accounts (
    id         TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE principals (
    arn        TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('root', 'user', 'role')),
    name       TEXT    NOT NULL,
    unique_id  TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX principals_account ON principals (account, kind, name);

CREATE TABLE access_keys (
    id            TEXT    PRIMARY KEY,
    principal_arn TEXT    NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    secret        BLOB    NOT NULL,
    active        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX access_keys_principal ON access_keys (principal_arn, created_at);
