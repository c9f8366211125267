using Npgsql;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Postgres;

/// <summary>Manifests, their blob references and index children, and tags.</summary>
internal sealed class PgImageStore(PgDatabase database) : IImageStore
{
    private const string SelectManifest =
        "SELECT m.repository_id, m.digest, m.media_type, m.artifact_type, m.subject, m.content, m.annotations, m.pushed_at FROM manifests m";

    /// <summary>
    /// One transaction: lock the referenced blob rows <c>FOR SHARE</c> while checking they are live
    /// and linked (a GC claim, which needs <c>FOR UPDATE</c>, skips or waits for them), check the
    /// children, then write manifest, references, children and tag.
    /// </summary>
    public Task<PutManifestResult> PutManifestAsync(ManifestWrite write, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var blobs = Columns.Texts(write.Blobs.Distinct());
                var children = Columns.Texts(write.Children.Distinct());
                var presentBlobs = blobs.Length == 0 ? [] : (await s.ListAsync(
                    """
                    SELECT b.digest FROM blobs b JOIN repository_blobs l ON l.digest = b.digest AND l.repository_id = @repository
                    WHERE b.digest = ANY(@digests) AND b.state = 'live'
                    ORDER BY b.digest
                    FOR SHARE OF b
                    """,
                    r => r.GetString(0),
                    [("repository", write.RepositoryId), ("digests", blobs)],
                    cancellationToken)).ToHashSet(StringComparer.Ordinal);
                var presentChildren = children.Length == 0 ? [] : (await s.ListAsync(
                    "SELECT digest FROM manifests WHERE repository_id = @repository AND digest = ANY(@digests) ORDER BY digest FOR SHARE",
                    r => r.GetString(0),
                    [("repository", write.RepositoryId), ("digests", children)],
                    cancellationToken)).ToHashSet(StringComparer.Ordinal);
                var missingBlobs = blobs.Where(d => !presentBlobs.Contains(d)).Select(Digest.Parse).ToList();
                var missingChildren = children.Where(d => !presentChildren.Contains(d)).Select(Digest.Parse).ToList();
                if (missingBlobs.Count > 0 || missingChildren.Count > 0)
                {
                    return new PutManifestResult(false, false, missingBlobs, missingChildren);
                }

                var created = await s.ExecuteAsync(
                    """
                    INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, content, annotations, pushed_at)
                    VALUES (@repository, @digest, @mediaType, @artifactType, @subject, @content, @annotations, @now)
                    ON CONFLICT (repository_id, digest) DO NOTHING
                    """,
                    [
                        ("repository", write.RepositoryId), ("digest", write.Digest.ToString()), ("mediaType", write.MediaType),
                        ("artifactType", write.ArtifactType), ("subject", write.Subject?.ToString()), ("content", write.Content),
                        ("annotations", write.AnnotationsJson), ("now", Columns.Ms(write.Now)),
                    ],
                    cancellationToken) > 0;

                // Identical bytes mean identical references: only a new manifest writes them.
                if (created && blobs.Length > 0)
                {
                    await s.ExecuteAsync(
                        """
                        INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest)
                        SELECT @repository, @manifest, unnest(@digests) ON CONFLICT DO NOTHING
                        """,
                        [("repository", write.RepositoryId), ("manifest", write.Digest.ToString()), ("digests", blobs)],
                        cancellationToken);
                }

                if (created && children.Length > 0)
                {
                    await s.ExecuteAsync(
                        """
                        INSERT INTO manifest_children (repository_id, index_digest, child_digest)
                        SELECT @repository, @manifest, unnest(@digests) ON CONFLICT DO NOTHING
                        """,
                        [("repository", write.RepositoryId), ("manifest", write.Digest.ToString()), ("digests", children)],
                        cancellationToken);
                }

                if (write.Tag is not null)
                {
                    await s.ExecuteAsync(
                        """
                        INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (@repository, @tag, @digest, @now)
                        ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
                        """,
                        [("repository", write.RepositoryId), ("tag", write.Tag), ("digest", write.Digest.ToString()), ("now", Columns.Ms(write.Now))],
                        cancellationToken);
                }

                return PutManifestResult.Stored(created);
            },
            cancellationToken);

    public Task<ManifestRecord?> GetManifestAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"{SelectManifest} WHERE m.repository_id = @repository AND m.digest = @digest",
                Map,
                [("repository", repositoryId), ("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    public Task<ManifestRecord?> GetManifestByTagAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                $"{SelectManifest} JOIN tags t ON t.repository_id = m.repository_id AND t.digest = m.digest WHERE t.repository_id = @repository AND t.name = @tag",
                Map,
                [("repository", repositoryId), ("tag", tag)],
                cancellationToken),
            cancellationToken);

    public Task<DeleteManifestResult> DeleteManifestAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] key = [("repository", repositoryId), ("digest", digest.ToString())];

                // Lock the row so that an index listing it cannot commit between the check and the delete.
                if (!await s.ExistsAsync("SELECT 1 FROM manifests WHERE repository_id = @repository AND digest = @digest FOR UPDATE", key, cancellationToken))
                {
                    return DeleteManifestResult.NotFound;
                }

                if (await s.ExistsAsync("SELECT 1 FROM manifest_children WHERE repository_id = @repository AND child_digest = @digest LIMIT 1", key, cancellationToken))
                {
                    return DeleteManifestResult.ReferencedByIndex;
                }

                // Tags, blob references and (for an index) child rows go by cascade; blob links stay.
                await s.ExecuteAsync("DELETE FROM manifests WHERE repository_id = @repository AND digest = @digest", key, cancellationToken);
                return DeleteManifestResult.Deleted;
            },
            cancellationToken);

    public Task<bool> DeleteTagAsync(long repositoryId, string tag, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "DELETE FROM tags WHERE repository_id = @repository AND name = @tag",
                [("repository", repositoryId), ("tag", tag)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<string>> ListTagsAsync(long repositoryId, string? last, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async s => await s.ListAsync(
                "SELECT name FROM tags WHERE repository_id = @repository AND (@last::text IS NULL OR name > @last::text) ORDER BY name LIMIT @limit",
                r => r.GetString(0),
                [("repository", repositoryId), ("last", last), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(long repositoryId, Digest subject, string? artifactType, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReferrerRecord>>(
            async s => await s.ListAsync(
                """
                SELECT digest, media_type, octet_length(content), artifact_type, annotations FROM manifests
                WHERE repository_id = @repository AND subject = @subject AND (@artifactType::text IS NULL OR artifact_type = @artifactType::text)
                ORDER BY digest
                """,
                r => new ReferrerRecord(r.Digest(0), r.GetString(1), r.GetInt32(2), r.NullableString(3), r.NullableString(4)),
                [("repository", repositoryId), ("subject", subject.ToString()), ("artifactType", artifactType)],
                cancellationToken),
            cancellationToken);

    private static ManifestRecord Map(NpgsqlDataReader r) =>
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
