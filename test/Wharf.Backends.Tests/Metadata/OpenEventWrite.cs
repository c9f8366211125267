using System.Data.Common;
using Wharf.Core.Events;
using Wharf.Metadata.Relational;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// A write the store cannot be paused in: a transaction of its own on the store's database that has
/// appended an event through the event log's real append, and not committed yet.
/// </summary>
internal sealed class OpenEventWrite : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private readonly IAsyncDisposable? _owner;

    private OpenEventWrite(DbConnection connection, DbTransaction transaction, IAsyncDisposable? owner)
    {
        _connection = connection;
        _transaction = transaction;
        _owner = owner;
    }

    public static async Task<OpenEventWrite> BeginAsync(SqlDialect dialect, OutboxEvent evt, IAsyncDisposable? owner, CancellationToken cancellationToken)
    {
        var connection = await dialect.OpenAsync(cancellationToken);
        var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        await EventLog.AppendAsync(new Session(connection, transaction, dialect), evt, cancellationToken);
        return new OpenEventWrite(connection, transaction, owner);
    }

    public Task CommitAsync(CancellationToken cancellationToken) => _transaction.CommitAsync(cancellationToken);

    public Task RollbackAsync(CancellationToken cancellationToken) => _transaction.RollbackAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }
    }
}
