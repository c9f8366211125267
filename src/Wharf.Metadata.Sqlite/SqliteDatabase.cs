using Microsoft.Data.Sqlite;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// Connections to one database file with Wharf's settings. Store calls lease them from a small pool of its own
/// (<see cref="LeaseAsync"/>) rather than Microsoft.Data.Sqlite's: a connection there stays open with its settings
/// applied once and the commands it prepared (<see cref="SqliteLease"/>), where the driver's pool would have every
/// open run the pragmas again and every new command parse its SQL again. Reads and writes go through the relational
/// <see cref="Relational.Database"/> with <see cref="SqliteDialect"/>, whose write transactions are <c>BEGIN IMMEDIATE</c>.
/// </summary>
internal sealed class SqliteDatabase
{
    private const int BusyTimeoutMs = 15_000;

    /// <summary>
    /// Idle connections kept (each holds its own page cache and prepared statements). Store calls run their
    /// statements synchronously, so about as many are leased at once as threads run them; a burst above this
    /// opens connections that are closed again when given back.
    /// </summary>
    internal const int MaxIdle = 16;

    // Once per connection, when it is opened. synchronous=NORMAL: in WAL mode a commit is durable against a
    // crash of the process (the WAL is written before COMMIT returns); only an OS crash or power loss can lose
    // the last transactions, never corrupt the file. FULL would fsync on every commit.
    private const string ConnectionPragmas =
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 15000;";

    private readonly string _connectionString;
    private readonly Lock _lock = new();
    private readonly Stack<SqliteLease> _idle = new();
    private int _generation;

    public SqliteDatabase(string databasePath)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // This class pools; a connection closed here is closed for good.
            Pooling = false,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
    }

    /// <summary>The WAL-index header's watch: the change stamp of <see cref="ReadCache"/>, armed after migrating.</summary>
    public SqliteWalWatch Watch { get; } = new();

    /// <summary>Connections opened so far (for tests: a lease reuses one rather than open another).</summary>
    internal int Opened { get; private set; }

    /// <summary>
    /// A connection for one store call, from the pool or newly opened; disposing the lease gives it back. It is
    /// never lent to two owners, and never handed out inside a transaction (<see cref="Return"/>).
    /// </summary>
    public async ValueTask<SqliteLease> LeaseAsync(CancellationToken cancellationToken)
    {
        int generation;
        lock (_lock)
        {
            if (_idle.TryPop(out var idle))
            {
                idle.Leased = true;
                return idle;
            }

            generation = _generation;
        }

        return new SqliteLease(this, await OpenAsync(cancellationToken), generation) { Leased = true };
    }

    /// <summary>
    /// A new connection with Wharf's settings, owned by the caller (streamed reads that outlive one store call,
    /// the migrator's journal switch); store calls take theirs from <see cref="LeaseAsync"/>.
    /// </summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = ConnectionPragmas;
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            lock (_lock)
            {
                Opened++;
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Takes a lease back. A connection must never return inside a transaction: one left open by a use whose
    /// COMMIT or ROLLBACK failed (or by a statement that began one) would hold SQLite's writer lock for as long as
    /// the connection lives, and every other writer would wait out its busy timeout. It is rolled back here, and a
    /// connection that cannot be rolled back, or comes from before <see cref="ClearPool"/>, is closed.
    /// </summary>
    internal void Return(SqliteLease lease)
    {
        if (lease.Generation == Volatile.Read(ref _generation) && lease.TryEndTransaction())
        {
            lock (_lock)
            {
                if (lease.Generation == _generation && _idle.Count < MaxIdle)
                {
                    _idle.Push(lease);
                    return;
                }
            }
        }

        lease.Close();
    }

    /// <summary>Closes the idle connections, and each leased one when it is given back, so the file can be moved or deleted.</summary>
    public void ClearPool()
    {
        SqliteLease[] idle;
        lock (_lock)
        {
            _generation++;
            idle = [.. _idle];
            _idle.Clear();
        }

        foreach (var lease in idle)
        {
            lease.Close();
        }
    }
}
