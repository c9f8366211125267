using Npgsql;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// The manifest PUT's reference check on PostgreSQL, in its READ COMMITTED transaction: the blob rows
/// found live and linked are locked <c>FOR SHARE</c> (in digest order), so a GC claim
/// (<see cref="PgBlobIndex.ClaimGarbageAsync"/>, <c>FOR UPDATE SKIP LOCKED</c>) skips or waits for
/// them until the references are committed; the children are locked <c>FOR SHARE</c> so that they
/// cannot be deleted under the index.
/// </summary>
internal sealed class PgReferenceCheck : IReferenceCheck
{
    private const string LockBlobs =
        """
        SELECT b.digest, b.size FROM blobs b JOIN repository_blobs l ON l.digest = b.digest AND l.repository_id = @repository
        WHERE b.digest = ANY(@digests) AND b.state = 'live'
        ORDER BY b.digest
        FOR SHARE OF b
        """;

    private const string LockChildren =
        "SELECT digest, octet_length(content)::bigint FROM manifests WHERE repository_id = @repository AND digest = ANY(@digests) ORDER BY digest FOR SHARE";

    /// <summary>
    /// The transaction's statements run on their generic plans (<c>SET LOCAL</c>: until the COMMIT). The manifest's
    /// insert otherwise never reaches its generic plan: priced for the ten elements PostgreSQL assumes of an array
    /// parameter, it costs more than each custom plan for the two or three digests a manifest lists, so PostgreSQL
    /// planned it again on every PUT (312 of its 464 µs, pg_stat_statements; bench/RESULTS.md, session 40). Its
    /// generic plan is the custom one: the blobs by their key, each child by its key (RepositoryRowsIn), the repository
    /// by its key. The transaction's other statements were on their generic plans already.
    /// </summary>
    private const string GenericPlans = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";

    /// <summary>A <see cref="ManifestWrite.Target"/>'s repository id, found by its key (<see cref="RepositoryStore.KeyParameters"/>) where the statements name <c>@repository</c>.</summary>
    private const string RepositoryOfKey = "(SELECT id FROM repositories WHERE account = @account AND region = @region AND name = @name)";

    public bool FindsTarget => true;

    /// <summary>
    /// The repository's row (when the write names it by its <see cref="ManifestWrite.Target"/>), the registry's settings
    /// (when the write's scan depends on them), the tag row's lock, the check's locks and the manifest's insert in one
    /// batch, one round trip (with the
    /// transaction's <c>BEGIN</c>, which Npgsql sends with the first statement): the same statements in the same order
    /// as one after another, so the rows are locked in the same order (tag, then blobs and children in digest order).
    /// The insert runs before its outcome is known; when the tag or the check refuses the write, or the target's
    /// repository is missing or undecided, <see cref="LockedWrite.MustRollBack"/> rolls it back with the transaction.
    /// </summary>
    public async Task<LockedWrite> LockCheckAndInsertAsync(Session s, ManifestWrite write, (string Sql, IEnumerable<(string Name, object? Value)> Parameters) insert, CancellationToken cancellationToken)
    {
        var target = write.Target;
        var blobs = Texts(write.Blobs.Distinct());
        var children = Texts(write.Children.Distinct());
        await using var batch = new NpgsqlBatch((NpgsqlConnection)s.Connection, (NpgsqlTransaction?)s.Transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(GenericPlans));
        if (target is not null)
        {
            batch.BatchCommands.Add(Command(RepositoryStore.SelectByKey, RepositoryStore.KeyParameters(target.Key)));
        }

        // A target's scan rule is known only once its repository is: its registry's settings are read in any case.
        var registry = target is not null ? target.Key.Registry : write.ScanRule?.Registry;
        if (registry is { } settingsOf)
        {
            batch.BatchCommands.Add(Command(RepositoryStore.SelectRegistrySettings, RepositoryStore.RegistryParameters(settingsOf)));
        }

        if (write.Tag is not null)
        {
            batch.BatchCommands.Add(Keyed(target, ImageStore.LockTag(s.Dialect), ImageStore.TagKey(write)));
        }

        if (blobs.Length > 0)
        {
            batch.BatchCommands.Add(Keyed(target, LockBlobs, [("repository", write.RepositoryId), ("digests", blobs)]));
        }

        if (children.Length > 0)
        {
            batch.BatchCommands.Add(Keyed(target, LockChildren, [("repository", write.RepositoryId), ("digests", children)]));
        }

        var inserted = Keyed(target, insert.Sql, insert.Parameters);
        batch.BatchCommands.Add(inserted);
        Repository? repository = null;
        string? tagged = null;
        var presentBlobs = new Dictionary<string, long>(StringComparer.Ordinal);
        var presentChildren = new Dictionary<string, long>(StringComparer.Ordinal);
        string? settings = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            if (target is not null)
            {
                repository = await reader.ReadAsync(cancellationToken) ? RepositoryStore.Map(reader) : null;
                await reader.NextResultAsync(cancellationToken);
            }

            if (registry is not null)
            {
                settings = await reader.ReadAsync(cancellationToken) ? reader.GetString(0) : null;
                await reader.NextResultAsync(cancellationToken);
            }

            if (write.Tag is not null)
            {
                tagged = await reader.ReadAsync(cancellationToken) ? reader.GetString(0) : null;
                await reader.NextResultAsync(cancellationToken);
            }

            foreach (var (present, any) in new[] { (presentBlobs, blobs.Length > 0), (presentChildren, children.Length > 0) })
            {
                if (!any)
                {
                    continue;
                }

                while (await reader.ReadAsync(cancellationToken))
                {
                    present[reader.GetString(0)] = reader.GetInt64(1);
                }

                await reader.NextResultAsync(cancellationToken);
            }

            // The insert's own result: read to its end, so that an error in it surfaces here.
            while (await reader.NextResultAsync(cancellationToken))
            {
            }
        }

        var created = inserted.RecordsAffected > 0;
        ManifestWrite? resolved = null;
        if (target is not null)
        {
            // A missing repository had no row to insert under, nor any row to lock.
            if (repository is null)
            {
                return new LockedWrite(null, PutManifestResult.NoRepository, false, created);
            }

            if (target.Decide(repository) is not { } decision)
            {
                return new LockedWrite(tagged, PutManifestResult.NotDecided, false, created);
            }

            write = resolved = ImageStore.Resolve(write, repository, decision);
        }

        if (tagged is not null && write.TagImmutable)
        {
            return new LockedWrite(tagged, PutManifestResult.ImmutableTag, false, created);
        }

        return Failure(write, blobs, children, presentBlobs, presentChildren) is { } failed
            ? new LockedWrite(tagged, failed, false, created)
            : new LockedWrite(tagged, null, created, false, write.ScanRule is null ? null : settings, resolved);
    }

    /// <summary>A statement of the batch, where a <paramref name="target"/> has its repository found by key in place of <c>@repository</c>.</summary>
    private static NpgsqlBatchCommand Keyed(ManifestTarget? target, string sql, IEnumerable<(string Name, object? Value)> parameters) =>
        target is null
            ? Command(sql, parameters)
            : Command(
                sql.Replace("@repository", RepositoryOfKey, StringComparison.Ordinal),
                parameters.Where(p => p.Name != "repository").Concat(RepositoryStore.KeyParameters(target.Key)));

    private static NpgsqlBatchCommand Command(string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
        }

        return command;
    }

    private static PutManifestResult? Failure(ManifestWrite write, string[] blobs, string[] children, Dictionary<string, long> presentBlobs, Dictionary<string, long> presentChildren)
    {
        var missingBlobs = blobs.Where(d => !presentBlobs.ContainsKey(d)).Select(Digest.Parse).ToList();
        var missingChildren = children.Where(d => !presentChildren.ContainsKey(d)).Select(Digest.Parse).ToList();
        var wrongSizes = WrongSizes(write.DeclaredSizes, presentBlobs).Concat(WrongSizes(write.DeclaredSizes, presentChildren)).ToList();
        return missingBlobs.Count > 0 || missingChildren.Count > 0 || wrongSizes.Count > 0
            ? new PutManifestResult(false, false, missingBlobs, missingChildren, WrongSizes: wrongSizes)
            : null;
    }

    private static IEnumerable<SizeMismatch> WrongSizes(IReadOnlyDictionary<Digest, long>? declared, Dictionary<string, long> present) =>
        declared is null
            ? []
            : present.Select(p => (Digest: Digest.Parse(p.Key), Actual: p.Value))
                .Where(p => declared.TryGetValue(p.Digest, out var size) && size != p.Actual)
                .Select(p => new SizeMismatch(p.Digest, declared[p.Digest], p.Actual));

    private static string[] Texts(IEnumerable<Digest> digests) => digests.Select(d => d.ToString()).ToArray();
}
