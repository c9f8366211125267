using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;
using Wharf.Metadata.Sqlite;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// Issue 19's scale fixes on SQLite, read in the plans (EXPLAIN QUERY PLAN): every keyset page starts at its cursor
/// in one index range (a page deep in the keyspace costs what the first does), a page of ListImages reads two
/// ranges and sorts only a page's rows, an image's tags are one range of (repository, digest, name), and the GC scan
/// finds candidates outside the write transaction and claims them by key. Speed itself is bench/scale/run's.
/// </summary>
public sealed partial class ScalePlanTests : IAsyncLifetime
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-scale-plan-" + Guid.NewGuid().ToString("N"));
    private SqliteMetadataStore? store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(directory, "wharf.db");

    private SqliteDialect Dialect => new(new SqliteDatabase(DatabasePath));

    public static TheoryData<TagStatus, ImageStatusFilter, bool> ImagePages
    {
        get
        {
            var data = new TheoryData<TagStatus, ImageStatusFilter, bool>();
            foreach (var status in new[] { TagStatus.Any, TagStatus.Tagged, TagStatus.Untagged })
            {
                foreach (var imageStatus in new[] { ImageStatusFilter.Active, ImageStatusFilter.Archived, ImageStatusFilter.Any })
                {
                    data.Add(status, imageStatus, false);
                    data.Add(status, imageStatus, true);
                }
            }

            return data;
        }
    }

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

    [Fact]
    public async Task A_catalog_page_after_a_name_starts_at_it_in_the_repositories_key()
    {
        (string, object?)[] parameters = [("account", "123456789012"), ("region", "us-east-1"), ("after", "team/app"), ("limit", 101)];
        AssertRange(await PlanAsync(RepositoryStore.ListSql("team/app"), parameters), "repositories", "name>?");
        AssertRange(await PlanAsync(RepositoryStore.ListSql(null), parameters), "repositories", "region=?");
    }

    [Fact]
    public async Task A_tags_page_after_a_tag_starts_at_it_in_the_tags_key()
    {
        (string, object?)[] parameters = [("repository", 7L), ("last", "v1.2"), ("limit", 101)];
        AssertRange(await PlanAsync(ImageStore.ListTagsSql("v1.2"), parameters), "tags", "name>?");
        AssertRange(await PlanAsync(ImageStore.ListTagsSql(null), parameters), "tags", "repository_id=?");
    }

    [Theory]
    [MemberData(nameof(ImagePages))]
    public async Task A_DescribeImages_page_starts_at_its_cursor_in_the_manifests_key(TagStatus status, ImageStatusFilter imageStatus, bool deep)
    {
        Digest? after = deep ? Digest.Sha256Of([1]) : null;
        var plan = await PlanAsync(ImageStore.DescribeImagesSql(Dialect, status, imageStatus, after), [("repository", 7L), ("after", after?.ToString()), ("limit", 101)]);

        AssertRange(plan, "m", deep ? "digest>?" : "repository_id=?");
        Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ImagePages))]
    public async Task A_ListImages_page_reads_from_its_cursor_and_sorts_only_a_page(TagStatus status, ImageStatusFilter imageStatus, bool deep)
    {
        var plan = await PlanAsync(
            ImageIdQueries.Page(Dialect, status, imageStatus, deep),
            [("repository", 7L), ("afterDigest", Digest.Sha256Of([1]).ToString()), ("afterTag", "v1"), ("limit", 101)]);

        if (status != TagStatus.Untagged)
        {
            AssertRange(plan, "t", deep ? "(digest,name)>(?,?)" : "repository_id=?", "tags_digest_name");
        }

        // Both halves: the untagged one ends at the tagged page's last digest.
        if (status != TagStatus.Tagged)
        {
            AssertRange(plan, "m", (deep, status) switch { (true, TagStatus.Any) => "digest>? AND digest<?", (true, _) => "digest>?", (false, TagStatus.Any) => "digest<?", _ => "repository_id=?" });
        }

        // Only the merge of the two halves' pages (at most 2 × limit rows) is sorted.
        Assert.Equal(status == TagStatus.Any ? 1 : 0, plan.Count(line => line.Contains("TEMP B-TREE", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_images_tags_are_one_range_of_the_tags_by_digest_index_in_name_order()
    {
        var plan = await PlanAsync(LifecycleStore.TagsOfImageSql, [("repository", 7L), ("digest", Digest.Sha256Of([1]).ToString())]);

        AssertRange(plan, "tags", "digest=?", "tags_digest_name");
        Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(LifecycleImageOrder.YoungestFirst, "manifests_lifecycle")]
    [InlineData(LifecycleImageOrder.OldestPushedFirst, "manifests_pushed")]
    public async Task A_lifecycle_page_starts_at_its_cursor_in_its_index_and_sorts_nothing(LifecycleImageOrder order, string index)
    {
        (string, object?)[] cursor = [("repository", 7L), ("limit", 500), ("at", 1000L), ("digest", Digest.Sha256Of([1]).ToString())];
        foreach (var hasCursor in new[] { false, true })
        {
            var page = await PlanAsync(LifecycleStore.ImagesPageSql(order, hasCursor), cursor);
            AssertRange(page, "m", hasCursor ? "(" : "repository_id=?", index);
            Assert.DoesNotContain(page, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));

            // The page's tags: the same range of the same index, each image's tags one range of tags_digest_name.
            var tags = await PlanAsync(LifecycleStore.TagsPageSql(order, hasCursor), [.. cursor, ("lastAt", 900L), ("lastDigest", Digest.Sha256Of([2]).ToString())]);
            AssertRange(tags, "m", "(", index);
            AssertRange(tags, "t", "digest=?", "tags_digest_name");
        }
    }

    [Fact]
    public async Task The_gc_scan_reads_one_range_of_old_live_blobs_and_the_claim_finds_its_candidates_by_key()
    {
        var scan = await PlanAsync(SqliteBlobIndex.ScanSql(from: true), [("cutoff", 1000L), ("fromAt", 10L), ("fromRow", 3L), ("limit", 500)]);
        AssertRange(scan, "b", "touched_at>?", "blobs_state_touched");
        Assert.DoesNotContain(scan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));

        var claim = await PlanAsync(SqliteBlobIndex.ClaimSql, [("digests", "[\"sha256:00\"]"), ("cutoff", 1000L)]);
        AssertRange(claim, "blobs", "digest=?", "sqlite_autoindex_blobs_1");
    }

    // A SEARCH of the table (alias) through the index with the condition shown; no SCAN but of json_each and of
    // the page subqueries (a, b, ids: co-routines of at most a page each).
    /// <summary>A manifest GET's and a blob HEAD's one statement (the repository joined to what the request reads) finds every row by its key.</summary>
    [Fact]
    public async Task The_one_statement_reads_of_a_manifest_GET_and_a_blob_HEAD_find_each_row_by_its_key()
    {
        (string, object?)[] key = [("account", "123456789012"), ("region", "us-east-1"), ("name", "team/app")];
        var digest = Digest.Sha256Of([1]).ToString();

        var byTag = await PlanAsync(ImageStore.FindByTag, [.. key, ("tag", "v1")]);
        AssertRange(byTag, "r", "name=?");
        AssertRange(byTag, "t", "repository_id=? AND name=?");
        AssertRange(byTag, "m", "repository_id=? AND digest=?");

        var byDigest = await PlanAsync(ImageStore.FindByDigest, [.. key, ("digest", digest)]);
        AssertRange(byDigest, "r", "name=?");
        AssertRange(byDigest, "m", "repository_id=? AND digest=?");

        var blob = await PlanAsync(BlobIndex.FindLinkedSql, [.. key, ("digest", digest)]);
        AssertRange(blob, "r", "name=?");
        AssertRange(blob, "l", "repository_id=? AND digest=?");
        AssertRange(blob, "b", "digest=?");
    }

    private static void AssertRange(List<string> plan, string table, string range, string? index = null)
    {
        var all = string.Join(" | ", plan);
        Assert.DoesNotContain(plan, line => ScanOfATable().IsMatch(line));
        Assert.True(
            plan.Any(line => line.Contains($"SEARCH {table} USING ", StringComparison.Ordinal) && line.Contains(range, StringComparison.Ordinal)
                && (index is null || line.Contains(index, StringComparison.Ordinal))),
            $"no SEARCH {table} on {range} {index}: {all}");
    }

    [GeneratedRegex(@"SCAN (?!json_each|a$|b$|ids$)")]
    private static partial Regex ScanOfATable();

    private Task<List<string>> PlanAsync(string sql, IEnumerable<(string Name, object? Value)> parameters) =>
        SqlitePlans.ExplainAsync(DatabasePath, sql, parameters, Ct);
}
