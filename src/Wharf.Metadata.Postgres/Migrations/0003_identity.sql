-- Version 3, on PostgreSQL (mirrors the SQLite script): accounts, principals and access keys.
-- Secrets are sealed (AES-GCM) under the server's master key, which is not in the database.

CREATE TABLE accounts (
    id         text   COLLATE "C" PRIMARY KEY,
    created_at bigint NOT NULL
);

CREATE TABLE principals (
    arn        text   COLLATE "C" PRIMARY KEY,
    account    text   COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       text   NOT NULL CHECK (kind IN ('root', 'user', 'role')),
    name       text   COLLATE "C" NOT NULL,
    unique_id  text   COLLATE "C" NOT NULL UNIQUE,
    created_at bigint NOT NULL
);
CREATE INDEX principals_account ON principals (account, kind, name);

CREATE TABLE access_keys (
    id            text    COLLATE "C" PRIMARY KEY,
    principal_arn text    COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    secret        bytea   NOT NULL,
    active        boolean NOT NULL,
    created_at    bigint  NOT NULL
);
CREATE INDEX access_keys_principal ON access_keys (principal_arn, created_at);
