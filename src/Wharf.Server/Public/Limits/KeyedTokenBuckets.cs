using Wharf.Server.Hosting;

namespace Wharf.Server.Public.Limits;

/// <summary>
/// One token bucket per key (a source address, an account) on this node, on <see cref="TimeProvider"/>'s
/// clock so that tests can move time. (<see cref="RequestLimits"/> uses .NET's partitioned limiter, whose
/// buckets refill from a timer on the machine's clock: no good for a fake clock.)
/// <para>
/// Memory is bounded twice: a bucket untouched for as long as it takes to refill is full, which is the
/// same as no bucket at all, so each call first drops those from the least recently used end; and past
/// <see cref="BoundedLru{TKey, TValue}.Capacity"/> keys the least recently used bucket goes even if not
/// full (its client starts afresh with a full bucket — a client with that many addresses has that many
/// buckets anyway).
/// </para>
/// </summary>
internal sealed class KeyedTokenBuckets
{
    private readonly Lock gate = new();
    private readonly BoundedLru<string, Bucket> buckets;
    private readonly TimeProvider time;
    private readonly double perSecond;
    private readonly double burst;
    private readonly TimeSpan refill;

    public KeyedTokenBuckets(RateOptions rate, int maxKeys, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate.RequestsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rate.Burst, 1);
        this.time = time;
        perSecond = rate.RequestsPerSecond;
        burst = rate.Burst;
        refill = TimeSpan.FromSeconds(burst / perSecond);
        buckets = new BoundedLru<string, Bucket>(maxKeys, StringComparer.Ordinal);
    }

    /// <summary>Buckets held now (tests: the bound).</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return buckets.Count;
            }
        }
    }

    /// <summary>Takes a token from <paramref name="key"/>'s bucket: null when taken, else how long until one is there.</summary>
    public TimeSpan? TryTake(string key)
    {
        var now = time.GetTimestamp();
        lock (gate)
        {
            while (buckets.TryPeekOldest(out _, out var oldest) && time.GetElapsedTime(oldest.Touched, now) >= refill)
            {
                buckets.RemoveOldest();
            }

            if (buckets.TryGet(key, out var bucket))
            {
                var elapsed = time.GetElapsedTime(bucket.Touched, now);
                bucket.Tokens = Math.Min(burst, bucket.Tokens + Math.Max(0, elapsed.TotalSeconds) * perSecond);
                bucket.Touched = now;
            }
            else
            {
                bucket = new Bucket { Tokens = burst, Touched = now };
                buckets.Set(key, bucket);
            }

            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return null;
            }

            return TimeSpan.FromSeconds((1 - bucket.Tokens) / perSecond);
        }
    }

    private sealed class Bucket
    {
        public double Tokens { get; set; }

        public long Touched { get; set; }
    }
}
