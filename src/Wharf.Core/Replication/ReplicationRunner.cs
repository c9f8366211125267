using Wharf.Core.Metadata;

namespace Wharf.Core.Replication;

/// <summary>How the worker copies and retries (the <c>Replication:*</c> settings).</summary>
/// <param name="Concurrency">Copies at once on one node.</param>
/// <param name="ClaimTimeout">How long a claim lasts unrenewed; claims in flight are renewed every third of it, so a node that died frees its rows after it.</param>
/// <param name="RetryBaseDelay">The first retry's delay; each further one doubles it.</param>
/// <param name="MaxRetryDelay">The cap of the doubling.</param>
/// <param name="MaxRetryWindow">How long after a row was armed a failure that would be retried is final (<c>FAILED</c>).</param>
public sealed record ReplicationSettings(int Concurrency, TimeSpan ClaimTimeout, TimeSpan RetryBaseDelay, TimeSpan MaxRetryDelay, TimeSpan MaxRetryWindow)
{
    public static ReplicationSettings Default { get; } = new(4, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromHours(6));

    /// <summary>
    /// What an attempt that failed with <paramref name="failure"/> comes to for a row armed at
    /// <paramref name="armedAt"/> after <paramref name="attempts"/> earlier attempts: a retryable failure stays
    /// <c>IN_PROGRESS</c> (its code and reason visible) until a delay that doubles from
    /// <see cref="RetryBaseDelay"/> up to <see cref="MaxRetryDelay"/>, unless that retry would fall past
    /// <see cref="MaxRetryWindow"/>; then, as any other failure, it is <c>FAILED</c>.
    /// </summary>
    public ReplicationAttempt AfterFailure(ReplicationException failure, int attempts, DateTimeOffset armedAt, DateTimeOffset now)
    {
        if (!failure.Retryable)
        {
            return new ReplicationAttempt(ReplicationStatuses.Failed, failure.FailureCode, failure.Message, now);
        }

        var delay = RetryDelay(attempts);
        return now + delay - armedAt > MaxRetryWindow
            ? new ReplicationAttempt(ReplicationStatuses.Failed, failure.FailureCode, $"Gave up after {attempts + 1} attempts over {now - armedAt:g}: {failure.Message}", now)
            : new ReplicationAttempt(ReplicationStatuses.InProgress, failure.FailureCode, $"Attempt {attempts + 1} failed, retrying at {now + delay:u}: {failure.Message}", now + delay);
    }

    /// <summary>The delay after the attempt numbered <paramref name="attempts"/> (0 for the first).</summary>
    public TimeSpan RetryDelay(int attempts)
    {
        var doubled = RetryBaseDelay.Ticks * Math.Pow(2, Math.Min(attempts, 40));
        return doubled >= MaxRetryDelay.Ticks ? MaxRetryDelay : TimeSpan.FromTicks((long)doubled);
    }
}

/// <summary>What one run of the worker did, with the unexpected faults (for the log).</summary>
public sealed record ReplicationRunReport(int Completed, int Retrying, int Failed, IReadOnlyList<(ReplicationRecord Row, Exception Error)> Faults)
{
    public bool Idle => Completed == 0 && Retrying == 0 && Failed == 0;
}

/// <summary>
/// The worker: claims due rows, copies each through the target of its destination (a remote site's
/// when <see cref="IReplicationSites"/> has one, else this Wharf's own), at most
/// <see cref="ReplicationSettings.Concurrency"/> at once, and records how each went. A row re-armed while
/// its copy ran stays due (its new version is copied again), so a later push is never lost.
/// </summary>
public sealed class ReplicationRunner(IMetadataStore store, IReplicationSites sites, LocalReplicationTarget local, IReplicationSource source, ReplicationSettings settings, TimeProvider time)
{
    /// <summary>Copies every row due now, claimed for <paramref name="owner"/>, until none is left.</summary>
    public async Task<ReplicationRunReport> RunAsync(string owner, CancellationToken cancellationToken)
    {
        int completed = 0, retrying = 0, failed = 0;
        var faults = new List<(ReplicationRecord, Exception)>();
        while (true)
        {
            var rows = await store.Replications.ClaimDueAsync(owner, time.GetUtcNow(), settings.ClaimTimeout, settings.Concurrency * 4, cancellationToken);
            if (rows.Count == 0)
            {
                return new ReplicationRunReport(completed, retrying, failed, faults);
            }

            var settled = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
            using var renewing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var heartbeat = RenewAsync(owner, rows, settled, renewing.Token);
            try
            {
                await Parallel.ForEachAsync(
                    rows,
                    new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = cancellationToken },
                    async (row, ct) =>
                    {
                        var (attempt, fault) = await CopyAsync(row, ct);
                        var recorded = await store.Replications.RecordAttemptAsync(row.Id, row.Version, owner, attempt, time.GetUtcNow(), ct);
                        settled[row.Id] = true;
                        if (!recorded)
                        {
                            return;
                        }

                        lock (faults)
                        {
                            if (fault is not null)
                            {
                                faults.Add((row, fault));
                            }

                            _ = attempt.Status switch
                            {
                                ReplicationStatuses.Complete => completed++,
                                ReplicationStatuses.Failed => failed++,
                                _ => retrying++,
                            };
                        }
                    });
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await StopAsync(renewing, heartbeat);
                await ReleaseAsync(owner, rows.Where(r => !settled.ContainsKey(r.Id)));
                throw;
            }

            await StopAsync(renewing, heartbeat);
        }
    }

    // The claims of a batch last ClaimTimeout unrenewed; while its copies run (a large image, or rows
    // waiting for a free slot) they are renewed every third of it, so they never lapse into a second
    // node's hands, and a node that died holds nothing for longer than one ClaimTimeout.
    private async Task RenewAsync(string owner, IReadOnlyList<ReplicationRecord> rows, System.Collections.Concurrent.ConcurrentDictionary<long, bool> settled, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(settings.ClaimTimeout / 3, time, cancellationToken);
                var now = time.GetUtcNow();
                var open = rows.Where(r => !settled.ContainsKey(r.Id)).Select(r => r.Id).ToList();
                await store.Replications.RenewClaimsAsync(open, owner, now, now + settings.ClaimTimeout, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The batch is done.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A store fault: the claims lapse at their time and another attempt copies again (copies are idempotent).
        }
    }

    private static async Task StopAsync(CancellationTokenSource renewing, Task heartbeat)
    {
        await renewing.CancelAsync();
        await heartbeat;
    }

    // A stop mid-run (host shutdown): the rows this node holds are due again at once rather than after
    // the claim timeout, each as it was (the interrupted attempt counts as one). Best effort: a claim
    // that cannot be released expires.
    private async Task ReleaseAsync(string owner, IEnumerable<ReplicationRecord> rows)
    {
        foreach (var row in rows)
        {
            try
            {
                var now = time.GetUtcNow();
                await store.Replications.RecordAttemptAsync(row.Id, row.Version, owner, new ReplicationAttempt(ReplicationStatuses.InProgress, row.FailureCode, row.Reason, now), now, CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<(ReplicationAttempt Attempt, Exception? Fault)> CopyAsync(ReplicationRecord row, CancellationToken cancellationToken)
    {
        var request = row.Request;
        var item = new ReplicationItem(request.SourceRepository, request.Digest, request.Tags, request.Destination);
        try
        {
            await (sites.Find(request.Destination) ?? local).ReplicateAsync(item, source, cancellationToken);
            return (new ReplicationAttempt(ReplicationStatuses.Complete, null, null, time.GetUtcNow()), null);
        }
        catch (ReplicationException e)
        {
            return (settings.AfterFailure(e, row.Attempts, row.ArmedAt, time.GetUtcNow()), null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A store outage or a bug: retried like an unreachable destination, the fault logged by the caller.
            var failure = new ReplicationException(ReplicationFailureCodes.InternalError, "An internal error stopped the copy; the server log has the details.", retryable: true, e);
            return (settings.AfterFailure(failure, row.Attempts, row.ArmedAt, time.GetUtcNow()), e);
        }
    }
}
