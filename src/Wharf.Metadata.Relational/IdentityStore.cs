using System.Data.Common;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>
/// IAM identities: accounts and their principals (root, users, roles), access keys and principal tags.
/// Groups and policies are in the other parts of this class.
/// </summary>
internal sealed partial class IdentityStore(Database database) : IIdentityStore
{
    private const string KeyColumns = "id, principal_arn, secret, active, created_at";

    // Ends the INSERT of a new principal, group or policy: a racing creator of the same name waits
    // for the first to commit, then inserts nothing and is told the name is taken, as if it came second.
    private const string NewArn = "ON CONFLICT (arn) DO NOTHING";

    // One keyed row (migration 0024), bumped by triggers; a kept prepared statement on SQLite, auto-prepared on PostgreSQL.
    public Task<long> GetAuthorizationGenerationAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT value FROM auth_generation WHERE id = 1", [], cancellationToken), cancellationToken);

    // The last reading: its value, the Stopwatch timestamp taken before it was read, and database.Writes before it.
    private sealed record GenerationReading(long Value, long ReadBefore, long Writes);

    private GenerationReading? _recentGeneration;

    public ValueTask<long> GetRecentAuthorizationGenerationAsync(TimeSpan maxAge, CancellationToken cancellationToken)
    {
        // Reused only while no write of this process has returned since (Writes is counted before a write returns) and
        // the reading is younger than maxAge, measured from before it was taken (so never older than stated).
        if (Volatile.Read(ref _recentGeneration) is { } recent
            && recent.Writes == database.Writes
            && System.Diagnostics.Stopwatch.GetElapsedTime(recent.ReadBefore) < maxAge)
        {
            return ValueTask.FromResult(recent.Value);
        }

        return new(ReadRecentGenerationAsync(cancellationToken));
    }

    private async Task<long> ReadRecentGenerationAsync(CancellationToken cancellationToken)
    {
        var writes = database.Writes;
        var before = System.Diagnostics.Stopwatch.GetTimestamp();
        var value = await GetAuthorizationGenerationAsync(cancellationToken);
        Volatile.Write(ref _recentGeneration, new GenerationReading(value, before, writes));
        return value;
    }

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
                // Locked so that a concurrent deletion of the principal waits (else the insert below fails on the foreign key).
                if (!await s.ExistsAsync($"SELECT 1 FROM principals WHERE arn = @arn{s.Dialect.ForUpdate}", [("arn", key.PrincipalArn)], cancellationToken))
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
                return await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", account.Value)], cancellationToken)
                    && await s.ExecuteAsync(
                        $"INSERT INTO principals (arn, account, kind, name, unique_id, created_at) VALUES (@arn, @account, 'user', @name, @unique, @now) {NewArn}",
                        [("arn", arn), ("account", account.Value), ("name", name), ("unique", uniqueId), ("now", Columns.Ms(now))],
                        cancellationToken) > 0
                    ? new PrincipalRecord(arn, account, "user", name, uniqueId, now)
                    : null;
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

    public Task<IReadOnlyList<PrincipalRecord>> ListUsersAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PrincipalRecord>>(
            async s => await s.ListAsync(
                $"SELECT arn, account, kind, name, unique_id, created_at FROM principals WHERE account = @account AND kind = 'user'{Keyset.After(after, "name")} ORDER BY name LIMIT @limit",
                MapPrincipal,
                [("account", account.Value), ("after", after), ("limit", limit)],
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
                return await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", p.Account.Value)], cancellationToken)
                    && await s.ExecuteAsync(
                        $"INSERT INTO principals (arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds) VALUES (@arn, @account, 'role', @name, @unique, @now, @trust, @max) {NewArn}",
                        [("arn", p.Arn), ("account", p.Account.Value), ("name", p.Name), ("unique", p.UniqueId), ("now", Columns.Ms(p.CreatedAt)), ("trust", role.TrustPolicy), ("max", role.MaxSessionSeconds)],
                        cancellationToken) > 0
                    ? role
                    : null;
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

    public Task<IReadOnlyList<RoleRecord>> ListRolesAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RoleRecord>>(
            async s => await s.ListAsync(
                "SELECT arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds FROM principals WHERE account = @account AND kind = 'role' ORDER BY name",
                r => new RoleRecord(MapPrincipal(r), r.GetString(6), r.GetInt32(7)),
                [("account", account.Value)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<RoleRecord>> ListRolesAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RoleRecord>>(
            async s => await s.ListAsync(
                $"SELECT arn, account, kind, name, unique_id, created_at, trust_policy, max_session_seconds FROM principals WHERE account = @account AND kind = 'role'{Keyset.After(after, "name")} ORDER BY name LIMIT @limit",
                r => new RoleRecord(MapPrincipal(r), r.GetString(6), r.GetInt32(7)),
                [("account", account.Value), ("after", after), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> SetTrustPolicyAsync(string roleArn, string document, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("UPDATE principals SET trust_policy = @document WHERE arn = @arn AND kind = 'role'", [("document", document), ("arn", roleArn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<ResourceTag>> ListPrincipalTagsAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ResourceTag>>(
            async s => await s.ListAsync(
                "SELECT key, value FROM principal_tags WHERE principal_arn = @arn ORDER BY key",
                r => new ResourceTag(r.GetString(0), r.GetString(1)),
                [("arn", principalArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool?> TagPrincipalAsync(string principalArn, IReadOnlyList<ResourceTag> tags, int maxTags, CancellationToken cancellationToken) =>
        database.WriteAsync<bool?>(
            async s =>
            {
                // The row lock (SQLite: the writer lock) orders racing taggers, so the limit counts every tag.
                if (!await s.ExistsAsync($"SELECT 1 FROM principals WHERE arn = @arn{s.Dialect.ForUpdate}", [("arn", principalArn)], cancellationToken))
                {
                    return null;
                }

                var existing = await s.ListAsync("SELECT key FROM principal_tags WHERE principal_arn = @arn", r => r.GetString(0), [("arn", principalArn)], cancellationToken);
                if (existing.Union(tags.Select(t => t.Key), StringComparer.Ordinal).Count() > maxTags)
                {
                    return false;
                }

                foreach (var tag in tags)
                {
                    await s.ExecuteAsync(
                        "INSERT INTO principal_tags (principal_arn, key, value) VALUES (@arn, @key, @value) ON CONFLICT (principal_arn, key) DO UPDATE SET value = excluded.value",
                        [("arn", principalArn), ("key", tag.Key), ("value", tag.Value)],
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
                    await s.ExecuteAsync("DELETE FROM principal_tags WHERE principal_arn = @arn AND key = @key", [("arn", principalArn), ("key", key)], cancellationToken);
                }

                return true;
            },
            cancellationToken);

    private static PrincipalRecord MapPrincipal(DbDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.Time(5));

    private static AccessKeyRecord Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), (byte[])r.GetValue(2), r.GetBoolean(3), r.Time(4));
}
