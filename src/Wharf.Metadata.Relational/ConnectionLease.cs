using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Wharf.Metadata.Relational;

/// <summary>
/// A connection lent to one store call, and the commands the call runs on it. This base class owns a plain
/// connection: each command is created for its statement and disposed after it, and disposing the lease disposes the
/// connection (its driver's pool takes it back). An engine whose driver parses a statement again for every new
/// command (SQLite) lends connections of its own pool that keep their prepared commands.
/// </summary>
internal class ConnectionLease(DbConnection connection) : IAsyncDisposable
{
    public DbConnection Connection => connection;

    /// <summary>A command for <paramref name="sql"/>, without parameters; give it back with <see cref="Return"/> once its reader is disposed.</summary>
    [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
    public virtual DbCommand Rent(string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>Ends the use of a command from <see cref="Rent"/>; <paramref name="failed"/> when its execution threw.</summary>
    public virtual void Return(DbCommand command, bool failed) => command.Dispose();

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ReleaseAsync();
    }

    /// <summary>Ends the lease: disposes the connection, or gives it back to the pool it came from.</summary>
    protected virtual ValueTask ReleaseAsync() => connection.DisposeAsync();
}
