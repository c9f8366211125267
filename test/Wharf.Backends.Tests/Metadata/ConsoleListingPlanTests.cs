using Microsoft.Data.Sqlite;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;
using Wharf.Metadata.Sqlite;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The web console's listings on SQLite read index ranges in the order they show, never a whole table and never a
/// sort of every row (SQLite's plan, read with EXPLAIN QUERY PLAN): a registry's repositories by name or creation
/// time, a page's counts and sizes, a repository's images newest first with every filter, and a page's tags.
/// Speed itself is measured by bench/console/run.
/// </summary>
public sealed class ConsoleListingPlanTests : IAsyncLifetime
{
    private static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), "us-east-1");
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-console-plan-" + Guid.NewGuid().ToString("N"));
    private SqliteMetadataStore? store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(directory, "wharf.db");

    public static TheoryData<RepositorySort, bool, bool, string?> RepositoryPages => new()
    {
        { RepositorySort.Name, false, false, null },
        { RepositorySort.Name, true, true, null },
        { RepositorySort.Name, false, true, "app" },
        { RepositorySort.Created, true, false, null },
        { RepositorySort.Created, false, true, null },
        { RepositorySort.Created, true, true, "app" },
    };

    public static TheoryData<TagStatus, string?, ImageStatusFilter, bool> ImagePages => new()
    {
        { TagStatus.Any, null, ImageStatusFilter.Any, false },
        { TagStatus.Any, null, ImageStatusFilter.Any, true },
        { TagStatus.Tagged, null, ImageStatusFilter.Active, true },
        { TagStatus.Untagged, null, ImageStatusFilter.Archived, false },
        { TagStatus.Any, "v1.", ImageStatusFilter.Any, false },
        { TagStatus.Tagged, "v1.", ImageStatusFilter.Active, true },
    };

    public async ValueTask InitializeAsync()
    {
        store = new SqliteMetadataStore(DatabasePath);
        await store.MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await store!.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Theory]
    [MemberData(nameof(RepositoryPages))]
    public async Task A_page_of_repositories_reads_one_index_range_in_order(RepositorySort sort, bool descending, bool deep, string? contains)
    {
        var after = deep ? new RepositoryCursor("team/app", DateTimeOffset.UnixEpoch.AddDays(1), 42) : null;
        var (sql, parameters) = RepositoryStore.BrowseQuery(Registry, new RepositoryBrowse(contains, sort, descending, after, 51));

        AssertIndexed(await PlanAsync(sql, parameters));
    }

    [Theory]
    [MemberData(nameof(ImagePages))]
    public async Task A_page_of_images_reads_the_repository_newest_first_without_sorting(TagStatus tagged, string? prefix, ImageStatusFilter status, bool deep)
    {
        var after = deep ? new ImageCursor(DateTimeOffset.UnixEpoch.AddDays(1), Digest.Sha256Of([1])) : null;
        var (sql, parameters) = ImageStore.BrowseImagesQuery(new SqliteDialect(new SqliteDatabase(DatabasePath)), 7, new ImageBrowse(tagged, prefix, status, after, 51));

        AssertIndexed(await PlanAsync(sql, parameters));
    }

    [Fact]
    public async Task Counts_sizes_and_tags_of_a_page_read_index_ranges()
    {
        AssertIndexed(await PlanAsync(RepositoryStore.StatisticsSql, [("id", 7L)]));

        var dialect = new SqliteDialect(new SqliteDatabase(DatabasePath));
        var plan = await PlanAsync(ImageStore.TagsOfPageSql(dialect), [("repository", 7L), ("digests", dialect.ListValue([Digest.Sha256Of([1]).ToString()]))]);
        AssertIndexed(plan);
        Assert.Contains(plan, line => line.Contains("tags_digest_name", StringComparison.Ordinal));
    }

    // SCAN is a whole table or index read (json_each, the bound list of digests, aside); a temporary B-tree a sort of every row read.
    private static void AssertIndexed(List<string> plan)
    {
        Assert.DoesNotContain(plan, line => line.Contains("SCAN ", StringComparison.Ordinal) && !line.Contains("json_each", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.Contains(plan, line => line.Contains("SEARCH ", StringComparison.Ordinal));
    }

    private Task<List<string>> PlanAsync(string sql, IEnumerable<(string Name, object? Value)> parameters) =>
        SqlitePlans.ExplainAsync(DatabasePath, sql, parameters, Ct);
}
