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

    private static AccessKeyRecord Map(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), (byte[])r.GetValue(2), r.GetInt64(3) != 0, r.Time(4));
}
