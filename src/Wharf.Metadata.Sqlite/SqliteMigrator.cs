using System.Globalization;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> scripts in version order, each inside the
/// write transaction that records it in <c>schema_migrations</c>. The transaction is
/// <c>BEGIN IMMEDIATE</c>, so concurrent callers (several processes on one file) queue and the second
/// finds the version recorded. Applied scripts are never edited: a change is a new script.
/// </summary>
internal static class SqliteMigrator
{
    private const string CreateLedger =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";

    public static IReadOnlyList<(int Version, string Name)> Embedded { get; } = LoadNames();

    public static async Task MigrateAsync(SqliteDatabase file, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        // WAL is a property of the file, and switching needs no transaction open: do it first.
        await using (var connection = await file.OpenAsync(cancellationToken))
        {
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode = WAL";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        await database.WriteAsync(async s =>
        {
            await s.ExecuteAsync(CreateLedger, [], cancellationToken);
            var applied = await s.ListAsync("SELECT version FROM schema_migrations", r => r.GetInt32(0), [], cancellationToken);
            var latest = Embedded.Count == 0 ? 0 : Embedded[^1].Version;
            if (applied.Count > 0 && applied.Max() > latest)
            {
                throw new InvalidOperationException(
                    $"The metadata database has schema version {applied.Max()}, newer than this Wharf knows ({latest}); run a newer Wharf.");
            }

            foreach (var (version, name) in Embedded)
            {
                if (applied.Contains(version))
                {
                    continue;
                }

                await s.ExecuteAsync(await ReadScriptAsync(name, cancellationToken), [], cancellationToken);
                await s.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @now)",
                    [("version", version), ("now", Columns.Ms(time.GetUtcNow()))],
                    cancellationToken);
            }

            return true;
        }, cancellationToken);
    }

    private static async Task<string> ReadScriptAsync(string resource, CancellationToken cancellationToken)
    {
        await using var stream = typeof(SqliteMigrator).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Migration resource '{resource}' is missing.");
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private static List<(int Version, string Name)> LoadNames()
    {
        const string Prefix = "Migrations.";
        var migrations = new List<(int Version, string Name)>();
        foreach (var name in typeof(SqliteMigrator).Assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !name.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var underscore = name.IndexOf('_', Prefix.Length);
            var version = int.Parse(name.AsSpan(Prefix.Length, underscore - Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
            migrations.Add((version, name));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        return migrations;
    }
}
