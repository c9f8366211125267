-- Version 7: IAM groups (with members and their own policies) and roles (a trust policy and a maximum
-- session duration). A role is a principal; a group is not (it can be in no policy's Principal).

ALTER TABLE principals ADD COLUMN trust_policy TEXT;
ALTER TABLE principals ADD COLUMN max_session_seconds INTEGER;

CREATE TABLE iam_groups (
    arn        TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    unique_id  TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX iam_groups_account ON iam_groups (account, name);

CREATE TABLE group_members (
    group_arn TEXT NOT NULL REFERENCES iam_groups (arn) ON DELETE CASCADE,
    user_arn  TEXT NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    PRIMARY KEY (group_arn, user_arn)
);
CREATE INDEX group_members_user ON group_members (user_arn);

CREATE TABLE group_policies (
    group_arn TEXT NOT NULL REFERENCES iam_groups (arn) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    document  TEXT NOT NULL,
    PRIMARY KEY (group_arn, name)
);

CREATE TABLE group_managed_policies (
    group_arn  TEXT NOT NULL REFERENCES iam_groups (arn) ON DELETE CASCADE,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (group_arn, policy_arn)
);
