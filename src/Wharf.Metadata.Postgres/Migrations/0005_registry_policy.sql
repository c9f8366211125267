-- Version 5, on PostgreSQL (mirrors the SQLite script): per-registry settings, starting with the
-- registry policy (ECR's PutRegistryPolicy, V2 scope: applied to every request in the registry).

CREATE TABLE registries (
    account text COLLATE "C" NOT NULL,
    region  text COLLATE "C" NOT NULL,
    policy  text,
    PRIMARY KEY (account, region)
);
