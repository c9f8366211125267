using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Security;
using Wharf.Server.Hosting;

namespace Wharf.Server.Public.Limits;

/// <summary>
/// The public address's fair-use limits (docs/public.md, "Fair-use limits"): image pulls (manifest GETs)
/// per source address for anonymous callers (<see cref="PublicOptions.AnonymousPulls"/>) and per account
/// for authenticated ones (<see cref="PublicOptions.AuthenticatedPulls"/>), in token buckets on each node;
/// and anonymous bytes per source address per month (<see cref="PublicOptions.AnonymousMonthlyBytes"/>),
/// counted across nodes by <see cref="AnonymousDataUsage"/>.
/// </summary>
internal sealed class PublicPullLimits : IPublicPullLimits
{
    /// <summary>Buckets one node holds per kind of caller (a bucket is about 200 bytes).</summary>
    public const int MaxKeys = 100_000;

    private readonly KeyedTokenBuckets? anonymous;
    private readonly KeyedTokenBuckets? authenticated;
    private readonly AnonymousDataUsage usage;
    private readonly bool dataCapped;

    public PublicPullLimits(IOptions<WharfOptions> options, AnonymousDataUsage usage, TimeProvider time)
        : this(options, usage, time, MaxKeys)
    {
    }

    internal PublicPullLimits(IOptions<WharfOptions> options, AnonymousDataUsage usage, TimeProvider time, int maxKeys)
    {
        var limits = options.Value.Public;
        anonymous = limits.AnonymousPulls.RequestsPerSecond > 0 ? new KeyedTokenBuckets(limits.AnonymousPulls, maxKeys, time) : null;
        authenticated = limits.AuthenticatedPulls.RequestsPerSecond > 0 ? new KeyedTokenBuckets(limits.AuthenticatedPulls, maxKeys, time) : null;
        dataCapped = limits.AnonymousMonthlyBytes > 0;
        this.usage = usage;
    }

    /// <summary>Buckets held now for anonymous callers (tests: the bound).</summary>
    internal int AnonymousBuckets => anonymous?.Count ?? 0;

    public void CheckPull(HttpContext context, Caller caller)
    {
        var wait = caller.IsAnonymous
            ? anonymous?.TryTake(SourceAddress.Of(context))
            : authenticated?.TryTake(caller.Account.Value);
        if (wait is { } retryAfter)
        {
            throw new WharfException(WharfErrorCode.TooManyRequests)
            {
                Headers = new Dictionary<string, string> { ["Retry-After"] = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture) },
            };
        }
    }

    public ValueTask CheckDataAsync(HttpContext context, Caller caller, CancellationToken cancellationToken) =>
        dataCapped && caller.IsAnonymous ? usage.CheckAsync(SourceAddress.Of(context), cancellationToken) : ValueTask.CompletedTask;

    public void CountBytes(HttpContext context, Caller caller, long bytes)
    {
        if (dataCapped && caller.IsAnonymous)
        {
            usage.Add(SourceAddress.Of(context), bytes);
        }
    }
}
