-- Version 13, on PostgreSQL (mirrors the SQLite script): the replication queue and its statuses, one
-- row per image of a source repository and destination, claimed by one node at a time.

CREATE TABLE replications (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_account       text   NOT NULL,
    source_region        text   COLLATE "C" NOT NULL,
    repository           text   COLLATE "C" NOT NULL,
    digest               text   COLLATE "C" NOT NULL,
    destination_region   text   COLLATE "C" NOT NULL,
    destination_registry text   COLLATE "C" NOT NULL,
    tags                 text   NOT NULL DEFAULT '',
    status               text   NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETE', 'FAILED')),
    failure_code         text,
    reason               text,
    attempts             bigint NOT NULL DEFAULT 0,
    version              bigint NOT NULL DEFAULT 1,
    armed_at             bigint NOT NULL,
    next_attempt_at      bigint NOT NULL,
    claim_owner          text,
    claim_until          bigint,
    created_at           bigint NOT NULL,
    updated_at           bigint NOT NULL,
    UNIQUE (source_account, source_region, repository, digest, destination_region, destination_registry)
);
CREATE INDEX replications_due ON replications (next_attempt_at) WHERE status = 'IN_PROGRESS';
