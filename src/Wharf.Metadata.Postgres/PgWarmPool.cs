using Npgsql;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// The few connections a node's store calls take first, so that its steady work runs on backends that have it
/// prepared and cached. Npgsql's pool hands out its idle connections in turn (first in, first out): after a burst grew
/// it to 66, each later request ran on the connection idle longest, where Npgsql had not yet prepared its statements
/// (it prepares one after five uses on a connection) and PostgreSQL had not yet cached the tables' catalog entries. A
/// tag PUT then cost PostgreSQL 4.8–6.2 ms of CPU instead of 1.0–1.6, and 300 PUTs later still 1.4–2.4 (bench/RESULTS.md,
/// "PostgreSQL's warm connections", session 39). Store calls take one of these while one is free and never wait
/// for one: when all are lent, a call takes a connection of the main pool, as before, so no call waits on another.
/// </summary>
internal sealed class PgWarmPool : IAsyncDisposable
{
    private readonly NpgsqlDataSource source;
    private readonly SemaphoreSlim free;

    private PgWarmPool(NpgsqlDataSource source, int size)
    {
        this.source = source;
        Size = size;
        free = new SemaphoreSlim(size, size);
    }

    /// <summary>How many warm connections a node keeps at most.</summary>
    public int Size { get; }

    /// <summary>
    /// The warm pool for <paramref name="builder"/>'s connection string and the main pool's string, whose maximum
    /// gives up the warm connections' share so that a node never opens more than the string's Maximum Pool Size. No
    /// warm pool (null) without pooling, with multiplexing (connections are not lent then), or with a pool no larger than it.
    /// </summary>
    public static (PgWarmPool? Warm, string Main) Create(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var size = Math.Clamp(2 * Environment.ProcessorCount, 4, 16);
        if (!builder.Pooling || builder.Multiplexing || builder.MaxPoolSize <= size)
        {
            return (null, builder.ConnectionString);
        }

        var main = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { MaxPoolSize = builder.MaxPoolSize - size };
        main.MinPoolSize = Math.Min(main.MinPoolSize, main.MaxPoolSize);
        // Never pruned (Minimum Pool Size = all of them): Npgsql closes a pool's connections idle for Connection Idle
        // Lifetime (5 min) down to the minimum, and a node idle that long would then meet its next PUTs on new backends,
        // with nothing prepared and cold caches (bench/RESULTS.md, session 40: 2.58 ms against 1.66-1.72 after 320 s idle).
        var warm = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { MaxPoolSize = size, MinPoolSize = size };
        return (new PgWarmPool(NpgsqlDataSource.Create(warm.ConnectionString), size), main.ConnectionString);
    }

    /// <summary>A lease of a warm connection, or null at once when all of them are lent.</summary>
    public async ValueTask<ConnectionLease?> TryLeaseAsync(CancellationToken cancellationToken)
    {
        if (!free.Wait(0, CancellationToken.None))
        {
            return null;
        }

        try
        {
            return new Lease(await source.OpenConnectionAsync(cancellationToken), free);
        }
        catch
        {
            free.Release();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await source.DisposeAsync();
        free.Dispose();
    }

    /// <summary>Gives the connection back to the warm pool, then its place.</summary>
    private sealed class Lease(NpgsqlConnection connection, SemaphoreSlim free) : ConnectionLease(connection)
    {
        protected override async ValueTask ReleaseAsync()
        {
            try
            {
                await base.ReleaseAsync();
            }
            finally
            {
                free.Release();
            }
        }
    }
}
