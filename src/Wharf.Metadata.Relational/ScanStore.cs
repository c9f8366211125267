using System.Data.Common;
using System.Text.Json;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

internal sealed class ScanStore(Database database) : IScanStore
{
    private const string SummaryColumns = "digest, status, description, requested_at, completed_at, source_updated_at, database_at, severity_counts";

    public Task<ScanRequestResult> RequestAsync(long repositoryId, Digest digest, DateTimeOffset now, DateTimeOffset? limitStart, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] key = [("repository", repositoryId), ("digest", digest.ToString())];
                if (!await s.ExistsAsync("SELECT 1 FROM manifests WHERE repository_id = @repository AND digest = @digest", key, cancellationToken))
                {
                    return ScanRequestResult.ImageNotFound;
                }

                return await RequestInAsync(s, repositoryId, digest, now, limitStart, cancellationToken) ? ScanRequestResult.Requested : ScanRequestResult.TooSoon;
            },
            cancellationToken);

    /// <summary>Marks an existing image's scan requested inside the caller's transaction (also the manifest write's, for scan on push); false when too soon.</summary>
    internal static async Task<bool> RequestInAsync(Session s, long repositoryId, Digest digest, DateTimeOffset now, DateTimeOffset? limitStart, CancellationToken cancellationToken) =>
        await s.ExecuteAsync(RequestSql, RequestParameters(repositoryId, digest, now, limitStart), cancellationToken) > 0;

    /// <summary>Adds <see cref="RequestInAsync"/>'s statement to a batch the caller runs in its write transaction.</summary>
    internal static void RequestIn(StatementBatch batch, long repositoryId, Digest digest, DateTimeOffset now, DateTimeOffset? limitStart) =>
        batch.Add(RequestSql, RequestParameters(repositoryId, digest, now, limitStart));

    private const string RequestSql =
        """
        INSERT INTO image_scans (repository_id, digest, status, requested_at) VALUES (@repository, @digest, 'IN_PROGRESS', @now)
        ON CONFLICT (repository_id, digest) DO UPDATE SET status = 'IN_PROGRESS', description = NULL, requested_at = excluded.requested_at
        WHERE CAST(@limit AS BIGINT) IS NULL OR image_scans.requested_at < CAST(@limit AS BIGINT)
        """;

    private static (string, object?)[] RequestParameters(long repositoryId, Digest digest, DateTimeOffset now, DateTimeOffset? limitStart) =>
        [("repository", repositoryId), ("digest", digest.ToString()), ("now", Columns.Ms(now)), ("limit", limitStart is { } l ? Columns.Ms(l) : null)];

    public Task<IReadOnlyList<PendingScan>> ListPendingAsync(int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PendingScan>>(
            async s => await s.ListAsync(
                """
                SELECT r.id, r.account, r.region, r.name, i.digest, i.requested_at FROM image_scans i JOIN repositories r ON r.id = i.repository_id
                WHERE i.status = 'IN_PROGRESS' ORDER BY i.requested_at LIMIT @limit
                """,
                r => new PendingScan(
                    r.GetInt64(0),
                    new RepositoryKey(new RegistryKey(AccountId.Parse(r.GetString(1)), r.GetString(2)), RepositoryName.Parse(r.GetString(3))),
                    r.Digest(4),
                    r.Time(5)),
                [("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<bool> CompleteAsync(long repositoryId, Digest digest, DateTimeOffset requestedAt, ScanOutcome outcome, OutboxEvent? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var changed = await s.ExecuteAsync(
                    """
                    UPDATE image_scans SET status = @status, description = CAST(@description AS TEXT), completed_at = @completed, source_updated_at = CAST(@source AS BIGINT),
                        database_at = CAST(@database AS BIGINT), severity_counts = @counts, findings = @findings
                    WHERE repository_id = @repository AND digest = @digest AND status = 'IN_PROGRESS' AND requested_at = @requested
                    """,
                    [
                        ("repository", repositoryId), ("digest", digest.ToString()), ("requested", Columns.Ms(requestedAt)),
                        ("status", outcome.Status), ("description", outcome.Description), ("completed", Columns.Ms(outcome.CompletedAt)),
                        ("source", outcome.SourceUpdatedAt is { } u ? Columns.Ms(u) : null), ("database", outcome.DatabaseAt is { } d ? Columns.Ms(d) : null),
                        ("counts", JsonSerializer.Serialize(ScanFinding.Counts(outcome.Findings), RelationalJsonContext.Default.IReadOnlyDictionaryStringInt32)), ("findings", ScanFinding.Serialize(outcome.Findings)),
                    ],
                    cancellationToken);
                if (changed > 0 && evt is not null)
                {
                    await EventLog.AppendAsync(s, evt, cancellationToken);
                }

                return changed > 0;
            },
            cancellationToken);

    public Task<ImageScanRecord?> GetAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"SELECT {SummaryColumns}, findings FROM image_scans WHERE repository_id = @repository AND digest = @digest",
                r => Record(r, r.NullableString(8)),
                [("repository", repositoryId), ("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    public async Task<IReadOnlyList<ImageScanRecord>> GetSummariesAsync(long repositoryId, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken)
    {
        if (digests.Count == 0)
        {
            return [];
        }

        return await database.ReadAsync<IReadOnlyList<ImageScanRecord>>(
            async s => await s.ListAsync(
                s.Dialect.RepositoryRowsIn("image_scans", SummaryColumns, "digest", "digests"),
                r => Record(r, null),
                [("repository", repositoryId), ("digests", s.Dialect.ListValue(digests.Select(d => d.ToString()).Distinct()))],
                cancellationToken),
            cancellationToken);
    }

    public Task<IReadOnlyList<Digest>> ListStaleAsync(long repositoryId, DateTimeOffset databaseAt, Digest? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Digest>>(
            async s => await s.ListAsync(
                """
                SELECT m.digest FROM manifests m LEFT JOIN image_scans i ON i.repository_id = m.repository_id AND i.digest = m.digest
                WHERE m.repository_id = @repository AND m.storage_class = 'standard' AND m.digest > @after
                  AND (i.digest IS NULL OR (i.status <> 'IN_PROGRESS' AND (i.database_at IS NULL OR i.database_at < @database)))
                ORDER BY m.digest LIMIT @limit
                """,
                r => r.Digest(0),
                [("repository", repositoryId), ("database", Columns.Ms(databaseAt)), ("after", after?.ToString() ?? string.Empty), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    private static ImageScanRecord Record(DbDataReader r, string? findings) => new(
        r.Digest(0),
        r.GetString(1),
        r.NullableString(2),
        r.Time(3),
        r.NullableTime(4),
        r.NullableTime(5),
        r.NullableTime(6),
        JsonSerializer.Deserialize(r.GetString(7), RelationalJsonContext.Default.DictionaryStringInt32) ?? [],
        findings);

    // The predicate matches the partial index image_scans_pending, so the count reads only pending rows.
    public Task<long> CountPendingAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM image_scans WHERE status = 'IN_PROGRESS'", [], cancellationToken), cancellationToken);

}
