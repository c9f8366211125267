using System.Globalization;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Public.Limits;

/// <summary>
/// The monthly anonymous data cap (<see cref="PublicOptions.AnonymousMonthlyBytes"/>) across nodes without a
/// database write per blob: each node adds the bytes it sends to counters per (UTC month, source address)
/// in memory, and <see cref="FlushAsync"/> (run by <see cref="AnonymousUsageFlusher"/> every
/// <see cref="PublicOptions.UsageFlushInterval"/> and at shutdown) adds them to the metadata store's totals
/// in one batch. A check reads the store's total through a short cache and adds this node's unwritten
/// bytes, so a node sees another's bytes at most one flush interval plus <see cref="CacheFor"/> late.
/// </summary>
internal sealed partial class AnonymousDataUsage(IMetadataStore store, TimeProvider time, IOptions<WharfOptions> options, ILogger<AnonymousDataUsage> logger) : IDisposable
{
    /// <summary>How long a store total is trusted before it is read again.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(15);

    /// <summary>Sources whose unwritten bytes one node holds between flushes; a new source past this is not counted until the next flush (logged).</summary>
    public const int MaxPendingSources = 100_000;

    /// <summary>Store totals one node caches.</summary>
    public const int MaxCachedSources = 100_000;

    private readonly Lock gate = new();
    private readonly SemaphoreSlim flushOne = new(1, 1);
    private readonly BoundedLru<(string Month, string Source), Stored> cache = new(MaxCachedSources);
    private Dictionary<(string Month, string Source), long> pending = [];
    private Dictionary<(string Month, string Source), long> writing = [];
    private long flushes;
    private long uncounted;

    /// <summary>Sources with unwritten bytes (tests).</summary>
    public int PendingCount
    {
        get
        {
            lock (gate)
            {
                return pending.Count;
            }
        }
    }

    /// <summary>The store's key for a month: <c>yyyy-MM</c>, UTC.</summary>
    public static string MonthOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Counts <paramref name="bytes"/> sent to <paramref name="source"/> this month.</summary>
    public void Add(string source, long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        var key = (MonthOf(time.GetUtcNow()), source);
        lock (gate)
        {
            if (pending.TryGetValue(key, out var sum))
            {
                pending[key] = sum + bytes;
            }
            else if (pending.Count < MaxPendingSources)
            {
                pending[key] = bytes;
            }
            else
            {
                uncounted++;
            }
        }
    }

    /// <summary>Throws <see cref="WharfErrorCode.PublicDataLimitExceeded"/>, with <c>Retry-After</c> the start of next month, when <paramref name="source"/> has used this month's bytes.</summary>
    public async ValueTask CheckAsync(string source, CancellationToken cancellationToken)
    {
        var limit = options.Value.Public.AnonymousMonthlyBytes;
        var now = time.GetUtcNow();
        var key = (MonthOf(now), source);
        long? stored = null;
        long generation;
        lock (gate)
        {
            generation = flushes;
            if (cache.TryGet(key, out var cached) && time.GetElapsedTime(cached.ReadAt) < CacheFor)
            {
                stored = cached.Bytes;
            }
        }

        if (stored is null)
        {
            stored = await store.Public.GetAnonymousBytesAsync(key.Item1, source, cancellationToken);
            lock (gate)
            {
                // A flush that finished meanwhile may have written bytes this read missed: don't keep it.
                if (flushes == generation)
                {
                    cache.Set(key, new Stored(stored.Value, time.GetTimestamp()));
                }
            }
        }

        long used;
        lock (gate)
        {
            used = stored.Value + pending.GetValueOrDefault(key) + writing.GetValueOrDefault(key);
        }

        if (used >= limit)
        {
            throw new WharfException(WharfErrorCode.PublicDataLimitExceeded)
            {
                Headers = new Dictionary<string, string> { ["Retry-After"] = SecondsToNextMonth(now).ToString(CultureInfo.InvariantCulture) },
            };
        }
    }

    /// <summary>Adds the counted bytes to the store's totals; returns how many (month, source) counters were written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        await flushOne.WaitAsync(cancellationToken);
        try
        {
            Dictionary<(string Month, string Source), long> batch;
            long lost;
            lock (gate)
            {
                batch = pending;
                writing = batch;
                pending = [];
                lost = uncounted;
                uncounted = 0;
            }

            if (lost > 0)
            {
                LogUncounted(logger, lost, MaxPendingSources);
            }

            if (batch.Count == 0)
            {
                return 0;
            }

            var months = batch.GroupBy(p => p.Key.Month).ToList();
            var written = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var month in months)
                {
                    await store.Public.AddAnonymousBytesAsync(month.Key, month.ToDictionary(p => p.Key.Source, p => p.Value, StringComparer.Ordinal), cancellationToken);
                    written.Add(month.Key);
                }
            }
            catch
            {
                // Put back what was not written so that the next flush tries again, and checks meanwhile still see it.
                lock (gate)
                {
                    foreach (var ((month, source), bytes) in batch.Where(p => !written.Contains(p.Key.Month)))
                    {
                        pending[(month, source)] = pending.GetValueOrDefault((month, source)) + bytes;
                    }

                    writing = [];
                    flushes++;
                }

                throw;
            }

            lock (gate)
            {
                writing = [];
                flushes++;
                foreach (var key in batch.Keys)
                {
                    cache.Remove(key);
                }
            }

            return batch.Count;
        }
        finally
        {
            flushOne.Release();
        }
    }

    /// <summary>Seconds from <paramref name="now"/> to the first second of next month, UTC (at least 1).</summary>
    public static long SecondsToNextMonth(DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        var next = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
        return Math.Max(1, (long)Math.Ceiling((next - now).TotalSeconds));
    }

    public void Dispose() => flushOne.Dispose();

    [LoggerMessage(EventId = WharfEventId.PublicUsageUncounted, Level = LogLevel.Warning, Message = "{Count} anonymous blob responses went uncounted against the monthly data cap: more than {Max} source addresses between two flushes")]
    private static partial void LogUncounted(ILogger logger, long count, int max);

    private readonly record struct Stored(long Bytes, long ReadAt);
}
