using System.Diagnostics;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;
using Wharf.Metadata.Sqlite;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Metadata;

// SQLite's read cache of manifest and linked-blob reads (ReadCache) and its change stamp, the WAL-index header
// (SqliteWalWatch): served while nothing committed, exact against commits of this store, of another store on the
// file and of another process (the sqlite3 shell), bounded in entries and bytes.
public sealed partial class SqliteMetadataStoreTests
{
    private static readonly Reference V1 = Reference.Of(Tag.Parse("v1"));

    [Fact]
    public async Task The_stamp_is_armed_after_migrating_and_a_repeated_read_is_served_from_the_cache()
    {
        await using var store = (SqliteMetadataStore)await CreateStoreAsync();
        Assert.True(store.Connections.Watch.IsArmed, store.Connections.Watch.NotArmedBecause);
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));

        var first = await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct);
        var second = await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct);
        Assert.Same(first?.Manifest, second?.Manifest);
        var blob = await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct);
        Assert.Same(blob?.Blob, (await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct))?.Blob);
        Assert.Equal(2, store.ReadCache!.Count);

        // A write through this store, even of something else, changes the stamp: the next read goes to the file.
        await CreateRepoAsync(store, "team/other");
        var third = await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct);
        Assert.NotSame(first?.Manifest, third?.Manifest);
        Assert.Equal(first?.Manifest?.Digest, third?.Manifest?.Digest);
    }

    [Fact]
    public async Task A_tag_moved_or_deleted_by_another_process_is_seen_by_the_next_read()
    {
        var sqlite3 = Requires.Tool("sqlite3");
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var one = await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        var two = await PutAsync(store, Image(repo.Id, "two", [layer], tag: "v2"));
        Assert.Equal(one.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);
        Assert.Equal(one.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);

        await RunAsync(sqlite3, $"UPDATE tags SET digest = '{two.Digest}' WHERE name = 'v1'");
        Assert.Equal(two.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);
        Assert.Equal(two.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);

        await RunAsync(sqlite3, "DELETE FROM tags WHERE name = 'v1'");
        Assert.Null((await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest);

        // A checkpoint by another process commits nothing; reads still follow later commits.
        await RunAsync(sqlite3, "PRAGMA wal_checkpoint(TRUNCATE)");
        Assert.Null((await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest);
        await RunAsync(sqlite3, "INSERT INTO tags (repository_id, name, digest, updated_at) SELECT repository_id, 'v1', digest, updated_at FROM tags WHERE name = 'v2'");
        Assert.Equal(two.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);
    }

    [Fact]
    public async Task The_cache_keeps_at_most_its_bound_of_entries()
    {
        await using var store = (SqliteMetadataStore)await CreateStoreAsync();
        for (var i = 0; i < ReadCache.MaxEntries + 100; i++)
        {
            Assert.Null(await store.Images.FindManifestAsync(RepoKey($"team/none-{i}"), V1, Ct));
        }

        Assert.Equal(ReadCache.MaxEntries, store.ReadCache!.Count);

        // Past the bound a read is answered, not kept; the first write empties the cache at the next read.
        var repo = await CreateRepoAsync(store, "team/none-5000");
        Assert.Equal(repo.Id, (await store.Images.FindManifestAsync(RepoKey("team/none-5000"), V1, Ct))?.Repository.Id);
        Assert.Equal(1, store.ReadCache.Count);
    }

    [Fact]
    public async Task The_cache_keeps_at_most_its_bound_of_bytes()
    {
        await using var store = (SqliteMetadataStore)await CreateStoreAsync();
        var watch = new FixedWatch();
        var cache = new ReadCache(new Database(new SqliteDialect(store.Connections)), watch, maxEntries: 100, maxBytes: 3 * (1000 + ReadCache.EntryOverhead));
        var key = RepoKey("team/app");
        for (var i = 0; i < 5; i++)
        {
            var readKey = new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, $"t{i}");
            Assert.False(cache.TryGet(readKey, out var stamp, out _));
            cache.Add(readKey, stamp!.Value, $"value {i}", 1000);
        }

        Assert.Equal(3, cache.Count);
        Assert.Equal(3 * (1000 + ReadCache.EntryOverhead), cache.Bytes);
        Assert.True(cache.TryGet(new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, "t2"), out _, out var kept));
        Assert.Equal("value 2", kept);
        Assert.False(cache.TryGet(new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, "t3"), out _, out _));

        // A new stamp: nothing kept is served, and the next read kept starts the cache anew.
        watch.Stamp = new ChangeStamp(2, 0, 0, 0, 0, 0);
        Assert.False(cache.TryGet(new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, "t2"), out var fresh, out _));
        cache.Add(new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, "t2"), fresh!.Value, "new", 10);
        Assert.Equal(1, cache.Count);

        // A read taken under an older stamp is not kept.
        watch.Stamp = new ChangeStamp(3, 0, 0, 0, 0, 0);
        cache.Add(new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, "t4"), fresh.Value, "stale", 10);
        Assert.False(cache.TryGet(new ReadCache.ReadKey(ReadCache.Kind.ManifestByTag, key, "t4"), out _, out _));
    }

    [Fact]
    public async Task A_disposed_store_reads_no_stamp()
    {
        var store = (SqliteMetadataStore)await CreateStoreAsync();
        var watch = store.Connections.Watch;
        Assert.True(watch.TryRead(out _));
        await store.DisposeAsync();
        Assert.False(watch.TryRead(out _));
        Assert.False(watch.IsArmed);
    }

    private async Task RunAsync(string sqlite3, string sql)
    {
        using var process = Process.Start(new ProcessStartInfo(sqlite3, [DatabasePath, sql]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = await process.StandardError.ReadToEndAsync(Ct);
        await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, error);
    }

    private sealed class FixedWatch : IChangeWatch
    {
        public ChangeStamp Stamp { get; set; } = new(1, 0, 0, 0, 0, 0);

        public bool TryRead(out ChangeStamp stamp)
        {
            stamp = Stamp;
            return true;
        }
    }
}
