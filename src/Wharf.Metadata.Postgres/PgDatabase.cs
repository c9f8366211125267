using System.Data;
using Npgsql;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// Connections and transactions. Reads run on a pooled connection without a transaction; writes run
/// in one READ COMMITTED transaction, where each statement sees what committed before it began — the
/// stores rely on that (see <see cref="PgBlobIndex.ClaimGarbageAsync"/>).
/// </summary>
internal sealed class PgDatabase(NpgsqlDataSource dataSource)
{
    public NpgsqlDataSource DataSource => dataSource;

    public async Task<T> ReadAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await work(new Session(connection, null));
    }

    public async Task<T> WriteAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var result = await work(new Session(connection, transaction));
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public Task WriteAsync(Func<Session, Task> work, CancellationToken cancellationToken) =>
        WriteAsync(
            async s =>
            {
                await work(s);
                return true;
            },
            cancellationToken);

    /// <summary>One connection (and transaction, for writes) with small query helpers.</summary>
    internal sealed class Session(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        public NpgsqlCommand Command(string sql, IEnumerable<(string Name, object? Value)> parameters)
        {
            var command = new NpgsqlCommand(sql, connection, transaction);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command;
        }

        public async Task<int> ExecuteAsync(string sql, IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
        {
            await using var command = Command(sql, parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public async Task<bool> ExistsAsync(string sql, IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
        {
            await using var command = Command(sql, parameters);
            return await command.ExecuteScalarAsync(cancellationToken) is not null;
        }

        public async Task<T?> SingleAsync<T>(string sql, Func<NpgsqlDataReader, T> map, IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
            where T : class
        {
            await using var command = Command(sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
        }

        public async Task<List<T>> ListAsync<T>(string sql, Func<NpgsqlDataReader, T> map, IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
        {
            await using var command = Command(sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(map(reader));
            }

            return list;
        }
    }
}
