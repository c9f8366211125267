using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Wharf.Core.Replication;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Replication;

/// <summary>
/// Replication's services: the event-log consumer (a leased job, one node at a time), the worker (on
/// every node, rows claimed one node at a time), this Wharf as source and target, and the remote sites
/// (none by default: the remote-targets registration replaces <see cref="IReplicationSites"/>).
/// </summary>
internal static class ReplicationRegistration
{
    public static IServiceCollection AddReplication(this IServiceCollection services)
    {
        services.TryAddSingleton<IReplicationSites, NoRemoteSites>();
        services.TryAddSingleton<IReplicationSource, LocalReplicationSource>();
        services.TryAddSingleton<LocalReplicationTarget>();
        services.TryAddSingleton<ReplicationFeed>();
        services.TryAddSingleton<ReplicationService>();
        services.TryAddSingleton(sp => Settings(sp.GetRequiredService<IOptions<WharfOptions>>().Value.Replication));
        services.TryAddSingleton<ReplicationRunner>();
        services.AddSingleton<ReplicationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicationWorker>());
        services.AddSingleton<IBackgroundJob, ReplicationFeedJob>();
        return services;
    }

    public static ReplicationSettings Settings(ReplicationOptions options) =>
        new(options.Concurrency, options.ClaimTimeout, options.RetryBaseDelay, options.MaxRetryDelay, options.MaxRetryWindow);
}

/// <summary>
/// Reads the event log for pushes and restores to replicate on <c>Replication:Interval</c>, runs the backfills
/// asked for through the API, and wakes this node's worker for what it armed.
/// </summary>
internal sealed class ReplicationFeedJob(ReplicationFeed feed, ReplicationService service, ReplicationWorker worker, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "replication";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Replication.Interval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var armed = await feed.RunAsync(cancellationToken);
        var backfilled = await service.RunRequestedBackfillsAsync(cancellationToken);
        if (armed + backfilled == 0)
        {
            return string.Empty;
        }

        worker.Wake();
        return $"{armed} replications armed for pushes, {backfilled} by backfills asked for through the API";
    }
}

/// <summary>
/// This node's replication worker: on <c>Replication:Interval</c>, or sooner when woken, copies the due
/// rows it claims. Not a leased job: every node works, and a row's claim keeps two off one copy.
/// </summary>
internal sealed partial class ReplicationWorker(ReplicationRunner runner, TimeProvider time, IOptions<WharfOptions> options, ILogger<ReplicationWorker> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim wake = new(0, 1);

    /// <summary>Identifies this node as the owner of its claims.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>Runs the worker before its next tick (rows were just armed).</summary>
    public void Wake()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken: one run takes every due row.
        }
    }

    /// <summary>One run: copies every row due now; returns what it did.</summary>
    public async Task<ReplicationRunReport> RunOnceAsync(CancellationToken cancellationToken)
    {
        var report = await runner.RunAsync(Owner, cancellationToken);
        foreach (var (row, error) in report.Faults)
        {
            LogFault(logger, row.Request.SourceRepository.ToString(), row.Request.Digest.ToString(), row.Request.Destination.Region, row.Request.Destination.RegistryId, error);
        }

        if (!report.Idle)
        {
            LogCopied(logger, report.Completed, report.Retrying, report.Failed);
        }

        return report;
    }

    public override void Dispose()
    {
        wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Replication.Interval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFault(logger, "-", "-", "-", "-", e);
                }

                // The next tick, or a wake-up, whichever comes first (the other is cancelled, never faulted).
                using var next = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(Task.Delay(interval, time, next.Token), wake.WaitAsync(next.Token));
                await next.CancelAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = WharfEventId.ReplicationFault, Level = LogLevel.Error, Message = "Replicating {Repository}@{Digest} to {Region}/{RegistryId} failed with an internal error; it is retried")]
    private static partial void LogFault(ILogger logger, string repository, string digest, string region, string registryId, Exception exception);

    [LoggerMessage(EventId = WharfEventId.ReplicationCopied, Level = LogLevel.Information, Message = "Replication: {Completed} copies complete, {Retrying} to retry, {Failed} failed")]
    private static partial void LogCopied(ILogger logger, int completed, int retrying, int failed);
}
