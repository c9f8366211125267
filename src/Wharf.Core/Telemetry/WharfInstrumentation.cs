using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Wharf.Core.Telemetry;

/// <summary>
/// The one <see cref="Meter"/> and <see cref="ActivitySource"/> of Wharf (both named <see cref="Name"/>), from the BCL
/// so that Core and the store projects need no package. Nothing is collected until the server's OpenTelemetry
/// providers listen: an instrument without a listener returns at its first check, and
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null.
/// </summary>
public static class WharfInstrumentation
{
    public const string Name = "Wharf";

    public static readonly Meter Meter = new(Name);

    public static readonly ActivitySource Source = new(Name);

    /// <summary>Metadata-store calls (one per read or write transaction), by the store method that made it.</summary>
    public static readonly Histogram<double> MetadataStoreDuration = Meter.CreateHistogram(
        "wharf.metadata_store.duration", "s", "Metadata-store call latency (one read, or one write transaction), by store operation.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    /// <summary>Blob-store calls, by operation (stat, open, write_chunk, commit_upload, …).</summary>
    public static readonly Histogram<double> BlobStoreDuration = Meter.CreateHistogram(
        "wharf.blob_store.duration", "s", "Blob-store call latency, by operation (opening a read, not the read itself).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>Manifest pulls a pull-through cache rule covers, by whether they were answered from the cache.</summary>
    public static readonly Counter<long> PullThroughCacheRequests = Meter.CreateCounter<long>(
        "wharf.pull_through_cache.requests", null, "Manifest pulls in repositories a pull-through cache rule covers: result=hit (served from the cache) or miss (fetched upstream).");

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");

    private static readonly ConcurrentDictionary<CallSite, string> Labels = new();

    public static void PullThroughCache(bool hit) => PullThroughCacheRequests.Add(1, hit ? Hit : Miss);

    /// <summary>
    /// The operation label of a store call made from <paramref name="member"/> in <paramref name="file"/> (both from
    /// caller-info attributes, so interned constants: the cache is keyed by reference and bounded by the code),
    /// e.g. <c>ImageStore.GetManifestByTag</c>.
    /// </summary>
    public static string StoreOperation(string file, string member) =>
        Labels.TryGetValue(new CallSite(file, member), out var label) ? label : Labels.GetOrAdd(new CallSite(file, member), static site =>
        {
            var type = Path.GetFileNameWithoutExtension(site.File);
            var dot = type.IndexOf('.', StringComparison.Ordinal);
            type = dot > 0 ? type[..dot] : type;
            var method = site.Member.EndsWith("Async", StringComparison.Ordinal) ? site.Member[..^5] : site.Member;
            return $"{type}.{method}";
        });

    /// <summary>A source location, compared by reference (caller-info strings are literals).</summary>
    private readonly struct CallSite(string file, string member) : IEquatable<CallSite>
    {
        public string File { get; } = file;

        public string Member { get; } = member;

        public bool Equals(CallSite other) => ReferenceEquals(File, other.File) && ReferenceEquals(Member, other.Member);

        public override bool Equals(object? obj) => obj is CallSite other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(File), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Member));
    }
}
