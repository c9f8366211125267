-- Version 24: the authorization generation (issue 19). One row, bumped by a trigger in the same transaction as every
-- write that can change an authorization decision: identities (accounts, users, roles and their trust policies,
-- groups and memberships, access keys), inline, attached and customer managed policies and their versions,
-- principal tags, the registry policy and settings, repository policies, repository creation and deletion,
-- repository resource tags, and the token signing keys. IAM mode reads it once per request and keeps what it
-- read from these tables (a verified /v2 password, a principal's policies, the registry and repository
-- policies and tags) only while it is unchanged, on every node and process (docs/identity.md "Caches and
-- their bounds"). Pushes, pulls and other writes do not touch it.

CREATE TABLE auth_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO auth_generation (id, value) VALUES (1, 0);

CREATE TRIGGER accounts_auth_insert AFTER INSERT ON accounts BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER accounts_auth_update AFTER UPDATE ON accounts BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER accounts_auth_delete AFTER DELETE ON accounts BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER principals_auth_insert AFTER INSERT ON principals BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principals_auth_update AFTER UPDATE ON principals BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principals_auth_delete AFTER DELETE ON principals BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER access_keys_auth_insert AFTER INSERT ON access_keys BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER access_keys_auth_update AFTER UPDATE ON access_keys BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER access_keys_auth_delete AFTER DELETE ON access_keys BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER principal_policies_auth_insert AFTER INSERT ON principal_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principal_policies_auth_update AFTER UPDATE ON principal_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principal_policies_auth_delete AFTER DELETE ON principal_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER principal_managed_policies_auth_insert AFTER INSERT ON principal_managed_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principal_managed_policies_auth_update AFTER UPDATE ON principal_managed_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principal_managed_policies_auth_delete AFTER DELETE ON principal_managed_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER principal_tags_auth_insert AFTER INSERT ON principal_tags BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principal_tags_auth_update AFTER UPDATE ON principal_tags BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER principal_tags_auth_delete AFTER DELETE ON principal_tags BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER iam_groups_auth_insert AFTER INSERT ON iam_groups BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER iam_groups_auth_update AFTER UPDATE ON iam_groups BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER iam_groups_auth_delete AFTER DELETE ON iam_groups BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_auth_insert AFTER INSERT ON group_members BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER group_members_auth_update AFTER UPDATE ON group_members BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER group_members_auth_delete AFTER DELETE ON group_members BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER group_policies_auth_insert AFTER INSERT ON group_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER group_policies_auth_update AFTER UPDATE ON group_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER group_policies_auth_delete AFTER DELETE ON group_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER group_managed_policies_auth_insert AFTER INSERT ON group_managed_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER group_managed_policies_auth_update AFTER UPDATE ON group_managed_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER group_managed_policies_auth_delete AFTER DELETE ON group_managed_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER iam_policies_auth_insert AFTER INSERT ON iam_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER iam_policies_auth_update AFTER UPDATE ON iam_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER iam_policies_auth_delete AFTER DELETE ON iam_policies BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER iam_policy_versions_auth_insert AFTER INSERT ON iam_policy_versions BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER iam_policy_versions_auth_update AFTER UPDATE ON iam_policy_versions BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER iam_policy_versions_auth_delete AFTER DELETE ON iam_policy_versions BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER repository_resource_tags_auth_insert AFTER INSERT ON repository_resource_tags BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER repository_resource_tags_auth_update AFTER UPDATE ON repository_resource_tags BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER repository_resource_tags_auth_delete AFTER DELETE ON repository_resource_tags BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER server_keys_auth_insert AFTER INSERT ON server_keys BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER server_keys_auth_update AFTER UPDATE ON server_keys BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER server_keys_auth_delete AFTER DELETE ON server_keys BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER registries_auth_insert AFTER INSERT ON registries BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER registries_auth_delete AFTER DELETE ON registries BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER registries_auth_update AFTER UPDATE OF policy, settings ON registries WHEN OLD.policy IS NOT NEW.policy OR OLD.settings IS NOT NEW.settings BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER repositories_auth_insert AFTER INSERT ON repositories BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER repositories_auth_delete AFTER DELETE ON repositories BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER repositories_auth_update AFTER UPDATE OF policy ON repositories WHEN OLD.policy IS NOT NEW.policy BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END;
