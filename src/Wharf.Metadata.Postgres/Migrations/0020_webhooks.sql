-- Version 20, on PostgreSQL (mirrors the SQLite script): webhook subscriptions, their pending deliveries
-- and dead letters.

CREATE TABLE webhook_subscriptions (
    name       text    COLLATE "C" PRIMARY KEY,
    url        text    NOT NULL,
    secret     bytea   NOT NULL,
    pattern    text    NOT NULL,
    enabled    boolean NOT NULL,
    origin     text    NOT NULL,
    changed_at bigint  NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription     text   COLLATE "C" NOT NULL,
    event_id         text   COLLATE "C" NOT NULL,
    order_key        text   COLLATE "C" NOT NULL,
    payload          text   NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    first_attempt_at bigint,
    next_attempt_at  bigint NOT NULL,
    last_status      integer,
    last_error       text,
    dead_at          bigint,
    UNIQUE (subscription, event_id)
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (subscription, order_key, id) WHERE dead_at IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE dead_at IS NULL;
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (dead_at) WHERE dead_at IS NOT NULL;
