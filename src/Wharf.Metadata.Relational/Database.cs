namespace Wharf.Metadata.Relational;

/// <summary>
/// Reads on a pooled connection without a transaction (a single statement is its own snapshot);
/// writes in one transaction begun by the dialect, committed unless the work throws.
/// </summary>
internal sealed class Database(SqlDialect dialect)
{
    public SqlDialect Dialect => dialect;

    public async Task<T> ReadAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        return await work(new Session(connection, null, dialect));
    }

    public async Task<T> WriteAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        var result = await work(new Session(connection, transaction, dialect));
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
}
