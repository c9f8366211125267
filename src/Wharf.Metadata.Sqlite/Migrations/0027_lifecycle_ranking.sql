-- Version 27: a repository's images in the order lifecycle's imageCountMoreThan ranks them (issue 19's
-- scale target: an evaluation in flat memory). The evaluator reads them youngest first, by last restore
-- from the archive else push, in pages from a cursor, until each count rule has found its N-th image;
-- without this index every page sorted the whole repository.
CREATE INDEX manifests_lifecycle ON manifests (repository_id, (COALESCE(activated_at, pushed_at)), digest);
