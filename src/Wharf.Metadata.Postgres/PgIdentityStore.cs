using Npgsql;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Postgres;

internal sealed class PgIdentityStore(PgDatabase database) : IIdentityStore
{
    private const string KeyColumns = "id, principal_arn, secret, active, created_at";

    public Task<bool> EnsureAccountAsync(AccountId account, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var created = await s.ExecuteAsync(
                    "INSERT INTO accounts (id, created_at) VALUES (@id, @now) ON CONFLICT (id) DO NOTHING",
                    [("id", account.Value), ("now", Columns.Ms(now))],
                    cancellationToken) > 0;
                if (created)
                {
                    await s.ExecuteAsync(
                        "INSERT INTO principals (arn, account, kind, name, unique_id, created_at) VALUES (@arn, @id, 'root', @id, @id, @now)",
                        [("arn", $"arn:aws:iam::{account}:root"), ("id", account.Value), ("now", Columns.Ms(now))],
                        cancellationToken);
                }

                return created;
            },
            cancellationToken);

    public Task<PrincipalRecord?> GetPrincipalAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, kind, name, unique_id, created_at FROM principals WHERE arn = @arn",
                r => new PrincipalRecord(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.Time(5)),
                [("arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> CreateAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = @arn", [("arn", key.PrincipalArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(
                    "INSERT INTO access_keys (id, principal_arn, secret, active, created_at) VALUES (@id, @arn, @secret, @active, @now)",
                    [("id", key.Id), ("arn", key.PrincipalArn), ("secret", key.SealedSecret), ("active", key.Active), ("now", Columns.Ms(key.CreatedAt))],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<AccessKeyRecord?> GetAccessKeyAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync($"SELECT {KeyColumns} FROM access_keys WHERE id = @id", Map, [("id", id)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<AccessKeyRecord>>(
            async s => await s.ListAsync(
                $"SELECT {KeyColumns} FROM access_keys WHERE principal_arn = @arn ORDER BY created_at, id",
                Map,
                [("arn", principalArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteAccessKeyAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM access_keys WHERE id = @id", [("id", id)], cancellationToken) > 0,
            cancellationToken);

    public Task<bool> SetAccessKeyActiveAsync(string id, bool active, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("UPDATE access_keys SET active = @active WHERE id = @id", [("active", active), ("id", id)], cancellationToken) > 0,
            cancellationToken);

    public Task<PrincipalRecord?> CreateUserAsync(AccountId account, string name, string uniqueId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var arn = $"arn:aws:iam::{account}:user/{name}";
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = @arn", [("arn", arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO principals (arn, account, kind, name, unique_id, created_at) VALUES (@arn, @account, 'user', @name, @unique, @now)",
                    [("arn", arn), ("account", account.Value), ("name", name), ("unique", uniqueId), ("now", Columns.Ms(now))],
                    cancellationToken);
                return new PrincipalRecord(arn, account, "user", name, uniqueId, now);
            },
            cancellationToken);

    public Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PrincipalRecord>>(
            async s => await s.ListAsync(
                "SELECT arn, account, kind, name, unique_id, created_at FROM principals WHERE account = @account AND kind = 'user' ORDER BY name",
                MapPrincipal,
                [("account", account.Value)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeletePrincipalAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM principals WHERE arn = @arn AND kind <> 'root'", [("arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<RoleRecord?> CreateRoleAsync(RoleRecord role, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var p = role.Principal;
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", p.Account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = @arn", [("arn", p.Arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO principals (arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds) VALUES (@arn, @account, 'role', @name, @unique, @now, @trust, @max)",
                    [("arn", p.Arn), ("account", p.Account.Value), ("name", p.Name), ("unique", p.UniqueId), ("now", Columns.Ms(p.CreatedAt)), ("trust", role.TrustPolicy), ("max", role.MaxSessionSeconds)],
                    cancellationToken);
                return role;
            },
            cancellationToken);

    public Task<RoleRecord?> GetRoleAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds FROM principals WHERE arn = @arn AND kind = 'role'",
                r => new RoleRecord(MapPrincipal(r), r.GetString(6), r.GetInt32(7)),
                [("arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<GroupRecord?> CreateGroupAsync(GroupRecord group, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", group.Account.Value)], cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM iam_groups WHERE arn = @arn", [("arn", group.Arn)], cancellationToken))
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO iam_groups (arn, account, name, unique_id, created_at) VALUES (@arn, @account, @name, @unique, @now)",
                    [("arn", group.Arn), ("account", group.Account.Value), ("name", group.Name), ("unique", group.UniqueId), ("now", Columns.Ms(group.CreatedAt))],
                    cancellationToken);
                return group;
            },
            cancellationToken);

    public Task<GroupRecord?> GetGroupAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, name, unique_id, created_at FROM iam_groups WHERE arn = @arn",
                r => new GroupRecord(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.Time(4)),
                [("arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteGroupAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM iam_groups WHERE arn = @arn", [("arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<PrincipalRecord>> ListGroupMembersAsync(string groupArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PrincipalRecord>>(
            async s => await s.ListAsync(
                "SELECT p.arn, p.account, p.kind, p.name, p.unique_id, p.created_at FROM group_members m JOIN principals p ON p.arn = m.user_arn WHERE m.group_arn = @arn ORDER BY p.name",
                MapPrincipal,
                [("arn", groupArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> AddGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM iam_groups WHERE arn = @arn", [("arn", groupArn)], cancellationToken)
                    || !await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = @arn AND kind = 'user'", [("arn", userArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(
                    "INSERT INTO group_members (group_arn, user_arn) VALUES (@group, @user) ON CONFLICT DO NOTHING",
                    [("group", groupArn), ("user", userArn)],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<bool> RemoveGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM group_members WHERE group_arn = @group AND user_arn = @user", [("group", groupArn), ("user", userArn)], cancellationToken) > 0,
            cancellationToken);

    public Task<bool> PutInlinePolicyAsync(string principalArn, string name, string document, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return WhenOwnerExistsAsync(
            t,
            principalArn,
            $"INSERT INTO {t.Inline} ({t.Owner}, name, document) VALUES (@arn, @name, @document) ON CONFLICT ({t.Owner}, name) DO UPDATE SET document = excluded.document",
            [("arn", principalArn), ("name", name), ("document", document)],
            cancellationToken);
    }

    public Task<bool> DeleteInlinePolicyAsync(string principalArn, string name, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.WriteAsync(
            async s => await s.ExecuteAsync($"DELETE FROM {t.Inline} WHERE {t.Owner} = @arn AND name = @name", [("arn", principalArn), ("name", name)], cancellationToken) > 0,
            cancellationToken);
    }

    public Task<bool> AttachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return WhenOwnerExistsAsync(
            t,
            principalArn,
            $"INSERT INTO {t.Managed} ({t.Owner}, policy_arn) VALUES (@arn, @policy) ON CONFLICT DO NOTHING",
            [("arn", principalArn), ("policy", policyArn)],
            cancellationToken);
    }

    public Task<bool> DetachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.WriteAsync(
            async s => await s.ExecuteAsync($"DELETE FROM {t.Managed} WHERE {t.Owner} = @arn AND policy_arn = @policy", [("arn", principalArn), ("policy", policyArn)], cancellationToken) > 0,
            cancellationToken);
    }

    public Task<(IReadOnlyList<(string Name, string Document)> Inline, IReadOnlyList<string> Managed)> GetPoliciesAsync(string principalArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.ReadAsync<(IReadOnlyList<(string Name, string Document)>, IReadOnlyList<string>)>(
            async s => (
                await s.ListAsync($"SELECT name, document FROM {t.Inline} WHERE {t.Owner} = @arn ORDER BY name", r => (r.GetString(0), r.GetString(1)), [("arn", principalArn)], cancellationToken),
                await s.ListAsync($"SELECT policy_arn FROM {t.Managed} WHERE {t.Owner} = @arn ORDER BY policy_arn", r => r.GetString(0), [("arn", principalArn)], cancellationToken)),
            cancellationToken);
    }

    public Task<IdentityPolicies> GetIdentityPoliciesAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(
                    """
                    SELECT 0, document FROM principal_policies WHERE principal_arn = @arn
                    UNION ALL SELECT 1, policy_arn FROM principal_managed_policies WHERE principal_arn = @arn
                    UNION ALL SELECT 0, g.document FROM group_members m JOIN group_policies g ON g.group_arn = m.group_arn WHERE m.user_arn = @arn
                    UNION ALL SELECT 1, g.policy_arn FROM group_members m JOIN group_managed_policies g ON g.group_arn = m.group_arn WHERE m.user_arn = @arn
                    """,
                    r => (Managed: r.GetInt32(0) == 1, Text: r.GetString(1)),
                    [("arn", principalArn)],
                    cancellationToken);
                return new IdentityPolicies(
                    rows.Where(r => !r.Managed).Select(r => r.Text).ToList(),
                    rows.Where(r => r.Managed).Select(r => r.Text).Distinct(StringComparer.Ordinal).ToList());
            },
            cancellationToken);

    private Task<bool> WhenOwnerExistsAsync(PolicyTables tables, string ownerArn, string sql, (string, object?)[] parameters, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync($"SELECT 1 FROM {tables.Owners} WHERE arn = @arn", [("arn", ownerArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(sql, parameters, cancellationToken);
                return true;
            },
            cancellationToken);

    private static PrincipalRecord MapPrincipal(NpgsqlDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.Time(5));

    private static AccessKeyRecord Map(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), (byte[])r.GetValue(2), r.GetBoolean(3), r.Time(4));
}
