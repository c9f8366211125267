using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Hosting;
using Wharf.Server.Public.Limits;
using Wharf.Server.Tests.DataPlane;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// The public address's fair-use limits (docs/public.md, "Fair-use limits") on a fake clock: pulls per
/// source address or account refused with <c>Retry-After</c> and recovered as the bucket refills, a bound on
/// the buckets a client spraying addresses can make, and the monthly anonymous data cap seen by a second
/// node on the same metadata store once flushed, until the month ends.
/// </summary>
public sealed class PublicPullLimitsTests : IAsyncDisposable
{
    private static readonly Caller Anonymous = new(AccountId.Parse("000000000000"), "anonymous", IsAnonymous: true);
    private static readonly Caller Alice = new(AccountId.Parse("111111111111"), "arn:aws:iam::111111111111:user/alice", IsAnonymous: false);
    private static readonly Caller Bob = new(AccountId.Parse("222222222222"), "arn:aws:iam::222222222222:user/bob", IsAnonymous: false);

    private readonly string directory = Directory.CreateTempSubdirectory("wharf-limits-").FullName;
    private readonly List<IMetadataStore> stores = [];
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Anonymous_pulls_past_the_rate_are_refused_with_Retry_After_per_address_until_the_bucket_refills()
    {
        var limits = Limits(await SqliteAsync(), o => o.AnonymousPulls = new RateOptions { RequestsPerSecond = 1, Burst = 2 });
        var first = From("198.51.100.1");

        limits.CheckPull(first, Anonymous);
        limits.CheckPull(first, Anonymous);
        Assert.Equal("1", AssertRefused(WharfErrorCode.TooManyRequests, () => limits.CheckPull(first, Anonymous)));

        // Each address has its own bucket; an IPv6 client's is its /64's, and v4-mapped is v4.
        limits.CheckPull(From("198.51.100.2"), Anonymous);
        limits.CheckPull(From("2001:db8:1:2::1"), Anonymous);
        limits.CheckPull(From("2001:db8:1:2:ffff::9"), Anonymous);
        AssertRefused(WharfErrorCode.TooManyRequests, () => limits.CheckPull(From("2001:db8:1:2:abcd::1"), Anonymous));
        limits.CheckPull(From("2001:db8:1:3::1"), Anonymous);
        AssertRefused(WharfErrorCode.TooManyRequests, () => limits.CheckPull(From("::ffff:198.51.100.1"), Anonymous));

        // Refused pulls take nothing: a second later there is one token, then a wait again.
        time.Advance(TimeSpan.FromSeconds(1));
        limits.CheckPull(first, Anonymous);
        AssertRefused(WharfErrorCode.TooManyRequests, () => limits.CheckPull(first, Anonymous));
        time.Advance(TimeSpan.FromSeconds(10));
        limits.CheckPull(first, Anonymous);
        limits.CheckPull(first, Anonymous);
    }

    [Fact]
    public async Task Authenticated_pulls_count_per_account_whatever_the_address_and_0_means_no_limit()
    {
        var limits = Limits(await SqliteAsync(), o =>
        {
            o.AuthenticatedPulls = new RateOptions { RequestsPerSecond = 2, Burst = 1 };
            o.AnonymousPulls = new RateOptions { RequestsPerSecond = 0 };
        });

        limits.CheckPull(From("198.51.100.1"), Alice);
        Assert.Equal("1", AssertRefused(WharfErrorCode.TooManyRequests, () => limits.CheckPull(From("198.51.100.2"), Alice)));
        limits.CheckPull(From("198.51.100.1"), Bob);
        for (var i = 0; i < 100; i++)
        {
            limits.CheckPull(From("198.51.100.1"), Anonymous);
        }

        time.Advance(TimeSpan.FromMilliseconds(500));
        limits.CheckPull(From("198.51.100.3"), Alice);
    }

    [Fact]
    public async Task A_client_spraying_source_addresses_holds_at_most_the_cap_of_buckets_and_idle_ones_go()
    {
        var limits = Limits(await SqliteAsync(), o => o.AnonymousPulls = new RateOptions { RequestsPerSecond = 1, Burst = 5 }, maxKeys: 1000);
        var victim = From("192.0.2.1");
        for (var i = 0; i < 5; i++)
        {
            limits.CheckPull(victim, Anonymous);
        }

        for (var i = 0; i < 20_000; i++)
        {
            limits.CheckPull(From($"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"), Anonymous);
            Assert.True(limits.AnonymousBuckets <= 1000);
        }

        // A bucket untouched for as long as it takes to refill is full, the same as none: it goes.
        time.Advance(TimeSpan.FromSeconds(5));
        limits.CheckPull(victim, Anonymous);
        Assert.Equal(1, limits.AnonymousBuckets);
    }

    [Fact]
    public void Bad_limit_settings_are_refused_at_start_with_what_to_fix()
    {
        var validator = new WharfOptionsValidator(listening: false);
        Assert.Null(validator.FirstProblem(new WharfOptions { Public = { AnonymousPulls = new RateOptions(), AnonymousMonthlyBytes = 0 } }));
        Assert.Contains("Public:AnonymousPulls is 1 pulls per second with a burst of 0", validator.FirstProblem(new WharfOptions { Public = { AnonymousPulls = new RateOptions { RequestsPerSecond = 1 } } }), StringComparison.Ordinal);
        Assert.Contains("Public:AuthenticatedPulls is -1", validator.FirstProblem(new WharfOptions { Public = { AuthenticatedPulls = new RateOptions { RequestsPerSecond = -1, Burst = 1 } } }), StringComparison.Ordinal);
        Assert.Contains("Public:AnonymousMonthlyBytes is -1", validator.FirstProblem(new WharfOptions { Public = { AnonymousMonthlyBytes = -1 } }), StringComparison.Ordinal);
        Assert.Contains("Public:UsageFlushInterval", validator.FirstProblem(new WharfOptions { Public = { UsageFlushInterval = TimeSpan.Zero } }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_anonymous_data_cap_holds_across_nodes_once_flushed_and_resets_with_the_month(bool postgres)
    {
        var (storeA, storeB) = postgres ? await PostgresPairAsync() : (await SqliteAsync(), await SqliteAsync());
        using var usageA = Usage(storeA, cap: 1000);
        using var usageB = Usage(storeB, cap: 1000);
        var nodeA = Limits(usageA, cap: 1000);
        var nodeB = Limits(usageB, cap: 1000);
        var x = From("203.0.113.7");

        await nodeA.CheckDataAsync(x, Anonymous, Oci.Ct);
        await nodeB.CheckDataAsync(x, Anonymous, Oci.Ct);
        nodeA.CountBytes(x, Anonymous, 600);
        nodeA.CountBytes(x, Alice, 10_000); // authenticated callers have no data cap
        await nodeA.CheckDataAsync(x, Anonymous, Oci.Ct);
        nodeA.CountBytes(x, Anonymous, 400);

        // Node A counts its own unwritten bytes at once; the refusal waits for next month (UTC).
        var secondsToJanuary = (long)(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero) - time.GetUtcNow()).TotalSeconds;
        Assert.Equal(secondsToJanuary.ToString(System.Globalization.CultureInfo.InvariantCulture), await AssertRefusedAsync(nodeA, x));
        await nodeA.CheckDataAsync(x, Alice, Oci.Ct);
        await nodeA.CheckDataAsync(From("203.0.113.8"), Anonymous, Oci.Ct);

        // Node B sees them once flushed to the store and its cached total expires.
        await nodeB.CheckDataAsync(x, Anonymous, Oci.Ct);
        Assert.Equal(1, await usageA.FlushAsync(Oci.Ct));
        Assert.Equal(1000, await storeB.Public.GetAnonymousBytesAsync("2026-12", "203.0.113.7", Oci.Ct));
        await AssertRefusedAsync(nodeA, x);
        await nodeB.CheckDataAsync(x, Anonymous, Oci.Ct); // the documented lag: B's total is cached
        time.Advance(AnonymousDataUsage.CacheFor);
        await AssertRefusedAsync(nodeB, x);

        // Both nodes' bytes add up.
        var y = From("203.0.113.9");
        nodeA.CountBytes(y, Anonymous, 500);
        nodeB.CountBytes(y, Anonymous, 499);
        await usageA.FlushAsync(Oci.Ct);
        await usageB.FlushAsync(Oci.Ct);
        Assert.Equal(999, await storeA.Public.GetAnonymousBytesAsync("2026-12", "203.0.113.9", Oci.Ct));
        await nodeA.CheckDataAsync(y, Anonymous, Oci.Ct);
        nodeB.CountBytes(y, Anonymous, 1);
        await usageB.FlushAsync(Oci.Ct);
        time.Advance(AnonymousDataUsage.CacheFor);
        await AssertRefusedAsync(nodeA, y);

        // A new month starts afresh.
        time.Advance(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero) - time.GetUtcNow());
        await nodeA.CheckDataAsync(x, Anonymous, Oci.Ct);
        await nodeB.CheckDataAsync(y, Anonymous, Oci.Ct);
        nodeB.CountBytes(x, Anonymous, 1000);
        Assert.Equal("2678400", await AssertRefusedAsync(nodeB, x)); // all of January, to February
        await usageB.FlushAsync(Oci.Ct);
        Assert.Equal(1000, await storeA.Public.GetAnonymousBytesAsync("2027-01", "203.0.113.7", Oci.Ct));
        Assert.Equal(1000, await storeA.Public.GetAnonymousBytesAsync("2026-12", "203.0.113.7", Oci.Ct));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        Directory.Delete(directory, recursive: true);
    }

    private static string AssertRefused(WharfErrorCode code, Action check)
    {
        var refused = Assert.Throws<WharfException>(check);
        Assert.Equal(code, refused.Code);
        return refused.Headers!["Retry-After"];
    }

    private static async Task<string> AssertRefusedAsync(PublicPullLimits limits, HttpContext context)
    {
        var refused = await Assert.ThrowsAsync<WharfException>(async () => await limits.CheckDataAsync(context, Anonymous, Oci.Ct));
        Assert.Equal(WharfErrorCode.PublicDataLimitExceeded, refused.Code);
        Assert.Equal("Data limit exceeded", refused.Message);
        return refused.Headers!["Retry-After"];
    }

    [Fact]
    public async Task The_flusher_forgets_months_before_the_previous_one()
    {
        var store = await SqliteAsync();
        foreach (var month in new[] { "2026-09", "2026-10", "2026-11", "2026-12" })
        {
            await store.Public.AddAnonymousBytesAsync(month, new Dictionary<string, long> { ["203.0.113.7"] = 5 }, Oci.Ct);
        }

        var options = Options.Create(new WharfOptions());
        using var usage = new AnonymousDataUsage(store, time, options, NullLogger<AnonymousDataUsage>.Instance);
        using var flusher = new AnonymousUsageFlusher(usage, store, time, options, NullLogger<AnonymousUsageFlusher>.Instance);
        await flusher.PruneAsync(new DateTimeOffset(2026, 12, 6, 8, 0, 0, TimeSpan.Zero), Oci.Ct);

        Assert.Equal(0, await store.Public.GetAnonymousBytesAsync("2026-09", "203.0.113.7", Oci.Ct));
        Assert.Equal(0, await store.Public.GetAnonymousBytesAsync("2026-10", "203.0.113.7", Oci.Ct));
        Assert.Equal(5, await store.Public.GetAnonymousBytesAsync("2026-11", "203.0.113.7", Oci.Ct));
        Assert.Equal(5, await store.Public.GetAnonymousBytesAsync("2026-12", "203.0.113.7", Oci.Ct));
    }

    private static DefaultHttpContext From(string address) => new() { Connection = { RemoteIpAddress = IPAddress.Parse(address) } };

    private PublicPullLimits Limits(IMetadataStore store, Action<PublicOptions> configure, int maxKeys = PublicPullLimits.MaxKeys)
    {
        var options = Options.Create(new WharfOptions());
        configure(options.Value.Public);
        return new PublicPullLimits(options, new AnonymousDataUsage(store, time, options, NullLogger<AnonymousDataUsage>.Instance), time, maxKeys);
    }

    private PublicPullLimits Limits(AnonymousDataUsage usage, long cap) =>
        new(Options.Create(new WharfOptions { Public = { AnonymousMonthlyBytes = cap } }), usage, time);

    private AnonymousDataUsage Usage(IMetadataStore store, long cap) =>
        new(store, time, Options.Create(new WharfOptions { Public = { AnonymousMonthlyBytes = cap } }), NullLogger<AnonymousDataUsage>.Instance);

    private async Task<IMetadataStore> SqliteAsync()
    {
        // Two stores on one file: two nodes sharing a database.
        var store = new SqliteMetadataStore(Path.Combine(directory, "wharf.db"), time);
        stores.Add(store);
        await store.MigrateAsync(Oci.Ct);
        return store;
    }

    private async Task<(IMetadataStore, IMetadataStore)> PostgresPairAsync()
    {
        var connectionString = await (await Wharf.Testing.PostgresCluster.GetAsync()).CreateDatabaseAsync(Oci.Ct);
        var (first, second) = (new PostgresMetadataStore(connectionString), new PostgresMetadataStore(connectionString));
        stores.AddRange([first, second]);
        await first.MigrateAsync(Oci.Ct);
        return (first, second);
    }
}
