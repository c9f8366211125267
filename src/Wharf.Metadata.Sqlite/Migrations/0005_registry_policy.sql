-- Version 5: per-registry settings (a registry is an account in a region), starting with the registry
-- policy (ECR's PutRegistryPolicy, V2 scope: applied to every request in the registry).

CREATE TABLE registries (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    policy  TEXT,
    PRIMARY KEY (account, region)
);
