using System.Globalization;
using System.Text;
using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>
/// Public registries, aliases, catalog data, the gallery's search terms and anonymous data counters over
/// the tables of migration 16. Alias names are the primary key of their table, so an alias is unique
/// across accounts however writers race: the loser's <c>INSERT … ON CONFLICT DO NOTHING</c> writes nothing.
/// </summary>
internal sealed class PublicRegistryStore(Database database) : IPublicRegistryStore
{
    /// <summary>The kinds of <c>public_platforms</c> rows.</summary>
    private const string ArchitectureKind = "a";
    private const string OperatingSystemKind = "o";

    private const string ActiveStatus = "ACTIVE";

    /// <summary>Above every character a term can hold: <c>[w, w + this)</c> is every term <c>w</c> prefixes (in byte order, both engines).</summary>
    private static readonly string PrefixEnd = char.ConvertFromUtf32(0x10FFFF);

    public Task<PublicRegistryRecord?> GetRegistryAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync(s => ReadRegistryAsync(s, account, cancellationToken), cancellationToken);

    public Task<PublicRegistryRecord?> EnsureRegistryAsync(AccountId account, string defaultAlias, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // A concurrent creator for the same account has committed or not started (SQLite's writer lock), or
                // ON CONFLICT waits for it (PostgreSQL): either way a 0 here means its registry is visible now.
                var inserted = await s.ExecuteAsync(
                    "INSERT INTO public_registries (account, verified, created_at) VALUES (@account, @verified, @now) ON CONFLICT (account) DO NOTHING",
                    [("account", account.Value), ("verified", false), ("now", Columns.Ms(now))],
                    cancellationToken);
                if (inserted == 0)
                {
                    return await ReadRegistryAsync(s, account, cancellationToken);
                }

                if (await s.ExecuteAsync(
                        """
                        INSERT INTO public_registry_aliases (name, account, status, is_primary, is_default)
                        VALUES (@alias, @account, @status, @primary, @default) ON CONFLICT (name) DO NOTHING
                        """,
                        [("alias", defaultAlias), ("account", account.Value), ("status", ActiveStatus), ("primary", true), ("default", true)],
                        cancellationToken) == 0)
                {
                    // Another account's alias: undo this transaction's registry row, so nothing is written.
                    await s.ExecuteAsync("DELETE FROM public_registries WHERE account = @account", [("account", account.Value)], cancellationToken);
                    return null;
                }

                return await ReadRegistryAsync(s, account, cancellationToken);
            },
            cancellationToken);

    public Task<bool> SetPrimaryAliasAsync(AccountId account, string alias, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] key = [("account", account.Value)];
                // Locks the registry row (PostgreSQL): two alias changes of one registry take turns.
                if (!await s.ExistsAsync($"SELECT 1 FROM public_registries WHERE account = @account{s.Dialect.ForUpdate}", key, cancellationToken))
                {
                    throw new InvalidOperationException($"Account {account} has no public registry to give the alias '{alias}'.");
                }

                await s.ExecuteAsync(
                    """
                    INSERT INTO public_registry_aliases (name, account, status, is_primary, is_default)
                    VALUES (@alias, @account, @status, @primary, @default) ON CONFLICT (name) DO NOTHING
                    """,
                    [("alias", alias), ("account", account.Value), ("status", ActiveStatus), ("primary", false), ("default", false)],
                    cancellationToken);
                // Whoever holds it now (this insert's row, the registry's own, or a racing winner's, committed).
                var owner = await s.SingleAsync("SELECT account FROM public_registry_aliases WHERE name = @alias", r => r.GetString(0), [("alias", alias)], cancellationToken);
                if (owner != account.Value)
                {
                    return false;
                }

                // A registry has its default alias and at most one chosen one: a new choice frees the previous.
                await s.ExecuteAsync(
                    "DELETE FROM public_registry_aliases WHERE account = @account AND name <> @alias AND is_default = @false",
                    [.. key, ("alias", alias), ("false", false)],
                    cancellationToken);
                await s.ExecuteAsync(
                    "UPDATE public_registry_aliases SET is_primary = (name = @alias), status = @status WHERE account = @account",
                    [.. key, ("alias", alias), ("status", ActiveStatus)],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    public async Task<AccountId?> ResolveAliasAsync(string alias, CancellationToken cancellationToken)
    {
        var account = await database.ReadAsync(
            s => s.SingleAsync(
                "SELECT account FROM public_registry_aliases WHERE name = @alias AND status = @status",
                r => r.GetString(0),
                [("alias", alias), ("status", ActiveStatus)],
                cancellationToken),
            cancellationToken);
        return account is null ? null : AccountId.Parse(account);
    }

    public Task<bool> SetDisplayNameAsync(AccountId account, string? displayName, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "UPDATE public_registries SET display_name = @name WHERE account = @account",
                [("account", account.Value), ("name", displayName)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> SetVerifiedAsync(AccountId account, bool verified, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "UPDATE public_registries SET verified = @verified WHERE account = @account",
                [("account", account.Value), ("verified", verified)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<RepositoryCatalog?> GetCatalogAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT description, architectures, operating_systems, about_text, usage_text, logo_sha256 FROM public_catalogs WHERE repository_id = @id",
                r => new RepositoryCatalog(r.NullableString(0), FromJson(r.GetString(1)), FromJson(r.GetString(2)), r.NullableString(3), r.NullableString(4), r.NullableString(5)),
                [("id", repositoryId)],
                cancellationToken),
            cancellationToken);

    public Task<bool> PutCatalogAsync(long repositoryId, RepositoryCatalog catalog, CatalogLogo? logo, IReadOnlyCollection<string> searchTerms, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // The row lock (PostgreSQL) makes a concurrent delete of the repository wait: no catalog outlives it.
                if (!await s.ExistsAsync($"SELECT 1 FROM repositories WHERE id = @id{s.Dialect.ForUpdate}", [("id", repositoryId)], cancellationToken))
                {
                    return false;
                }

                await WriteCatalogAsync(s, repositoryId, catalog, logo, searchTerms, cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<CatalogLogo?> GetLogoAsync(string sha256, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT logo_sha256, logo_media_type, logo_bytes FROM public_catalogs WHERE logo_sha256 = @sha256 AND logo_bytes IS NOT NULL LIMIT 1",
                r => new CatalogLogo(r.GetString(0), r.GetString(1), r.Bytes(2)),
                [("sha256", sha256)],
                cancellationToken),
            cancellationToken);

    public Task<PublicSearchPage> SearchAsync(PublicSearch search, CancellationToken cancellationToken)
    {
        if (SearchQuery(search) is not { } query)
        {
            // Not a cursor this store wrote: nothing comes after it.
            return Task.FromResult(new PublicSearchPage([], null));
        }

        var (sql, parameters) = query;
        return database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(
                    sql,
                    r => (Id: r.GetInt64(0), Summary: new PublicRepositorySummary(
                        AccountId.Parse(r.GetString(1)),
                        r.GetString(8),
                        RepositoryName.Parse(r.GetString(2)),
                        r.NullableString(4),
                        r.IsDBNull(5) ? [] : FromJson(r.GetString(5)),
                        r.IsDBNull(6) ? [] : FromJson(r.GetString(6)),
                        r.NullableString(7),
                        r.Time(3))),
                    parameters,
                    cancellationToken);
                if (rows.Count <= search.Limit)
                {
                    return new PublicSearchPage(rows.Select(r => r.Summary).ToList(), null);
                }

                rows.RemoveAt(rows.Count - 1);
                var last = rows[^1];
                return new PublicSearchPage(rows.Select(r => r.Summary).ToList(), WriteCursor(last.Id, last.Summary.Name.Value));
            },
            cancellationToken);
    }

    /// <summary>
    /// The SQL and parameters of <paramref name="search"/> (a page and one row more), or null when its cursor is not
    /// one this store wrote. Internal for the test that reads its query plans.
    /// </summary>
    internal static (string Sql, List<(string, object?)> Parameters)? SearchQuery(PublicSearch search)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(search.Limit);
        var parameters = new List<(string, object?)> { ("region", RegistryKey.PublicRegion), ("limit", search.Limit + 1) };
        var conditions = new List<string> { "r.region = @region", "p.account = r.account" };
        if (search.After is not null)
        {
            if (!TryReadCursor(search.After, out var afterId, out var afterName))
            {
                return null;
            }

            // name >= is the index range both engines seek to; the OR only sorts out the few rows of that one name.
            conditions.Add("r.name >= @afterName AND (r.name > @afterName OR r.id > @afterId)");
            parameters.Add(("afterName", afterName));
            parameters.Add(("afterId", afterId));
        }

        if (search.Account is { } account)
        {
            conditions.Add("r.account = @account");
            parameters.Add(("account", account.Value));
        }

        // The rows a search starts from: the repositories of its longest word's terms (a range of the terms'
        // primary key), else of its badge filter (a range of the platforms' key), else every public one (a range of
        // repositories (region, name, id)). Every other condition is then an index probe per candidate. CROSS JOIN
        // fixes that join order on SQLite; PostgreSQL plans it as an inner join on its statistics.
        var words = search.Words.Where(w => w.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(w => w.Length).ToList();
        var platforms = new List<(string Kind, string Value)>();
        if (search.Architecture is { Length: > 0 } architecture)
        {
            platforms.Add((ArchitectureKind, architecture.ToLowerInvariant()));
        }

        if (search.OperatingSystem is { Length: > 0 } operatingSystem)
        {
            platforms.Add((OperatingSystemKind, operatingSystem.ToLowerInvariant()));
        }

        string from;
        var first = 0;
        var firstPlatform = 0;
        if (words.Count > 0)
        {
            from = "(SELECT DISTINCT repository_id FROM public_search_terms WHERE term >= @w0 AND term < @u0) m CROSS JOIN repositories r";
            conditions.Add("r.id = m.repository_id");
            first = 1;
        }
        else if (platforms.Count > 0)
        {
            from = "(SELECT repository_id FROM public_platforms WHERE kind = @k0 AND value = @v0) m CROSS JOIN repositories r";
            conditions.Add("r.id = m.repository_id");
            firstPlatform = 1;
        }
        else
        {
            from = "repositories r";
        }

        for (var i = 0; i < words.Count; i++)
        {
            parameters.Add(($"w{i}", words[i]));
            parameters.Add(($"u{i}", words[i] + PrefixEnd));
            if (i >= first)
            {
                conditions.Add($"EXISTS (SELECT 1 FROM public_search_terms t WHERE t.repository_id = r.id AND t.term >= @w{i} AND t.term < @u{i})");
            }
        }

        for (var i = 0; i < platforms.Count; i++)
        {
            parameters.Add(($"k{i}", platforms[i].Kind));
            parameters.Add(($"v{i}", platforms[i].Value));
            if (i >= firstPlatform)
            {
                conditions.Add($"EXISTS (SELECT 1 FROM public_platforms f WHERE f.repository_id = r.id AND f.kind = @k{i} AND f.value = @v{i})");
            }
        }

        // The page is chosen first; its catalogs and aliases are read for its rows only.
        var sql =
            $"""
            SELECT x.id, x.account, x.name, x.created_at, c.description, c.architectures, c.operating_systems, c.logo_sha256,
                (SELECT a.name FROM public_registry_aliases a WHERE a.account = x.account ORDER BY a.is_primary DESC, a.is_default DESC, a.name LIMIT 1)
            FROM (
                SELECT r.id, r.account, r.name, r.created_at FROM {from} CROSS JOIN public_registries p
                WHERE {string.Join(" AND ", conditions)}
                ORDER BY r.name, r.id
                LIMIT @limit
            ) x LEFT JOIN public_catalogs c ON c.repository_id = x.id
            ORDER BY x.name, x.id
            """;
        return (sql, parameters);
    }

    public Task AddAnonymousBytesAsync(string month, IReadOnlyDictionary<string, long> bytesBySource, CancellationToken cancellationToken) =>
        bytesBySource.Count == 0
            ? Task.CompletedTask
            : database.WriteAsync(
                async s =>
                {
                    // In key order, so two nodes' batches lock rows in one order (PostgreSQL) and never deadlock.
                    foreach (var (source, bytes) in bytesBySource.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        await s.ExecuteAsync(
                            """
                            INSERT INTO public_anonymous_bytes (month, source, bytes) VALUES (@month, @source, @bytes)
                            ON CONFLICT (month, source) DO UPDATE SET bytes = public_anonymous_bytes.bytes + excluded.bytes
                            """,
                            [("month", month), ("source", source), ("bytes", bytes)],
                            cancellationToken);
                    }
                },
                cancellationToken);

    public async Task<long> GetAnonymousBytesAsync(string month, string source, CancellationToken cancellationToken) =>
        await database.ReadAsync(
            s => s.SingleAsync(
                "SELECT bytes FROM public_anonymous_bytes WHERE month = @month AND source = @source",
                r => (object)r.GetInt64(0),
                [("month", month), ("source", source)],
                cancellationToken),
            cancellationToken) is long bytes ? bytes : 0;

    public Task<int> DeleteAnonymousBytesBeforeAsync(string month, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync("DELETE FROM public_anonymous_bytes WHERE month < @month", [("month", month)], cancellationToken),
            cancellationToken);

    /// <summary>
    /// Writes a repository's catalog, logo, search terms and badges in the caller's transaction (here, and
    /// in <see cref="RepositoryStore.CreateAsync"/> for a repository created with its catalog).
    /// </summary>
    internal static async Task WriteCatalogAsync(Session s, long repositoryId, RepositoryCatalog catalog, CatalogLogo? logo, IReadOnlyCollection<string> searchTerms, CancellationToken cancellationToken)
    {
        (string, object?)[] id = [("id", repositoryId)];
        // Without new bytes, a logo the catalog names is the one it has: its columns are left as they are.
        var keepLogo = logo is null && catalog.LogoSha256 is not null;
        var logoUpdate = keepLogo ? "" : ", logo_sha256 = excluded.logo_sha256, logo_media_type = excluded.logo_media_type, logo_bytes = excluded.logo_bytes";
        await s.ExecuteAsync(
            $"""
            INSERT INTO public_catalogs (repository_id, description, architectures, operating_systems, about_text, usage_text, logo_sha256, logo_media_type, logo_bytes)
            VALUES (@id, @description, @architectures, @systems, @about, @usage, @logo, @logoType, @logoBytes)
            ON CONFLICT (repository_id) DO UPDATE SET description = excluded.description, architectures = excluded.architectures,
                operating_systems = excluded.operating_systems, about_text = excluded.about_text, usage_text = excluded.usage_text{logoUpdate}
            """,
            [
                .. id, ("description", catalog.Description), ("architectures", JsonSerializer.Serialize(catalog.Architectures, RelationalJsonContext.Default.IReadOnlyListString)),
                ("systems", JsonSerializer.Serialize(catalog.OperatingSystems, RelationalJsonContext.Default.IReadOnlyListString)), ("about", catalog.AboutText), ("usage", catalog.UsageText),
                ("logo", logo?.Sha256), ("logoType", logo?.MediaType), ("logoBytes", logo?.Bytes),
            ],
            cancellationToken);
        await s.ExecuteAsync("DELETE FROM public_search_terms WHERE repository_id = @id", id, cancellationToken);
        await WriteTermsAsync(s, repositoryId, searchTerms, cancellationToken);
        await s.ExecuteAsync("DELETE FROM public_platforms WHERE repository_id = @id", id, cancellationToken);
        await WritePlatformsAsync(s, repositoryId, ArchitectureKind, catalog.Architectures, cancellationToken);
        await WritePlatformsAsync(s, repositoryId, OperatingSystemKind, catalog.OperatingSystems, cancellationToken);
    }

    /// <summary>Adds search terms of a repository (those it has stay), in one statement (<c>WHERE true</c>: SQLite would read ON CONFLICT as a join's ON).</summary>
    internal static async Task WriteTermsAsync(Session s, long repositoryId, IEnumerable<string> terms, CancellationToken cancellationToken)
    {
        var distinct = terms.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count > 0)
        {
            await s.ExecuteAsync(
                $"INSERT INTO public_search_terms (term, repository_id) SELECT value, @id FROM ({s.Dialect.ListRows("terms")}) v WHERE true ON CONFLICT (term, repository_id) DO NOTHING",
                [("id", repositoryId), ("terms", s.Dialect.ListValue(distinct))],
                cancellationToken);
        }
    }

    private static async Task WritePlatformsAsync(Session s, long repositoryId, string kind, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        var distinct = values.Select(v => v.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count > 0)
        {
            await s.ExecuteAsync(
                $"INSERT INTO public_platforms (kind, value, repository_id) SELECT @kind, value, @id FROM ({s.Dialect.ListRows("values")}) v WHERE true ON CONFLICT (kind, value, repository_id) DO NOTHING",
                [("id", repositoryId), ("kind", kind), ("values", s.Dialect.ListValue(distinct))],
                cancellationToken);
        }
    }

    private static async Task<PublicRegistryRecord?> ReadRegistryAsync(Session s, AccountId account, CancellationToken cancellationToken)
    {
        (string, object?)[] key = [("account", account.Value)];
        var registry = await s.SingleAsync(
            "SELECT verified, display_name, created_at FROM public_registries WHERE account = @account",
            r => (Tuple<bool, string?, DateTimeOffset>)new(r.GetBoolean(0), r.NullableString(1), r.Time(2)),
            key,
            cancellationToken);
        if (registry is null)
        {
            return null;
        }

        var aliases = await s.ListAsync(
            "SELECT name, status, is_primary, is_default FROM public_registry_aliases WHERE account = @account ORDER BY is_default DESC, name",
            r => new RegistryAlias(r.GetString(0), Enum.Parse<RegistryAliasStatus>(r.GetString(1), ignoreCase: true), r.GetBoolean(2), r.GetBoolean(3)),
            key,
            cancellationToken);
        return new PublicRegistryRecord(account, aliases, registry.Item1, registry.Item2, registry.Item3);
    }

    private static List<string> FromJson(string json) => JsonSerializer.Deserialize(json, RelationalJsonContext.Default.ListString) ?? [];

    /// <summary>The cursor after a row: base64url of <c>&lt;id&gt;/&lt;name&gt;</c> (opaque to callers).</summary>
    private static string WriteCursor(long id, string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}/{name}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryReadCursor(string cursor, out long id, out string name)
    {
        id = 0;
        name = "";
        if (cursor.Length is 0 or > 1024)
        {
            return false;
        }

        var base64 = cursor.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        Span<byte> bytes = stackalloc byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes[..written]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !long.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out id))
        {
            return false;
        }

        name = text[(slash + 1)..];
        return name.Length > 0;
    }
}
