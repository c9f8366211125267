-- Version 4, on PostgreSQL (mirrors the SQLite script): a principal's inline and attached managed
-- policies, and each repository's resource policy (ECR's repository policy).

CREATE TABLE principal_policies (
    principal_arn text COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    document      text NOT NULL,
    PRIMARY KEY (principal_arn, name)
);

CREATE TABLE principal_managed_policies (
    principal_arn text COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    policy_arn    text COLLATE "C" NOT NULL,
    PRIMARY KEY (principal_arn, policy_arn)
);

ALTER TABLE repositories ADD COLUMN policy text;
