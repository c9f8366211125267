-- Version 4: IAM policies. A principal's inline policies and attached managed policies, and each
-- repository's resource policy (ECR's repository policy).

CREATE TABLE principal_policies (
    principal_arn TEXT NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    document      TEXT NOT NULL,
    PRIMARY KEY (principal_arn, name)
);

CREATE TABLE principal_managed_policies (
    principal_arn TEXT NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    policy_arn    TEXT NOT NULL,
    PRIMARY KEY (principal_arn, policy_arn)
);

ALTER TABLE repositories ADD COLUMN policy TEXT;
