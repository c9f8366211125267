using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Wharf.Metadata.Relational;

/// <summary>
/// One connection (with the write transaction when there is one) and small query helpers.
/// Parameters are named without a prefix and written <c>@name</c> in the SQL.
/// </summary>
internal sealed class Session(DbConnection connection, DbTransaction? transaction, SqlDialect dialect)
{
    public SqlDialect Dialect => dialect;

    /// <summary>A parameterised command; <paramref name="sql"/> is always built from constants.</summary>
    [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
    public DbCommand Command(string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public async Task<int> ExecuteAsync(string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> ExistsAsync(string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>The one number a count or sum query returns (0 for a sum over no rows).</summary>
    public async Task<long> ScalarLongAsync(string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull
            ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : 0;
    }

    public async Task<T?> SingleAsync<T>(string sql, Func<DbDataReader, T> map, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
        where T : class
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }

    public async Task<List<T>> ListAsync<T>(string sql, Func<DbDataReader, T> map, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var results = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            results.Add(map(reader));
        }

        return results;
    }
}
