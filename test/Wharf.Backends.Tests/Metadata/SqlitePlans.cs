using Microsoft.Data.Sqlite;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>SQLite's <c>EXPLAIN QUERY PLAN</c> of a store query, one line per step: what the plan tests read.</summary>
internal static class SqlitePlans
{
    public static async Task<List<string>> ExplainAsync(string databasePath, string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue("@" + name, value ?? DBNull.Value);
        }

        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(reader.GetString(3));
        }

        return lines;
    }
}
