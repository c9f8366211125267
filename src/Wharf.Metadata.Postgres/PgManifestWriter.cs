using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// The manifest PUT on PostgreSQL, in a READ COMMITTED transaction: lock the tag row <c>FOR UPDATE</c>,
/// and the referenced blob rows <c>FOR SHARE</c> (in digest order) while checking they are live and
/// linked, so a GC claim (<see cref="PgBlobIndex.ClaimGarbageAsync"/>, <c>FOR UPDATE SKIP LOCKED</c>)
/// skips or waits for them; lock the children <c>FOR SHARE</c> so they cannot be deleted under the
/// index; then write manifest, references, children and tag.
/// </summary>
internal sealed class PgManifestWriter : IManifestWriter
{
    public async Task<PutManifestResult> PutAsync(Session s, ManifestWrite write, CancellationToken cancellationToken)
    {
        string? taggedDigest = null;
        if (write.Tag is not null)
        {
            // Locks the tag row (if any), so two pushes of one immutable tag cannot both pass.
            taggedDigest = await s.SingleAsync(
                "SELECT digest FROM tags WHERE repository_id = @repository AND name = @tag FOR UPDATE",
                r => r.GetString(0),
                [("repository", write.RepositoryId), ("tag", write.Tag)],
                cancellationToken);
            if (taggedDigest is not null && write.TagImmutable)
            {
                return PutManifestResult.ImmutableTag;
            }
        }

        var blobs = Texts(write.Blobs.Distinct());
        var children = Texts(write.Children.Distinct());
        var presentBlobs = blobs.Length == 0 ? new Dictionary<string, long>(StringComparer.Ordinal) : (await s.ListAsync(
            """
            SELECT b.digest, b.size FROM blobs b JOIN repository_blobs l ON l.digest = b.digest AND l.repository_id = @repository
            WHERE b.digest = ANY(@digests) AND b.state = 'live'
            ORDER BY b.digest
            FOR SHARE OF b
            """,
            r => (Digest: r.GetString(0), Size: r.GetInt64(1)),
            [("repository", write.RepositoryId), ("digests", blobs)],
            cancellationToken)).ToDictionary(p => p.Digest, p => p.Size, StringComparer.Ordinal);
        var presentChildren = children.Length == 0 ? new Dictionary<string, long>(StringComparer.Ordinal) : (await s.ListAsync(
            "SELECT digest, octet_length(content)::bigint FROM manifests WHERE repository_id = @repository AND digest = ANY(@digests) ORDER BY digest FOR SHARE",
            r => (Digest: r.GetString(0), Size: r.GetInt64(1)),
            [("repository", write.RepositoryId), ("digests", children)],
            cancellationToken)).ToDictionary(p => p.Digest, p => p.Size, StringComparer.Ordinal);
        var missingBlobs = blobs.Where(d => !presentBlobs.ContainsKey(d)).Select(Digest.Parse).ToList();
        var missingChildren = children.Where(d => !presentChildren.ContainsKey(d)).Select(Digest.Parse).ToList();
        var wrongSizes = WrongSizes(write.DeclaredSizes, presentBlobs).Concat(WrongSizes(write.DeclaredSizes, presentChildren)).ToList();
        if (missingBlobs.Count > 0 || missingChildren.Count > 0 || wrongSizes.Count > 0)
        {
            return new PutManifestResult(false, false, missingBlobs, missingChildren, WrongSizes: wrongSizes);
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

        // Pushing an archived image again restores it (ECR-NOTES §1.7).
        if (!created)
        {
            await s.ExecuteAsync(
                "UPDATE manifests SET storage_class = 'standard', activated_at = @now WHERE repository_id = @repository AND digest = @digest AND storage_class = 'archive'",
                [("repository", write.RepositoryId), ("digest", write.Digest.ToString()), ("now", Columns.Ms(write.Now))],
                cancellationToken);
        }

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

        if (created)
        {
            await s.ExecuteAsync(
                """
                UPDATE manifests SET image_size =
                    (SELECT coalesce(sum(b.size), 0) FROM manifest_blobs mb JOIN blobs b ON b.digest = mb.blob_digest
                     WHERE mb.repository_id = @repository AND mb.manifest_digest = @digest)
                  + (SELECT coalesce(max(c.image_size), 0) FROM manifest_children mc
                     JOIN manifests c ON c.repository_id = mc.repository_id AND c.digest = mc.child_digest
                     WHERE mc.repository_id = @repository AND mc.index_digest = @digest)
                WHERE repository_id = @repository AND digest = @digest
                """,
                [("repository", write.RepositoryId), ("digest", write.Digest.ToString())],
                cancellationToken);
        }

        var tagChanged = write.Tag is not null && taggedDigest != write.Digest.ToString();
        if (tagChanged && write.TagImmutable)
        {
            // Two first pushes of one immutable tag both found no row to lock: the unique key decides,
            // and the loser's transaction rolls back (manifest included).
            var inserted = await s.ExecuteAsync(
                """
                INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (@repository, @tag, @digest, @now)
                ON CONFLICT (repository_id, name) DO NOTHING
                """,
                [("repository", write.RepositoryId), ("tag", write.Tag), ("digest", write.Digest.ToString()), ("now", Columns.Ms(write.Now))],
                cancellationToken);
            if (inserted == 0)
            {
                throw new ImmutableTagTakenException();
            }
        }
        else if (tagChanged)
        {
            await s.ExecuteAsync(
                """
                INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (@repository, @tag, @digest, @now)
                ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
                """,
                [("repository", write.RepositoryId), ("tag", write.Tag), ("digest", write.Digest.ToString()), ("now", Columns.Ms(write.Now))],
                cancellationToken);
        }

        return PutManifestResult.Stored(created, tagChanged);
    }

    private static IEnumerable<SizeMismatch> WrongSizes(IReadOnlyDictionary<Digest, long>? declared, Dictionary<string, long> present) =>
        declared is null
            ? []
            : present.Select(p => (Digest: Digest.Parse(p.Key), Actual: p.Value))
                .Where(p => declared.TryGetValue(p.Digest, out var size) && size != p.Actual)
                .Select(p => new SizeMismatch(p.Digest, declared[p.Digest], p.Actual));

    private static string[] Texts(IEnumerable<Digest> digests) => digests.Select(d => d.ToString()).ToArray();
}
