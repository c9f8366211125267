-- Version 11, on PostgreSQL (mirrors the SQLite script): customer managed policies with their
-- numbered versions (never reused), and IAM tags on users and roles.

CREATE TABLE iam_policies (
    arn             text    COLLATE "C" PRIMARY KEY,
    account         text    COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            text    COLLATE "C" NOT NULL,
    unique_id       text    COLLATE "C" NOT NULL UNIQUE,
    description     text,
    default_version integer NOT NULL,
    next_version    integer NOT NULL,
    created_at      bigint  NOT NULL,
    updated_at      bigint  NOT NULL
);
CREATE INDEX iam_policies_account ON iam_policies (account, name);

CREATE TABLE iam_policy_versions (
    policy_arn text    COLLATE "C" NOT NULL REFERENCES iam_policies (arn) ON DELETE CASCADE,
    version    integer NOT NULL,
    document   text    NOT NULL,
    created_at bigint  NOT NULL,
    PRIMARY KEY (policy_arn, version)
);

CREATE INDEX principal_managed_policies_policy ON principal_managed_policies (policy_arn);
CREATE INDEX group_managed_policies_policy ON group_managed_policies (policy_arn);

CREATE TABLE principal_tags (
    principal_arn text COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    key           text COLLATE "C" NOT NULL,
    value         text NOT NULL,
    PRIMARY KEY (principal_arn, key)
);
