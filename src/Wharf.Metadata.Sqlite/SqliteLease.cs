using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// One open connection of <see cref="SqliteDatabase"/>'s pool and the commands prepared on it, by SQL text: a
/// command keeps its prepared statements while its text and connection stay the same, so a statement the store runs
/// again on this connection is bound and stepped, not parsed and planned again. A command is lent to one use at a
/// time (taken out of the cache while rented), never to another connection, and comes back without parameters. The
/// least recently used are disposed past <see cref="MaxCommands"/> (text built per call, migrations, rare queries).
/// </summary>
internal sealed class SqliteLease : ConnectionLease
{
    internal const int MaxCommands = 64;

    private readonly SqliteDatabase _database;
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, LinkedListNode<SqliteCommand>> _commands = new(StringComparer.Ordinal);
    private readonly LinkedList<SqliteCommand> _recent = new();

    public SqliteLease(SqliteDatabase database, SqliteConnection connection, int generation)
        : base(connection)
    {
        _database = database;
        _connection = connection;
        Generation = generation;
    }

    public int Generation { get; }

    /// <summary>Set while lent; a second dispose of one lease must not put its connection in the pool twice (two owners).</summary>
    internal bool Leased { get; set; }

    /// <summary>Commands kept for reuse (for tests).</summary>
    internal int CachedCommands => _commands.Count;

    [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
    public override DbCommand Rent(string sql)
    {
        if (_commands.Remove(sql, out var node))
        {
            _recent.Remove(node);
            return node.Value;
        }

        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    public override void Return(DbCommand command, bool failed)
    {
        var sqlite = (SqliteCommand)command;
        sqlite.Parameters.Clear();
        sqlite.Transaction = null;
        // A command whose execution threw is not trusted to be reusable; one already cached (the same text rented
        // twice at once) is a duplicate.
        if (failed || sqlite.Connection != _connection || _commands.ContainsKey(sqlite.CommandText))
        {
            sqlite.Dispose();
            return;
        }

        _commands.Add(sqlite.CommandText, _recent.AddFirst(sqlite));
        if (_recent.Count > MaxCommands)
        {
            var oldest = _recent.Last!;
            _recent.RemoveLast();
            _commands.Remove(oldest.Value.CommandText);
            oldest.Value.Dispose();
        }
    }

    /// <summary>Gives the connection back to the pool.</summary>
    protected override ValueTask ReleaseAsync()
    {
        if (Leased)
        {
            Leased = false;
            _database.Return(this);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>True when the connection is open and outside any transaction, rolling back one left open.</summary>
    internal bool TryEndTransaction()
    {
        if (_connection.State != System.Data.ConnectionState.Open)
        {
            return false;
        }

        if (SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) != 0)
        {
            return true;
        }

        try
        {
            using var rollback = _connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
            return SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) != 0;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>Disposes the commands and closes the connection.</summary>
    internal void Close()
    {
        foreach (var command in _recent)
        {
            command.Dispose();
        }

        _recent.Clear();
        _commands.Clear();
        _connection.Dispose();
    }
}
