using System.Data.Common;
using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Secrets;

namespace Wharf.Metadata.Relational;

/// <summary>The secrets over the <c>secrets</c> and <c>secret_versions</c> tables (migration 14).</summary>
internal sealed class SecretStore(Database database) : ISecretStore
{
    private const string Selected =
        "id, account, region, name, arn, description, kms_key_id, tags, created_at, changed_at, accessed_at, deleted_at, deletion_date";

    private const string VersionSelected = "version_id, value, is_binary, stages, created_at";

    public Task<bool> CreateAsync(SecretRecord secret, SecretVersion? version, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var inserted = await s.ExecuteAsync(
                    """
                    INSERT INTO secrets (account, region, name, arn, description, kms_key_id, tags, created_at, changed_at)
                    VALUES (@account, @region, @name, @arn, @description, @kms, @tags, @created, @changed)
                    ON CONFLICT (account, region, name) DO NOTHING
                    """,
                    [
                        ("account", secret.Registry.Account.Value), ("region", secret.Registry.Region), ("name", secret.Name), ("arn", secret.Arn),
                        ("description", secret.Description), ("kms", secret.KmsKeyId), ("tags", Tags(secret.Tags)),
                        ("created", Columns.Ms(secret.CreatedAt)), ("changed", Columns.Ms(secret.ChangedAt)),
                    ],
                    cancellationToken);
                if (inserted == 0)
                {
                    return false;
                }

                if (version is not null)
                {
                    var id = await s.SingleAsync("SELECT id FROM secrets WHERE arn = @arn", r => (object)r.GetInt64(0), [("arn", secret.Arn)], cancellationToken)
                        ?? throw new InvalidOperationException("the secret just inserted cannot be read");
                    await InsertVersionAsync(s, (long)id, version, cancellationToken);
                }

                return true;
            },
            cancellationToken);

    public Task<SecretRecord?> GetAsync(RegistryKey registry, string name, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"SELECT {Selected} FROM secrets WHERE account = @account AND region = @region AND name = @name",
                Map,
                [("account", registry.Account.Value), ("region", registry.Region), ("name", name)],
                cancellationToken),
            cancellationToken);

    public Task<SecretRecord?> GetByArnAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.SingleAsync($"SELECT {Selected} FROM secrets WHERE arn = @arn", Map, [("arn", arn)], cancellationToken), cancellationToken);

    public Task<IReadOnlyList<SecretRecord>> ListAsync(RegistryKey registry, string? afterName, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SecretRecord>>(
            async s => await s.ListAsync(
                $"""
                SELECT {Selected} FROM secrets
                WHERE account = @account AND region = @region{Keyset.After(afterName, "name")}
                ORDER BY name LIMIT @limit
                """,
                Map,
                [("account", registry.Account.Value), ("region", registry.Region), ("after", afterName), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<SecretVersion>> ListVersionsAsync(long secretId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SecretVersion>>(async s => await VersionsAsync(s, secretId, cancellationToken), cancellationToken);

    public Task<SecretChange<T>?> ChangeAsync<T>(long secretId, Func<SecretRecord, IReadOnlyList<SecretVersion>, SecretChange<T>> change, CancellationToken cancellationToken) =>
        database.WriteAsync<SecretChange<T>?>(
            async s =>
            {
                var current = await s.SingleAsync($"SELECT {Selected} FROM secrets WHERE id = @id{s.Dialect.ForUpdate}", Map, [("id", secretId)], cancellationToken);
                if (current is null)
                {
                    return null;
                }

                var versions = await VersionsAsync(s, secretId, cancellationToken);
                var result = change(current, versions);
                if (result.Secret is { } secret)
                {
                    await s.ExecuteAsync(
                        """
                        UPDATE secrets SET description = @description, kms_key_id = @kms, tags = @tags, changed_at = @changed,
                            accessed_at = @accessed, deleted_at = @deleted, deletion_date = @deletion
                        WHERE id = @id
                        """,
                        [
                            ("id", secretId), ("description", secret.Description), ("kms", secret.KmsKeyId), ("tags", Tags(secret.Tags)),
                            ("changed", Columns.Ms(secret.ChangedAt)), ("accessed", Ms(secret.AccessedAt)), ("deleted", Ms(secret.DeletedAt)),
                            ("deletion", Ms(secret.DeletionDate)),
                        ],
                        cancellationToken);
                }

                if (result.Versions is { } next)
                {
                    var before = versions.ToDictionary(v => v.VersionId, StringComparer.Ordinal);
                    var kept = next.Select(v => v.VersionId).ToHashSet(StringComparer.Ordinal);
                    foreach (var gone in versions.Where(v => !kept.Contains(v.VersionId)))
                    {
                        await s.ExecuteAsync(
                            "DELETE FROM secret_versions WHERE secret_id = @id AND version_id = @version",
                            [("id", secretId), ("version", gone.VersionId)],
                            cancellationToken);
                    }

                    foreach (var version in next)
                    {
                        if (!before.TryGetValue(version.VersionId, out var old))
                        {
                            await InsertVersionAsync(s, secretId, version, cancellationToken);
                        }
                        else if (!old.Stages.SequenceEqual(version.Stages, StringComparer.Ordinal))
                        {
                            await s.ExecuteAsync(
                                "UPDATE secret_versions SET stages = @stages WHERE secret_id = @id AND version_id = @version",
                                [("id", secretId), ("version", version.VersionId), ("stages", JsonSerializer.Serialize(version.Stages, RelationalJsonContext.Default.IReadOnlyListString))],
                                cancellationToken);
                        }
                    }
                }

                return result;
            },
            cancellationToken);

    public Task RecordAccessAsync(long secretId, DateTimeOffset day, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                "UPDATE secrets SET accessed_at = @day WHERE id = @id AND (accessed_at IS NULL OR accessed_at < @day)",
                [("id", secretId), ("day", Columns.Ms(day))],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteAsync(long secretId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                await s.ExecuteAsync("DELETE FROM secret_versions WHERE secret_id = @id", [("id", secretId)], cancellationToken);
                return await s.ExecuteAsync("DELETE FROM secrets WHERE id = @id", [("id", secretId)], cancellationToken) > 0;
            },
            cancellationToken);

    private static Task<int> InsertVersionAsync(Session s, long secretId, SecretVersion version, CancellationToken cancellationToken) =>
        s.ExecuteAsync(
            """
            INSERT INTO secret_versions (secret_id, version_id, value, is_binary, stages, created_at)
            VALUES (@id, @version, @value, @binary, @stages, @created)
            """,
            [
                ("id", secretId), ("version", version.VersionId), ("value", version.SealedValue), ("binary", version.IsBinary),
                ("stages", JsonSerializer.Serialize(version.Stages, RelationalJsonContext.Default.IReadOnlyListString)), ("created", Columns.Ms(version.CreatedAt)),
            ],
            cancellationToken);

    private static async Task<IReadOnlyList<SecretVersion>> VersionsAsync(Session s, long secretId, CancellationToken cancellationToken) =>
        await s.ListAsync(
            $"SELECT {VersionSelected} FROM secret_versions WHERE secret_id = @id ORDER BY created_at, version_id",
            r => new SecretVersion(r.GetString(0), r.Bytes(1), r.GetBoolean(2), JsonSerializer.Deserialize(r.GetString(3), RelationalJsonContext.Default.StringArray) ?? [], r.Time(4)),
            [("id", secretId)],
            cancellationToken);

    private static long? Ms(DateTimeOffset? time) => time is { } t ? Columns.Ms(t) : null;

    private static string Tags(IReadOnlyList<ResourceTag> tags) =>
        JsonSerializer.Serialize([.. tags.Select(t => new[] { t.Key, t.Value })], RelationalJsonContext.Default.StringArrayArray);

    private static SecretRecord Map(DbDataReader r) => new(
        r.GetInt64(0),
        new RegistryKey(AccountId.Parse(r.GetString(1)), r.GetString(2)),
        r.GetString(3),
        r.GetString(4),
        r.NullableString(5),
        r.NullableString(6),
        (JsonSerializer.Deserialize(r.GetString(7), RelationalJsonContext.Default.StringArrayArray) ?? []).Select(t => new ResourceTag(t[0], t[1])).ToList(),
        r.Time(8),
        r.Time(9),
        r.NullableTime(10),
        r.NullableTime(11),
        r.NullableTime(12));
}
