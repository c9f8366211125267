using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Wharf.Metadata.Relational;

/// <summary>
/// One connection (with the write transaction when there is one) and small query helpers.
/// Parameters are named without a prefix and written <c>@name</c> in the SQL. The helpers run their
/// statement on a command rented from the lease, which may be one prepared on this connection before
/// (<see cref="ConnectionLease"/>); <see cref="Command"/> makes a new one that its caller disposes.
/// </summary>
internal sealed class Session(ConnectionLease lease, DbTransaction? transaction, SqlDialect dialect)
{
    /// <summary>A session on a connection its caller owns (and disposes).</summary>
    public Session(DbConnection connection, DbTransaction? transaction, SqlDialect dialect)
        : this(new ConnectionLease(connection), transaction, dialect)
    {
    }

    public SqlDialect Dialect => dialect;

    public DbConnection Connection => lease.Connection;

    public DbTransaction? Transaction => transaction;

    /// <summary>True once the work's own last statements committed its write transaction (<see cref="StatementBatch.ExecuteAndCommitAsync"/>).</summary>
    public bool Committed { get; set; }

    /// <summary>A parameterised command; <paramref name="sql"/> is always built from constants.</summary>
    [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
    public DbCommand Command(string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = lease.Connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, parameters);
        return command;
    }

    public async Task<int> ExecuteAsync(string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        var command = Rent(sql, parameters);
        var failed = true;
        try
        {
            var rows = await command.ExecuteNonQueryAsync(cancellationToken);
            failed = false;
            return rows;
        }
        finally
        {
            lease.Return(command, failed);
        }
    }

    public async Task<bool> ExistsAsync(string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        var command = Rent(sql, parameters);
        var failed = true;
        try
        {
            var exists = await command.ExecuteScalarAsync(cancellationToken) is not null;
            failed = false;
            return exists;
        }
        finally
        {
            lease.Return(command, failed);
        }
    }

    /// <summary>The one number a count or sum query returns (0 for a sum over no rows).</summary>
    public async Task<long> ScalarLongAsync(string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        var command = Rent(sql, parameters);
        var failed = true;
        try
        {
            var value = await command.ExecuteScalarAsync(cancellationToken);
            failed = false;
            return value is not null and not DBNull ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        finally
        {
            lease.Return(command, failed);
        }
    }

    public async Task<T?> SingleAsync<T>(string sql, Func<DbDataReader, T> map, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
        where T : class
    {
        var command = Rent(sql, parameters);
        var failed = true;
        try
        {
            T? result;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                result = await reader.ReadAsync(cancellationToken) ? map(reader) : null;
            }

            failed = false;
            return result;
        }
        finally
        {
            lease.Return(command, failed);
        }
    }

    public async Task<List<T>> ListAsync<T>(string sql, Func<DbDataReader, T> map, IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
    {
        var command = Rent(sql, parameters);
        var failed = true;
        try
        {
            var results = new List<T>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    results.Add(map(reader));
                }
            }

            failed = false;
            return results;
        }
        finally
        {
            lease.Return(command, failed);
        }
    }

    private DbCommand Rent(string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = lease.Rent(sql);
        Bind(command, parameters);
        return command;
    }

    private void Bind(DbCommand command, IEnumerable<(string Name, object? Value)> parameters)
    {
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = dialect.ParameterName(name);
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
    }
}
