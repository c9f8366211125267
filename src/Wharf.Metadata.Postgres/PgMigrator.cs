using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Text;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// Versioned migrations from embedded <c>Migrations/NNNN_name.sql</c> files, recorded in <c>schema_migrations</c>.
/// Every pending one is applied in one transaction, so a failure or a crash anywhere in them leaves the schema as it
/// was before (PostgreSQL's DDL is transactional). A transaction-scoped advisory lock makes concurrent starts of
/// several nodes safe: the first applies, the others wait for its commit and then find nothing pending. A start on a
/// current schema (every embedded version recorded, none newer) only reads: no transaction, no lock to queue behind
/// another node's migration.
/// </summary>
/// <remarks>
/// Round trips are what a migration can save (issue 19, cold start on an empty database): the lock, the ledger and
/// what it holds go in one; every pending script and their ledger rows in a second; the commit is the third. The
/// scripts' own cost stays (about 170 catalog objects; PostgreSQL 15 fsyncs each new B-tree index as it builds it).
/// </remarks>
internal static class PgMigrator
{
    private const long LockKey = 0x5748_4152_4600_0001; // "WHARF" + 1
    private const string Prefix = "Wharf.Metadata.Postgres.Migrations.";

    /// <summary>The embedded scripts, by version.</summary>
    internal static IReadOnlyList<(int Version, string Sql)> Embedded { get; } = Load();

    public static Task MigrateAsync(Database database, TimeProvider time, CancellationToken cancellationToken) =>
        MigrateAsync(database, time, Embedded, cancellationToken);

    /// <summary>Applies what <paramref name="migrations"/> has and the database lacks (tests pass the first few of <see cref="Embedded"/>).</summary>
    internal static async Task MigrateAsync(Database database, TimeProvider time, IReadOnlyList<(int Version, string Sql)> migrations, CancellationToken cancellationToken)
    {
        if (await IsCurrentAsync(database, migrations, cancellationToken))
        {
            return;
        }

        await database.WriteAsync(
            async s =>
            {
                var applied = await LockAndReadLedgerAsync(s, cancellationToken);
                var latest = migrations.Max(m => m.Version);
                if (applied.Count > 0 && applied.Max() > latest)
                {
                    throw new InvalidOperationException(
                        $"The metadata database has schema version {applied.Max()}, newer than this Wharf knows ({latest}); run a newer Wharf.");
                }

                var pending = migrations.Where(m => !applied.Contains(m.Version)).ToList();
                if (pending.Count > 0)
                {
                    await s.ExecuteAsync(Batch(pending, Columns.Ms(time.GetUtcNow())), [], cancellationToken);
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// Every pending script, then their ledger rows, as one command: the driver sends its statements in one round trip,
    /// and PostgreSQL runs them in order and stops at the first that fails (the transaction then rolls back whole). The
    /// values are integers this method formats, so the text carries no parameters; a newline ends each script, so a
    /// script's last line comment cannot swallow the next script (each script ends its statements itself).
    /// </summary>
    internal static string Batch(IReadOnlyList<(int Version, string Sql)> pending, long now)
    {
        var batch = new StringBuilder(pending.Sum(m => m.Sql.Length + 2) + 128);
        foreach (var (_, sql) in pending)
        {
            batch.Append(sql).Append('\n');
        }

        batch.Append("INSERT INTO schema_migrations (version, applied_at) VALUES ");
        for (var i = 0; i < pending.Count; i++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}({pending[i].Version}, {now})");
        }

        return batch.Append(';').ToString();
    }

    /// <summary>
    /// In one round trip: the migration lock (held to the commit), the ledger created if this is a new database, and the
    /// versions it holds. PostgreSQL parses each statement of the batch when it reaches it, so the last one sees the
    /// table the second created.
    /// </summary>
    private static async Task<HashSet<int>> LockAndReadLedgerAsync(Session s, CancellationToken cancellationToken)
    {
        await using var command = s.Command(
            "SELECT pg_advisory_xact_lock(@key); " +
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL); " +
            "SELECT version FROM schema_migrations",
            [("key", LockKey)]);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var applied = new HashSet<int>();
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.GetName(0) == "version")
                {
                    applied.Add(reader.GetInt32(0));
                }
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        return applied;
    }

    /// <summary>
    /// Every version of <paramref name="migrations"/> recorded and none newer, read without a transaction. Anything else
    /// (a new database, a missing version, a newer Wharf's schema) takes the locked path, which applies what is missing
    /// or refuses.
    /// </summary>
    private static Task<bool> IsCurrentAsync(Database database, IReadOnlyList<(int Version, string Sql)> migrations, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL", [], cancellationToken))
                {
                    return false;
                }

                var applied = await s.ListAsync("SELECT version FROM schema_migrations", r => r.GetInt32(0), [], cancellationToken);
                return applied.ToHashSet().SetEquals(migrations.Select(m => m.Version));
            },
            cancellationToken);

    private static List<(int Version, string Sql)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var migrations = new List<(int Version, string Sql)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var version = int.Parse(name.AsSpan(Prefix.Length, 4), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            migrations.Add((version, reader.ReadToEnd()));
        }

        return migrations;
    }
}
