-- Version 11: customer managed policies (IAM's CreatePolicy) with their numbered versions, and IAM
-- tags on users and roles. Versions are numbered per policy and never reused (v1, v2, …).

CREATE TABLE iam_policies (
    arn             TEXT    PRIMARY KEY,
    account         TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    unique_id       TEXT    NOT NULL UNIQUE,
    description     TEXT,
    default_version INTEGER NOT NULL,
    next_version    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX iam_policies_account ON iam_policies (account, name);

CREATE TABLE iam_policy_versions (
    policy_arn TEXT    NOT NULL REFERENCES iam_policies (arn) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    document   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_arn, version)
);

CREATE INDEX principal_managed_policies_policy ON principal_managed_policies (policy_arn);
CREATE INDEX group_managed_policies_policy ON group_managed_policies (policy_arn);

CREATE TABLE principal_tags (
    principal_arn TEXT NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (principal_arn, key)
);
