using System.Diagnostics;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>A named periodic job; its logic lives in Core.</summary>
public interface IBackgroundJob
{
    string Name { get; }

    TimeSpan Interval { get; }

    /// <summary>Runs once; returns a short outcome for the log.</summary>
    Task<string> RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Runs every registered job on its interval (zot's scheduler is the model). Each run holds the job's
/// lease in the metadata store, so with several nodes one at a time runs it. Stopped by host shutdown.
/// </summary>
internal sealed class JobScheduler(IEnumerable<IBackgroundJob> jobs, IMetadataStore store, TimeProvider time, ILogger<JobScheduler> logger)
    : BackgroundService
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>Identifies this node as a lease owner.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(jobs.Select(job => LoopAsync(job, stoppingToken)));

    /// <summary>One run of one job under its lease; false when another node holds it.</summary>
    public async Task<bool> RunOnceAsync(IBackgroundJob job, CancellationToken cancellationToken)
    {
        if (!await store.Leases.TryAcquireAsync(job.Name, Owner, time.GetUtcNow(), Lease, cancellationToken))
        {
            logger.JobLeaseHeld(job.Name);
            return false;
        }

        try
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await job.RunAsync(cancellationToken);
            var elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            logger.JobFinished(job.Name, elapsed, outcome);
            return true;
        }
        finally
        {
            await store.Leases.ReleaseAsync(job.Name, Owner, CancellationToken.None);
        }
    }

    private async Task LoopAsync(IBackgroundJob job, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(job.Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunOnceAsync(job, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.JobFailed(job.Name, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
