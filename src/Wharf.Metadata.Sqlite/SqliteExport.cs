using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// Reads an embedded install's tables for <c>wharf migrate</c>. Every read runs in one read
/// transaction, so the tables are copied from one snapshot even if a writer comes along (WAL mode
/// gives a reader a snapshot; the file itself is opened read-only and never changed).
/// </summary>
public sealed class SqliteExport : IAsyncDisposable
{
    private readonly SqliteConnection connection;
    private readonly SqliteTransaction transaction;

    private SqliteExport(SqliteConnection connection, SqliteTransaction transaction)
    {
        this.connection = connection;
        this.transaction = transaction;
    }

    /// <summary>Opens <paramref name="databasePath"/> read-only and begins the snapshot.</summary>
    public static async Task<SqliteExport> OpenAsync(string databasePath, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 15,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);

            // A deferred transaction takes its snapshot at the first read: take it now.
            await using (var first = connection.CreateCommand())
            {
                first.Transaction = transaction;
                first.CommandText = "SELECT count(*) FROM sqlite_master";
                await first.ExecuteScalarAsync(cancellationToken);
            }

            return new SqliteExport(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The highest schema version applied to the file (0 when none).</summary>
    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken) =>
        Convert.ToInt32(await ScalarAsync("SELECT coalesce(max(version), 0) FROM schema_migrations", cancellationToken), CultureInfo.InvariantCulture);

    /// <summary>The file's tables, but for SQLite's own, the migration ledger and the authorization generation (each engine keeps its own).</summary>
    public async Task<IReadOnlyList<string>> TablesAsync(CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'auth_generation') ORDER BY name");
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    /// <summary>The columns <paramref name="table"/> has in the file, empty when it has no such table.</summary>
    public async Task<IReadOnlyList<string>> ColumnsAsync(string table, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT name FROM pragma_table_info(@table)");
        command.Parameters.AddWithValue("@table", table);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    public async Task<long> CountAsync(string table, CancellationToken cancellationToken) =>
        Convert.ToInt64(await ScalarAsync($"SELECT count(*) FROM {Quote(table)}", cancellationToken), CultureInfo.InvariantCulture);

    /// <summary>
    /// The rows of <paramref name="table"/>, one value per column in its order, as SQLite stores them:
    /// <see cref="long"/>, <see cref="double"/>, <see cref="string"/>, <see cref="byte"/> arrays or null.
    /// </summary>
    public async IAsyncEnumerable<object?[]> ReadAsync(MetadataTable table, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        await using var command = Command($"SELECT {string.Join(", ", table.Columns.Select(Quote))} FROM {Quote(table.Name)}");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = new object?[table.Columns.Count];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = await reader.IsDBNullAsync(i, cancellationToken) ? null : reader.GetValue(i);
            }

            yield return row;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(sql);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private SqliteCommand Command(string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
