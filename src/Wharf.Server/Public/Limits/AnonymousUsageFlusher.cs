using Microsoft.Extensions.Options;
using Wharf.Server.Hosting;

namespace Wharf.Server.Public.Limits;

/// <summary>
/// Writes the anonymous bytes <see cref="AnonymousDataUsage"/> counted, every
/// <see cref="PublicOptions.UsageFlushInterval"/> and once more at shutdown. Each node flushes its own
/// counts (the store adds them up), so this is not a leased job.
/// </summary>
internal sealed partial class AnonymousUsageFlusher(AnonymousDataUsage usage, TimeProvider time, IOptions<WharfOptions> options, ILogger<AnonymousUsageFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Public.UsageFlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
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
