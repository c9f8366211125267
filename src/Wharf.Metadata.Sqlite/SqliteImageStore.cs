using Microsoft.Data.Sqlite;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Sqlite;

/// <summary>Manifests, their blob references and index children, and tags.</summary>
internal sealed class SqliteImageStore(SqliteDatabase database) : IImageStore
{
    private const string SelectManifest =
        "SELECT m.repository_id, m.digest, m.media_type, m.artifact_type, m.subject, m.content, m.annotations, m.pushed_at, m.storage_class FROM manifests m";

    public Task<PutManifestResult> PutManifestAsync(ManifestWrite write, CancellationToken cancellationToken) =>
        database.WriteAsync(s => new ManifestWriter(s, write, cancellationToken).PutAsync(), cancellationToken);

    public Task<ManifestRecord?> GetManifestAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"{SelectManifest} WHERE m.repository_id = $repository AND m.digest = $digest",
                Map,
                [("$repository", repositoryId), ("$digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    public Task<ManifestRecord?> GetManifestByTagAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"{SelectManifest} JOIN tags t ON t.repository_id = m.repository_id AND t.digest = m.digest WHERE t.repository_id = $repository AND t.name = $tag",
                Map,
                [("$repository", repositoryId), ("$tag", tag)],
                cancellationToken),
            cancellationToken);

    public Task<DeleteManifestResult> DeleteManifestAsync(long repositoryId, Digest digest, OutboxEvent? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] key = [("$repository", repositoryId), ("$digest", digest.ToString())];
                if (!await s.ExistsAsync("SELECT 1 FROM manifests WHERE repository_id = $repository AND digest = $digest", key, cancellationToken))
                {
                    return DeleteManifestResult.NotFound;
                }

                if (await s.ExistsAsync("SELECT 1 FROM manifest_children WHERE repository_id = $repository AND child_digest = $digest LIMIT 1", key, cancellationToken))
                {
                    return DeleteManifestResult.ReferencedByIndex;
                }

                // Tags, blob references and (for an index) child rows go by cascade; blob links stay.
                await s.ExecuteAsync("DELETE FROM manifests WHERE repository_id = $repository AND digest = $digest", key, cancellationToken);
                if (evt is not null)
                {
                    await SqliteEvents.AppendAsync(s, evt, cancellationToken);
                }

                return DeleteManifestResult.Deleted;
            },
            cancellationToken);

    public Task<bool> DeleteTagAsync(long repositoryId, string tag, Func<Digest, OutboxEvent>? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var digest = await s.SingleAsync(
                    "DELETE FROM tags WHERE repository_id = $repository AND name = $tag RETURNING digest",
                    r => r.GetString(0),
                    [("$repository", repositoryId), ("$tag", tag)],
                    cancellationToken);
                if (digest is not null && evt is not null)
                {
                    await SqliteEvents.AppendAsync(s, evt(Core.Primitives.Digest.Parse(digest)), cancellationToken);
                }

                return digest is not null;
            },
            cancellationToken);

    public Task<IReadOnlyList<string>> ListTagsAsync(long repositoryId, string? last, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async s => await s.ListAsync(
                "SELECT name FROM tags WHERE repository_id = $repository AND ($last IS NULL OR name > $last) ORDER BY name LIMIT $limit",
                r => r.GetString(0),
                [("$repository", repositoryId), ("$last", last), ("$limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(long repositoryId, Digest subject, string? artifactType, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReferrerRecord>>(
            async s => await s.ListAsync(
                """
                SELECT digest, media_type, length(content), artifact_type, annotations, storage_class = 'archive' FROM manifests
                WHERE repository_id = $repository AND subject = $subject AND ($artifactType IS NULL OR artifact_type = $artifactType)
                ORDER BY digest
                """,
                r => new ReferrerRecord(r.Digest(0), r.GetString(1), r.GetInt64(2), r.NullableString(3), r.NullableString(4), r.GetInt64(5) != 0),
                [("$repository", repositoryId), ("$subject", subject.ToString()), ("$artifactType", artifactType)],
                cancellationToken),
            cancellationToken);

    public Task<UntagResult> UntagImageAsync(long repositoryId, string tag, Func<Digest, OutboxEvent>? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var digest = await s.SingleAsync(
                    "SELECT digest FROM tags WHERE repository_id = $repository AND name = $tag",
                    r => r.GetString(0),
                    [("$repository", repositoryId), ("$tag", tag)],
                    cancellationToken);
                if (digest is null)
                {
                    return new UntagResult(false, null, false);
                }

                (string, object?)[] key = [("$repository", repositoryId), ("$digest", digest)];
                await s.ExecuteAsync("DELETE FROM tags WHERE repository_id = $repository AND name = $tag", [("$repository", repositoryId), ("$tag", tag)], cancellationToken);
                var keep = await s.ExistsAsync("SELECT 1 FROM tags WHERE repository_id = $repository AND digest = $digest LIMIT 1", key, cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM manifest_children WHERE repository_id = $repository AND child_digest = $digest LIMIT 1", key, cancellationToken);
                if (!keep)
                {
                    await s.ExecuteAsync("DELETE FROM manifests WHERE repository_id = $repository AND digest = $digest", key, cancellationToken);
                }

                if (evt is not null)
                {
                    await SqliteEvents.AppendAsync(s, evt(Core.Primitives.Digest.Parse(digest)), cancellationToken);
                }

                return new UntagResult(true, Core.Primitives.Digest.Parse(digest), !keep);
            },
            cancellationToken);

    public Task<IReadOnlyList<ImageId>> ListImageIdsAsync(long repositoryId, TagStatus status, ImageStatusFilter imageStatus, ImageId? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ImageId>>(
            async s => await s.ListAsync(
                $"""
                SELECT digest, tag FROM ({ImageIdQueries.Union(status, "$repository", imageStatus)}) AS ids
                WHERE $afterDigest IS NULL OR digest > $afterDigest OR (digest = $afterDigest AND coalesce(tag, '') > $afterTag)
                ORDER BY digest, coalesce(tag, '') LIMIT $limit
                """,
                r => new ImageId(r.Digest(0), r.NullableString(1)),
                [("$repository", repositoryId), ("$afterDigest", after?.Digest.ToString()), ("$afterTag", after?.Tag ?? string.Empty), ("$limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ImageSummary>> DescribeImagesAsync(long repositoryId, TagStatus status, ImageStatusFilter imageStatus, Digest? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(
                    $"""
                    {SelectSummary} WHERE m.repository_id = $repository AND ($after IS NULL OR m.digest > $after) {ImageIdQueries.StatusCondition(status)} {ImageIdQueries.StorageCondition(imageStatus)}
                    ORDER BY m.digest LIMIT $limit
                    """,
                    MapSummary,
                    [("$repository", repositoryId), ("$after", after?.ToString()), ("$limit", limit)],
                    cancellationToken);
                return await WithTagsAsync(s, repositoryId, rows, cancellationToken);
            },
            cancellationToken);

    public Task<IReadOnlyList<ImageSummary>> GetImagesAsync(long repositoryId, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = new List<ImageSummary>();
                foreach (var digest in digests.Distinct())
                {
                    var row = await s.SingleAsync(
                        $"{SelectSummary} WHERE m.repository_id = $repository AND m.digest = $digest",
                        MapSummary,
                        [("$repository", repositoryId), ("$digest", digest.ToString())],
                        cancellationToken);
                    if (row is not null)
                    {
                        rows.Add(row);
                    }
                }

                return await WithTagsAsync(s, repositoryId, rows, cancellationToken);
            },
            cancellationToken);

    public Task<bool> HasImagesAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.ExistsAsync("SELECT 1 FROM manifests WHERE repository_id = $repository LIMIT 1", [("$repository", repositoryId)], cancellationToken),
            cancellationToken);

    public Task RecordPullsAsync(IReadOnlyCollection<PullRecord> pulls, CancellationToken cancellationToken) =>
        pulls.Count == 0
            ? Task.CompletedTask
            : database.WriteAsync(
                async s =>
                {
                    await using var command = s.Command(
                        """
                        UPDATE manifests SET last_pulled_at = $at
                        WHERE repository_id = $repository AND digest = $digest AND (last_pulled_at IS NULL OR last_pulled_at < $at)
                        """,
                        [("$repository", 0L), ("$digest", string.Empty), ("$at", 0L)]);
                    foreach (var pull in pulls)
                    {
                        command.Parameters[0].Value = pull.RepositoryId;
                        command.Parameters[1].Value = pull.Digest.ToString();
                        command.Parameters[2].Value = Columns.Ms(pull.PulledAt);
                        await command.ExecuteNonQueryAsync(cancellationToken);
                    }

                    return true;
                },
                cancellationToken);

    private const string SelectSummary =
        "SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.image_size, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at FROM manifests m";

    private static ImageSummary MapSummary(SqliteDataReader r) =>
        new(
            r.Digest(0),
            r.GetString(1),
            r.NullableString(2),
            r.IsDBNull(3) ? null : r.Digest(3),
            r.GetInt64(4),
            r.Time(5),
            r.IsDBNull(6) ? null : r.Time(6),
            [],
            r.GetString(7) == "archive",
            r.IsDBNull(8) ? null : r.Time(8),
            r.IsDBNull(9) ? null : r.Time(9));

    private static async Task<IReadOnlyList<ImageSummary>> WithTagsAsync(SqliteDatabase.Session s, long repositoryId, List<ImageSummary> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return rows;
        }

        var tags = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using var command = s.Command(
            "SELECT name FROM tags WHERE repository_id = $repository AND digest = $digest ORDER BY name",
            [("$repository", repositoryId), ("$digest", string.Empty)]);
        var result = new List<ImageSummary>(rows.Count);
        foreach (var row in rows)
        {
            command.Parameters[1].Value = row.Digest.ToString();
            var names = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    names.Add(reader.GetString(0));
                }
            }

            result.Add(row with { Tags = names });
        }

        return result;
    }

    private static ManifestRecord Map(SqliteDataReader r) =>
        new(
            r.GetInt64(0),
            r.Digest(1),
            r.GetString(2),
            r.NullableString(3),
            r.IsDBNull(4) ? null : r.Digest(4),
            (byte[])r.GetValue(5),
            r.NullableString(6),
            r.Time(7),
            r.GetString(8) == "archive");
}
