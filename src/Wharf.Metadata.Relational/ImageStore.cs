using System.Data.Common;
using System.Text;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>
/// Manifests, their blob references and index children, and tags. Only the manifest PUT's reference
/// check is per engine (<see cref="IReferenceCheck"/>: the GC-critical locking); the row locks the
/// rest needs are <see cref="SqlDialect.ForUpdate"/>.
/// </summary>
internal sealed class ImageStore(Database database, IReferenceCheck referenceCheck) : IImageStore
{
    private const string ManifestColumns =
        "m.repository_id, m.digest, m.media_type, m.artifact_type, m.subject, m.content, m.annotations, m.pushed_at, m.storage_class";

    private const string SelectManifest = $"SELECT {ManifestColumns} FROM manifests m";

    /// <summary><see cref="FindManifestAsync"/> by tag: the repository row, and the tagged manifest's when there is one.</summary>
    internal const string FindByTag =
        $"SELECT {RepositoryStore.SelectColumnsOfR}, {ManifestColumns} FROM repositories r "
        + "LEFT JOIN tags t ON t.repository_id = r.id AND t.name = @tag "
        + "LEFT JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest "
        + $"WHERE {RepositoryStore.WhereKeyOfR}";

    /// <summary><see cref="FindManifestAsync"/> by digest.</summary>
    internal const string FindByDigest =
        $"SELECT {RepositoryStore.SelectColumnsOfR}, {ManifestColumns} FROM repositories r "
        + "LEFT JOIN manifests m ON m.repository_id = r.id AND m.digest = @digest "
        + $"WHERE {RepositoryStore.WhereKeyOfR}";

    /// <summary>
    /// One write transaction: lock the tag row, check the references (<see cref="IReferenceCheck"/>),
    /// then write manifest, references, children and tag, with the push's event and scan request.
    /// </summary>
    public async Task<PutManifestResult> PutManifestAsync(ManifestWrite write, CancellationToken cancellationToken)
    {
        try
        {
            return await database.WriteAsync(s => WriteManifestAsync(s, write, cancellationToken), cancellationToken);
        }
        catch (ImmutableTagTaken)
        {
            return PutManifestResult.ImmutableTag;
        }
        catch (Refused refused)
        {
            return refused.Result;
        }
    }

    /// <summary>Locks the tag row of a write (if it exists: <see cref="TagKey"/> binds it) and reads its digest.</summary>
    internal static string LockTag(SqlDialect dialect) => $"SELECT digest FROM tags WHERE repository_id = @repository AND name = @tag{dialect.ForUpdate}";

    internal static (string Name, object? Value)[] TagKey(ManifestWrite write) => [("repository", write.RepositoryId), ("tag", write.Tag)];

    /// <summary>The write once its <see cref="ManifestWrite.Target"/>'s repository is found and decided: by its id, as if it had been given.</summary>
    internal static ManifestWrite Resolve(ManifestWrite write, Repository repository, ManifestTargetDecision decision) =>
        write with { RepositoryId = repository.Id, TagImmutable = decision.TagImmutable, ScanRule = decision.ScanRule, Target = null };

    private async Task<PutManifestResult> WriteManifestAsync(Session s, ManifestWrite write, CancellationToken cancellationToken)
    {
        if (write.Target is { } target && !referenceCheck.FindsTarget)
        {
            // In process, the repository's row read inside the transaction costs no round trip.
            if (await RepositoryStore.GetAsync(s, target.Key, cancellationToken) is not { } repository)
            {
                return PutManifestResult.NoRepository;
            }

            if (target.Decide(repository) is not { } decision)
            {
                return PutManifestResult.NotDecided;
            }

            write = Resolve(write, repository, decision);
        }

        // The image size (the blobs' sizes plus the largest child's) is computed in the insert, from the rows the
        // check finds: the references written below are exactly those rows. The insert selects the repository's row,
        // so that where the check finds the repository by its key (IReferenceCheck.FindsTarget) a missing one inserts
        // nothing.
        var digest = write.Digest.ToString();
        var blobs = s.Dialect.ListValue(write.Blobs.Distinct().Select(d => d.ToString()));
        var children = s.Dialect.ListValue(write.Children.Distinct().Select(d => d.ToString()));
        (string, IEnumerable<(string, object?)>) insert = (
            $"""
            INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, content, annotations, pushed_at, image_size)
            SELECT r.id, @digest, @mediaType, @artifactType, @subject, @content, @annotations, @now,
                (SELECT coalesce(sum(size), 0) FROM blobs WHERE {s.Dialect.InList("digest", "blobs")})
              + (SELECT coalesce(max(c.image_size), 0) FROM ({s.Dialect.RepositoryRowsIn("manifests", "image_size", "digest", "children")}) AS c)
            FROM repositories r WHERE r.id = @repository
            ON CONFLICT (repository_id, digest) DO NOTHING
            """,
            [
                ("repository", write.RepositoryId), ("digest", digest), ("mediaType", write.MediaType),
                ("artifactType", write.ArtifactType), ("subject", write.Subject?.ToString()), ("content", write.Content),
                ("annotations", write.AnnotationsJson), ("now", Columns.Ms(write.Now)), ("blobs", blobs), ("children", children),
            ]);

        // The tag row is locked first, so two pushes of one immutable tag cannot both pass.
        var (taggedDigest, refused, created, mustRollBack, settings, resolved) = await referenceCheck.LockCheckAndInsertAsync(s, write, insert, cancellationToken);
        if (refused is not null)
        {
            // Nothing is written: the transaction commits no change, or rolls back the insert sent with the check.
            return mustRollBack ? throw new Refused(refused) : refused;
        }

        write = resolved ?? write;

        // The rest depends only on what is known now: one round trip where the engine batches.
        var batch = new StatementBatch();

        // Pushing an archived image again restores it (ECR-NOTES §1.7).
        if (!created)
        {
            batch.Add(
                "UPDATE manifests SET storage_class = 'standard', activated_at = @now WHERE repository_id = @repository AND digest = @digest AND storage_class = 'archive'",
                [("repository", write.RepositoryId), ("digest", digest), ("now", Columns.Ms(write.Now))]);
        }

        // Identical bytes mean identical references: only a new manifest writes them. Each blob and
        // child was found by the check above, so selecting them from their tables inserts them all.
        if (created && write.Blobs.Count > 0)
        {
            batch.Add(
                $"""
                INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest)
                SELECT @repository, @manifest, digest FROM blobs WHERE {s.Dialect.InList("digest", "digests")}
                """,
                [("repository", write.RepositoryId), ("manifest", digest), ("digests", blobs)]);
        }

        if (created && write.Children.Count > 0)
        {
            batch.Add(
                $"""
                INSERT INTO manifest_children (repository_id, index_digest, child_digest)
                SELECT @repository, @manifest, c.digest FROM ({s.Dialect.RepositoryRowsIn("manifests", "digest", "digest", "digests")}) AS c
                """,
                [("repository", write.RepositoryId), ("manifest", digest), ("digests", children)]);
        }

        var tagChanged = write.Tag is not null && taggedDigest != digest;
        var immutableInsert = -1;
        if (tagChanged && write.TagImmutable)
        {
            // Two first pushes of one immutable tag both found no row to lock (PostgreSQL): the unique key
            // decides, and the loser's transaction rolls back (manifest included).
            immutableInsert = batch.Add(
                """
                INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (@repository, @tag, @digest, @now)
                ON CONFLICT (repository_id, name) DO NOTHING
                """,
                [("repository", write.RepositoryId), ("tag", write.Tag), ("digest", digest), ("now", Columns.Ms(write.Now))]);
        }
        else if (tagChanged)
        {
            batch.Add(
                """
                INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (@repository, @tag, @digest, @now)
                ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
                """,
                [("repository", write.RepositoryId), ("tag", write.Tag), ("digest", digest), ("now", Columns.Ms(write.Now))]);
        }

        if (write.Event is { } evt && (created || tagChanged))
        {
            EventLog.Append(batch, evt);
        }

        var requested = write.Scan ?? write.ScanRule?.Decide(RepositoryStore.ParseRegistrySettings(settings));
        if (requested is { } scan && (created || tagChanged))
        {
            ScanStore.RequestIn(batch, write.RepositoryId, write.Digest, write.Now, scan.LimitStart);
        }

        // The batch is the transaction's last work, so its COMMIT goes with it where the engine batches (one round trip
        // fewer), unless an immutable tag's insert decides after it whether everything rolls back.
        var affected = immutableInsert >= 0 ? await batch.ExecuteAsync(s, cancellationToken) : await batch.ExecuteAndCommitAsync(s, cancellationToken);
        if (immutableInsert >= 0 && affected[immutableInsert] == 0)
        {
            // The event and scan request above roll back with the rest.
            throw new ImmutableTagTaken();
        }

        return PutManifestResult.Stored(created, tagChanged);
    }

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

    public async Task<(Repository Repository, ManifestRecord? Manifest)?> FindManifestAsync(RepositoryKey key, Reference reference, CancellationToken cancellationToken)
    {
        // Served from the read cache while the database has not changed since it was read (ReadCache: exact).
        var cache = database.Cache;
        var cacheKey = new ReadCache.ReadKey(reference.IsDigest ? ReadCache.Kind.ManifestByDigest : ReadCache.Kind.ManifestByTag, key, reference.IsDigest ? reference.Digest.Value.Hex : reference.Tag.Value);
        ReadCache.Stamp? stamp = null;
        if (cache is not null && cache.TryGet(cacheKey, out stamp, out var kept))
        {
            return ((Repository Repository, ManifestRecord? Manifest)?)kept;
        }

        var found = await ReadManifestAsync(key, reference, cancellationToken);
        if (stamp is { } readUnder)
        {
            cache!.Add(cacheKey, readUnder, found, found?.Manifest?.Content.LongLength ?? 0);
        }

        return found;
    }

    private async Task<(Repository Repository, ManifestRecord? Manifest)?> ReadManifestAsync(RepositoryKey key, Reference reference, CancellationToken cancellationToken)
    {
        (string, object?) selector = reference.IsDigest ? ("digest", reference.Digest.Value.ToString()) : ("tag", reference.Tag.Value);
        var found = await database.ReadAsync(
            s => s.SingleAsync(
                reference.IsDigest ? FindByDigest : FindByTag,
                r => Tuple.Create(RepositoryStore.Map(r), r.IsDBNull(RepositoryStore.ColumnCount) ? null : Map(r, RepositoryStore.ColumnCount)),
                [.. RepositoryStore.KeyParameters(key), selector],
                cancellationToken),
            cancellationToken,
            member: nameof(FindManifestAsync));
        return found is null ? null : (found.Item1, found.Item2);
    }

    public Task<DeleteManifestResult> DeleteManifestAsync(long repositoryId, Digest digest, OutboxEvent? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] key = [("repository", repositoryId), ("digest", digest.ToString())];

                // Lock the row so that an index listing it cannot commit between the check and the delete.
                if (!await s.ExistsAsync($"SELECT 1 FROM manifests WHERE repository_id = @repository AND digest = @digest{s.Dialect.ForUpdate}", key, cancellationToken))
                {
                    return DeleteManifestResult.NotFound;
                }

                if (await s.ExistsAsync("SELECT 1 FROM manifest_children WHERE repository_id = @repository AND child_digest = @digest LIMIT 1", key, cancellationToken))
                {
                    return DeleteManifestResult.ReferencedByIndex;
                }

                // Tags, blob references and (for an index) child rows go by cascade; blob links stay.
                await s.ExecuteAsync("DELETE FROM manifests WHERE repository_id = @repository AND digest = @digest", key, cancellationToken);
                if (evt is not null)
                {
                    await EventLog.AppendAsync(s, evt, cancellationToken);
                }

                return DeleteManifestResult.Deleted;
            },
            cancellationToken);

    public Task<bool> DeleteTagAsync(long repositoryId, string tag, Func<Digest, OutboxEvent>? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var digest = await s.SingleAsync(
                    "DELETE FROM tags WHERE repository_id = @repository AND name = @tag RETURNING digest",
                    r => r.GetString(0),
                    [("repository", repositoryId), ("tag", tag)],
                    cancellationToken);
                if (digest is not null && evt is not null)
                {
                    await EventLog.AppendAsync(s, evt(Core.Primitives.Digest.Parse(digest)), cancellationToken);
                }

                return digest is not null;
            },
            cancellationToken);

    public Task<IReadOnlyList<string>> ListTagsAsync(long repositoryId, string? last, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async s => await s.ListAsync(
                ListTagsSql(last),
                r => r.GetString(0),
                [("repository", repositoryId), ("last", last), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    /// <summary>A page of tags/list: one range of the tags key (<see cref="Keyset"/>); the plan tests read its plan.</summary>
    internal static string ListTagsSql(string? last) =>
        $"SELECT name FROM tags WHERE repository_id = @repository{Keyset.After(last, "name", "last")} ORDER BY name LIMIT @limit";

    public Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(long repositoryId, Digest subject, string? artifactType, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReferrerRecord>>(
            async s => await s.ListAsync(
                """
                SELECT digest, media_type, CAST(length(content) AS BIGINT), artifact_type, annotations, storage_class = 'archive' FROM manifests
                WHERE repository_id = @repository AND subject = @subject AND (CAST(@artifactType AS TEXT) IS NULL OR artifact_type = CAST(@artifactType AS TEXT))
                ORDER BY digest
                """,
                r => new ReferrerRecord(r.Digest(0), r.GetString(1), r.GetInt64(2), r.NullableString(3), r.NullableString(4), r.GetBoolean(5)),
                [("repository", repositoryId), ("subject", subject.ToString()), ("artifactType", artifactType)],
                cancellationToken),
            cancellationToken);

    public Task<UntagResult> UntagImageAsync(long repositoryId, string tag, Func<Digest, OutboxEvent>? evt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                var digest = await s.SingleAsync(
                    $"SELECT digest FROM tags WHERE repository_id = @repository AND name = @tag{s.Dialect.ForUpdate}",
                    r => r.GetString(0),
                    [("repository", repositoryId), ("tag", tag)],
                    cancellationToken);
                if (digest is null)
                {
                    return new UntagResult(false, null, false);
                }

                (string, object?)[] key = [("repository", repositoryId), ("digest", digest)];
                await s.ExecuteAsync("DELETE FROM tags WHERE repository_id = @repository AND name = @tag", [("repository", repositoryId), ("tag", tag)], cancellationToken);
                var keep = await s.ExistsAsync("SELECT 1 FROM tags WHERE repository_id = @repository AND digest = @digest LIMIT 1", key, cancellationToken)
                    || await s.ExistsAsync("SELECT 1 FROM manifest_children WHERE repository_id = @repository AND child_digest = @digest LIMIT 1", key, cancellationToken);
                if (!keep)
                {
                    // Lock the manifest so that an index listing it cannot commit between the check and the delete
                    // (where the write transaction already excludes other writers, the second check finds the same).
                    await s.ExecuteAsync($"SELECT 1 FROM manifests WHERE repository_id = @repository AND digest = @digest{s.Dialect.ForUpdate}", key, cancellationToken);
                    keep = await s.ExistsAsync("SELECT 1 FROM manifest_children WHERE repository_id = @repository AND child_digest = @digest LIMIT 1", key, cancellationToken)
                        || await s.ExistsAsync("SELECT 1 FROM tags WHERE repository_id = @repository AND digest = @digest LIMIT 1", key, cancellationToken);
                }

                if (!keep)
                {
                    await s.ExecuteAsync("DELETE FROM manifests WHERE repository_id = @repository AND digest = @digest", key, cancellationToken);
                }

                if (evt is not null)
                {
                    await EventLog.AppendAsync(s, evt(Core.Primitives.Digest.Parse(digest)), cancellationToken);
                }

                return new UntagResult(true, Core.Primitives.Digest.Parse(digest), !keep);
            },
            cancellationToken);

    public Task<IReadOnlyList<ImageId>> ListImageIdsAsync(long repositoryId, TagStatus status, ImageStatusFilter imageStatus, ImageId? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ImageId>>(
            async s => await s.ListAsync(
                ImageIdQueries.Page(s.Dialect, status, imageStatus, after is not null),
                r => new ImageId(r.Digest(0), r.NullableString(1)),
                [("repository", repositoryId), ("afterDigest", after?.Digest.ToString()), ("afterTag", after?.Tag ?? string.Empty), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ImageSummary>> DescribeImagesAsync(long repositoryId, TagStatus status, ImageStatusFilter imageStatus, Digest? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(
                    DescribeImagesSql(s.Dialect, status, imageStatus, after),
                    MapSummary,
                    [("repository", repositoryId), ("after", after?.ToString()), ("limit", limit)],
                    cancellationToken);
                return await WithTagsAsync(s, repositoryId, rows, cancellationToken);
            },
            cancellationToken);

    /// <summary>A page of DescribeImages: one range of the manifests key in digest order (<see cref="Keyset"/>); the plan tests read its plan.</summary>
    internal static string DescribeImagesSql(SqlDialect dialect, TagStatus status, ImageStatusFilter imageStatus, Digest? after) =>
        $"{SelectSummary} WHERE m.repository_id = @repository{Keyset.After(after?.ToString(), "m.digest")} " +
        $"{ImageIdQueries.StatusCondition(dialect, status)} {ImageIdQueries.StorageCondition(imageStatus)} ORDER BY m.digest LIMIT @limit";

    public Task<IReadOnlyList<ImageSummary>> GetImagesAsync(long repositoryId, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = new List<ImageSummary>();
                foreach (var digest in digests.Distinct())
                {
                    var row = await s.SingleAsync(
                        $"{SelectSummary} WHERE m.repository_id = @repository AND m.digest = @digest",
                        MapSummary,
                        [("repository", repositoryId), ("digest", digest.ToString())],
                        cancellationToken);
                    if (row is not null)
                    {
                        rows.Add(row);
                    }
                }

                return await WithTagsAsync(s, repositoryId, rows, cancellationToken);
            },
            cancellationToken);

    public Task<IReadOnlyList<ImageSummary>> BrowseImagesAsync(long repositoryId, ImageBrowse query, CancellationToken cancellationToken)
    {
        var (sql, parameters) = BrowseImagesQuery(database.Dialect, repositoryId, query);
        return database.ReadAsync(
            async s => await WithTagsAsync(s, repositoryId, await s.ListAsync(sql, MapSummary, parameters, cancellationToken), cancellationToken),
            cancellationToken);
    }

    /// <summary>The SQL and parameters of <see cref="BrowseImagesAsync"/> (the plan tests read its plan).</summary>
    internal static (string Sql, List<(string Name, object? Value)> Parameters) BrowseImagesQuery(SqlDialect dialect, long repositoryId, ImageBrowse query)
    {
        var sql = new StringBuilder($"{SelectSummary} WHERE m.repository_id = @repository");
        List<(string Name, object? Value)> parameters = [("repository", repositoryId), ("limit", query.Limit)];
        if (query.After is { } cursor)
        {
            // A row value, which both engines read as one range of manifests_pushed; PostgreSQL's generic plan turned the
            // equivalent OR into a bitmap of every image before the cursor.
            sql.Append(" AND (m.pushed_at, m.digest) < (@at, @digest)");
            parameters.AddRange([("at", Columns.Ms(cursor.PushedAt)), ("digest", cursor.Digest.ToString())]);
        }

        sql.Append(' ').Append(ImageIdQueries.StatusCondition(dialect, query.Tagged)).Append(' ').Append(ImageIdQueries.StorageCondition(query.Status));
        if (!string.IsNullOrEmpty(query.TagPrefix))
        {
            // A range of the tags key, read once (not per image): every tag character sorts before '~'.
            sql.Append(" AND m.digest IN (SELECT p.digest FROM tags p WHERE p.repository_id = @repository AND p.name >= @prefix AND p.name < @prefixEnd)");
            parameters.AddRange([("prefix", query.TagPrefix), ("prefixEnd", query.TagPrefix + "~")]);
        }

        sql.Append(" ORDER BY m.pushed_at DESC, m.digest DESC LIMIT @limit");
        return (sql.ToString(), parameters);
    }

    public Task<bool> HasImagesAsync(long repositoryId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.ExistsAsync("SELECT 1 FROM manifests WHERE repository_id = @repository LIMIT 1", [("repository", repositoryId)], cancellationToken),
            cancellationToken);

    public Task RecordPullsAsync(IReadOnlyCollection<PullRecord> pulls, CancellationToken cancellationToken) =>
        pulls.Count == 0
            ? Task.CompletedTask
            : database.WriteAsync(
                async s =>
                {
                    await using var command = s.Command(
                        """
                        UPDATE manifests SET last_pulled_at = @at
                        WHERE repository_id = @repository AND digest = @digest AND (last_pulled_at IS NULL OR last_pulled_at < @at)
                        """,
                        [("repository", 0L), ("digest", string.Empty), ("at", 0L)]);
                    foreach (var pull in pulls)
                    {
                        command.Parameters[0].Value = pull.RepositoryId;
                        command.Parameters[1].Value = pull.Digest.ToString();
                        command.Parameters[2].Value = Columns.Ms(pull.PulledAt);
                        await command.ExecuteNonQueryAsync(cancellationToken);
                    }
                },
                cancellationToken);

    private const string SelectSummary =
        "SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.image_size, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at FROM manifests m";

    private static ImageSummary MapSummary(DbDataReader r) =>
        new(
            r.Digest(0),
            r.GetString(1),
            r.NullableString(2),
            r.IsDBNull(3) ? null : r.Digest(3),
            r.GetInt64(4),
            r.Time(5),
            r.NullableTime(6),
            [],
            r.GetString(7) == "archive",
            r.NullableTime(8),
            r.NullableTime(9));

    /// <summary>The tags of a page's images (<c>@digests</c>, a list value); the plan tests read its plan.</summary>
    internal static string TagsOfPageSql(SqlDialect dialect) => dialect.RepositoryRowsIn("tags", "digest, name", "digest", "digests");

    // One query for the page's tags, by (repository, digest): "ORDER BY name" with a digest per query would
    // walk the repository's whole tag key (the planner prefers the order to the index), a cost per image.
    private static async Task<IReadOnlyList<ImageSummary>> WithTagsAsync(Session s, long repositoryId, List<ImageSummary> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return rows;
        }

        var tags = await s.ListAsync(
            TagsOfPageSql(s.Dialect),
            r => (Digest: r.GetString(0), Name: r.GetString(1)),
            [("repository", repositoryId), ("digests", s.Dialect.ListValue(rows.Select(r => r.Digest.ToString()).Distinct()))],
            cancellationToken);
        var byDigest = tags.GroupBy(t => t.Digest, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(t => t.Name).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        return [.. rows.Select(row => row with { Tags = byDigest.TryGetValue(row.Digest.ToString(), out var names) ? names : [] })];
    }

    private static ManifestRecord Map(DbDataReader r) => Map(r, 0);

    /// <summary>The manifest whose <see cref="SelectManifest"/> columns start at column <paramref name="at"/>.</summary>
    private static ManifestRecord Map(DbDataReader r, int at) =>
        new(
            r.GetInt64(at),
            r.Digest(at + 1),
            r.GetString(at + 2),
            r.NullableString(at + 3),
            r.IsDBNull(at + 4) ? null : r.Digest(at + 4),
            r.Bytes(at + 5),
            r.NullableString(at + 6),
            r.Time(at + 7),
            r.GetString(at + 8) == "archive");

    /// <summary>Rolls back a manifest write whose immutable tag another transaction took first.</summary>
    private sealed class ImmutableTagTaken : Exception;

    /// <summary>Rolls back a manifest write refused after its insert was sent (<see cref="LockedWrite.MustRollBack"/>).</summary>
    private sealed class Refused(PutManifestResult result) : Exception
    {
        public PutManifestResult Result => result;
    }

    public Task<long> CountManifestsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(s => s.ScalarLongAsync("SELECT count(*) FROM manifests", [], cancellationToken), cancellationToken);

}
