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

    public Task<bool> PutInlinePolicyAsync(string principalArn, string name, string document, CancellationToken cancellationToken) =>
        WhenPrincipalExistsAsync(
            principalArn,
            "INSERT INTO principal_policies (principal_arn, name, document) VALUES (@arn, @name, @document) ON CONFLICT (principal_arn, name) DO UPDATE SET document = excluded.document",
            [("arn", principalArn), ("name", name), ("document", document)],
            cancellationToken);

    public Task<bool> DeleteInlinePolicyAsync(string principalArn, string name, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM principal_policies WHERE principal_arn = @arn AND name = @name", [("arn", principalArn), ("name", name)], cancellationToken) > 0,
            cancellationToken);

    public Task<bool> AttachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken) =>
        WhenPrincipalExistsAsync(
            principalArn,
            "INSERT INTO principal_managed_policies (principal_arn, policy_arn) VALUES (@arn, @policy) ON CONFLICT DO NOTHING",
            [("arn", principalArn), ("policy", policyArn)],
            cancellationToken);

    public Task<bool> DetachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM principal_managed_policies WHERE principal_arn = @arn AND policy_arn = @policy", [("arn", principalArn), ("policy", policyArn)], cancellationToken) > 0,
            cancellationToken);

    public Task<(IReadOnlyList<(string Name, string Document)> Inline, IReadOnlyList<string> Managed)> GetPoliciesAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<(string Name, string Document)>, IReadOnlyList<string>)>(
            async s => (
                await s.ListAsync("SELECT name, document FROM principal_policies WHERE principal_arn = @arn ORDER BY name", r => (r.GetString(0), r.GetString(1)), [("arn", principalArn)], cancellationToken),
                await s.ListAsync("SELECT policy_arn FROM principal_managed_policies WHERE principal_arn = @arn ORDER BY policy_arn", r => r.GetString(0), [("arn", principalArn)], cancellationToken)),
            cancellationToken);

    private Task<bool> WhenPrincipalExistsAsync(string principalArn, string sql, (string, object?)[] parameters, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM principals WHERE arn = @arn", [("arn", principalArn)], cancellationToken))
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
