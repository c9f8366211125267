using System.Diagnostics.Metrics;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Telemetry;

namespace Wharf.Server.Telemetry;

/// <summary>
/// The server's instruments on Wharf's one meter (<see cref="WharfInstrumentation"/>); docs/operations.md, "Metrics",
/// has the table. Labels come only from bounded sets (surfaces, operations, methods, status codes, job names): never
/// a repository, a principal, a tag or anything else a caller chooses.
/// </summary>
internal static class WharfMetrics
{
    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    public static readonly Counter<long> Requests = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.requests", null, "Requests answered, by surface, operation, method and status code.");

    public static readonly Histogram<double> RequestDuration = WharfInstrumentation.Meter.CreateHistogram(
        "wharf.request.duration", "s", "Request latency from arrival to the end of the response, by surface, operation, method and status code.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Counter<long> Received = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.received", "By", "Request body bytes read (blob pushes, manifests, API bodies), by surface and operation.");

    public static readonly Counter<long> Sent = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.sent", "By", "Response body bytes of responses that declare their length (every blob and manifest GET), by surface and operation.");

    public static readonly Counter<long> JobRuns = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.job.runs", null, "Background job runs on this node, by job and result (success, failure).");

    public static readonly Histogram<double> JobDuration = WharfInstrumentation.Meter.CreateHistogram(
        "wharf.job.duration", "s", "Background job run time, by job.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] });

    public static readonly Counter<long> GcBlobsDeleted = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.gc.blobs_deleted", null, "Blobs garbage collection deleted.");

    public static readonly Counter<long> GcReclaimed = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.gc.reclaimed", "By", "Bytes garbage collection reclaimed (the sizes of the blobs it deleted).");

    public static readonly Counter<long> IdleTrims = WharfInstrumentation.Meter.CreateCounter<long>(
        "wharf.idle_trims", null, "Idle trims run on this node: a full, compacting collection and malloc_trim after IdleTrimAfter with no requests.");

    private static readonly KeyValuePair<string, object?> Success = new("result", "success");
    private static readonly KeyValuePair<string, object?> Failure = new("result", "failure");

    public static void JobRan(string job, TimeSpan elapsed, bool failed)
    {
        var name = new KeyValuePair<string, object?>("job", job);
        JobRuns.Add(1, name, failed ? Failure : Success);
        JobDuration.Record(elapsed.TotalSeconds, name);
    }

    public static void GcRan(GcReport report)
    {
        GcBlobsDeleted.Add(report.BlobsDeleted);
        GcReclaimed.Add(report.BytesFreed);
    }
}
