using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Relational;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Metadata;

// PostgreSQL's read cache (ReadCache keyed by PgChangeWatch): served while nothing changed; this node's writes seen at
// once; another node's, or any session's (psql), within the bound B: a read that starts B after the other commit
// returned never serves what was read before it. Real PostgreSQL, two stores on one database as two nodes.
public sealed partial class PostgresMetadataStoreTests
{
    private static readonly Reference V1 = Reference.Of(Tag.Parse("v1"));

    // How long a test waits for the watch to come on (a listener and one heartbeat: milliseconds, on a busy machine more).
    private static readonly TimeSpan ComesOn = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_watch_starts_at_the_first_read_and_a_repeated_read_is_served_from_the_cache()
    {
        await using var store = (PostgresMetadataStore)await CreateStoreAsync();
        var watch = store.Changes!;
        Assert.False(watch.IsListening);
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));

        await WaitCachedAsync(store, "team/app");
        var blob = await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct);
        Assert.Same(blob?.Blob, (await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct))?.Blob);
        Assert.True(store.ReadCache!.Count >= 2);
    }

    [Fact]
    public async Task A_write_on_the_same_node_is_seen_by_the_next_read_without_waiting()
    {
        await using var store = (PostgresMetadataStore)await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        await WaitCachedAsync(store, "team/app");

        var two = await PutAsync(store, Image(repo.Id, "two", [layer], tag: "v1"));
        Assert.Equal(two.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);
        Assert.True(await store.Images.DeleteTagAsync(repo.Id, "v1", Ct));
        Assert.Null((await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest);
        Assert.True(await store.Blobs.UnlinkBlobAsync(repo.Id, layer, Ct));
        Assert.Null((await store.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct))?.Blob);
    }

    [Fact]
    public async Task Another_node_moving_or_deleting_a_tag_or_manifest_is_seen_within_the_bound()
    {
        await using var node1 = (PostgresMetadataStore)await CreateStoreAsync();
        await using var node2 = await OpenAgainAsync();
        var bound = node1.Changes!.Bound;
        var repo = await CreateRepoAsync(node1);
        var layer = await UploadBlobAsync(node1, repo.Id, "layer");
        var one = await PutAsync(node1, Image(repo.Id, "one", [layer], tag: "v1"));
        var two = await PutAsync(node1, Image(repo.Id, "two", [layer], tag: "v2"));

        await WaitCachedAsync(node1, "team/app");
        await PutAsync(node2, Image(repo.Id, "two", [layer], tag: "v1"));
        await AssertSeenWithinAsync(node1, bound, async () => (await node1.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest == two.Digest);

        await WaitCachedAsync(node1, "team/app");
        Assert.True(await node2.Images.DeleteTagAsync(repo.Id, "v1", Ct));
        await AssertSeenWithinAsync(node1, bound, async () => (await node1.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest is null);

        // By digest: the manifest deleted by the other node.
        var byDigest = Reference.Of(one.Digest);
        await WaitCachedAsync(node1, "team/app", byDigest);
        Assert.Equal(DeleteManifestResult.Deleted, await node2.Images.DeleteManifestAsync(repo.Id, one.Digest, Ct));
        await AssertSeenWithinAsync(node1, bound, async () => (await node1.Images.FindManifestAsync(RepoKey("team/app"), byDigest, Ct))?.Manifest is null);
    }

    [Fact]
    public async Task Another_node_recreating_a_repository_or_unlinking_a_blob_is_seen_within_the_bound()
    {
        await using var node1 = (PostgresMetadataStore)await CreateStoreAsync();
        await using var node2 = await OpenAgainAsync();
        var bound = node1.Changes!.Bound;
        var repo = await CreateRepoAsync(node1);
        var layer = await UploadBlobAsync(node1, repo.Id, "layer");
        await PutAsync(node1, Image(repo.Id, "one", [layer], tag: "v1"));

        // The blob, read and kept, then unlinked on the other node.
        await WaitUntilAsync(async () => ReferenceEquals(
            (await node1.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct))?.Blob,
            (await node1.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct))?.Blob));
        Assert.True(await node2.Blobs.UnlinkBlobAsync(repo.Id, layer, Ct));
        await AssertSeenWithinAsync(node1, bound, async () => (await node1.Blobs.FindLinkedBlobAsync(RepoKey("team/app"), layer, Ct))?.Blob is null);

        // The repository, deleted and made again on the other node: a new id, no manifest.
        await WaitCachedAsync(node1, "team/app");
        Assert.True(await node2.Repositories.DeleteAsync(repo.Id, Ct));
        var again = await CreateRepoAsync(node2);
        await AssertSeenWithinAsync(node1, bound, async () =>
        {
            var found = await node1.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct);
            return found?.Repository.Id == again.Id && found.Value.Manifest is null;
        });
    }

    [Fact]
    public async Task A_write_by_another_session_outside_wharf_is_seen_within_the_bound()
    {
        await using var store = (PostgresMetadataStore)await CreateStoreAsync();
        var bound = store.Changes!.Bound;
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        var two = await PutAsync(store, Image(repo.Id, "two", [layer], tag: "v2"));

        await WaitCachedAsync(store, "team/app");
        await ExecuteAsync($"UPDATE tags SET digest = '{two.Digest}' WHERE name = 'v1'");
        await AssertSeenWithinAsync(store, bound, async () => (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest == two.Digest);

        await WaitCachedAsync(store, "team/app");
        await ExecuteAsync("TRUNCATE tags");
        await AssertSeenWithinAsync(store, bound, async () => (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest is null);
    }

    [Fact]
    public async Task A_killed_listener_turns_the_cache_off_at_once_and_on_again_after_it_reconnects()
    {
        await using var store = (PostgresMetadataStore)await CreateStoreAsync();
        var watch = store.Changes!;
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        var two = await PutAsync(store, Image(repo.Id, "two", [layer], tag: "v2"));
        await WaitCachedAsync(store, "team/app");
        var pid = watch.ListenerPid;
        var epoch = watch.Epoch;

        await ExecuteAsync($"SELECT pg_terminate_backend({pid})");
        await WaitUntilAsync(() => Task.FromResult(!watch.IsListening));
        Assert.False(watch.TryRead(out _));
        Assert.NotSame(
            (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest,
            (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest);

        // What changed while nobody listened is not served from before: the new listen drops every older stamp.
        await ExecuteAsync($"UPDATE tags SET digest = '{two.Digest}' WHERE name = 'v1'");
        await WaitCachedAsync(store, "team/app");
        Assert.NotEqual(pid, watch.ListenerPid);
        Assert.True(watch.Epoch > epoch);
        Assert.Equal(two.Digest, (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Manifest?.Digest);
    }

    [Fact]
    public async Task Without_a_heartbeat_back_within_the_bound_nothing_is_served_from_the_cache()
    {
        await using var store = (PostgresMetadataStore)await CreateStoreAsync();
        var watch = store.Changes!;
        await CreateRepoAsync(store);
        await WaitCachedAsync(store, "team/app");

        watch.HeartbeatsPaused = true;
        await Task.Delay(watch.Bound + watch.Heartbeat + TimeSpan.FromMilliseconds(50), Ct);
        Assert.False(watch.TryRead(out _));
        Assert.NotSame(
            (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Repository,
            (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Repository);

        watch.HeartbeatsPaused = false;
        await WaitCachedAsync(store, "team/app");
    }

    [Fact]
    public async Task Recording_pulls_does_not_change_the_stamp_but_a_column_the_cache_reads_does()
    {
        await using var node1 = (PostgresMetadataStore)await CreateStoreAsync();
        await using var node2 = await OpenAgainAsync();
        var repo = await CreateRepoAsync(node1);
        var layer = await UploadBlobAsync(node1, repo.Id, "layer");
        var one = await PutAsync(node1, Image(repo.Id, "one", [layer], tag: "v1"));
        await WaitCachedAsync(node1, "team/app");
        var watch = node1.Changes!;

        // A heartbeat sent after each write has come back once the stamp is on with a newer confirmation: wait two bounds.
        var before = watch.Generation;
        await node2.Images.RecordPullsAsync([new PullRecord(repo.Id, one.Digest, T0.AddDays(1))], Ct);
        await ExecuteAsync("UPDATE repositories SET lifecycle_evaluated_at = 1");
        await Task.Delay(2 * watch.Bound, Ct);
        Assert.Equal(before, watch.Generation);

        await ExecuteAsync("UPDATE manifests SET annotations = '{}'");
        await WaitUntilAsync(() => Task.FromResult(watch.Generation > before));
    }

    /// <summary>
    /// Migration 28 notifies an UPDATE only when it sets a column the cached statements read: every column they name
    /// must be in its triggers' lists, and every table they read must notify inserts, deletes and truncations.
    /// </summary>
    [Fact]
    public async Task The_triggers_cover_every_table_and_column_the_cached_statements_read()
    {
        var connectionString = await MigratedDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        var aliases = new Dictionary<string, string> { ["r"] = "repositories", ["t"] = "tags", ["m"] = "manifests", ["l"] = "repository_blobs", ["b"] = "blobs" };
        var read = new HashSet<(string Table, string Column)>();
        foreach (var sql in new[] { ImageStore.FindByTag, ImageStore.FindByDigest, BlobIndex.FindLinkedSql })
        {
            foreach (Match match in Regex.Matches(sql, @"\b([rtmlb])\.([a-z_]+)\b"))
            {
                read.Add((aliases[match.Groups[1].Value], match.Groups[2].Value));
            }
        }

        Assert.Equal(aliases.Values.Order(), read.Select(c => c.Table).Distinct().Order());
        var covered = new HashSet<(string, string)>();
        await using (var command = new NpgsqlCommand("SELECT event_object_table, event_object_column FROM information_schema.triggered_update_columns WHERE trigger_name LIKE '%\\_change\\_update'", connection))
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                covered.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        Assert.Empty(read.Except(covered));
        foreach (var table in aliases.Values)
        {
            // tgtype bits: 1 row-level (not set), 4 insert, 8 delete, 16 update, 32 truncate.
            await using var command = new NpgsqlCommand(
                "SELECT bool_or(tgtype & 1 = 0 AND tgtype & 4 <> 0 AND tgtype & 8 <> 0 AND tgtype & 32 <> 0) FROM pg_trigger WHERE tgrelid = @table::regclass AND tgfoid = 'wharf_notify_change'::regproc",
                connection);
            command.Parameters.AddWithValue("table", table);
            Assert.True(await command.ExecuteScalarAsync(Ct) is true, table);
        }
    }

    [Fact]
    public async Task With_the_read_cache_off_no_listener_is_opened_and_nothing_is_kept()
    {
        var connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync(Ct);
        await using var store = new PostgresMetadataStore(connectionString, TimeProvider.System, readCache: false);
        await store.MigrateAsync(Ct);
        await store.Repositories.CreateAsync(RepoKey("team/app"), T0, Ct);
        Assert.Null(store.Changes);
        Assert.Null(store.ReadCache);
        Assert.NotSame(
            (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Repository,
            (await store.Images.FindManifestAsync(RepoKey("team/app"), V1, Ct))?.Repository);
    }

    [Fact]
    public async Task A_disposed_store_reads_no_stamp_and_closes_its_listener()
    {
        var store = (PostgresMetadataStore)await CreateStoreAsync();
        await CreateRepoAsync(store);
        await WaitCachedAsync(store, "team/app");
        var watch = store.Changes!;
        var pid = watch.ListenerPid;
        await store.DisposeAsync();
        Assert.False(watch.TryRead(out _));
        Assert.False(watch.IsListening);
        await WaitUntilAsync(async () => !await ExistsAsync($"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"));
    }

    // Reads until two reads in a row return the same object: the watch is on and the entry is kept.
    private static Task WaitCachedAsync(PostgresMetadataStore store, string repository, Reference? reference = null) =>
        WaitUntilAsync(async () => ReferenceEquals(
            (await store.Images.FindManifestAsync(RepoKey(repository), reference ?? V1, Ct))?.Repository,
            (await store.Images.FindManifestAsync(RepoKey(repository), reference ?? V1, Ct))?.Repository));

    // The bound: a read that starts B after the other commit returned sees it, and so does every read after.
    private static async Task AssertSeenWithinAsync(PostgresMetadataStore store, TimeSpan bound, Func<Task<bool>> seen)
    {
        var committed = Stopwatch.StartNew();
        while (true)
        {
            var started = committed.Elapsed;
            if (await seen())
            {
                break;
            }

            Assert.True(started < bound, $"a read begun {started.TotalMilliseconds:F0} ms after the other commit served the old value (bound {bound.TotalMilliseconds:F0} ms)");
            await Task.Delay(5, Ct);
        }

        var wait = bound - committed.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, Ct);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.True(await seen());
        }

        Assert.NotNull(store.ReadCache);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < ComesOn, "the condition did not come true");
            await Task.Delay(10, Ct);
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<bool> ExistsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct) is not null;
    }
}
