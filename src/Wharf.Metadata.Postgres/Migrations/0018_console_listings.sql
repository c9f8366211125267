-- Version 18: the web console's listings page with keysets, never by offset or a whole-table sort.
-- A registry's repositories newest (or oldest) first: created_at, then id to break ties.
CREATE INDEX repositories_created ON repositories (account, region, created_at, id);
-- A repository's images newest pushed first: pushed_at, then digest to break ties.
CREATE INDEX manifests_pushed ON manifests (repository_id, pushed_at, digest);
-- A repository's image count and size from the index alone (image_size sits after the manifest's content in the row).
CREATE INDEX manifests_sizes ON manifests (repository_id, image_size);
