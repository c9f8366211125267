using Microsoft.Data.Sqlite;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// Opens pooled connections to one database file with Wharf's settings. Reads and writes go through
/// the relational <see cref="Relational.Database"/> with <see cref="SqliteDialect"/>, whose write
/// transactions are <c>BEGIN IMMEDIATE</c>.
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

            // A pooled handle must never come back inside a transaction: one left open by a use whose
            // COMMIT or ROLLBACK failed would hold SQLite's writer lock for as long as the handle lives
            // (every other writer then waits out its busy timeout) and refuses the pragmas below.
            if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
            {
                using var rollback = connection.CreateCommand();
                rollback.CommandText = "ROLLBACK";
                await rollback.ExecuteNonQueryAsync(cancellationToken);
            }

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

    /// <summary>Releases pooled handles so the file can be moved or deleted.</summary>
    public void ClearPool()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
