-- Version 6, on PostgreSQL (mirrors the SQLite script): ECR's account settings per registry, a JSON
-- object of name to value; absent names have their defaults.

ALTER TABLE registries ADD COLUMN settings text NOT NULL DEFAULT '{}';
