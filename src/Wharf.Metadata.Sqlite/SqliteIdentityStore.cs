using Microsoft.Data.Sqlite;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Sqlite;

internal sealed class SqliteIdentityStore(SqliteDatabase database) : IIdentityStore
{
    private const string KeyColumns = "id, principal_arn, secret, active, created_at";

    public Task<bool> EnsureAccountAsync(AccountId account, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var created = await s.ExecuteAsync(
                    "INSERT INTO accounts (id, created_at) VALUES ($id, $now) ON CONFLICT (id) DO NOTHING",
                    [("$id", account.Value), ("$now", Columns.Ms(now))],
                    cancellationToken) > 0;
                if (created)
                {
                    await s.ExecuteAsync(
                        "INSERT INTO principals (arn, account, kind, name, unique_id, created_at) VALUES ($arn, $id, 'root', $id, $id, $now)",
                        [("$arn", $"arn:aws:iam::{account}:root"), ("$id", account.Value), ("$now", Columns.Ms(now))],
                        cancellationToken);
                }

                return created;
            },
            cancellationToken);

    public Task<PrincipalRecord?> GetPrincipalAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, kind, name, unique_id, created_at FROM principals WHERE arn = $arn",
                r => new PrincipalRecord(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.Time(5)),
                [("$arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> CreateAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = $arn", [("$arn", key.PrincipalArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(
                    "INSERT INTO access_keys (id, principal_arn, secret, active, created_at) VALUES ($id, $arn, $secret, $active, $now)",
                    [("$id", key.Id), ("$arn", key.PrincipalArn), ("$secret", key.SealedSecret), ("$active", key.Active ? 1 : 0), ("$now", Columns.Ms(key.CreatedAt))],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<AccessKeyRecord?> GetAccessKeyAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync($"SELECT {KeyColumns} FROM access_keys WHERE id = $id", Map, [("$id", id)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<AccessKeyRecord>>(
            async s => await s.ListAsync(
                $"SELECT {KeyColumns} FROM access_keys WHERE principal_arn = $arn ORDER BY created_at, id",
                Map,
                [("$arn", principalArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteAccessKeyAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM access_keys WHERE id = $id", [("$id", id)], cancellationToken) > 0,
            cancellationToken);

    public Task<bool> SetAccessKeyActiveAsync(string id, bool active, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("UPDATE access_keys SET active = $active WHERE id = $id", [("$active", active ? 1 : 0), ("$id", id)], cancellationToken) > 0,
            cancellationToken);

    public Task<PrincipalRecord?> CreateUserAsync(AccountId account, string name, string uniqueId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var arn = $"arn:aws:iam::{account}:user/{name}";
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = $account", [("$account", account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = $arn", [("$arn", arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO principals (arn, account, kind, name, unique_id, created_at) VALUES ($arn, $account, 'user', $name, $unique, $now)",
                    [("$arn", arn), ("$account", account.Value), ("$name", name), ("$unique", uniqueId), ("$now", Columns.Ms(now))],
                    cancellationToken);
                return new PrincipalRecord(arn, account, "user", name, uniqueId, now);
            },
            cancellationToken);

    public Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PrincipalRecord>>(
            async s => await s.ListAsync(
                "SELECT arn, account, kind, name, unique_id, created_at FROM principals WHERE account = $account AND kind = 'user' ORDER BY name",
                MapPrincipal,
                [("$account", account.Value)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeletePrincipalAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM principals WHERE arn = $arn AND kind <> 'root'", [("$arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<RoleRecord?> CreateRoleAsync(RoleRecord role, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var p = role.Principal;
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = $account", [("$account", p.Account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = $arn", [("$arn", p.Arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO principals (arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds) VALUES ($arn, $account, 'role', $name, $unique, $now, $trust, $max)",
                    [("$arn", p.Arn), ("$account", p.Account.Value), ("$name", p.Name), ("$unique", p.UniqueId), ("$now", Columns.Ms(p.CreatedAt)), ("$trust", role.TrustPolicy), ("$max", role.MaxSessionSeconds)],
                    cancellationToken);
                return role;
            },
            cancellationToken);

    public Task<RoleRecord?> GetRoleAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds FROM principals WHERE arn = $arn AND kind = 'role'",
                r => new RoleRecord(MapPrincipal(r), r.GetString(6), r.GetInt32(7)),
                [("$arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<GroupRecord?> CreateGroupAsync(GroupRecord group, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = $account", [("$account", group.Account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM iam_groups WHERE arn = $arn", [("$arn", group.Arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO iam_groups (arn, account, name, unique_id, created_at) VALUES ($arn, $account, $name, $unique, $now)",
                    [("$arn", group.Arn), ("$account", group.Account.Value), ("$name", group.Name), ("$unique", group.UniqueId), ("$now", Columns.Ms(group.CreatedAt))],
                    cancellationToken);
                return group;
            },
            cancellationToken);

    public Task<GroupRecord?> GetGroupAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, name, unique_id, created_at FROM iam_groups WHERE arn = $arn",
                r => new GroupRecord(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.Time(4)),
                [("$arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteGroupAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM iam_groups WHERE arn = $arn", [("$arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<PrincipalRecord>> ListGroupMembersAsync(string groupArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PrincipalRecord>>(
            async s => await s.ListAsync(
                "SELECT p.arn, p.account, p.kind, p.name, p.unique_id, p.created_at FROM group_members m JOIN principals p ON p.arn = m.user_arn WHERE m.group_arn = $arn ORDER BY p.name",
                MapPrincipal,
                [("$arn", groupArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> AddGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM iam_groups WHERE arn = $arn", [("$arn", groupArn)], cancellationToken)
                    || !await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = $arn AND kind = 'user'", [("$arn", userArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(
                    "INSERT INTO group_members (group_arn, user_arn) VALUES ($group, $user) ON CONFLICT DO NOTHING",
                    [("$group", groupArn), ("$user", userArn)],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<bool> RemoveGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM group_members WHERE group_arn = $group AND user_arn = $user", [("$group", groupArn), ("$user", userArn)], cancellationToken) > 0,
            cancellationToken);

    public Task<bool> PutInlinePolicyAsync(string principalArn, string name, string document, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return WhenOwnerExistsAsync(
            t,
            principalArn,
            $"INSERT INTO {t.Inline} ({t.Owner}, name, document) VALUES ($arn, $name, $document) ON CONFLICT ({t.Owner}, name) DO UPDATE SET document = excluded.document",
            [("$arn", principalArn), ("$name", name), ("$document", document)],
            cancellationToken);
    }

    public Task<bool> DeleteInlinePolicyAsync(string principalArn, string name, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.WriteAsync(
            async s => await s.ExecuteAsync($"DELETE FROM {t.Inline} WHERE {t.Owner} = $arn AND name = $name", [("$arn", principalArn), ("$name", name)], cancellationToken) > 0,
            cancellationToken);
    }

    public Task<bool> AttachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return WhenOwnerExistsAsync(
            t,
            principalArn,
            $"INSERT INTO {t.Managed} ({t.Owner}, policy_arn) VALUES ($arn, $policy) ON CONFLICT DO NOTHING",
            [("$arn", principalArn), ("$policy", policyArn)],
            cancellationToken);
    }

    public Task<bool> DetachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.WriteAsync(
            async s => await s.ExecuteAsync($"DELETE FROM {t.Managed} WHERE {t.Owner} = $arn AND policy_arn = $policy", [("$arn", principalArn), ("$policy", policyArn)], cancellationToken) > 0,
            cancellationToken);
    }

    public Task<(IReadOnlyList<(string Name, string Document)> Inline, IReadOnlyList<string> Managed)> GetPoliciesAsync(string principalArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.ReadAsync<(IReadOnlyList<(string Name, string Document)>, IReadOnlyList<string>)>(
            async s => (
                await s.ListAsync($"SELECT name, document FROM {t.Inline} WHERE {t.Owner} = $arn ORDER BY name", r => (r.GetString(0), r.GetString(1)), [("$arn", principalArn)], cancellationToken),
                await s.ListAsync($"SELECT policy_arn FROM {t.Managed} WHERE {t.Owner} = $arn ORDER BY policy_arn", r => r.GetString(0), [("$arn", principalArn)], cancellationToken)),
            cancellationToken);
    }

    public Task<IdentityPolicies> GetIdentityPoliciesAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(
                    """
                    SELECT 0, document FROM principal_policies WHERE principal_arn = $arn
                    UNION ALL SELECT 1, policy_arn FROM principal_managed_policies WHERE principal_arn = $arn
                    UNION ALL SELECT 0, g.document FROM group_members m JOIN group_policies g ON g.group_arn = m.group_arn WHERE m.user_arn = $arn
                    UNION ALL SELECT 1, g.policy_arn FROM group_members m JOIN group_managed_policies g ON g.group_arn = m.group_arn WHERE m.user_arn = $arn
                    """,
                    r => (Managed: r.GetInt32(0) == 1, Text: r.GetString(1)),
                    [("$arn", principalArn)],
                    cancellationToken);
                return new IdentityPolicies(
                    rows.Where(r => !r.Managed).Select(r => r.Text).ToList(),
                    rows.Where(r => r.Managed).Select(r => r.Text).Distinct(StringComparer.Ordinal).ToList());
            },
            cancellationToken);

    public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<GroupRecord>>(
            async s => await s.ListAsync(
                "SELECT arn, account, name, unique_id, created_at FROM iam_groups WHERE account = $account ORDER BY name",
                MapGroup,
                [("$account", account.Value)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<GroupRecord>> ListGroupsForUserAsync(string userArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<GroupRecord>>(
            async s => await s.ListAsync(
                "SELECT g.arn, g.account, g.name, g.unique_id, g.created_at FROM group_members m JOIN iam_groups g ON g.arn = m.group_arn WHERE m.user_arn = $arn ORDER BY g.name",
                MapGroup,
                [("$arn", userArn)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<RoleRecord>> ListRolesAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RoleRecord>>(
            async s => await s.ListAsync(
                "SELECT arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds FROM principals WHERE account = $account AND kind = 'role' ORDER BY name",
                r => new RoleRecord(MapPrincipal(r), r.GetString(6), r.GetInt32(7)),
                [("$account", account.Value)],
                cancellationToken),
            cancellationToken);

    public Task<bool> SetTrustPolicyAsync(string roleArn, string document, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("UPDATE principals SET trust_policy = $document WHERE arn = $arn AND kind = 'role'", [("$document", document), ("$arn", roleArn)], cancellationToken) > 0,
            cancellationToken);

    public Task<ManagedPolicyRecord?> CreateManagedPolicyAsync(ManagedPolicyRecord policy, string document, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = $account", [("$account", policy.Account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM iam_policies WHERE arn = $arn", [("$arn", policy.Arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO iam_policies (arn, account, name, unique_id, description, default_version, next_version, created_at, updated_at) VALUES ($arn, $account, $name, $unique, $description, 1, 2, $now, $now)",
                    [("$arn", policy.Arn), ("$account", policy.Account.Value), ("$name", policy.Name), ("$unique", policy.UniqueId), ("$description", policy.Description), ("$now", Columns.Ms(policy.CreatedAt))],
                    cancellationToken);
                await s.ExecuteAsync(
                    "INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES ($arn, 1, $document, $now)",
                    [("$arn", policy.Arn), ("$document", document), ("$now", Columns.Ms(policy.CreatedAt))],
                    cancellationToken);
                return policy with { DefaultVersionId = "v1", AttachmentCount = 0, UpdatedAt = policy.CreatedAt };
            },
            cancellationToken);

    public Task<ManagedPolicyRecord?> GetManagedPolicyAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync($"SELECT {PolicyColumns} FROM iam_policies p WHERE p.arn = $arn", MapPolicy, [("$arn", arn)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ManagedPolicyRecord>> ListManagedPoliciesAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ManagedPolicyRecord>>(
            async s => await s.ListAsync($"SELECT {PolicyColumns} FROM iam_policies p WHERE p.account = $account ORDER BY p.name", MapPolicy, [("$account", account.Value)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<PolicyVersionRecord>> ListPolicyVersionsAsync(string policyArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PolicyVersionRecord>>(
            async s => await s.ListAsync(
                "SELECT v.version, v.document, v.version = p.default_version, v.created_at FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn WHERE v.policy_arn = $arn ORDER BY v.version DESC",
                MapVersion,
                [("$arn", policyArn)],
                cancellationToken),
            cancellationToken);

    public Task<PolicyVersionRecord?> AddPolicyVersionAsync(string policyArn, string document, bool setAsDefault, int maxVersions, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var next = (await s.ListAsync("SELECT next_version FROM iam_policies WHERE arn = $arn", r => (int?)r.GetInt32(0), [("$arn", policyArn)], cancellationToken)).FirstOrDefault();
                var count = (await s.ListAsync("SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = $arn", r => r.GetInt64(0), [("$arn", policyArn)], cancellationToken))[0];
                if (next is not { } version || count >= maxVersions)
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES ($arn, $version, $document, $now)",
                    [("$arn", policyArn), ("$version", version), ("$document", document), ("$now", Columns.Ms(now))],
                    cancellationToken);
                await s.ExecuteAsync(
                    setAsDefault
                        ? "UPDATE iam_policies SET next_version = $next, default_version = $version, updated_at = $now WHERE arn = $arn"
                        : "UPDATE iam_policies SET next_version = $next WHERE arn = $arn",
                    [("$arn", policyArn), ("$next", version + 1), ("$version", version), ("$now", Columns.Ms(now))],
                    cancellationToken);
                return new PolicyVersionRecord($"v{version}", document, setAsDefault, now);
            },
            cancellationToken);

    public Task<bool> SetDefaultPolicyVersionAsync(string policyArn, string versionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => VersionNumber(versionId) is { } version
                && await s.ExecuteAsync(
                    "UPDATE iam_policies SET default_version = $version, updated_at = $now WHERE arn = $arn AND EXISTS (SELECT 1 FROM iam_policy_versions WHERE policy_arn = $arn AND version = $version)",
                    [("$arn", policyArn), ("$version", version), ("$now", Columns.Ms(now))],
                    cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeletePolicyVersionAsync(string policyArn, string versionId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => VersionNumber(versionId) is { } version
                && await s.ExecuteAsync(
                    "DELETE FROM iam_policy_versions WHERE policy_arn = $arn AND version = $version AND version <> (SELECT default_version FROM iam_policies WHERE arn = $arn)",
                    [("$arn", policyArn), ("$version", version)],
                    cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeleteManagedPolicyAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM iam_policies WHERE arn = $arn", [("$arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<string>> GetManagedPolicyDocumentsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async s =>
            {
                var documents = new List<string>(arns.Count);
                foreach (var arn in arns)
                {
                    if (await s.SingleAsync(
                        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_arn = p.arn AND v.version = p.default_version WHERE p.arn = $arn",
                        r => r.GetString(0),
                        [("$arn", arn)],
                        cancellationToken) is { } document)
                    {
                        documents.Add(document);
                    }
                }

                return documents;
            },
            cancellationToken);

    public Task<int> CountAttachmentsAsync(string policyArn, AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s => (int)(await s.ListAsync($"SELECT {AttachmentCount}", r => r.GetInt64(0), [("$arn", policyArn), ("$account", account.Value)], cancellationToken))[0],
            cancellationToken);

    public Task<IReadOnlyList<ResourceTag>> ListPrincipalTagsAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ResourceTag>>(
            async s => await s.ListAsync(
                "SELECT key, value FROM principal_tags WHERE principal_arn = $arn ORDER BY key",
                r => new ResourceTag(r.GetString(0), r.GetString(1)),
                [("$arn", principalArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool?> TagPrincipalAsync(string principalArn, IReadOnlyList<ResourceTag> tags, int maxTags, CancellationToken cancellationToken) =>
        database.WriteAsync<bool?>(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = $arn", [("$arn", principalArn)], cancellationToken))
                {
                    return null;
                }

                var existing = await s.ListAsync("SELECT key FROM principal_tags WHERE principal_arn = $arn", r => r.GetString(0), [("$arn", principalArn)], cancellationToken);
                if (existing.Union(tags.Select(t => t.Key), StringComparer.Ordinal).Count() > maxTags)
                {
                    return false;
                }

                foreach (var tag in tags)
                {
                    await s.ExecuteAsync(
                        "INSERT INTO principal_tags (principal_arn, key, value) VALUES ($arn, $key, $value) ON CONFLICT (principal_arn, key) DO UPDATE SET value = excluded.value",
                        [("$arn", principalArn), ("$key", tag.Key), ("$value", tag.Value)],
                        cancellationToken);
                }

                return true;
            },
            cancellationToken);

    public Task UntagPrincipalAsync(string principalArn, IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                foreach (var key in keys)
                {
                    await s.ExecuteAsync("DELETE FROM principal_tags WHERE principal_arn = $arn AND key = $key", [("$arn", principalArn), ("$key", key)], cancellationToken);
                }

                return true;
            },
            cancellationToken);

    private const string AttachmentCount =
        "(SELECT COUNT(*) FROM principal_managed_policies m JOIN principals o ON o.arn = m.principal_arn WHERE m.policy_arn = $arn AND o.account = $account) + "
        + "(SELECT COUNT(*) FROM group_managed_policies m JOIN iam_groups o ON o.arn = m.group_arn WHERE m.policy_arn = $arn AND o.account = $account)";

    private const string PolicyColumns =
        "p.arn, p.account, p.name, p.unique_id, p.description, p.default_version, "
        + "(SELECT COUNT(*) FROM principal_managed_policies m WHERE m.policy_arn = p.arn) + (SELECT COUNT(*) FROM group_managed_policies g WHERE g.policy_arn = p.arn), "
        + "p.created_at, p.updated_at";

    private static ManagedPolicyRecord MapPolicy(SqliteDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.NullableString(4), $"v{r.GetInt32(5)}", (int)r.GetInt64(6), r.Time(7), r.Time(8));

    private static PolicyVersionRecord MapVersion(SqliteDataReader r) =>
        new($"v{r.GetInt32(0)}", r.GetString(1), r.GetBoolean(2), r.Time(3));

    private static GroupRecord MapGroup(SqliteDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.Time(4));

    // "v3" → 3; anything else names no version.
    private static int? VersionNumber(string versionId) =>
        versionId.Length > 1 && versionId[0] == 'v' && int.TryParse(versionId.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    private Task<bool> WhenOwnerExistsAsync(PolicyTables tables, string ownerArn, string sql, (string, object?)[] parameters, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync($"SELECT 1 FROM {tables.Owners} WHERE arn = $arn", [("$arn", ownerArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(sql, parameters, cancellationToken);
                return true;
            },
            cancellationToken);

    private static PrincipalRecord MapPrincipal(SqliteDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.Time(5));

    private static AccessKeyRecord Map(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), (byte[])r.GetValue(2), r.GetInt64(3) != 0, r.Time(4));
}
