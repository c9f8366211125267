-- Version 13: the replication queue and its statuses. One row per image of a source repository and
-- destination (region, registry); a repeat push re-arms the row (its version moves on) rather than
-- adding one. A node claims due rows until claim_until, so two nodes never copy one row at once, and a
-- node that died leaves a claim that expires.

CREATE TABLE replications (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    source_account       TEXT    NOT NULL,
    source_region        TEXT    NOT NULL,
    repository           TEXT    NOT NULL,
    digest               TEXT    NOT NULL,
    destination_region   TEXT    NOT NULL,
    destination_registry TEXT    NOT NULL,
    tags                 TEXT    NOT NULL DEFAULT '',
    status               TEXT    NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETE', 'FAILED')),
    failure_code         TEXT,
    reason               TEXT,
    attempts             INTEGER NOT NULL DEFAULT 0,
    version              INTEGER NOT NULL DEFAULT 1,
    armed_at             INTEGER NOT NULL,
    next_attempt_at      INTEGER NOT NULL,
    claim_owner          TEXT,
    claim_until          INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (source_account, source_region, repository, digest, destination_region, destination_registry)
);
CREATE INDEX replications_due ON replications (next_attempt_at) WHERE status = 'IN_PROGRESS';
