using Microsoft.Extensions.Options;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Lifecycle;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>Online garbage collection on <c>Gc:Interval</c>.</summary>
internal sealed class GarbageCollectionJob(GarbageCollector collector, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "gc";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Gc.Interval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var report = await collector.RunOnceAsync(cancellationToken);
        Telemetry.WharfMetrics.GcRan(report);
        return $"{report.BlobsDeleted} blobs ({report.BytesFreed} bytes) and {report.StagingAreasRemoved} orphaned staging areas removed";
    }
}

/// <summary>Expired upload sessions on <c>Uploads:SweepInterval</c>.</summary>
internal sealed class UploadExpiryJob(UploadJanitor janitor, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "upload-expiry";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Uploads.SweepInterval;

    public async Task<string> RunAsync(CancellationToken cancellationToken) =>
        $"{await janitor.RunOnceAsync(cancellationToken)} expired upload sessions removed";
}

/// <summary>Every repository's lifecycle policy, applied on <c>Lifecycle:Interval</c>.</summary>
internal sealed class LifecycleJob(LifecycleService lifecycle, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "lifecycle";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Lifecycle.Interval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var reports = await lifecycle.RunAsync(null, dryRun: false, cancellationToken);
        return $"{reports.Count} repositories evaluated: {reports.Sum(r => r.Expired)} images expired, {reports.Sum(r => r.Transitioned)} archived, {reports.Sum(r => r.Skipped)} skipped as changed since planned";
    }
}
