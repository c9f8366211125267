using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>
/// A job's lease, held for one run. It is renewed every third of its duration while the run lasts, so
/// a run longer than the lease keeps it. When a renewal finds it lost (expired or taken: another node
/// may be running the job now), or cannot reach the store before it expires, <see cref="Token"/> is
/// cancelled so the run stops. Disposing stops the renewals and releases the lease, so another node
/// may run the job at once.
/// </summary>
internal sealed class JobLease : IAsyncDisposable
{
    private readonly IJobLeaseStore store;
    private readonly string job;
    private readonly string owner;
    private readonly TimeProvider time;
    private readonly TimeSpan duration;
    private readonly ILogger logger;
    private readonly CancellationTokenSource run;
    private readonly CancellationTokenSource renewals = new();

    // Created before the lease is handed out, so its ticks count from the acquisition however late the loop awaits them.
    private readonly PeriodicTimer timer;
    private readonly Task renewing;
    private volatile bool lost;

    private JobLease(IJobLeaseStore store, string job, string owner, TimeProvider time, TimeSpan duration, DateTimeOffset expires, ILogger logger, CancellationToken cancellationToken)
    {
        (this.store, this.job, this.owner, this.time, this.duration, this.logger) = (store, job, owner, time, duration, logger);
        run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer = new PeriodicTimer(duration / 3, time);
        renewing = RenewAsync(expires);
    }

    /// <summary>Cancelled when the caller's token is, or when the lease is lost.</summary>
    public CancellationToken Token => run.Token;

    /// <summary>A renewal found the lease gone: the run was cancelled, and another node may hold the job.</summary>
    public bool Lost => lost;

    /// <summary>The lease of <paramref name="job"/> for <paramref name="owner"/>, or null when another owner holds it.</summary>
    public static async Task<JobLease?> TryAcquireAsync(
        IJobLeaseStore store, string job, string owner, TimeProvider time, TimeSpan duration, ILogger logger, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return await store.TryAcquireAsync(job, owner, now, duration, cancellationToken)
            ? new JobLease(store, job, owner, time, duration, now + duration, logger, cancellationToken)
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        await renewals.CancelAsync();
        await renewing;
        timer.Dispose();
        try
        {
            // Only the owner's row goes: a lease lost to another node stays that node's.
            await store.ReleaseAsync(job, owner, CancellationToken.None);
        }
        finally
        {
            run.Dispose();
            renewals.Dispose();
        }
    }

    private async Task RenewAsync(DateTimeOffset expires)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(renewals.Token))
            {
                var now = time.GetUtcNow();
                Exception? failure = null;
                try
                {
                    if (await store.RenewAsync(job, owner, now, duration, renewals.Token))
                    {
                        expires = now + duration;
                        continue;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The store is unreachable: retry at the next tick while that still comes before the expiry.
                    if (now + timer.Period < expires)
                    {
                        logger.JobLeaseRenewalFailed(job, expires, e);
                        continue;
                    }

                    failure = e;
                }

                lost = true;
                logger.JobLeaseLost(job, failure);
                await run.CancelAsync();
                return;
            }
        }
        catch (OperationCanceledException) when (renewals.IsCancellationRequested)
        {
        }
    }
}
