-- Version 17: the web console. A principal's login profile (its password's PBKDF2 hash, never the
-- password) and signed-in console sessions, stored by the SHA-256 of the cookie so that a copy of the
-- database signs nobody in. Both go with their principal (a deleted user's sessions end with it).

CREATE TABLE login_profiles (
    principal_arn  TEXT    NOT NULL PRIMARY KEY REFERENCES principals (arn) ON DELETE CASCADE,
    password_hash  TEXT    NOT NULL,
    reset_required INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE console_sessions (
    id_hash       TEXT    NOT NULL PRIMARY KEY,
    principal_arn TEXT    NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    method        TEXT    NOT NULL,
    access_key_id TEXT,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);

-- Ending a principal's sessions (password changed, login profile deleted, principal deleted).
CREATE INDEX console_sessions_principal ON console_sessions (principal_arn, method);

-- The pruning job's two ranges: idle since before, created before.
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);
CREATE INDEX console_sessions_created ON console_sessions (created_at);
