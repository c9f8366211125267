using Microsoft.Data.Sqlite;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;
using Wharf.Metadata.Sqlite;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The gallery's search over 10,000 public repositories (and 10,000 private ones) on SQLite: every shape of search
/// reads index ranges, never a whole table (SQLite's plan, read with EXPLAIN QUERY PLAN), and pages correctly.
/// Speed itself is measured in bench/, not asserted here.
/// </summary>
public sealed class PublicSearchPlanTests(PublicSearchPlanTests.TenThousand data) : IClassFixture<PublicSearchPlanTests.TenThousand>
{
    private const int Count = 10_000;

    private readonly IMetadataStore store = data.Store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => data.DatabasePath;

    public static TheoryData<string[], string?, string?, bool> Searches => new()
    {
        { [], null, null, false },
        { [], null, null, true },
        { ["app09"], null, null, false },
        { ["service", "group7"], null, null, true },
        { ["serv"], "ARM 64", "linux", true },
        { [], "x86-64", null, true },
        { [], "x86-64", "linux", false },
    };

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task Every_search_reads_index_ranges_never_a_whole_table(string[] words, string? architecture, string? operatingSystem, bool deep)
    {
        var after = deep ? (await store.Public.SearchAsync(new PublicSearch(words, architecture, operatingSystem, null, null, 100), Ct)).Next : null;
        var (sql, parameters) = PublicRegistryStore.SearchQuery(new PublicSearch(words, architecture, operatingSystem, null, after, 25))!.Value;

        var plan = await PlanAsync(sql, parameters);

        // SCAN is a whole table or index read; SEARCH a range of an index. Only the search's own subqueries are scanned:
        // m, the one index range it starts from, and x, the page of at most 26 rows.
        Assert.DoesNotContain(plan, line => line.Contains("SCAN ", StringComparison.Ordinal) && line is not ("SCAN m" or "SCAN x"));
        Assert.Contains(plan, line => line.Contains("SEARCH ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pages_through_ten_thousand_repositories_in_name_order_by_cursor()
    {
        var first = await store.Public.SearchAsync(new PublicSearch([], null, null, null, null, 100), Ct);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"app{i:D5}"), first.Repositories.Select(r => r.Name.Value));
        Assert.All(first.Repositories, r => Assert.Equal("alpha", r.Alias));

        var seen = 0;
        string? after = null;
        do
        {
            var page = await store.Public.SearchAsync(new PublicSearch(["serv"], "arm 64", null, null, after, 100), Ct);
            Assert.All(page.Repositories, r => Assert.Equal(["ARM 64"], r.Architectures));
            seen += page.Repositories.Count;
            after = page.Next;
        }
        while (after is not null);
        Assert.Equal(Count / 2, seen);

        // Ids are 1 to 10,000 in name order; every name starts app0.
        var group = await store.Public.SearchAsync(new PublicSearch(["group42", "app0"], null, null, null, null, 100), Ct);
        Assert.Equal(Enumerable.Range(0, Count).Where(i => (i + 1) % 100 == 42).Select(i => $"app{i:D5}"), group.Repositories.Select(r => r.Name.Value));
    }

    private Task<List<string>> PlanAsync(string sql, IEnumerable<(string Name, object? Value)> parameters) =>
        SqlitePlans.ExplainAsync(DatabasePath, sql, parameters, Ct);

    /// <summary>The seeded database, made once for the class.</summary>
    public sealed class TenThousand : IAsyncLifetime
    {
        private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-search-plan-" + Guid.NewGuid().ToString("N"));
        private SqliteMetadataStore? store;

        public IMetadataStore Store => store!;

        public string DatabasePath => Path.Combine(directory, "wharf.db");

        public async ValueTask InitializeAsync()
        {
            store = new SqliteMetadataStore(DatabasePath);
            await store.MigrateAsync(CancellationToken.None);
            await store.Public.EnsureRegistryAsync(AccountId.Parse("111111111111"), "alpha", DateTimeOffset.UnixEpoch, CancellationToken.None);
            // Seeded in SQL, as many rows as the store's writes would make, in a fraction of the time.
            await ExecuteAsync(
                $"""
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {Count - 1})
                INSERT INTO repositories (account, region, name, created_at) SELECT '111111111111', '_public', 'app' || printf('%05d', i), 0 FROM n;
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {Count - 1})
                INSERT INTO repositories (account, region, name, created_at) SELECT '222222222222', 'us-east-1', 'private' || printf('%05d', i), 0 FROM n;
                INSERT INTO public_search_terms SELECT name, id FROM repositories WHERE region = '_public';
                INSERT INTO public_search_terms SELECT 'service', id FROM repositories WHERE region = '_public';
                INSERT INTO public_search_terms SELECT 'group' || (id % 100), id FROM repositories WHERE region = '_public';
                INSERT INTO public_catalogs (repository_id, description, architectures, operating_systems)
                    SELECT id, 'service', CASE WHEN id % 2 = 0 THEN '["ARM 64"]' ELSE '["x86-64"]' END, '["Linux"]' FROM repositories WHERE region = '_public';
                INSERT INTO public_platforms SELECT 'a', CASE WHEN id % 2 = 0 THEN 'arm 64' ELSE 'x86-64' END, id FROM repositories WHERE region = '_public';
                INSERT INTO public_platforms SELECT 'o', 'linux', id FROM repositories WHERE region = '_public';
                """);
        }

        public async ValueTask DisposeAsync()
        {
            await store!.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }

        private async Task ExecuteAsync(string sql)
        {
            await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
            await connection.OpenAsync(CancellationToken.None);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
