using System.Data.Common;
using System.Globalization;
using Wharf.Core.Events;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

internal sealed class LifecycleStore(Database database) : ILifecycleStore
{
    public Task<bool> SetPolicyAsync(long repositoryId, string? policy, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "UPDATE repositories SET lifecycle_policy = @policy, lifecycle_evaluated_at = CASE WHEN CAST(@policy AS TEXT) IS NULL THEN NULL ELSE lifecycle_evaluated_at END WHERE id = @id",
                [("policy", policy), ("id", repositoryId)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<LifecyclePolicyRecord?> GetPolicyAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT lifecycle_policy, lifecycle_evaluated_at FROM repositories WHERE id = @id AND lifecycle_policy IS NOT NULL",
                r => new LifecyclePolicyRecord(r.GetString(0), r.NullableTime(1)),
                [("id", repositoryId)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<LifecycleTarget>> ListTargetsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<LifecycleTarget>>(
            async s => await s.ListAsync(
                "SELECT id, account, region, name, lifecycle_policy FROM repositories WHERE lifecycle_policy IS NOT NULL ORDER BY id",
                r => new LifecycleTarget(r.GetInt64(0), new RepositoryKey(new RegistryKey(AccountId.Parse(r.GetString(1)), r.GetString(2)), RepositoryName.Parse(r.GetString(3))), r.GetString(4)),
                [],
                cancellationToken),
            cancellationToken);

    public Task MarkEvaluatedAsync(long repositoryId, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync("UPDATE repositories SET lifecycle_evaluated_at = @at WHERE id = @id", [("at", Columns.Ms(at)), ("id", repositoryId)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<LifecycleImage>> ListImagesAsync(long repositoryId, LifecycleImageOrder order, LifecycleImage? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<LifecycleImage>>(
            async s =>
            {
                // An image's place in the order: the column the page is sorted by, then its digest.
                long KeyOf(LifecycleImage image) => Columns.Ms(order == LifecycleImageOrder.YoungestFirst ? LifecycleEvaluator.RankedAt(image) : image.PushedAt);
                (string, object?)[] parameters = after is null
                    ? [("repository", repositoryId), ("limit", limit)]
                    : [("repository", repositoryId), ("limit", limit), ("at", KeyOf(after)), ("digest", after.Digest.ToString())];
                var rows = await s.ListAsync(ImagesPageSql(order, after is not null), r => Image(r, []), parameters, cancellationToken);
                if (rows.Count == 0)
                {
                    return [];
                }

                // The page's tags: the same range of images (to the page's last), read in the same snapshot.
                var last = rows[^1];
                var tags = (await s.ListAsync(
                    TagsPageSql(order, after is not null),
                    r => (Digest: r.GetString(0), Name: r.GetString(1)),
                    [.. parameters, ("lastAt", KeyOf(last)), ("lastDigest", last.Digest.ToString())],
                    cancellationToken)).ToLookup(t => t.Digest, t => t.Name, StringComparer.Ordinal);
                return [.. rows.Select(image => image with { Tags = [.. tags[image.Digest.ToString()]] })];
            },
            cancellationToken);

    /// <summary>
    /// One page of <see cref="ListImagesAsync"/>: a range of manifests_lifecycle (youngest first, migration 27)
    /// or of manifests_pushed (oldest pushed first), from the cursor, by a row-value comparison the index can seek.
    /// </summary>
    internal static string ImagesPageSql(LifecycleImageOrder order, bool hasCursor)
    {
        var (key, cmp, dir) = Ordering(order);
        return $"""
            SELECT m.digest, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at,
                   EXISTS (SELECT 1 FROM manifest_children c WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest)
            FROM manifests m WHERE m.repository_id = @repository{(hasCursor ? $" AND ({key}, m.digest) {cmp} (@at, @digest)" : "")}
            ORDER BY {key} {dir}, m.digest {dir} LIMIT @limit
            """;
    }

    /// <summary>
    /// The tags of the images from the cursor (exclusive) to the page's last image (inclusive), by image then name:
    /// the page's range of images, then each one's range of tags_digest_name (CROSS JOIN keeps SQLite from starting
    /// at the repository's every tag instead).
    /// </summary>
    internal static string TagsPageSql(LifecycleImageOrder order, bool hasCursor)
    {
        var (key, cmp, _) = Ordering(order);
        var through = cmp == "<" ? ">=" : "<=";
        return $"""
            SELECT t.digest, t.name FROM manifests m CROSS JOIN tags t
            WHERE m.repository_id = @repository AND ({key}, m.digest) {through} (@lastAt, @lastDigest){(hasCursor ? $" AND ({key}, m.digest) {cmp} (@at, @digest)" : "")}
              AND t.repository_id = m.repository_id AND t.digest = m.digest
            ORDER BY t.digest, t.name
            """;
    }

    private static (string Key, string After, string Direction) Ordering(LifecycleImageOrder order) => order == LifecycleImageOrder.YoungestFirst
        ? ("COALESCE(m.activated_at, m.pushed_at)", "<", "DESC")
        : ("m.pushed_at", ">", "ASC");

    public Task<LifecycleApplyResult> ExpireAsync(long repositoryId, LifecycleImage planned, OutboxEvent evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var check = await CheckAsync(s, repositoryId, planned.Digest, planned, cancellationToken);
                if (check != LifecycleApplyResult.Applied)
                {
                    return check;
                }

                await s.ExecuteAsync("DELETE FROM manifests WHERE repository_id = @repository AND digest = @digest", [("repository", repositoryId), ("digest", planned.Digest.ToString())], cancellationToken);
                await EventLog.AppendAsync(s, evt, cancellationToken);
                return LifecycleApplyResult.Applied;
            },
            cancellationToken);

    public Task<LifecycleApplyResult> SetStorageClassAsync(long repositoryId, Digest digest, StorageClass target, LifecycleImage? planned, OutboxEvent evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var check = await CheckAsync(s, repositoryId, digest, planned, cancellationToken);
                if (check != LifecycleApplyResult.Applied)
                {
                    return check;
                }

                var sql = target == StorageClass.Archive
                    ? "UPDATE manifests SET storage_class = 'archive', archived_at = @now WHERE repository_id = @repository AND digest = @digest AND storage_class = 'standard'"
                    : "UPDATE manifests SET storage_class = 'standard', activated_at = @now WHERE repository_id = @repository AND digest = @digest AND storage_class = 'archive'";
                if (await s.ExecuteAsync(sql, [("now", Columns.Ms(evt.At)), ("repository", repositoryId), ("digest", digest.ToString())], cancellationToken) > 0)
                {
                    await EventLog.AppendAsync(s, evt, cancellationToken);
                }

                return LifecycleApplyResult.Applied;
            },
            cancellationToken);

    public Task<bool> TryStartPreviewAsync(long repositoryId, string policy, DateTimeOffset now, DateTimeOffset abandonedBefore, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                """
                INSERT INTO lifecycle_previews (repository_id, policy, status, results, started_at) VALUES (@repository, @policy, 'IN_PROGRESS', NULL, @now)
                ON CONFLICT (repository_id) DO UPDATE SET policy = excluded.policy, status = 'IN_PROGRESS', results = NULL, started_at = excluded.started_at
                WHERE lifecycle_previews.status <> 'IN_PROGRESS' OR lifecycle_previews.started_at < @abandoned
                """,
                [("repository", repositoryId), ("policy", policy), ("now", Columns.Ms(now)), ("abandoned", Columns.Ms(abandonedBefore))],
                cancellationToken) > 0,
            cancellationToken);

    public Task CompletePreviewAsync(long repositoryId, string status, string? resultsJson, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                "UPDATE lifecycle_previews SET status = @status, results = @results WHERE repository_id = @repository",
                [("status", status), ("results", resultsJson), ("repository", repositoryId)],
                cancellationToken),
            cancellationToken);

    public Task<LifecyclePreviewRecord?> GetPreviewAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT policy, status, results, started_at FROM lifecycle_previews WHERE repository_id = @repository",
                r => new LifecyclePreviewRecord(r.GetString(0), r.GetString(1), r.NullableString(2), r.Time(3)),
                [("repository", repositoryId)],
                cancellationToken),
            cancellationToken);

    /// <summary>
    /// An image's tags in name order: one range of tags (repository, digest, name) (migration 26), already in order.
    /// With only (repository, digest) the planner read the repository's whole tag key in name order for each image.
    /// </summary>
    internal const string TagsOfImageSql = "SELECT name FROM tags WHERE repository_id = @repository AND digest = @digest ORDER BY name";

    // The image as it is now, compared with the plan: tags, push time and storage class must not have moved.
    private static async Task<LifecycleApplyResult> CheckAsync(Session s, long repositoryId, Digest digest, LifecycleImage? planned, CancellationToken cancellationToken)
    {
        (string, object?)[] key = [("repository", repositoryId), ("digest", digest.ToString())];

        // The row lock holds off a concurrent tag or re-push of this image until the action commits.
        await s.ExecuteAsync($"SELECT 1 FROM manifests WHERE repository_id = @repository AND digest = @digest{s.Dialect.ForUpdate}", key, cancellationToken);
        var tags = await s.ListAsync(TagsOfImageSql, r => r.GetString(0), key, cancellationToken);
        var current = await s.SingleAsync(
            """
            SELECT m.digest, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at,
                   EXISTS (SELECT 1 FROM manifest_children c WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest)
            FROM manifests m WHERE m.repository_id = @repository AND m.digest = @digest
            """,
            r => Image(r, tags),
            key,
            cancellationToken);
        return current is null ? LifecycleApplyResult.NotFound
            : current.InIndex ? LifecycleApplyResult.ReferencedByIndex
            : planned is not null && !LifecycleImages.Unchanged(planned, current) ? LifecycleApplyResult.Changed
            : LifecycleApplyResult.Applied;
    }

    private static LifecycleImage Image(DbDataReader r, List<string> tags) => new(
        r.Digest(0),
        tags,
        r.Time(1),
        r.NullableTime(2),
        r.GetString(3) == "archive" ? StorageClass.Archive : StorageClass.Standard,
        r.NullableTime(4),
        r.NullableTime(5),
        // EXISTS is a boolean on PostgreSQL and an integer on SQLite.
        Convert.ToBoolean(r.GetValue(6), CultureInfo.InvariantCulture));
}
