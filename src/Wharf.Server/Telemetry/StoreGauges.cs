using System.Diagnostics.Metrics;
using Wharf.Core.Metadata;
using Wharf.Core.Replication;
using Wharf.Core.Telemetry;

namespace Wharf.Server.Telemetry;

/// <summary>
/// The gauges that need a metadata-store query: open upload sessions, scans waiting, replication lag. The queries run
/// when <c>/metrics</c> is scraped (<see cref="RefreshAsync"/>, at most once per <see cref="MinInterval"/> however
/// many scrapers there are), never on a request path; the gauges' callbacks only read the last values. One meter
/// per server, disposed with it.
/// </summary>
internal sealed partial class StoreGauges : IDisposable
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    private readonly IMetadataStore store;
    private readonly TimeProvider time;
    private readonly ILogger<StoreGauges> logger;
    private readonly Meter meter = new(WharfInstrumentation.Name);
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private DateTimeOffset refreshedAt = DateTimeOffset.MinValue;
    private long openUploads;
    private long pendingScans;
    private double replicationLag;

    public StoreGauges(IMetadataStore store, TimeProvider time, ILogger<StoreGauges> logger)
    {
        this.store = store;
        this.time = time;
        this.logger = logger;
        meter.CreateObservableGauge("wharf.uploads.open", () => Volatile.Read(ref openUploads), null, "Upload sessions open (started, not completed, cancelled or expired), across every node.");
        meter.CreateObservableGauge("wharf.scans.pending", () => Volatile.Read(ref pendingScans), null, "Image scans requested and not finished (the scan queue's depth).");
        meter.CreateObservableGauge("wharf.replication.lag", () => Volatile.Read(ref replicationLag), "s", "Age of the oldest event of the event log replication has not read yet (0 when it is caught up).");
    }

    /// <summary>Reads the gauges' values from the store, unless they were read less than a second ago or a read is under way.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - refreshedAt < MinInterval || !await refreshing.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            Volatile.Write(ref openUploads, await store.Uploads.CountOpenAsync(now, cancellationToken));
            Volatile.Write(ref pendingScans, await store.Scans.CountPendingAsync(cancellationToken));
            var cursor = await store.Events.GetCursorAsync(ReplicationFeed.Consumer, cancellationToken);
            var next = await store.Events.ListAsync(cursor, 1, now, cancellationToken);
            Volatile.Write(ref replicationLag, next.Count == 0 ? 0 : Math.Max(0, (now - next[0].At).TotalSeconds));
            refreshedAt = now;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A store that cannot answer leaves the last values; readiness reports the store itself.
            LogRefreshFailed(logger, e);
        }
        finally
        {
            refreshing.Release();
        }
    }

    public void Dispose()
    {
        meter.Dispose();
        refreshing.Dispose();
    }

    [LoggerMessage(EventId = Hosting.WharfEventId.MetricsGaugesFailed, Level = LogLevel.Debug, Message = "The metrics gauges could not be read from the metadata store")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
