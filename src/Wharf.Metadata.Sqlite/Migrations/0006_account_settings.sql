-- Version 6: ECR's account settings (per account and region, so per registry), as a JSON object of
-- name to value; absent names have their defaults.

ALTER TABLE registries ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
