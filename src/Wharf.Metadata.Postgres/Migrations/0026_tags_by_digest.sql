-- Version 26: a repository's tags by image, each image's names in order (issue 19's scale probe).
-- The per-image tag lookups (DescribeImages' page, lifecycle's checks) and ListImages' keyset walk
-- (digest, name) read one range of it; on (repository_id, digest) alone the planner took the primary
-- key for ORDER BY name and read every tag of the repository per image. It replaces tags_manifest,
-- a prefix of it (the manifests foreign key's cascade uses the new one alike).
CREATE INDEX tags_digest_name ON tags (repository_id, digest, name);
DROP INDEX tags_manifest;
