-- Version 17, on PostgreSQL (mirrors the SQLite script): the web console. A principal's login profile
-- (its password's PBKDF2 hash, never the password) and signed-in console sessions, stored by the
-- SHA-256 of the cookie so that a copy of the database signs nobody in. Both go with their principal.

CREATE TABLE login_profiles (
    principal_arn  text    COLLATE "C" NOT NULL PRIMARY KEY REFERENCES principals (arn) ON DELETE CASCADE,
    password_hash  text    NOT NULL,
    reset_required boolean NOT NULL,
    created_at     bigint  NOT NULL
);

CREATE TABLE console_sessions (
    id_hash       text   COLLATE "C" NOT NULL PRIMARY KEY,
    principal_arn text   COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    method        text   COLLATE "C" NOT NULL,
    access_key_id text   COLLATE "C",
    created_at    bigint NOT NULL,
    last_seen_at  bigint NOT NULL
);

-- Ending a principal's sessions (password changed, login profile deleted, principal deleted).
CREATE INDEX console_sessions_principal ON console_sessions (principal_arn, method);

-- The pruning job's two ranges: idle since before, created before.
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);
CREATE INDEX console_sessions_created ON console_sessions (created_at);
