using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// The manifest PUT on SQLite, inside one <c>BEGIN IMMEDIATE</c> transaction: check every blob is live
/// and linked and every child present, then write manifest, references, children and tag. Because GC's
/// claim takes the same writer lock, a blob found live here stays live: once this commits it is
/// referenced, and a referenced blob is never claimed. No row locks are needed, and an immutable tag
/// found free stays free until the commit.
/// </summary>
internal sealed class SqliteManifestWriter : IManifestWriter
{
    public async Task<PutManifestResult> PutAsync(Session s, ManifestWrite write, CancellationToken cancellationToken)
    {
        string? taggedDigest = null;
        if (write.Tag is not null)
        {
            taggedDigest = await s.SingleAsync(
                "SELECT digest FROM tags WHERE repository_id = @repository AND name = @tag",
                r => r.GetString(0),
                [("repository", write.RepositoryId), ("tag", write.Tag)],
                cancellationToken);
            if (taggedDigest is not null && write.TagImmutable)
            {
                return PutManifestResult.ImmutableTag;
            }
        }

        var blobs = write.Blobs.Distinct().ToList();
        var children = write.Children.Distinct().ToList();
        var wrongSizes = new List<SizeMismatch>();
        var missingBlobs = await MissingAsync(
            s,
            write,
            """
            SELECT b.size FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
            WHERE l.repository_id = @repository AND l.digest = @digest AND b.state = 'live'
            """,
            blobs,
            wrongSizes,
            cancellationToken);
        var missingChildren = await MissingAsync(
            s,
            write,
            "SELECT length(content) FROM manifests WHERE repository_id = @repository AND digest = @digest",
            children,
            wrongSizes,
            cancellationToken);
        if (missingBlobs.Count > 0 || missingChildren.Count > 0 || wrongSizes.Count > 0)
        {
            // Nothing was written: the transaction commits no change.
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
        if (created)
        {
            await InsertAllAsync(
                s,
                write,
                "INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) VALUES (@repository, @manifest, @digest)",
                blobs,
                cancellationToken);
            await InsertAllAsync(
                s,
                write,
                "INSERT INTO manifest_children (repository_id, index_digest, child_digest) VALUES (@repository, @manifest, @digest)",
                children,
                cancellationToken);
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
        if (tagChanged)
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

    /// <summary>Runs <paramref name="sizeSql"/> (the size, or no row) per digest; absent ones are returned, present ones of another size than declared are added to <paramref name="wrongSizes"/>.</summary>
    private static async Task<List<Digest>> MissingAsync(Session s, ManifestWrite write, string sizeSql, List<Digest> digests, List<SizeMismatch> wrongSizes, CancellationToken cancellationToken)
    {
        var missing = new List<Digest>();
        if (digests.Count == 0)
        {
            return missing;
        }

        await using var command = s.Command(sizeSql, [("repository", write.RepositoryId), ("digest", string.Empty)]);
        foreach (var digest in digests)
        {
            command.Parameters[1].Value = digest.ToString();
            if (await command.ExecuteScalarAsync(cancellationToken) is not long size)
            {
                missing.Add(digest);
            }
            else if (write.DeclaredSizes is { } declared && declared.TryGetValue(digest, out var expected) && expected != size)
            {
                wrongSizes.Add(new SizeMismatch(digest, expected, size));
            }
        }

        return missing;
    }

    private static async Task InsertAllAsync(Session s, ManifestWrite write, string sql, List<Digest> digests, CancellationToken cancellationToken)
    {
        if (digests.Count == 0)
        {
            return;
        }

        await using var command = s.Command(sql, [("repository", write.RepositoryId), ("manifest", write.Digest.ToString()), ("digest", string.Empty)]);
        foreach (var digest in digests)
        {
            command.Parameters[2].Value = digest.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
