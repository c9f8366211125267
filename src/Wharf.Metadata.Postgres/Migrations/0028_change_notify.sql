-- Version 28: every commit that changes what the read cache keeps (issue 19; Relational/ReadCache, PgChangeWatch)
-- sends one notification on channel wharf_changes, delivered at commit to every node that LISTENs, in commit order.
-- Statement-level triggers, so a write of many rows costs one pg_notify, and PostgreSQL folds the notifications of
-- one transaction with the same payload into one. They catch every path that writes these tables (pushes, deletes,
-- lifecycle, GC, replication, imports, psql): nothing has to remember to notify. An UPDATE notifies only when it sets a
-- column the cached statements read (ImageStore.FindByTag/FindByDigest, BlobIndex.FindLinkedSql), so recording pulls
-- (manifests.last_pulled_at) or a lifecycle pass (repositories.lifecycle_*) does not empty the caches of every node;
-- a test compares these lists with the statements' columns. PostgreSQL only: SQLite's stamp is its WAL-index header.
CREATE FUNCTION wharf_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wharf_changes', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER repositories_change AFTER INSERT OR DELETE OR TRUNCATE ON repositories
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();
CREATE TRIGGER repositories_change_update AFTER UPDATE OF id, account, region, name, created_at, tag_mutability,
    tag_mutability_exclusions, scan_on_push, encryption_type, kms_key, policy ON repositories
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();

CREATE TRIGGER tags_change AFTER INSERT OR DELETE OR TRUNCATE ON tags
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();
CREATE TRIGGER tags_change_update AFTER UPDATE OF repository_id, name, digest ON tags
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();

CREATE TRIGGER manifests_change AFTER INSERT OR DELETE OR TRUNCATE ON manifests
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();
CREATE TRIGGER manifests_change_update AFTER UPDATE OF repository_id, digest, media_type, artifact_type, subject,
    content, annotations, pushed_at, storage_class ON manifests
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();

CREATE TRIGGER repository_blobs_change AFTER INSERT OR DELETE OR TRUNCATE ON repository_blobs
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();
CREATE TRIGGER repository_blobs_change_update AFTER UPDATE OF repository_id, digest ON repository_blobs
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();

CREATE TRIGGER blobs_change AFTER INSERT OR DELETE OR TRUNCATE ON blobs
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();
CREATE TRIGGER blobs_change_update AFTER UPDATE OF digest, size, state, touched_at ON blobs
    FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_change();
