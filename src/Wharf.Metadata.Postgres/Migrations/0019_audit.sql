-- Version 19, on PostgreSQL (mirrors the SQLite script): the audit trail. One row per recorded call, with
-- CloudTrail's record (secrets redacted) in document and the lookup attributes beside it. Each lookup is a
-- range scan of one index: the account, the attribute (when one is filtered on), then time and id.

CREATE TABLE audit_events (
    event_id      text    COLLATE "C" NOT NULL PRIMARY KEY,
    event_time    bigint  NOT NULL,
    account       text    COLLATE "C" NOT NULL,
    event_source  text    COLLATE "C" NOT NULL,
    event_name    text    COLLATE "C" NOT NULL,
    read_only     boolean NOT NULL,
    username      text    COLLATE "C",
    principal_arn text    COLLATE "C",
    access_key_id text    COLLATE "C",
    resource_type text    COLLATE "C",
    resource_name text    COLLATE "C",
    error_code    text    COLLATE "C",
    document      text    NOT NULL
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
