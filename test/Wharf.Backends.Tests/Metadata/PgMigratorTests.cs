using System.Globalization;
using Npgsql;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Relational;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// PostgreSQL's migrator applies every pending script in one transaction and one batch (issue 19, cold start on an
/// empty database): the schema is either as it was or fully migrated, never in between, and nodes starting at once
/// on one new database apply it once between them.
/// </summary>
public sealed class PgMigratorTests
{
    private static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), "us-east-1");

    private static IEnumerable<int> AllVersions => PgMigrator.Embedded.Select(m => m.Version);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Several_nodes_starting_on_one_empty_database_at_once_apply_every_version_once()
    {
        var cluster = await PostgresCluster.GetAsync();
        var connectionString = await cluster.CreateDatabaseAsync(Ct);
        // Each store has its own pool, so each migrates on a backend of its own, as separate processes would.
        var stores = Enumerable.Range(0, 6).Select(_ => new PostgresMetadataStore(connectionString)).ToList();
        try
        {
            using var go = new ManualResetEventSlim();
            var starts = stores.Select(s => Task.Run(
                async () =>
                {
                    go.Wait(Ct);
                    await s.MigrateAsync(Ct);
                },
                Ct)).ToList();
            go.Set();
            await Task.WhenAll(starts);

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(Ct);
            Assert.Equal(AllVersions, await VersionsAsync(connection));
            foreach (var store in stores)
            {
                var name = RepositoryName.Parse($"team/app{stores.IndexOf(store)}");
                Assert.NotNull(await store.Repositories.CreateAsync(new RepositoryKey(Registry, name), DateTimeOffset.UnixEpoch, Ct));
            }
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_failure_in_the_middle_of_the_pending_scripts_leaves_the_previous_version()
    {
        var cluster = await PostgresCluster.GetAsync();
        var connectionString = await cluster.CreateDatabaseAsync(Ct);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var database = new Database(new PgDialect(dataSource));
        var first = PgMigrator.Embedded.Where(m => m.Version <= 10).ToList();
        await PgMigrator.MigrateAsync(database, TimeProvider.System, first, Ct);

        await using var connection = await dataSource.OpenConnectionAsync(Ct);
        // Migration 15 creates this table; 11 to 14 come before it in the batch and succeed.
        await ExecuteAsync(connection, "CREATE TABLE pull_through_tags (x integer)");
        var before = await SchemaAsync(connection);

        var failure = await Assert.ThrowsAsync<PostgresException>(() => PgMigrator.MigrateAsync(database, TimeProvider.System, Ct));
        Assert.Equal(PostgresErrorCodes.DuplicateTable, failure.SqlState);
        Assert.Equal(before, await SchemaAsync(connection));
        Assert.Equal(first.Select(m => m.Version), await VersionsAsync(connection));
        Assert.Empty(await ListAsync(connection, "SELECT relname FROM pg_class WHERE relname IN ('iam_policies', 'replications', 'secrets')"));

        // With the obstacle gone, the same start applies everything.
        await ExecuteAsync(connection, "DROP TABLE pull_through_tags");
        await PgMigrator.MigrateAsync(database, TimeProvider.System, Ct);
        Assert.Equal(AllVersions, await VersionsAsync(connection));
    }

    [Fact]
    public void The_batch_keeps_each_script_apart_from_the_next_and_records_every_version()
    {
        var batch = PgMigrator.Batch([(7, "CREATE TABLE a (x integer); -- a closing comment"), (9, "CREATE TABLE b (x integer);")], 1234);

        Assert.Equal(
            "CREATE TABLE a (x integer); -- a closing comment\nCREATE TABLE b (x integer);\n" +
            "INSERT INTO schema_migrations (version, applied_at) VALUES (7, 1234), (9, 1234);",
            batch);
    }

    /// <summary>Every relation, column and constraint in the database: what a half-applied migration would change.</summary>
    private static async Task<string> SchemaAsync(NpgsqlConnection connection) =>
        string.Join(
            "\n",
            await ListAsync(
                connection,
                "SELECT c.relname || ':' || c.relkind::text || ':' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum) " +
                "FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ':' || " +
                "coalesce((SELECT string_agg(pg_get_constraintdef(k.oid), ',' ORDER BY k.conname) FROM pg_constraint k WHERE k.conrelid = c.oid), '') " +
                "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY c.relname"));

    /// <summary>The ledger's versions, in order (each once: version is its primary key).</summary>
    private static async Task<List<int>> VersionsAsync(NpgsqlConnection connection) =>
        [.. (await ListAsync(connection, "SELECT version FROM schema_migrations ORDER BY version")).Select(v => int.Parse(v, CultureInfo.InvariantCulture))];

    private static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var values = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        }

        return values;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
