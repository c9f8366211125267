using System.Globalization;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> scripts in version order, each inside the
/// write transaction that records it in <c>schema_migrations</c>. The transaction is
/// <c>BEGIN IMMEDIATE</c>, so concurrent callers (several processes on one file) queue and the second
/// finds the version recorded. Applied scripts are never edited: a change is a new script.
/// A start on a current schema (every embedded version recorded, none newer, the file in WAL mode)
/// only reads: it takes no write lock, so it neither waits behind a long writer nor writes.
/// </summary>
internal static class SqliteMigrator
{
    private const string CreateLedger =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";

    public static IReadOnlyList<(int Version, string Name)> Embedded { get; } = LoadNames();

    public static async Task MigrateAsync(SqliteDatabase file, Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        await using (var connection = await file.OpenAsync(cancellationToken))
        {
            if (await IsCurrentAsync(connection, cancellationToken))
            {
                return;
            }

            // WAL is a property of the file, and switching needs no transaction open: do it first.
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

    /// <summary>
    /// One read, outside any transaction: is the file in WAL mode with every embedded version recorded
    /// and none newer? Anything else (a new file, a missing version, a newer Wharf's schema) takes the
    /// locked path, which applies what is missing or refuses.
    /// </summary>
    private static async Task<bool> IsCurrentAsync(Microsoft.Data.Sqlite.SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT (SELECT journal_mode FROM pragma_journal_mode), " +
            "EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')";
        string? journalMode;
        bool hasLedger;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            journalMode = reader.IsDBNull(0) ? null : reader.GetString(0);
            hasLedger = reader.GetBoolean(1);
        }

        if (!hasLedger || !string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        command.CommandText = "SELECT version FROM schema_migrations";
        var applied = new HashSet<int>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        return applied.SetEquals(Embedded.Select(m => m.Version));
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
