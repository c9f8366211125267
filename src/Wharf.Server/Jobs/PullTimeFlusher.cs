using Wharf.Core.Images;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>
/// Writes the pulls <see cref="PullRecorder"/> noted, every <see cref="ImageOptions.PullTimeFlushInterval"/>
/// and once more at shutdown. Each node flushes its own pulls, so this is not a leased job.
/// </summary>
internal sealed partial class PullTimeFlusher(PullRecorder pulls, TimeProvider time, Microsoft.Extensions.Options.IOptions<WharfOptions> options, ILogger<PullTimeFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Images.PullTimeFlushInterval, time);
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
            await pulls.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e);
        }
    }

    [LoggerMessage(EventId = WharfEventId.PullFlushFailed, Level = LogLevel.Warning, Message = "Could not write recorded pull times; will retry")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
