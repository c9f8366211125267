using Microsoft.Extensions.Options;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Lifecycle;
using Wharf.Core.Uploads;
using Wharf.Scanning.Registry;
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

/// <summary>Scan on push, continuous rescans and requested scans, on <c>Scanning:Interval</c>.</summary>
internal sealed partial class ScanJob(ScanCoordinator coordinator, IOptions<WharfOptions> options, ILogger<ScanJob> logger) : IBackgroundJob
{
    public const string JobName = "scan";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Scanning.Interval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var report = await coordinator.RunAsync(cancellationToken);
        foreach (var (scan, error) in report.Faults)
        {
            LogScanFault(logger, scan.Key.Name.Value, scan.Digest.ToString(), error);
        }

        return report.Idle ? string.Empty
            : $"{report.Requested} scans requested on push, {report.Rescans} rescans for database changes, {report.Completed} scans completed, {report.Failed} failed";
    }

    [LoggerMessage(EventId = WharfEventId.ScanFault, Level = LogLevel.Error, Message = "Scanning {Repository}@{Digest} failed with an internal error")]
    private static partial void LogScanFault(ILogger logger, string repository, string digest, Exception exception);
}

/// <summary>
/// Connected installs: downloads each OSV export of <c>Scanning:DatabaseUrls</c> on
/// <c>Scanning:DatabaseRefreshInterval</c> and imports it (atomically, as <c>wharf vulndb import</c>),
/// unless the server says it has not changed since the last import.
/// </summary>
internal sealed class VulnerabilityDownloadJob(VulnerabilityDownloader downloader, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "vulndb-download";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Scanning.DatabaseRefreshInterval;

    public bool RunsAtStart => true;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var results = new List<string>();
        foreach (var url in options.Value.Scanning.DatabaseUrls)
        {
            results.Add(await downloader.RefreshAsync(new Uri(url), cancellationToken));
        }

        return string.Join("; ", results);
    }
}
