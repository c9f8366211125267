using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

internal sealed class JobLeaseStore(Database database) : IJobLeaseStore
{
    public Task<bool> TryAcquireAsync(string job, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                // The upsert's WHERE refuses a lease another owner holds until it expires.
                """
                INSERT INTO job_leases (job, owner, expires_at) VALUES (@job, @owner, @expires)
                ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE job_leases.owner = excluded.owner OR job_leases.expires_at <= @now
                """,
                [("job", job), ("owner", owner), ("expires", Columns.Ms(now + duration)), ("now", Columns.Ms(now))],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> RenewAsync(string job, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken) =>
        database.WriteAsync(
            // Unlike TryAcquireAsync, an expired lease is not taken back: another node may be running the job.
            async s => await s.ExecuteAsync(
                "UPDATE job_leases SET expires_at = @expires WHERE job = @job AND owner = @owner AND expires_at > @now",
                [("job", job), ("owner", owner), ("expires", Columns.Ms(now + duration)), ("now", Columns.Ms(now))],
                cancellationToken) > 0,
            cancellationToken);

    public Task ReleaseAsync(string job, string owner, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync("DELETE FROM job_leases WHERE job = @job AND owner = @owner", [("job", job), ("owner", owner)], cancellationToken),
            cancellationToken);

    public Task RecordRunAsync(JobRunRecord run, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                """
                INSERT INTO job_runs (job, owner, started_at, duration_ms, outcome, failure, next_due_at)
                VALUES (@job, @owner, @started, @duration, @outcome, @failure, @next)
                ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                    outcome = excluded.outcome, failure = excluded.failure, next_due_at = excluded.next_due_at
                """,
                [
                    ("job", run.Job), ("owner", run.Owner), ("started", Columns.Ms(run.StartedAt)), ("duration", (long)run.Duration.TotalMilliseconds),
                    ("outcome", run.Outcome), ("failure", run.Failure), ("next", run.NextDueAt is { } next ? Columns.Ms(next) : (object?)null),
                ],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<JobRunRecord>> ListRunsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<JobRunRecord>>(
            async s => await s.ListAsync(
                "SELECT job, owner, started_at, duration_ms, outcome, failure, next_due_at FROM job_runs ORDER BY job",
                r => new JobRunRecord(
                    r.GetString(0), r.GetString(1), r.Time(2), TimeSpan.FromMilliseconds(r.GetInt64(3)), r.GetString(4),
                    r.IsDBNull(5) ? null : r.GetString(5), r.NullableTime(6)),
                [],
                cancellationToken),
            cancellationToken);
}
