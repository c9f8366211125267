using Microsoft.Extensions.Options;
using Wharf.Scanning.Registry;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Scanning;

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
