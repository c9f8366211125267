using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Metadata.Sqlite;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The contract on SQLite, one temporary database file per test.</summary>
public sealed partial class SqliteMetadataStoreTests : MetadataStoreContract, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wharf-sqlite-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_directory, "nested", "metadata.db");

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        var store = new SqliteMetadataStore(DatabasePath);
        await store.MigrateAsync(Ct);
        return store;
    }

    private protected override bool IdsCommitInOrder => true;

    private protected override async Task<IMetadataStore> OpenAgainAsync()
    {
        var store = new SqliteMetadataStore(DatabasePath);
        await store.MigrateAsync(Ct);
        return store;
    }

    private protected override async Task<OpenEventWrite> BeginEventWriteAsync(IMetadataStore store, OutboxEvent evt) =>
        await OpenEventWrite.BeginAsync(new SqliteDialect(new SqliteDatabase(((SqliteMetadataStore)store).DatabasePath)), evt, null, Ct);

    [Fact]
    public async Task Reopening_the_file_keeps_the_data_and_applies_no_migration_again()
    {
        long repositoryId;
        await using (var first = await CreateStoreAsync())
        {
            repositoryId = (await CreateRepoAsync(first)).Id;
        }

        var appliedBefore = await ReadMigrationsAsync();
        await using var reopened = new SqliteMetadataStore(DatabasePath);
        await reopened.MigrateAsync(Ct);

        Assert.Equal(repositoryId, (await reopened.Repositories.GetAsync(RepoKey("team/app"), Ct))?.Id);
        Assert.Equal(appliedBefore, await ReadMigrationsAsync());
        Assert.Equal(SqliteMigrator.Embedded.Select(m => (long)m.Version), appliedBefore.Select(m => m.Version));
    }

    [Fact]
    public async Task The_database_is_in_WAL_mode_with_foreign_keys_enforced()
    {
        await using var store = await CreateStoreAsync();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", await command.ExecuteScalarAsync(Ct));
        // The store's own connections enforce foreign keys: an upload for no repository is refused.
        await Assert.ThrowsAnyAsync<Exception>(() => store.Uploads.CreateAsync(new UploadSession("u1", 424242, 0, T0, T0.AddHours(1)), Ct));
    }

    [Fact]
    public async Task Migrate_refuses_a_database_from_a_newer_wharf()
    {
        await using (var store = await CreateStoreAsync())
        {
            await ExecuteAsync("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)");
        }

        await using var reopened = new SqliteMetadataStore(DatabasePath);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => reopened.MigrateAsync(Ct));
        Assert.Contains("9999", error.Message);
    }

    [Fact]
    public async Task Concurrent_migrations_of_a_new_file_from_several_stores_apply_each_version_once()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => new SqliteMetadataStore(DatabasePath)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync(Ct), Ct)));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }

        Assert.Equal(SqliteMigrator.Embedded.Select(m => (long)m.Version), (await ReadMigrationsAsync()).Select(m => m.Version));
    }

    [Fact]
    public async Task A_pooled_connection_left_inside_a_transaction_comes_back_outside_it()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);

        // A transaction begun by statement, not by the ADO.NET object, survives the end of the use that began it.
        await using (var leaky = await database.LeaseAsync(Ct))
        {
            await using var begin = leaky.Connection.CreateCommand();
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        await using var reused = await database.LeaseAsync(Ct);
        Assert.Equal(1, database.Opened);
        Assert.NotEqual(0, SQLitePCL.raw.sqlite3_get_autocommit(((Microsoft.Data.Sqlite.SqliteConnection)reused.Connection).Handle));

        // And the writer lock it held is free: another write goes through at once.
        await CreateRepoAsync(store);
    }

    /// <summary>
    /// Concurrent leases never share one native handle. Microsoft.Data.Sqlite's own pool before 10.0.13 could lend a
    /// pooled connection to two owners at once (its activation published "active" before the owner, and a competing
    /// open reclaimed it as leaked): two requests then ran in one transaction, and one's ROLLBACK ended the other's
    /// write (dotnet/efcore#39008; the crash test met it as a 500). The store now pools its own connections; waves of
    /// concurrent leases, each held while the handles are compared, as that reproducer does, some waves on
    /// an empty pool and some on one that holds connections given back.
    /// </summary>
    [Fact]
    public async Task Concurrent_opens_never_share_a_native_handle()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);
        const int Width = 16;
        for (var wave = 0; wave < 250; wave++)
        {
            using var start = new Barrier(Width);
            var opens = Enumerable.Range(0, Width).Select(_ => Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait(TimeSpan.FromSeconds(10));
                    return database.LeaseAsync(Ct).AsTask().GetAwaiter().GetResult();
                },
                Ct,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)).ToArray();
            var leases = await Task.WhenAll(opens);
            try
            {
                var handles = leases.Select(l => ((Microsoft.Data.Sqlite.SqliteConnection)l.Connection).Handle!.DangerousGetHandle()).Distinct().Count();
                Assert.True(handles == Width, $"wave {wave}: {Width} leased connections share {handles} native handles");
            }
            finally
            {
                foreach (var lease in leases)
                {
                    await lease.DisposeAsync();
                }

                if (wave % 2 == 0)
                {
                    database.ClearPool();
                }
            }
        }
    }

    [Fact]
    public async Task Every_leased_connection_has_the_settings_in_force_new_or_reused()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);
        for (var round = 0; round < 2; round++)
        {
            // More at once than the pool keeps: the first round opens them all, the second reuses the ones kept and opens the rest.
            var leases = new List<SqliteLease>();
            for (var i = 0; i < SqliteDatabase.MaxIdle + 4; i++)
            {
                leases.Add(await database.LeaseAsync(Ct));
            }

            foreach (var lease in leases)
            {
                Assert.Equal(1L, await PragmaAsync(lease, "foreign_keys"));
                Assert.Equal(1L, await PragmaAsync(lease, "synchronous")); // NORMAL
                Assert.Equal(15000L, await PragmaAsync(lease, "busy_timeout"));
                await lease.DisposeAsync();
            }
        }

        Assert.Equal((2 * (SqliteDatabase.MaxIdle + 4)) - SqliteDatabase.MaxIdle, database.Opened);
    }

    [Fact]
    public async Task A_connection_reused_after_a_failed_write_is_clean()
    {
        await using var store = await CreateStoreAsync();
        var database = new Wharf.Metadata.Relational.Database(new SqliteDialect(((SqliteMetadataStore)store).Connections));
        var opened = ((SqliteMetadataStore)store).Connections.Opened;

        // A write that inserts, then fails on a constraint: the transaction rolls back, the failed command is not kept.
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => database.WriteAsync(
            async s =>
            {
                await s.ExecuteAsync("INSERT INTO job_leases (job, owner, expires_at) VALUES ('failed', 'a', 0)", [], Ct);
                await s.ExecuteAsync("INSERT INTO job_leases (job, owner, expires_at) VALUES ('failed', 'b', 0)", [], Ct);
            },
            Ct));

        // The next use has the same connection, outside any transaction, and sees nothing of the failed write.
        Assert.Equal(0L, await database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM job_leases WHERE job = 'failed'", [], Ct), Ct));
        await database.WriteAsync(s => s.ExecuteAsync("INSERT INTO job_leases (job, owner, expires_at) VALUES ('failed', 'c', 0)", [], Ct), Ct);
        Assert.Equal(opened, ((SqliteMetadataStore)store).Connections.Opened);
        Assert.Equal("c", await ReadScalarAsync("SELECT owner FROM job_leases WHERE job = 'failed'"));
    }

    [Fact]
    public async Task Commands_are_kept_per_connection_and_reused_for_the_same_statement()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);
        System.Data.Common.DbCommand first;
        await using (var lease = await database.LeaseAsync(Ct))
        {
            first = lease.Rent("SELECT count(*) FROM repositories WHERE name = @name");
            first.Parameters.Add(new Microsoft.Data.Sqlite.SqliteParameter("name", "a"));
            Assert.Equal(0L, await first.ExecuteScalarAsync(Ct));
            lease.Return(first, failed: false);
        }

        await using (var lease = await database.LeaseAsync(Ct))
        {
            var again = lease.Rent("SELECT count(*) FROM repositories WHERE name = @name");
            Assert.Same(first, again);
            Assert.Empty(again.Parameters); // given back without the last use's values

            // While it is rented, the same statement gets a command of its own; a failed one is not kept.
            var concurrent = lease.Rent("SELECT count(*) FROM repositories WHERE name = @name");
            Assert.NotSame(again, concurrent);
            lease.Return(concurrent, failed: true);
            lease.Return(again, failed: false);
            Assert.Equal(1, ((SqliteLease)lease).CachedCommands);

            // A command never crosses connections: another lease at the same time has its own.
            await using var other = await database.LeaseAsync(Ct);
            Assert.NotSame(first, other.Rent("SELECT count(*) FROM repositories WHERE name = @name"));
        }
    }

    [Fact]
    public async Task A_connection_keeps_at_most_its_bound_of_commands_dropping_the_least_recently_used()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);
        await using var lease = (SqliteLease)await database.LeaseAsync(Ct);
        var hot = lease.Rent("SELECT 0");
        lease.Return(hot, failed: false);
        for (var i = 1; i <= SqliteLease.MaxCommands + 10; i++)
        {
            lease.Return(lease.Rent($"SELECT {i}"), failed: false);
            if (i % 8 == 0)
            {
                // Used again now and then: it stays while the others come and go.
                Assert.Same(hot, lease.Rent("SELECT 0"));
                lease.Return(hot, failed: false);
            }
        }

        Assert.Equal(SqliteLease.MaxCommands, lease.CachedCommands);
        Assert.Same(hot, lease.Rent("SELECT 0"));
        Assert.Equal(SqliteLease.MaxCommands - 1, lease.CachedCommands);
        lease.Return(hot, failed: false);
    }

    [Fact]
    public async Task A_kept_command_holds_no_snapshot_and_follows_changes_made_by_other_connections()
    {
        await using var store = await CreateStoreAsync();
        var database = new Wharf.Metadata.Relational.Database(new SqliteDialect(((SqliteMetadataStore)store).Connections));
        await ExecuteAsync("CREATE TABLE probe (v INTEGER); INSERT INTO probe VALUES (1), (2)");
        const string Sql = "SELECT v FROM probe ORDER BY v";
        var opened = ((SqliteMetadataStore)store).Connections.Opened;

        // A single-row read of a two-row result leaves its kept statement stepped part-way, unless it is reset.
        Assert.Equal("1", await database.ReadAsync(s => s.SingleAsync(Sql, r => r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), [], Ct), Ct));

        // No reader holds the WAL: a checkpoint from another connection copies all of it back.
        await ExecuteAsync("INSERT INTO probe VALUES (0)");
        Assert.Equal("0", await ReadScalarAsync("PRAGMA wal_checkpoint(TRUNCATE)"));

        // The kept command sees the new row, then the table another connection dropped and made again.
        Assert.Equal("0", await database.ReadAsync(s => s.SingleAsync(Sql, r => r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), [], Ct), Ct));
        await ExecuteAsync("DROP TABLE probe; CREATE TABLE probe (w TEXT, v INTEGER); INSERT INTO probe VALUES ('x', 7)");
        Assert.Equal("7", await database.ReadAsync(s => s.SingleAsync(Sql, r => r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), [], Ct), Ct));
        Assert.Equal(opened, ((SqliteMetadataStore)store).Connections.Opened); // one connection, its command kept throughout
    }

    [Fact]
    public async Task Clearing_the_pool_closes_idle_connections_and_leased_ones_when_given_back()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);
        var idle = await database.LeaseAsync(Ct);
        var leased = await database.LeaseAsync(Ct);
        await idle.DisposeAsync();

        database.ClearPool();
        Assert.Equal(System.Data.ConnectionState.Closed, idle.Connection.State);
        Assert.Equal(System.Data.ConnectionState.Open, leased.Connection.State);
        await leased.DisposeAsync();
        Assert.Equal(System.Data.ConnectionState.Closed, leased.Connection.State);

        await using var next = await database.LeaseAsync(Ct);
        Assert.Equal(3, database.Opened);
    }

    [Fact]
    public async Task A_lease_disposed_twice_goes_back_to_the_pool_once()
    {
        await using var store = await CreateStoreAsync();
        var database = new SqliteDatabase(DatabasePath);
        var lease = await database.LeaseAsync(Ct);
        await lease.DisposeAsync();
        await lease.DisposeAsync();

        // Pooled twice, the one connection would now be lent to both.
        await using var first = await database.LeaseAsync(Ct);
        await using var second = await database.LeaseAsync(Ct);
        Assert.NotSame(first.Connection, second.Connection);
        Assert.Equal(2, database.Opened);
    }

    [Fact]
    public async Task Write_transactions_take_the_writer_lock_before_their_first_statement()
    {
        await using var store = await CreateStoreAsync();
        var database = new Wharf.Metadata.Relational.Database(new SqliteDialect(new SqliteDatabase(DatabasePath)));
        var inside = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var writer = database.WriteAsync(
            async _ =>
            {
                // No statement has run yet: only BEGIN IMMEDIATE can be holding the lock.
                inside.SetResult();
                await release.Task;
                return true;
            },
            Ct);
        await inside.Task;

        await using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await other.OpenAsync(Ct);
        await using var write = other.CreateCommand();
        write.CommandText = "INSERT INTO job_leases (job, owner, expires_at) VALUES ('probe', 'probe', 0)";
        write.CommandTimeout = 1;
        var error = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => write.ExecuteNonQueryAsync(Ct));

        release.SetResult();
        await writer;
        Assert.Equal(5, error.SqliteErrorCode); // SQLITE_BUSY
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Upgrading_a_version_1_database_keeps_its_images_and_computes_their_sizes()
    {
        // A database as the foundation release left it: schema 1 with an image in it.
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var resource = typeof(SqliteMetadataStore).Assembly.GetManifestResourceStream("Migrations.0001_initial.sql")!;
            using var reader = new StreamReader(resource);
            var layer = BlobDigest("layer");
            var config = BlobDigest("config");
            await using var command = connection.CreateCommand();
            command.CommandText = await reader.ReadToEndAsync(Ct) + $"""
                ;CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
                INSERT INTO schema_migrations VALUES (1, 0);
                INSERT INTO repositories (account, region, name, created_at) VALUES ('123456789012', 'us-east-1', 'old/app', 0);
                INSERT INTO blobs VALUES ('{layer}', 700, 'live', 0), ('{config}', 30, 'live', 0);
                INSERT INTO repository_blobs VALUES (1, '{layer}', 0), (1, '{config}', 0);
                INSERT INTO manifests (repository_id, digest, media_type, content, pushed_at) VALUES (1, 'sha256:{new string('a', 64)}', 'application/vnd.oci.image.manifest.v1+json', x'7b7d', 0);
                INSERT INTO manifest_blobs VALUES (1, 'sha256:{new string('a', 64)}', '{layer}'), (1, 'sha256:{new string('a', 64)}', '{config}');
                INSERT INTO tags VALUES (1, 'v1', 'sha256:{new string('a', 64)}', 0);
                """;
            await command.ExecuteNonQueryAsync(Ct);
        }

        await using var store = new SqliteMetadataStore(DatabasePath);
        await store.MigrateAsync(Ct);
        var repo = await store.Repositories.GetAsync(RepoKey("old/app"), Ct);
        Assert.Equal(RepositorySettings.Default, repo!.Settings);
        var image = Assert.Single(await store.Images.DescribeImagesAsync(repo.Id, TagStatus.Any, null, 10, Ct));
        Assert.Equal(730, image.Size);
        Assert.Equal(["v1"], image.Tags);
    }

    [Fact]
    public async Task The_gc_scan_reads_while_a_push_holds_the_writer_lock()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var loose = await UploadBlobAsync(store, repo.Id, "loose");

        // A push mid-transaction: before, the scan ran inside BEGIN IMMEDIATE and waited out the push (or the busy timeout).
        await using var push = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await push.OpenAsync(Ct);
        await using var transaction = push.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);
        await using (var insert = push.CreateCommand())
        {
            insert.CommandText = "INSERT INTO blobs (digest, size, state, touched_at) VALUES ('sha256:pushing', 1, 'live', 0)";
            await insert.ExecuteNonQueryAsync(Ct);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(5));
        var candidates = await ((SqliteBlobIndex)store.Blobs).ScanAsync(T0.AddHours(1), null, 10, deadline.Token);

        Assert.Equal([loose.ToString()], candidates.Select(c => c.Digest));
        await transaction.RollbackAsync(Ct);
    }

    [Fact]
    public async Task A_candidate_referenced_or_touched_after_the_gc_scan_is_not_claimed()
    {
        await using var store = await CreateStoreAsync();
        var blobs = (SqliteBlobIndex)store.Blobs;
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        var reserved = await UploadBlobAsync(store, repo.Id, "reserved");
        var loose = await UploadBlobAsync(store, repo.Id, "loose");
        var cutoff = T0.AddHours(1);
        var candidates = await blobs.ScanAsync(cutoff, null, 10, Ct);
        Assert.Equal(3, candidates.Count);

        // Between the scan and the claim: a push references one, an upload reserves another again.
        await PutAsync(store, Image(repo.Id, "one", [layer], tag: "v1"));
        Assert.Equal(BlobReservation.Reserved, await store.Blobs.ReserveBlobAsync(reserved, 100, T0.AddHours(2), Ct));

        Assert.Equal([loose], (await blobs.ClaimAsync(candidates, cutoff, Ct)).Select(b => b.Digest));
        Assert.NotNull(await store.Blobs.GetBlobAsync(layer, Ct));
        Assert.NotNull(await store.Blobs.GetBlobAsync(reserved, Ct));
        Assert.Empty(await store.Blobs.ClaimGarbageAsync(cutoff, 10, Ct));
    }

    [Fact]
    public async Task Gc_scan_pages_split_between_equal_touch_times_lose_and_repeat_nothing()
    {
        await using var store = await CreateStoreAsync();
        var blobs = (SqliteBlobIndex)store.Blobs;
        var repo = await CreateRepoAsync(store);
        var expected = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            expected.Add((await UploadBlobAsync(store, repo.Id, "same-time-" + i, T0.AddMinutes(i / 3))).ToString());
        }

        var seen = new List<string>();
        GcCandidate? from = null;
        while (await blobs.ScanAsync(T0.AddHours(1), from, 2, Ct) is { Count: > 0 } page)
        {
            seen.AddRange(page.Select(c => c.Digest));
            from = page[^1];
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.Equal(7, seen.Count);
    }

    private async Task<List<(long Version, long AppliedAt)>> ReadMigrationsAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, applied_at FROM schema_migrations ORDER BY version";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(long, long)>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add((reader.GetInt64(0), reader.GetInt64(1)));
        }

        return rows;
    }

    private static async Task<long> PragmaAsync(Wharf.Metadata.Relational.ConnectionLease lease, string name)
    {
        await using var command = lease.Connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private async Task<string?> ReadScalarAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }
}
