using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Npgsql;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Sqlite;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// A start on a current schema only reads (issue 19, cold start): it takes no write lock and no
/// migration lock, so it neither queues behind a writer (a long GC transaction, another node's
/// migration) nor writes to the database.
/// </summary>
public sealed class MigrationFastPathTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10); // the SQLite busy timeout is 15 s

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wharf-migrate-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_directory, "metadata.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Migrating_a_current_SQLite_schema_takes_no_write_lock_and_writes_nothing()
    {
        Directory.CreateDirectory(_directory);
        await using (var first = new SqliteMetadataStore(DatabasePath))
        {
            await first.MigrateAsync(Ct);
        }

        SqliteConnection.ClearAllPools(); // the last connection checkpoints the WAL into the file
        var before = await HashAsync(DatabasePath);

        // Another process mid-write holds the writer lock for as long as this test needs.
        await using var writer = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await writer.OpenAsync(Ct);
        await using (var begin = writer.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        await using (var reopened = new SqliteMetadataStore(DatabasePath))
        {
            // Before the fast path this queued behind the writer (BEGIN IMMEDIATE) until the busy timeout.
            await reopened.MigrateAsync(Ct).WaitAsync(Patience, Ct);
        }

        await using (var rollback = writer.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(Ct);
        }

        await writer.CloseAsync();
        SqliteConnection.ClearAllPools();
        Assert.Equal(before, await HashAsync(DatabasePath));
        var walPath = DatabasePath + "-wal";
        Assert.True(!File.Exists(walPath) || new FileInfo(walPath).Length == 0, "the WAL has frames: something was written");
    }

    [Fact]
    public async Task A_SQLite_schema_with_a_version_missing_still_gets_it()
    {
        Directory.CreateDirectory(_directory);
        await using (var first = new SqliteMetadataStore(DatabasePath))
        {
            await first.MigrateAsync(Ct);
        }

        // As a database from the Wharf before the last script: its ledger row gone.
        var lastVersion = SqliteMigrator.Embedded[^1].Version;
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = $"DELETE FROM schema_migrations WHERE version = {lastVersion}";
            await command.ExecuteNonQueryAsync(Ct);
        }

        await using var reopened = new SqliteMetadataStore(DatabasePath);
        // The last script is re-run: it either succeeds (idempotent DDL) or fails on what already exists;
        // either way the locked path ran, which is what a missing version needs. The ledger tells which.
        try
        {
            await reopened.MigrateAsync(Ct);
        }
        catch (SqliteException)
        {
            return; // the script ran again (and met its own index): not skipped
        }

        await using var check = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await check.OpenAsync(Ct);
        await using var count = check.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM schema_migrations WHERE version = {lastVersion}";
        Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Migrating_a_current_PostgreSQL_schema_does_not_wait_for_the_migration_lock()
    {
        var cluster = await PostgresCluster.GetAsync();
        var connectionString = await cluster.CreateDatabaseAsync(Ct);
        await using (var first = new PostgresMetadataStore(connectionString))
        {
            await first.MigrateAsync(Ct);
        }

        // Another node mid-migration holds the migration lock (PgMigrator's advisory key).
        await using var other = new NpgsqlConnection(connectionString);
        await other.OpenAsync(Ct);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(6289348701240426497)", other))
        {
            await take.ExecuteNonQueryAsync(Ct);
        }

        await using var reopened = new PostgresMetadataStore(connectionString);
        await reopened.MigrateAsync(Ct).WaitAsync(Patience, Ct);

        // A schema that lacks a version still waits for the lock: the fast path is only for a current one.
        await using (var drop = new NpgsqlCommand("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)", other))
        {
            await drop.ExecuteNonQueryAsync(Ct);
        }

        var waiting = reopened.MigrateAsync(Ct);
        await Task.Delay(500, Ct);
        Assert.False(waiting.IsCompleted);
        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock(6289348701240426497)", other))
        {
            await release.ExecuteNonQueryAsync(Ct);
        }

        // It then runs the last script again; whether that script tolerates a second run is not this test's business.
        try
        {
            await waiting.WaitAsync(Patience, Ct);
        }
        catch (PostgresException)
        {
        }
    }

    private static async Task<string> HashAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return Convert.ToHexString(await SHA256.HashDataAsync(file, Ct));
    }
}
