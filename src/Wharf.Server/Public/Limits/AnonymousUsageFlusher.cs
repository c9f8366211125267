using Microsoft.Extensions.Options;
using Wharf.Server.Hosting;

namespace Wharf.Server.Public.Limits;

/// <summary>
/// Writes the anonymous bytes <see cref="AnonymousDataUsage"/> counted, every
/// <see cref="PublicOptions.UsageFlushInterval"/> and once more at shutdown. Each node flushes its own
/// counts (the store adds them up), so this is not a leased job. About once an hour it also forgets the
/// counts of months before the last one (no check reads them; the previous month is kept for operators).
/// </summary>
internal sealed partial class AnonymousUsageFlusher(AnonymousDataUsage usage, Core.Metadata.IMetadataStore store, TimeProvider time, IOptions<WharfOptions> options, ILogger<AnonymousUsageFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Public.UsageFlushInterval, time);
        try
        {
            var pruned = DateTimeOffset.MinValue;
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
                if (time.GetUtcNow() - pruned >= PruneInterval)
                {
                    pruned = time.GetUtcNow();
                    await PruneAsync(pruned, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>How often past months' counts are removed (every node does it; deleting nothing is cheap).</summary>
    internal static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    /// <summary>Removes the counts of months before the previous one.</summary>
    internal async Task PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var utc = now.UtcDateTime;
        var previous = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
        try
        {
            await store.Public.DeleteAnonymousBytesBeforeAsync(AnonymousDataUsage.MonthOf(previous), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await usage.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e);
        }
    }

    [LoggerMessage(EventId = WharfEventId.PublicUsageFlushFailed, Level = LogLevel.Warning, Message = "Could not write anonymous data usage; will retry")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
