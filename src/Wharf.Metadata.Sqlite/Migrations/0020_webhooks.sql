-- Version 20: webhooks. One row per subscription (its secret sealed with the master key, its EventBridge
-- pattern as JSON, where it was defined: settings or the admin command), and one row per delivery still to
-- make or given up on: the event's payload as the event log held it, the key that orders deliveries (the
-- repository), attempts, the next attempt's time, the last failure, and dead_at once it is a dead letter.

CREATE TABLE webhook_subscriptions (
    name       TEXT    PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret     BLOB    NOT NULL,
    pattern    TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    origin     TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription     TEXT    NOT NULL,
    event_id         TEXT    NOT NULL,
    order_key        TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at INTEGER,
    next_attempt_at  INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    dead_at          INTEGER,
    UNIQUE (subscription, event_id)
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (subscription, order_key, id) WHERE dead_at IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE dead_at IS NULL;
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (dead_at) WHERE dead_at IS NOT NULL;
