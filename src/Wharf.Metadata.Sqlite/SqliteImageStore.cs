using Microsoft.Data.Sqlite;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Sqlite;

/// <summary>Manifests, their blob references and index children, and tags.</summary>
internal sealed class SqliteImageStore(SqliteDatabase database) : IImageStore
{
    private const string SelectManifest =
        "SELECT m.repository_id, m.digest, m.media_type, m.artifact_type, m.subject, m.content, m.annotations, m.pushed_at FROM manifests m";

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

    public Task<DeleteManifestResult> DeleteManifestAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
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
                return DeleteManifestResult.Deleted;
            },
            cancellationToken);

    public Task<bool> DeleteTagAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "DELETE FROM tags WHERE repository_id = $repository AND name = $tag",
                [("$repository", repositoryId), ("$tag", tag)],
                cancellationToken) > 0,
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
                SELECT digest, media_type, length(content), artifact_type, annotations FROM manifests
                WHERE repository_id = $repository AND subject = $subject AND ($artifactType IS NULL OR artifact_type = $artifactType)
                ORDER BY digest
                """,
                r => new ReferrerRecord(r.Digest(0), r.GetString(1), r.GetInt64(2), r.NullableString(3), r.NullableString(4)),
                [("$repository", repositoryId), ("$subject", subject.ToString()), ("$artifactType", artifactType)],
                cancellationToken),
            cancellationToken);

    private static ManifestRecord Map(SqliteDataReader r) =>
        new(
            r.GetInt64(0),
            r.Digest(1),
            r.GetString(2),
            r.NullableString(3),
            r.IsDBNull(4) ? null : r.Digest(4),
            (byte[])r.GetValue(5),
            r.NullableString(6),
            r.Time(7));
}
