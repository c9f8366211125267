-- Version 19: the audit trail. One row per recorded call, with CloudTrail's record (secrets redacted) in
-- document and the lookup attributes beside it. Each lookup is a range scan of one index: the account,
-- the attribute (when one is filtered on), then time and id, read backwards for newest first.

CREATE TABLE audit_events (
    event_id      TEXT    NOT NULL PRIMARY KEY,
    event_time    INTEGER NOT NULL,
    account       TEXT    NOT NULL,
    event_source  TEXT    NOT NULL,
    event_name    TEXT    NOT NULL,
    read_only     INTEGER NOT NULL,
    username      TEXT,
    principal_arn TEXT,
    access_key_id TEXT,
    resource_type TEXT,
    resource_name TEXT,
    error_code    TEXT,
    document      TEXT    NOT NULL
);

CREATE INDEX audit_events_account_time ON audit_events (account, event_time, event_id);
CREATE INDEX audit_events_event_name ON audit_events (account, event_name, event_time, event_id);
CREATE INDEX audit_events_read_only ON audit_events (account, read_only, event_time, event_id);
CREATE INDEX audit_events_username ON audit_events (account, username, event_time, event_id);
CREATE INDEX audit_events_resource_type ON audit_events (account, resource_type, event_time, event_id);
CREATE INDEX audit_events_resource_name ON audit_events (account, resource_name, event_time, event_id);
CREATE INDEX audit_events_event_source ON audit_events (account, event_source, event_time, event_id);
CREATE INDEX audit_events_access_key ON audit_events (account, access_key_id, event_time, event_id);
CREATE INDEX audit_events_principal ON audit_events (account, principal_arn, event_time, event_id);

-- Pruning by age, and wharf audit across every account.
CREATE INDEX audit_events_time ON audit_events (event_time, event_id);
