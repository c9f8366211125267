using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// The manifest PUT's reference check on SQLite, inside its <c>BEGIN IMMEDIATE</c> transaction.
/// Because GC's claim takes the same writer lock, a blob found live here stays live: once the PUT
/// commits it is referenced, and a referenced blob is never claimed. So no row locks are needed.
/// </summary>
internal sealed class SqliteReferenceCheck : IReferenceCheck
{
    public bool FindsTarget => false;

    /// <summary>One statement after another: the tag row, the references, then the insert only after a pass, then the settings.</summary>
    public async Task<LockedWrite> LockCheckAndInsertAsync(Session s, ManifestWrite write, (string Sql, IEnumerable<(string Name, object? Value)> Parameters) insert, CancellationToken cancellationToken)
    {
        var tagged = write.Tag is null
            ? null
            : await s.SingleAsync(ImageStore.LockTag(s.Dialect), r => r.GetString(0), ImageStore.TagKey(write), cancellationToken);
        if (tagged is not null && write.TagImmutable)
        {
            return new LockedWrite(tagged, PutManifestResult.ImmutableTag, false, false);
        }

        if (await CheckAsync(s, write, cancellationToken) is { } failed)
        {
            return new LockedWrite(tagged, failed, false, false);
        }

        var created = await s.ExecuteAsync(insert.Sql, insert.Parameters, cancellationToken) > 0;
        var settings = write.ScanRule is { } rule
            ? await s.SingleAsync(RepositoryStore.SelectRegistrySettings, r => r.GetString(0), RepositoryStore.RegistryParameters(rule.Registry), cancellationToken)
            : null;
        return new LockedWrite(tagged, null, created, false, settings);
    }

    /// <summary>Null when every reference holds; else the failed result.</summary>
    private static async Task<PutManifestResult?> CheckAsync(Session s, ManifestWrite write, CancellationToken cancellationToken)
    {
        var wrongSizes = new List<SizeMismatch>();
        var missingBlobs = await MissingAsync(
            s,
            write,
            """
            SELECT b.size FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
            WHERE l.repository_id = @repository AND l.digest = @digest AND b.state = 'live'
            """,
            write.Blobs.Distinct(),
            wrongSizes,
            cancellationToken);
        var missingChildren = await MissingAsync(
            s,
            write,
            "SELECT length(content) FROM manifests WHERE repository_id = @repository AND digest = @digest",
            write.Children.Distinct(),
            wrongSizes,
            cancellationToken);
        return missingBlobs.Count > 0 || missingChildren.Count > 0 || wrongSizes.Count > 0
            ? new PutManifestResult(false, false, missingBlobs, missingChildren, WrongSizes: wrongSizes)
            : null;
    }

    /// <summary>Runs <paramref name="sizeSql"/> (the size, or no row) per digest; absent ones are returned, present ones of another size than declared are added to <paramref name="wrongSizes"/>.</summary>
    private static async Task<List<Digest>> MissingAsync(Session s, ManifestWrite write, string sizeSql, IEnumerable<Digest> digests, List<SizeMismatch> wrongSizes, CancellationToken cancellationToken)
    {
        var missing = new List<Digest>();
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
}
