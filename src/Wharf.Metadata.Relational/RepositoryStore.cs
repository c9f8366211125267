using System.Data.Common;
using System.Text;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

internal sealed class RepositoryStore(Database database) : IRepositoryStore
{
    private const string SelectColumns =
        "id, account, region, name, created_at, tag_mutability, tag_mutability_exclusions, scan_on_push, encryption_type, kms_key, policy";

    /// <summary>The columns <see cref="Map"/> reads, of the table aliased <c>r</c>: another store's query that joins to the repository row.</summary>
    internal const string SelectColumnsOfR =
        "r.id, r.account, r.region, r.name, r.created_at, r.tag_mutability, r.tag_mutability_exclusions, r.scan_on_push, r.encryption_type, r.kms_key, r.policy";

    /// <summary>How many columns <see cref="Map"/> reads: the joined query's own columns come after them.</summary>
    internal const int ColumnCount = 11;

    /// <summary>The condition on the table aliased <c>r</c> that finds the repository of <see cref="KeyParameters"/>.</summary>
    internal const string WhereKeyOfR = "r.account = @account AND r.region = @region AND r.name = @name";

    public Task<Repository?> GetAsync(RepositoryKey key, CancellationToken cancellationToken) =>
        database.ReadAsync(s => GetAsync(s, key, cancellationToken), cancellationToken);

    public Task<Repository?> CreateAsync(RepositoryKey key, RepositoryCreation creation, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var created = await s.SingleAsync(
                    $"""
                    INSERT INTO repositories (account, region, name, created_at, tag_mutability, tag_mutability_exclusions, scan_on_push, encryption_type, kms_key, policy, lifecycle_policy)
                    VALUES (@account, @region, @name, @now, @mutability, @exclusions, @scanOnPush, @encryption, @kmsKey, @policy, @lifecyclePolicy)
                    ON CONFLICT (account, region, name) DO NOTHING
                    RETURNING {SelectColumns}
                    """,
                    Map,
                    [
                        .. KeyParameters(key), ("now", Columns.Ms(now)), .. SettingsParameters(creation.Settings),
                        ("policy", creation.Policy), ("lifecyclePolicy", creation.LifecyclePolicy),
                    ],
                    cancellationToken);
                if (created is not null)
                {
                    await PutTagsAsync(s, created.Id, creation.Tags, cancellationToken);
                    await WritePublicTermsAsync(s, created, creation, cancellationToken);
                }

                return created;
            },
            cancellationToken);

    public async Task<Repository> GetOrCreateAsync(RepositoryKey key, DateTimeOffset now, CancellationToken cancellationToken) =>
        await GetAsync(key, cancellationToken)
        ?? await database.WriteAsync(
            async s =>
            {
                // A concurrent creator has committed or not started (SQLite's writer lock), or ON CONFLICT waits for it
                // to commit (PostgreSQL): either way the row is visible to the next statement.
                await s.ExecuteAsync(
                    """
                    INSERT INTO repositories (account, region, name, created_at) VALUES (@account, @region, @name, @now)
                    ON CONFLICT (account, region, name) DO NOTHING
                    """,
                    [.. KeyParameters(key), ("now", Columns.Ms(now))],
                    cancellationToken);
                var repository = await GetAsync(s, key, cancellationToken)
                    ?? throw new InvalidOperationException($"Repository {key} vanished inside its creating transaction.");
                await WritePublicTermsAsync(s, repository, null, cancellationToken);
                return repository;
            },
            cancellationToken);

    public Task<string?> GetRegistryPolicyAsync(RegistryKey registry, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT policy FROM registries WHERE account = @account AND region = @region AND policy IS NOT NULL",
                r => r.GetString(0),
                [("account", registry.Account.Value), ("region", registry.Region)],
                cancellationToken),
            cancellationToken);

    public Task<string?> SetRegistryPolicyAsync(RegistryKey registry, string? policy, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] key = [("account", registry.Account.Value), ("region", registry.Region)];
                var previous = await s.SingleAsync("SELECT policy FROM registries WHERE account = @account AND region = @region AND policy IS NOT NULL", r => r.GetString(0), key, cancellationToken);
                await s.ExecuteAsync(
                    "INSERT INTO registries (account, region, policy) VALUES (@account, @region, @policy) ON CONFLICT (account, region) DO UPDATE SET policy = excluded.policy",
                    [.. key, ("policy", policy)],
                    cancellationToken);
                return previous;
            },
            cancellationToken);

    public async Task<IReadOnlyDictionary<string, string>> GetRegistrySettingsAsync(RegistryKey registry, CancellationToken cancellationToken) =>
        ParseRegistrySettings(
            await database.ReadAsync(
                s => s.SingleAsync(SelectRegistrySettings, r => r.GetString(0), RegistryParameters(registry), cancellationToken),
                cancellationToken));

    /// <summary>The settings column of a registry's row (no row: no settings); <see cref="ParseRegistrySettings"/> reads it.</summary>
    internal const string SelectRegistrySettings = "SELECT settings FROM registries WHERE account = @account AND region = @region";

    internal static (string Name, object? Value)[] RegistryParameters(RegistryKey registry) => [("account", registry.Account.Value), ("region", registry.Region)];

    internal static IReadOnlyDictionary<string, string> ParseRegistrySettings(string? json) =>
        System.Text.Json.JsonSerializer.Deserialize(json ?? "{}", RelationalJsonContext.Default.DictionaryStringString) ?? [];

    public Task SetRegistrySettingAsync(RegistryKey registry, string name, string value, CancellationToken cancellationToken) =>
        ChangeRegistrySettingAsync(registry, name, _ => (value, true), cancellationToken);

    public Task<T> ChangeRegistrySettingAsync<T>(RegistryKey registry, string name, Func<string?, (string? Value, T Result)> change, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // Row first, then read it locked and write it back: two settings changed at once both stay.
                (string, object?)[] key = [("account", registry.Account.Value), ("region", registry.Region)];
                await s.ExecuteAsync("INSERT INTO registries (account, region) VALUES (@account, @region) ON CONFLICT (account, region) DO NOTHING", key, cancellationToken);
                var text = await s.SingleAsync($"SELECT settings FROM registries WHERE account = @account AND region = @region{s.Dialect.ForUpdate}", r => r.GetString(0), key, cancellationToken);
                var settings = System.Text.Json.JsonSerializer.Deserialize(text ?? "{}", RelationalJsonContext.Default.DictionaryStringString) ?? [];
                var current = settings.GetValueOrDefault(name);
                var (value, result) = change(current);
                if (value != current)
                {
                    if (value is null)
                    {
                        settings.Remove(name);
                    }
                    else
                    {
                        settings[name] = value;
                    }

                    await s.ExecuteAsync(
                        "UPDATE registries SET settings = @settings WHERE account = @account AND region = @region",
                        [.. key, ("settings", System.Text.Json.JsonSerializer.Serialize(settings, RelationalJsonContext.Default.DictionaryStringString))],
                        cancellationToken);
                }

                return result;
            },
            cancellationToken);

    public Task<bool> SetPolicyAsync(long repositoryId, string? policy, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("UPDATE repositories SET policy = @policy WHERE id = @id", [("id", repositoryId), ("policy", policy)], cancellationToken) > 0,
            cancellationToken);

    public Task<bool> UpdateSettingsAsync(long repositoryId, RepositorySettings settings, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                """
                UPDATE repositories SET tag_mutability = @mutability, tag_mutability_exclusions = @exclusions,
                    scan_on_push = @scanOnPush, encryption_type = @encryption, kms_key = @kmsKey
                WHERE id = @id
                """,
                [("id", repositoryId), .. SettingsParameters(settings)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<RegistryKey>> ListConfiguredRegistriesAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RegistryKey>>(
            async s => await s.ListAsync(
                "SELECT account, region FROM registries ORDER BY account, region",
                r => new RegistryKey(AccountId.Parse(r.GetString(0)), r.GetString(1)),
                [],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<Repository>> ListAsync(RegistryKey registry, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Repository>>(
            async s => await s.ListAsync(
                ListSql(after),
                Map,
                [("account", registry.Account.Value), ("region", registry.Region), ("after", after), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    /// <summary>The catalog's and DescribeRepositories' page: one range of the (account, region, name) key (<see cref="Keyset"/>); the plan tests read its plan.</summary>
    internal static string ListSql(string? after) =>
        $"SELECT {SelectColumns} FROM repositories WHERE account = @account AND region = @region{Keyset.After(after, "name")} ORDER BY name LIMIT @limit";

    public Task<IReadOnlyList<Repository>> BrowseAsync(RegistryKey registry, RepositoryBrowse query, CancellationToken cancellationToken)
    {
        var (sql, parameters) = BrowseQuery(registry, query);
        return database.ReadAsync<IReadOnlyList<Repository>>(async s => await s.ListAsync(sql, Map, parameters, cancellationToken), cancellationToken);
    }

    /// <summary>The SQL and parameters of <see cref="BrowseAsync"/> (the plan tests read its plan).</summary>
    internal static (string Sql, List<(string Name, object? Value)> Parameters) BrowseQuery(RegistryKey registry, RepositoryBrowse query)
    {
        var (after, order) = (query.Sort, query.Descending) switch
        {
            // Row values: one index range in both engines, where PostgreSQL's generic plan made the equivalent OR a bitmap
            // of every row on the cursor's side.
            (RepositorySort.Created, false) => ("(created_at, id) > (@at, @id)", "created_at, id"),
            (RepositorySort.Created, true) => ("(created_at, id) < (@at, @id)", "created_at DESC, id DESC"),
            (_, false) => ("name > @after", "name"),
            (_, true) => ("name < @after", "name DESC"),
        };
        var sql = new StringBuilder($"SELECT {SelectColumns} FROM repositories WHERE account = @account AND region = @region");
        List<(string Name, object? Value)> parameters = [("account", registry.Account.Value), ("region", registry.Region), ("limit", query.Limit)];
        if (query.After is { } cursor)
        {
            sql.Append(" AND ").Append(after);
            parameters.AddRange(query.Sort == RepositorySort.Created ? [("at", Columns.Ms(cursor.CreatedAt)), ("id", cursor.Id)] : [("after", cursor.Name)]);
        }

        // Names are lowercase (the name pattern), so a lowered needle matches alike in both engines' LIKE.
        if (!string.IsNullOrEmpty(query.NameContains))
        {
            sql.Append(@" AND name LIKE @like ESCAPE '\'");
            parameters.Add(("like", "%" + LikeEscape(query.NameContains.ToLowerInvariant()) + "%"));
        }

        sql.Append(" ORDER BY ").Append(order).Append(" LIMIT @limit");
        return (sql.ToString(), parameters);
    }

    public Task<IReadOnlyList<RepositoryStatistics>> GetStatisticsAsync(IReadOnlyCollection<long> repositoryIds, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RepositoryStatistics>>(
            async s =>
            {
                var result = new List<RepositoryStatistics>(repositoryIds.Count);
                foreach (var id in repositoryIds.Distinct())
                {
                    // The count and the sum read the (repository, size) index only; an index's children are in the
                    // count but not in the size (their index counts once, at its largest child's size), subtracted
                    // through the children's rows, which are few.
                    var row = await s.SingleAsync(
                        StatisticsSql,
                        r => new RepositoryStatistics(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)),
                        [("id", id)],
                        cancellationToken);
                    if (row is not null)
                    {
                        result.Add(row);
                    }
                }

                return result;
            },
            cancellationToken);

    public Task<IReadOnlyList<RegionRepositories>> CountByRegionAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RegionRepositories>>(
            async s => await s.ListAsync(
                "SELECT region, count(*) FROM repositories WHERE account = @account AND region <> @public GROUP BY region ORDER BY region",
                r => new RegionRepositories(r.GetString(0), r.GetInt64(1)),
                [("account", account.Value), ("public", RegistryKey.PublicRegion)],
                cancellationToken),
            cancellationToken);

    /// <summary>One repository's count and size (the plan tests read its plan).</summary>
    internal const string StatisticsSql =
        """
        SELECT r.id,
            (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id),
            (SELECT coalesce(sum(m.image_size), 0) FROM manifests m WHERE m.repository_id = r.id)
            - (SELECT coalesce(sum(m.image_size), 0) FROM manifests m WHERE m.repository_id = r.id
                AND m.digest IN (SELECT c.child_digest FROM manifest_children c WHERE c.repository_id = r.id))
        FROM repositories r WHERE r.id = @id
        """;

    private static string LikeEscape(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);

    public Task<bool> DeleteAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM repositories WHERE id = @id", [("id", repositoryId)], cancellationToken) > 0,
            cancellationToken);

    public Task<RepositoryDeleteResult> DeleteIfEmptyAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] id = [("id", repositoryId)];
                // On PostgreSQL the row lock makes a concurrent manifest insert (whose foreign key check takes KEY SHARE)
                // wait for this transaction, and then fail: no image can land in a repository being deleted.
                if (!await s.ExistsAsync($"SELECT 1 FROM repositories WHERE id = @id{s.Dialect.ForUpdate}", id, cancellationToken))
                {
                    return RepositoryDeleteResult.NotFound;
                }

                if (await s.ExistsAsync("SELECT 1 FROM manifests WHERE repository_id = @id LIMIT 1", id, cancellationToken))
                {
                    return RepositoryDeleteResult.NotEmpty;
                }

                await s.ExecuteAsync("DELETE FROM repositories WHERE id = @id", id, cancellationToken);
                return RepositoryDeleteResult.Deleted;
            },
            cancellationToken);

    public Task<IReadOnlyList<ResourceTag>> GetResourceTagsAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ResourceTag>>(
            async s => await s.ListAsync(
                "SELECT key, value FROM repository_resource_tags WHERE repository_id = @id ORDER BY key",
                r => new ResourceTag(r.GetString(0), r.GetString(1)),
                [("id", repositoryId)],
                cancellationToken),
            cancellationToken);

    public Task<ResourceTagResult> TagAsync(long repositoryId, IReadOnlyList<ResourceTag> tags, int maxTags, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] id = [("id", repositoryId)];
                // Serialises concurrent taggers, so the limit holds.
                if (!await s.ExistsAsync($"SELECT 1 FROM repositories WHERE id = @id{s.Dialect.ForUpdate}", id, cancellationToken))
                {
                    return ResourceTagResult.NotFound;
                }

                var existing = await s.ListAsync("SELECT key FROM repository_resource_tags WHERE repository_id = @id", r => r.GetString(0), id, cancellationToken);
                var keys = existing.ToHashSet(StringComparer.Ordinal);
                keys.UnionWith(tags.Select(t => t.Key));
                if (keys.Count > maxTags)
                {
                    return ResourceTagResult.TooManyTags;
                }

                await PutTagsAsync(s, repositoryId, tags, cancellationToken);
                return ResourceTagResult.Tagged;
            },
            cancellationToken);

    public Task<bool> UntagAsync(long repositoryId, IReadOnlyCollection<string> keys, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM repositories WHERE id = @id", [("id", repositoryId)], cancellationToken))
                {
                    return false;
                }

                foreach (var key in keys)
                {
                    await s.ExecuteAsync(
                        "DELETE FROM repository_resource_tags WHERE repository_id = @id AND key = @key",
                        [("id", repositoryId), ("key", key)],
                        cancellationToken);
                }

                return true;
            },
            cancellationToken);

    private static async Task PutTagsAsync(Session s, long repositoryId, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        foreach (var tag in tags)
        {
            await s.ExecuteAsync(
                """
                INSERT INTO repository_resource_tags (repository_id, key, value) VALUES (@id, @key, @value)
                ON CONFLICT (repository_id, key) DO UPDATE SET value = excluded.value
                """,
                [("id", repositoryId), ("key", tag.Key), ("value", tag.Value)],
                cancellationToken);
        }
    }

    /// <summary>
    /// A public repository is found by the gallery's search from its creation: with its catalog (and the terms
    /// that go with it) when created with one, else by its name's terms. Nothing for a private repository.
    /// </summary>
    private static Task WritePublicTermsAsync(Session s, Repository repository, RepositoryCreation? creation, CancellationToken cancellationToken) =>
        !repository.Key.Registry.IsPublic ? Task.CompletedTask
        : creation?.PublicCatalog is { } catalog ? PublicRegistryStore.WriteCatalogAsync(s, repository.Id, catalog.Catalog, catalog.Logo, catalog.SearchTerms, cancellationToken)
        : PublicRegistryStore.WriteTermsAsync(s, repository.Id, Core.Public.PublicRegistryService.SearchTerms(repository.Key.Name, null), cancellationToken);

    /// <summary>The row of the repository whose key <see cref="KeyParameters"/> binds, as <see cref="Map"/> reads it.</summary>
    internal const string SelectByKey = $"SELECT {SelectColumns} FROM repositories WHERE account = @account AND region = @region AND name = @name";

    internal static Task<Repository?> GetAsync(Session s, RepositoryKey key, CancellationToken cancellationToken) =>
        s.SingleAsync(
            SelectByKey,
            Map,
            KeyParameters(key),
            cancellationToken);

    internal static (string, object?)[] KeyParameters(RepositoryKey key) =>
        [("account", key.Registry.Account.Value), ("region", key.Registry.Region), ("name", key.Name.Value)];

    private static (string, object?)[] SettingsParameters(RepositorySettings settings) =>
        [
            ("mutability", TagMutabilityNames.ToName(settings.Mutability)),
            ("exclusions", TagMutabilityNames.ExclusionsToJson(settings.MutabilityExclusions)),
            ("scanOnPush", settings.ScanOnPush),
            ("encryption", settings.EncryptionType),
            ("kmsKey", settings.KmsKey),
        ];

    internal static Repository Map(DbDataReader r) =>
        new(
            r.GetInt64(0),
            new RepositoryKey(new RegistryKey(AccountId.Parse(r.GetString(1)), r.GetString(2)), RepositoryName.Parse(r.GetString(3))),
            r.Time(4),
            new RepositorySettings(
                TagMutabilityNames.Parse(r.GetString(5)),
                TagMutabilityNames.ExclusionsFromJson(r.GetString(6)),
                r.GetBoolean(7),
                r.GetString(8),
                r.NullableString(9)),
            r.NullableString(10));

    public Task<long> CountAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM repositories", [], cancellationToken), cancellationToken);

}
