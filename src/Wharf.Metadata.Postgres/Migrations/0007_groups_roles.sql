-- Version 7, on PostgreSQL (mirrors the SQLite script): IAM groups (with members and their own
-- policies) and roles (a trust policy and a maximum session duration).

ALTER TABLE principals ADD COLUMN trust_policy text;
ALTER TABLE principals ADD COLUMN max_session_seconds integer;

CREATE TABLE iam_groups (
    arn        text   COLLATE "C" PRIMARY KEY,
    account    text   COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       text   COLLATE "C" NOT NULL,
    unique_id  text   COLLATE "C" NOT NULL UNIQUE,
    created_at bigint NOT NULL
);
CREATE INDEX iam_groups_account ON iam_groups (account, name);

CREATE TABLE group_members (
    group_arn text COLLATE "C" NOT NULL REFERENCES iam_groups (arn) ON DELETE CASCADE,
    user_arn  text COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    PRIMARY KEY (group_arn, user_arn)
);
CREATE INDEX group_members_user ON group_members (user_arn);

CREATE TABLE group_policies (
    group_arn text COLLATE "C" NOT NULL REFERENCES iam_groups (arn) ON DELETE CASCADE,
    name      text COLLATE "C" NOT NULL,
    document  text NOT NULL,
    PRIMARY KEY (group_arn, name)
);

CREATE TABLE group_managed_policies (
    group_arn  text COLLATE "C" NOT NULL REFERENCES iam_groups (arn) ON DELETE CASCADE,
    policy_arn text COLLATE "C" NOT NULL,
    PRIMARY KEY (group_arn, policy_arn)
);
