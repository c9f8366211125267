using System.Diagnostics;
using System.Runtime.CompilerServices;
using Wharf.Core.Telemetry;

namespace Wharf.Metadata.Relational;

/// <summary>
/// Reads on a pooled connection without a transaction (a single statement is its own snapshot);
/// writes in one transaction begun by the dialect, committed unless the work throws. Every call is
/// the one place a store's work goes through, so it is where store latency is measured and traced
/// (<see cref="WharfInstrumentation.MetadataStoreDuration"/>, a span per call when tracing listens),
/// labelled by the store method that made it.
/// </summary>
internal sealed class Database(SqlDialect dialect)
{
    private long _writes;
    private ReadCache? _cache;

    public SqlDialect Dialect => dialect;

    /// <summary>
    /// Write calls this process has finished through this database, committed or not: counted after the commit and
    /// before the call returns, so a read that starts after a write returned sees a different count than one read
    /// before it (what <see cref="IdentityStore.GetRecentAuthorizationGenerationAsync"/> keys its reading by).
    /// </summary>
    public long Writes => Volatile.Read(ref _writes);

    /// <summary>The cache of the data plane's hottest reads, when the engine has a change stamp (<see cref="SqlDialect.Changes"/>); else null.</summary>
    public ReadCache? Cache
    {
        get
        {
            if (_cache is null && dialect.Changes is { } watch)
            {
                Interlocked.CompareExchange(ref _cache, new ReadCache(this, watch), null);
            }

            return _cache;
        }
    }

    public async Task<T> ReadAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken, [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        var operation = WharfInstrumentation.StoreOperation(file, member);
        using var activity = WharfInstrumentation.Source.StartActivity(operation, ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var lease = await dialect.LeaseAsync(cancellationToken);
            return await work(new Session(lease, null, dialect));
        }
        finally
        {
            Record(operation, started);
        }
    }

    public async Task<T> WriteAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken, [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        var operation = WharfInstrumentation.StoreOperation(file, member);
        using var activity = WharfInstrumentation.Source.StartActivity(operation, ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var lease = await dialect.LeaseAsync(cancellationToken);
            await using var transaction = await dialect.BeginWriteAsync(lease.Connection, cancellationToken);
            var session = new Session(lease, transaction, dialect);
            var result = await work(session);
            if (!session.Committed)
            {
                await transaction.CommitAsync(cancellationToken);
            }

            return result;
        }
        finally
        {
            Interlocked.Increment(ref _writes);
            Record(operation, started);
        }
    }

    public Task WriteAsync(Func<Session, Task> work, CancellationToken cancellationToken, [CallerFilePath] string file = "", [CallerMemberName] string member = "") =>
        WriteAsync(
            async s =>
            {
                await work(s);
                return true;
            },
            cancellationToken,
            file,
            member);

    private static void Record(string operation, long started)
    {
        if (WharfInstrumentation.MetadataStoreDuration.Enabled)
        {
            WharfInstrumentation.MetadataStoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
        }
    }
}
