using System.Diagnostics;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>A named periodic job; its logic lives in Core.</summary>
public interface IBackgroundJob
{
    string Name { get; }

    TimeSpan Interval { get; }

    /// <summary>Runs once as the host starts, before the first interval (a download a fresh install needs).</summary>
    bool RunsAtStart => false;

    /// <summary>Runs once; returns a short outcome for the log (empty when there was nothing to do).</summary>
    Task<string> RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Runs every registered job on its interval (zot's scheduler is the model). Each run holds the job's
/// lease in the metadata store (<see cref="JobLease"/>: renewed while the run lasts, released when it
/// ends), so with several nodes one at a time runs it; a run whose lease is lost is cancelled. Stopped
/// by host shutdown, which cancels running jobs and releases their leases.
/// </summary>
internal sealed class JobScheduler(IEnumerable<IBackgroundJob> jobs, IMetadataStore store, TimeProvider time, IOptions<WharfOptions> options, ILogger<JobScheduler> logger)
    : BackgroundService
{
    // Jobs running on this node: a lease is its owner's however often it asks, so a second run here
    // (a direct RunOnceAsync beside the loop) must be refused locally.
    private readonly HashSet<string> running = new(StringComparer.Ordinal);

    /// <summary>Identifies this node as a lease owner.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(jobs.Select(job => LoopAsync(job, stoppingToken)));

    /// <summary>One run of one job under its lease; false when another node holds it, it is already running here, or its lease was lost mid-run.</summary>
    public async Task<bool> RunOnceAsync(IBackgroundJob job, CancellationToken cancellationToken)
    {
        lock (running)
        {
            if (!running.Add(job.Name))
            {
                return false;
            }
        }

        try
        {
            await using var lease = await JobLease.TryAcquireAsync(store.Leases, job.Name, Owner, time, options.Value.Jobs.Lease, logger, cancellationToken);
            if (lease is null)
            {
                logger.JobLeaseHeld(job.Name);
                return false;
            }

            var startedAt = time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            try
            {
                var outcome = await job.RunAsync(lease.Token);
                Telemetry.WharfMetrics.JobRan(job.Name, Stopwatch.GetElapsedTime(started), failed: false);
                var elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (outcome.Length == 0)
                {
                    logger.JobIdle(job.Name, elapsed);
                }
                else
                {
                    logger.JobFinished(job.Name, elapsed, outcome);
                }

                await RecordRunAsync(job, startedAt, started, outcome, null);
                return true;
            }
            catch (OperationCanceledException) when (lease.Lost && !cancellationToken.IsCancellationRequested)
            {
                await RecordRunAsync(job, startedAt, started, "", "its lease was lost (another node may be running it); the run was cancelled");
                return false;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failure is counted; a run cut short by shutdown or a lost lease is neither a failure nor a run.
                Telemetry.WharfMetrics.JobRan(job.Name, Stopwatch.GetElapsedTime(started), failed: true);
                await RecordRunAsync(job, startedAt, started, "", $"{e.GetType().Name}: {e.Message}");
                throw;
            }
        }
        finally
        {
            lock (running)
            {
                running.Remove(job.Name);
            }
        }
    }

    /// <summary>
    /// Keeps the run's end for <c>wharf status</c>. Never fails the run: the store may be what failed it.
    /// The next run is due an interval after this one started (the loop's timer ticks on the interval).
    /// </summary>
    private async Task RecordRunAsync(IBackgroundJob job, DateTimeOffset startedAt, long started, string outcome, string? failure)
    {
        var record = new JobRunRecord(
            job.Name, Owner, startedAt, Stopwatch.GetElapsedTime(started), outcome.Length == 0 ? "nothing to do" : outcome,
            failure is null ? null : Truncate(failure.ReplaceLineEndings(" "), 500), startedAt + job.Interval);
        try
        {
            await store.Leases.RecordRunAsync(record, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.JobRunNotRecorded(job.Name, e);
        }
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private async Task LoopAsync(IBackgroundJob job, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(job.Interval, time);
        try
        {
            if (job.RunsAtStart)
            {
                await RunLoggedAsync(job, stoppingToken);
            }

            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunLoggedAsync(job, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunLoggedAsync(IBackgroundJob job, CancellationToken stoppingToken)
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
