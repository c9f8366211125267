-- Version 24, on PostgreSQL (mirrors the SQLite script): the authorization generation (issue 19). One row, bumped by a trigger in the same transaction as every
-- write that can change an authorization decision: identities (accounts, users, roles and their trust policies,
-- groups and memberships, access keys), inline, attached and customer managed policies and their versions,
-- principal tags, the registry policy and settings, repository policies, repository creation and deletion,
-- repository resource tags, and the token signing keys. IAM mode reads it once per request and keeps what it
-- read from these tables (a verified /v2 password, a principal's policies, the registry and repository
-- policies and tags) only while it is unchanged, on every node and process (docs/identity.md "Caches and
-- their bounds"). Pushes, pulls and other writes do not touch it.
-- Row triggers, so that an INSERT … ON CONFLICT DO NOTHING that inserts nothing bumps nothing; a TRUNCATE (wharf
-- migrate --replace) bumps once per statement.

CREATE TABLE auth_generation (
    id    integer PRIMARY KEY CHECK (id = 1),
    value bigint  NOT NULL
);
INSERT INTO auth_generation (id, value) VALUES (1, 0);

CREATE FUNCTION bump_auth_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_auth AFTER INSERT OR UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER accounts_auth_truncate AFTER TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER principals_auth AFTER INSERT OR UPDATE OR DELETE ON principals FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER principals_auth_truncate AFTER TRUNCATE ON principals FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER access_keys_auth AFTER INSERT OR UPDATE OR DELETE ON access_keys FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER access_keys_auth_truncate AFTER TRUNCATE ON access_keys FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER principal_policies_auth AFTER INSERT OR UPDATE OR DELETE ON principal_policies FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER principal_policies_auth_truncate AFTER TRUNCATE ON principal_policies FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER principal_managed_policies_auth AFTER INSERT OR UPDATE OR DELETE ON principal_managed_policies FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER principal_managed_policies_auth_truncate AFTER TRUNCATE ON principal_managed_policies FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER principal_tags_auth AFTER INSERT OR UPDATE OR DELETE ON principal_tags FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER principal_tags_auth_truncate AFTER TRUNCATE ON principal_tags FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER iam_groups_auth AFTER INSERT OR UPDATE OR DELETE ON iam_groups FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER iam_groups_auth_truncate AFTER TRUNCATE ON iam_groups FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER group_members_auth AFTER INSERT OR UPDATE OR DELETE ON group_members FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER group_members_auth_truncate AFTER TRUNCATE ON group_members FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER group_policies_auth AFTER INSERT OR UPDATE OR DELETE ON group_policies FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER group_policies_auth_truncate AFTER TRUNCATE ON group_policies FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER group_managed_policies_auth AFTER INSERT OR UPDATE OR DELETE ON group_managed_policies FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER group_managed_policies_auth_truncate AFTER TRUNCATE ON group_managed_policies FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER iam_policies_auth AFTER INSERT OR UPDATE OR DELETE ON iam_policies FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER iam_policies_auth_truncate AFTER TRUNCATE ON iam_policies FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER iam_policy_versions_auth AFTER INSERT OR UPDATE OR DELETE ON iam_policy_versions FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER iam_policy_versions_auth_truncate AFTER TRUNCATE ON iam_policy_versions FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER repository_resource_tags_auth AFTER INSERT OR UPDATE OR DELETE ON repository_resource_tags FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER repository_resource_tags_auth_truncate AFTER TRUNCATE ON repository_resource_tags FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER server_keys_auth AFTER INSERT OR UPDATE OR DELETE ON server_keys FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER server_keys_auth_truncate AFTER TRUNCATE ON server_keys FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER registries_auth AFTER INSERT OR DELETE ON registries FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER registries_auth_update AFTER UPDATE OF policy, settings ON registries FOR EACH ROW WHEN (OLD.policy IS DISTINCT FROM NEW.policy OR OLD.settings IS DISTINCT FROM NEW.settings) EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER registries_auth_truncate AFTER TRUNCATE ON registries FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();

CREATE TRIGGER repositories_auth AFTER INSERT OR DELETE ON repositories FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER repositories_auth_update AFTER UPDATE OF policy ON repositories FOR EACH ROW WHEN (OLD.policy IS DISTINCT FROM NEW.policy) EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER repositories_auth_truncate AFTER TRUNCATE ON repositories FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();
