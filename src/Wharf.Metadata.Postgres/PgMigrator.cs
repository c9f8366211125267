using System.Globalization;
using System.Reflection;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// Versioned migrations from embedded <c>Migrations/NNNN_name.sql</c> files, each applied once in a
/// transaction and recorded in <c>schema_migrations</c>. A transaction-scoped advisory lock makes
/// concurrent starts of several nodes safe. A start on a current schema (every embedded version
/// recorded, none newer) only reads: no transaction, no lock to queue behind another node's migration.
/// </summary>
internal static class PgMigrator
{
    private const long LockKey = 0x5748_4152_4600_0001; // "WHARF" + 1

    public static async Task MigrateAsync(Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await IsCurrentAsync(database, cancellationToken))
        {
            return;
        }

        await database.WriteAsync(
            async s =>
            {
                await s.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", [("key", LockKey)], cancellationToken);
                await s.ExecuteAsync(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)",
                    [],
                    cancellationToken);
                var applied = (await s.ListAsync("SELECT version FROM schema_migrations", r => r.GetInt32(0), [], cancellationToken)).ToHashSet();
                var migrations = Migrations().ToList();
                var latest = migrations.Max(m => m.Version);
                if (applied.Count > 0 && applied.Max() > latest)
                {
                    throw new InvalidOperationException(
                        $"The metadata database has schema version {applied.Max()}, newer than this Wharf knows ({latest}); run a newer Wharf.");
                }

                foreach (var (version, sql) in migrations)
                {
                    if (applied.Contains(version))
                    {
                        continue;
                    }

                    await s.ExecuteAsync(sql, [], cancellationToken);
                    await s.ExecuteAsync(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @now)",
                        [("version", version), ("now", Columns.Ms(time.GetUtcNow()))],
                        cancellationToken);
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// Every embedded version recorded and none newer, read without a transaction. Anything else (a new
    /// database, a missing version, a newer Wharf's schema) takes the locked path, which applies what
    /// is missing or refuses.
    /// </summary>
    private static Task<bool> IsCurrentAsync(Database database, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL", [], cancellationToken))
                {
                    return false;
                }

                var applied = await s.ListAsync("SELECT version FROM schema_migrations", r => r.GetInt32(0), [], cancellationToken);
                return applied.ToHashSet().SetEquals(Versions());
            },
            cancellationToken);

    private static IEnumerable<int> Versions()
    {
        const string prefix = "Wharf.Metadata.Postgres.Migrations.";
        return Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Select(n => int.Parse(n.AsSpan(prefix.Length, 4), CultureInfo.InvariantCulture));
    }

    private static IEnumerable<(int Version, string Sql)> Migrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string prefix = "Wharf.Metadata.Postgres.Migrations.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var version = int.Parse(name.AsSpan(prefix.Length, 4), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (version, reader.ReadToEnd());
        }
    }
}
