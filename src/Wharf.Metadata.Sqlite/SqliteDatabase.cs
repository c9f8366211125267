using System.Data;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// Opens pooled connections to one database file with Wharf's settings, and runs write transactions.
/// Every write goes through <see cref="WriteAsync{T}"/>: <c>BEGIN IMMEDIATE</c> takes the single
/// writer lock up front, so writers are serialised (GC's claim and a manifest PUT exclude each other)
/// and a transaction never fails half-way on a read-to-write lock upgrade.
/// </summary>
internal sealed class SqliteDatabase
{
    private const int BusyTimeoutMs = 15_000;

    // Per connection: the pooled handle keeps them, but a pool cannot tell us which handle is new.
    // synchronous=NORMAL: in WAL mode a commit is durable against a crash of the process (the WAL
    // is written before COMMIT returns); only an OS crash or power loss can lose the last
    // transactions, never corrupt the file. FULL would fsync on every commit.
    private const string ConnectionPragmas =
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 15000;";

    private readonly string _connectionString;

    public SqliteDatabase(string databasePath)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
    }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = ConnectionPragmas;
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> in a <c>BEGIN IMMEDIATE</c> transaction; commits unless it throws.</summary>
    public async Task<T> WriteAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // deferred: false is BEGIN IMMEDIATE in Microsoft.Data.Sqlite.
        await using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
        var result = await work(new Session(connection, transaction));
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Runs a read on its own connection (a single statement is its own snapshot).</summary>
    public async Task<T> ReadAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(new Session(connection, null));
    }

    /// <summary>Releases pooled handles so the file can be moved or deleted.</summary>
    public void ClearPool()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>A connection, with the write transaction when there is one.</summary>
    internal readonly record struct Session(SqliteConnection Connection, SqliteTransaction? Transaction)
    {
        /// <summary>A parameterised command; <paramref name="sql"/> is always a constant.</summary>
        [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
        public SqliteCommand Command(string sql, IReadOnlyList<(string Name, object? Value)> parameters)
        {
            var command = Connection.CreateCommand();
            command.Transaction = Transaction;
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command;
        }

        public async Task<int> ExecuteAsync(string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
        {
            await using var command = Command(sql, parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public async Task<bool> ExistsAsync(string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
        {
            await using var command = Command(sql, parameters);
            return await command.ExecuteScalarAsync(cancellationToken) is not null;
        }

        public async Task<T?> SingleAsync<T>(string sql, Func<SqliteDataReader, T> map, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
            where T : class
        {
            await using var command = Command(sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
        }

        public async Task<List<T>> ListAsync<T>(string sql, Func<SqliteDataReader, T> map, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken cancellationToken)
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
}
