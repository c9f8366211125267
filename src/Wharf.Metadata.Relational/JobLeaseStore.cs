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
}
