using System.Data.Common;
using System.Text.Json;
using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>The KMS key service's keys, sealed material versions, aliases and grants (migration 23).</summary>
internal sealed class KmsStore(Database database) : IKmsStore
{
    private const string Selected =
        "arn, key_id, account, region, description, state, aws_managed, policy, rotation_enabled, rotation_period_days, current_version, created_at, deletion_date, tags";

    private const string AliasSelected = "account, region, name, key_arn, created_at, updated_at";

    private const string GrantSelected =
        "grant_id, key_arn, name, grantee_principal, retiring_principal, issuing_account, operations, context_subset, context_equals, token_hash, created_at";

    public Task<bool> CreateKeyAsync(KmsKeyRecord key, KmsMaterial material, KmsAlias? alias, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (alias is not null && await s.ExistsAsync(
                    "SELECT 1 FROM kms_aliases WHERE account = @account AND region = @region AND name = @name",
                    [("account", alias.Account.Value), ("region", alias.Region), ("name", alias.Name)],
                    cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(
                    $"""
                    INSERT INTO kms_keys ({Selected})
                    VALUES (@arn, @id, @account, @region, @description, @state, @managed, @policy, @rotation, @period, @version, @created, @deletion, @tags)
                    """,
                    [
                        ("arn", key.Arn), ("id", key.KeyId), ("account", key.Account.Value), ("region", key.Region), ("description", key.Description),
                        ("state", key.State.ToString()), ("managed", key.AwsManaged ? 1 : 0), ("policy", key.Policy), ("rotation", key.RotationEnabled ? 1 : 0),
                        ("period", key.RotationPeriodDays), ("version", material.Version), ("created", Columns.Ms(key.CreatedAt)),
                        ("deletion", Ms(key.DeletionDate)), ("tags", Tags(key.Tags)),
                    ],
                    cancellationToken);
                await InsertMaterialAsync(s, key.Arn, material, cancellationToken);
                if (alias is not null)
                {
                    await InsertAliasAsync(s, alias, cancellationToken);
                }

                return true;
            },
            cancellationToken);

    public Task<KmsKeyRecord?> GetKeyAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.SingleAsync($"SELECT {Selected} FROM kms_keys WHERE arn = @arn", Map, [("arn", arn)], cancellationToken), cancellationToken);

    public Task<IReadOnlyList<KmsKeyRecord>> ListKeysAsync(AccountId account, string region, string? afterKeyId, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<KmsKeyRecord>>(
            async s => await s.ListAsync(
                $"""
                SELECT {Selected} FROM kms_keys
                WHERE account = @account AND region = @region AND (CAST(@after AS TEXT) IS NULL OR key_id > @after)
                ORDER BY key_id LIMIT @limit
                """,
                Map,
                [("account", account.Value), ("region", region), ("after", afterKeyId), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> UpdateKeyAsync(KmsKeyRecord key, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                """
                UPDATE kms_keys SET description = @description, state = @state, policy = @policy, rotation_enabled = @rotation,
                    rotation_period_days = @period, deletion_date = @deletion, tags = @tags
                WHERE arn = @arn
                """,
                [
                    ("arn", key.Arn), ("description", key.Description), ("state", key.State.ToString()), ("policy", key.Policy),
                    ("rotation", key.RotationEnabled ? 1 : 0), ("period", key.RotationPeriodDays), ("deletion", Ms(key.DeletionDate)), ("tags", Tags(key.Tags)),
                ],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> RotateAsync(string arn, KmsMaterial material, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync($"SELECT 1 FROM kms_keys WHERE arn = @arn{s.Dialect.ForUpdate}", [("arn", arn)], cancellationToken))
                {
                    return false;
                }

                await InsertMaterialAsync(s, arn, material, cancellationToken);
                await s.ExecuteAsync("UPDATE kms_keys SET current_version = @version WHERE arn = @arn", [("arn", arn), ("version", material.Version)], cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<IReadOnlyList<KmsMaterial>> ListMaterialsAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<KmsMaterial>>(
            async s => await s.ListAsync(
                "SELECT version, material, created_at, on_demand FROM kms_key_materials WHERE key_arn = @arn ORDER BY version",
                r => new KmsMaterial(r.GetInt32(0), r.Bytes(1), r.Time(2), Flag(r, 3)),
                [("arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<KmsKeyRecord>> ListDueForDeletionAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<KmsKeyRecord>>(
            async s => await s.ListAsync(
                $"SELECT {Selected} FROM kms_keys WHERE deletion_date IS NOT NULL AND deletion_date <= @now ORDER BY deletion_date LIMIT @limit",
                Map,
                [("now", Columns.Ms(now)), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<KmsKeyRecord>> ListDueForRotationAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<KmsKeyRecord>>(
            async s => await s.ListAsync(
                $"""
                SELECT {Selected} FROM kms_keys k
                WHERE rotation_enabled = 1 AND state = 'Enabled'
                  AND (SELECT MAX(m.created_at) FROM kms_key_materials m WHERE m.key_arn = k.arn) + rotation_period_days * CAST(86400000 AS BIGINT) <= @now
                ORDER BY arn LIMIT @limit
                """,
                Map,
                [("now", Columns.Ms(now)), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteKeyAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // Only a key still pending deletion: one cancelled meanwhile keeps its material.
                if (!await s.ExistsAsync(
                    $"SELECT 1 FROM kms_keys WHERE arn = @arn AND state = 'PendingDeletion'{s.Dialect.ForUpdate}", [("arn", arn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync("DELETE FROM kms_grants WHERE key_arn = @arn", [("arn", arn)], cancellationToken);
                await s.ExecuteAsync("DELETE FROM kms_aliases WHERE key_arn = @arn", [("arn", arn)], cancellationToken);
                await s.ExecuteAsync("DELETE FROM kms_key_materials WHERE key_arn = @arn", [("arn", arn)], cancellationToken);
                return await s.ExecuteAsync("DELETE FROM kms_keys WHERE arn = @arn", [("arn", arn)], cancellationToken) > 0;
            },
            cancellationToken);

    public Task<bool> CreateAliasAsync(KmsAlias alias, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM kms_keys WHERE arn = @arn", [("arn", alias.KeyArn)], cancellationToken))
                {
                    return false;
                }

                return await InsertAliasAsync(s, alias, cancellationToken) > 0;
            },
            cancellationToken);

    public Task<KmsAlias?> GetAliasAsync(AccountId account, string region, string name, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"SELECT {AliasSelected} FROM kms_aliases WHERE account = @account AND region = @region AND name = @name",
                MapAlias,
                [("account", account.Value), ("region", region), ("name", name)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<KmsAlias>> ListAliasesAsync(AccountId account, string region, string? keyArn, string? afterName, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<KmsAlias>>(
            async s => await s.ListAsync(
                $"""
                SELECT {AliasSelected} FROM kms_aliases
                WHERE account = @account AND region = @region AND (CAST(@key AS TEXT) IS NULL OR key_arn = @key)
                  AND (CAST(@after AS TEXT) IS NULL OR name > @after)
                ORDER BY name LIMIT @limit
                """,
                MapAlias,
                [("account", account.Value), ("region", region), ("key", keyArn), ("after", afterName), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> UpdateAliasAsync(KmsAlias alias, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "UPDATE kms_aliases SET key_arn = @key, updated_at = @updated WHERE account = @account AND region = @region AND name = @name",
                [("account", alias.Account.Value), ("region", alias.Region), ("name", alias.Name), ("key", alias.KeyArn), ("updated", Columns.Ms(alias.UpdatedAt))],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeleteAliasAsync(AccountId account, string region, string name, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "DELETE FROM kms_aliases WHERE account = @account AND region = @region AND name = @name",
                [("account", account.Value), ("region", region), ("name", name)],
                cancellationToken) > 0,
            cancellationToken);

    public Task CreateGrantAsync(KmsGrant grant, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                $"""
                INSERT INTO kms_grants ({GrantSelected})
                VALUES (@id, @key, @name, @grantee, @retiring, @issuing, @operations, @subset, @equals, @token, @created)
                """,
                [
                    ("id", grant.GrantId), ("key", grant.KeyArn), ("name", grant.Name), ("grantee", grant.GranteePrincipal), ("retiring", grant.RetiringPrincipal),
                    ("issuing", grant.IssuingAccount), ("operations", JsonSerializer.Serialize(grant.Operations, RelationalJsonContext.Default.IReadOnlyListString)), ("subset", Context(grant.ContextSubset)),
                    ("equals", Context(grant.ContextEquals)), ("token", grant.TokenHash), ("created", Columns.Ms(grant.CreatedAt)),
                ],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<KmsGrant>> ListGrantsAsync(string keyArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<KmsGrant>>(
            async s => await s.ListAsync(
                $"SELECT {GrantSelected} FROM kms_grants WHERE key_arn = @key ORDER BY created_at, grant_id", MapGrant, [("key", keyArn)], cancellationToken),
            cancellationToken);

    public Task<KmsGrant?> GetGrantByTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync($"SELECT {GrantSelected} FROM kms_grants WHERE token_hash = @token", MapGrant, [("token", tokenHash)], cancellationToken),
            cancellationToken);

    public Task<bool> DeleteGrantAsync(string keyArn, string grantId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "DELETE FROM kms_grants WHERE key_arn = @key AND grant_id = @id", [("key", keyArn), ("id", grantId)], cancellationToken) > 0,
            cancellationToken);

    private static Task<int> InsertMaterialAsync(Session s, string arn, KmsMaterial material, CancellationToken cancellationToken) =>
        s.ExecuteAsync(
            "INSERT INTO kms_key_materials (key_arn, version, material, created_at, on_demand) VALUES (@arn, @version, @material, @created, @demand)",
            [("arn", arn), ("version", material.Version), ("material", material.SealedMaterial), ("created", Columns.Ms(material.CreatedAt)), ("demand", material.OnDemand ? 1 : 0)],
            cancellationToken);

    private static Task<int> InsertAliasAsync(Session s, KmsAlias alias, CancellationToken cancellationToken) =>
        s.ExecuteAsync(
            """
            INSERT INTO kms_aliases (account, region, name, key_arn, created_at, updated_at) VALUES (@account, @region, @name, @key, @created, @updated)
            ON CONFLICT (account, region, name) DO NOTHING
            """,
            [
                ("account", alias.Account.Value), ("region", alias.Region), ("name", alias.Name), ("key", alias.KeyArn),
                ("created", Columns.Ms(alias.CreatedAt)), ("updated", Columns.Ms(alias.UpdatedAt)),
            ],
            cancellationToken);

    // An integer column read whichever width the engine gives it.
    private static bool Flag(DbDataReader r, int ordinal) => Convert.ToInt64(r.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture) != 0;

    private static long? Ms(DateTimeOffset? time) => time is { } t ? Columns.Ms(t) : null;

    private static string Tags(IReadOnlyList<ResourceTag> tags) => JsonSerializer.Serialize([.. tags.Select(t => new[] { t.Key, t.Value })], RelationalJsonContext.Default.StringArrayArray);

    private static string? Context(IReadOnlyDictionary<string, string>? context) => context is null ? null : JsonSerializer.Serialize(context, RelationalJsonContext.Default.IReadOnlyDictionaryStringString);

    private static Dictionary<string, string>? ReadContext(DbDataReader r, int ordinal) =>
        r.NullableString(ordinal) is { } text ? JsonSerializer.Deserialize(text, RelationalJsonContext.Default.DictionaryStringString) : null;

    private static KmsKeyRecord Map(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        AccountId.Parse(r.GetString(2)),
        r.GetString(3),
        r.NullableString(4),
        Enum.Parse<KmsKeyState>(r.GetString(5)),
        Flag(r, 6),
        r.GetString(7),
        Flag(r, 8),
        r.GetInt32(9),
        r.GetInt32(10),
        r.Time(11),
        r.NullableTime(12),
        (JsonSerializer.Deserialize(r.GetString(13), RelationalJsonContext.Default.StringArrayArray) ?? []).Select(t => new ResourceTag(t[0], t[1])).ToList());

    private static KmsAlias MapAlias(DbDataReader r) =>
        new(AccountId.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3), r.Time(4), r.Time(5));

    private static KmsGrant MapGrant(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.NullableString(2),
        r.GetString(3),
        r.NullableString(4),
        r.GetString(5),
        JsonSerializer.Deserialize(r.GetString(6), RelationalJsonContext.Default.StringArray) ?? [],
        ReadContext(r, 7),
        ReadContext(r, 8),
        r.GetString(9),
        r.Time(10));
}
