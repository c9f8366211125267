using Npgsql;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Relational;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// A node's store calls take the warm few connections first (issue 19, PostgreSQL PUT after a burst): after a burst
/// grew the pool, steady calls run on those few backends again, a call never waits for one of them, and the node
/// opens no more connections than the string's Maximum Pool Size.
/// </summary>
public sealed class PgWarmPoolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_a_burst_sequential_calls_run_on_the_warm_connections_only()
    {
        await using var pools = await Pools.OpenAsync();
        var (warm, dialect) = (pools.Warm, pools.Dialect);

        // A burst: 30 calls at once, each holding its connection. None waits; the warm ones are lent first.
        var burst = new List<ConnectionLease>();
        for (var i = 0; i < 30; i++)
        {
            burst.Add(await dialect.LeaseAsync(Ct));
        }

        var warmPids = new HashSet<int>();
        var allPids = new HashSet<int>();
        foreach (var lease in burst)
        {
            var pid = await BackendPidAsync(lease);
            allPids.Add(pid);
            if (lease.GetType() != typeof(ConnectionLease))
            {
                warmPids.Add(pid);
            }
        }

        Assert.Equal(30, allPids.Count);
        Assert.Equal(warm.Size, warmPids.Count);
        foreach (var lease in burst)
        {
            await lease.DisposeAsync();
        }

        // Steady calls, one at a time: Npgsql's pool alone would hand them its 30 idle connections in turn.
        var steady = new HashSet<int>();
        for (var i = 0; i < 60; i++)
        {
            await using var lease = await dialect.LeaseAsync(Ct);
            steady.Add(await BackendPidAsync(lease));
        }

        Assert.Subset(warmPids, steady);
    }

    [Fact]
    public async Task A_call_never_waits_for_a_warm_connection_and_a_returned_one_is_lent_again()
    {
        await using var pools = await Pools.OpenAsync();
        var (warm, dialect) = (pools.Warm, pools.Dialect);

        var held = new List<ConnectionLease>();
        for (var i = 0; i < warm.Size; i++)
        {
            var lease = await warm.TryLeaseAsync(Ct);
            Assert.NotNull(lease);
            held.Add(lease);
        }

        Assert.Null(await warm.TryLeaseAsync(Ct));
        using (var soon = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            soon.CancelAfter(TimeSpan.FromSeconds(10));
            await using var overflow = await dialect.LeaseAsync(soon.Token);
            Assert.Equal(typeof(ConnectionLease), overflow.GetType());
            Assert.True(await BackendPidAsync(overflow) > 0);
        }

        await held[0].DisposeAsync();
        held.RemoveAt(0);
        await using (var again = await dialect.LeaseAsync(Ct))
        {
            Assert.NotEqual(typeof(ConnectionLease), again.GetType());
        }

        foreach (var lease in held)
        {
            await lease.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_failed_open_gives_its_place_back()
    {
        var cluster = await PostgresCluster.GetAsync();
        var builder = new NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync(Ct)) { Database = "no_such_database" };
        var (warm, _) = PgWarmPool.Create(builder);
        Assert.NotNull(warm);
        await using var __ = warm;
        for (var i = 0; i <= warm.Size; i++)
        {
            await Assert.ThrowsAsync<PostgresException>(async () => await warm.TryLeaseAsync(Ct));
        }
    }

    [Theory]
    [InlineData("Host=h;Maximum Pool Size=100;Minimum Pool Size=99", true)]
    [InlineData("Host=h;Maximum Pool Size=40", true)]
    [InlineData("Host=h;Maximum Pool Size=4", false)]
    [InlineData("Host=h;Pooling=false", false)]
    [InlineData("Host=h;Multiplexing=true", false)]
    public async Task The_node_opens_no_more_than_the_strings_maximum(string connectionString, bool hasWarm)
    {
        var written = new NpgsqlConnectionStringBuilder(connectionString);
        var (warm, main) = PgWarmPool.Create(written);
        var mainBuilder = new NpgsqlConnectionStringBuilder(main);
        if (!hasWarm)
        {
            Assert.Null(warm);
            Assert.Equal(written.MaxPoolSize, mainBuilder.MaxPoolSize);
            return;
        }

        Assert.NotNull(warm);
        await using var _ = warm;
        Assert.Equal(written.MaxPoolSize, mainBuilder.MaxPoolSize + warm.Size);
        Assert.True(mainBuilder.MinPoolSize <= mainBuilder.MaxPoolSize);
    }

    [Fact]
    public async Task Idle_warm_connections_are_not_pruned()
    {
        // Npgsql closes connections idle this long (here 1 s, checked every second) down to the pool's minimum.
        await using var pools = await Pools.OpenAsync(";Connection Idle Lifetime=1;Connection Pruning Interval=1");
        var (warm, dialect) = (pools.Warm, pools.Dialect);
        var held = new List<ConnectionLease>();
        var warmPids = new HashSet<int>();
        for (var i = 0; i < warm.Size; i++)
        {
            var lease = await warm.TryLeaseAsync(Ct);
            Assert.NotNull(lease);
            held.Add(lease);
            warmPids.Add(await BackendPidAsync(lease));
        }

        foreach (var lease in held)
        {
            await lease.DisposeAsync();
        }

        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var after = new HashSet<int>();
        for (var i = 0; i < 2 * warm.Size; i++)
        {
            await using var lease = await dialect.LeaseAsync(Ct);
            after.Add(await BackendPidAsync(lease));
        }

        Assert.Subset(warmPids, after);
    }

    /// <summary>A fresh database's warm pool, main pool and the dialect that leases from both.</summary>
    private sealed class Pools(PgWarmPool warm, NpgsqlDataSource main) : IAsyncDisposable
    {
        public PgWarmPool Warm => warm;

        public PgDialect Dialect { get; } = new(main, null, warm);

        public static async Task<Pools> OpenAsync(string extra = "")
        {
            var connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync(Ct) + extra;
            var (warm, main) = PgWarmPool.Create(new NpgsqlConnectionStringBuilder(connectionString));
            Assert.NotNull(warm);
            return new Pools(warm, NpgsqlDataSource.Create(main));
        }

        public async ValueTask DisposeAsync()
        {
            await main.DisposeAsync();
            await warm.DisposeAsync();
        }
    }

    private static async Task<int> BackendPidAsync(ConnectionLease lease)
    {
        var command = lease.Rent("SELECT pg_backend_pid()");
        try
        {
            return (int)(await command.ExecuteScalarAsync(Ct))!;
        }
        finally
        {
            lease.Return(command, false);
        }
    }
}
