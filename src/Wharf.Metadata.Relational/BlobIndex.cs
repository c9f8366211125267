using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>
/// Blob rows and repository links. A row is <c>live</c> or <c>deleting</c> (claimed by GC); touch
/// times only move forward, so a node with a slow clock cannot shorten another's grace window.
/// GC's claim and forget are per engine (each subclass says why): they are where a claim and a
/// manifest commit exclude each other, and the engines do that differently.
/// </summary>
internal abstract class BlobIndex(Database database) : IBlobIndex
{
    protected Database Database => database;

    public Task<BlobReservation> ReserveBlobAsync(Digest digest, long size, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // The upsert's WHERE leaves a 'deleting' row untouched, and then no row changes.
                var changed = await s.ExecuteAsync(
                    """
                    INSERT INTO blobs (digest, size, state, touched_at) VALUES (@digest, @size, 'live', @now)
                    ON CONFLICT (digest) DO UPDATE
                        SET touched_at = CASE WHEN excluded.touched_at > blobs.touched_at THEN excluded.touched_at ELSE blobs.touched_at END
                    WHERE blobs.state = 'live'
                    """,
                    [("digest", digest.ToString()), ("size", size), ("now", Columns.Ms(now))],
                    cancellationToken);
                return changed > 0 ? BlobReservation.Reserved : BlobReservation.BeingDeleted;
            },
            cancellationToken);

    public Task<bool> LinkBlobAsync(long repositoryId, Digest digest, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] parameters = [("repository", repositoryId), ("digest", digest.ToString()), ("now", Columns.Ms(now))];

                // The update locks the row (SQLite: the writer lock): a claim cannot slip between this check and the link.
                var touched = await s.ExecuteAsync(
                    "UPDATE blobs SET touched_at = CASE WHEN @now > touched_at THEN @now ELSE touched_at END WHERE digest = @digest AND state = 'live'",
                    parameters,
                    cancellationToken);
                if (touched == 0)
                {
                    return false;
                }

                // No row when the repository is gone (deleted during the upload): expected, not a fault.
                var linked = await s.ExecuteAsync(
                    """
                    INSERT INTO repository_blobs (repository_id, digest, linked_at)
                    SELECT id, @digest, @now FROM repositories WHERE id = @repository
                    ON CONFLICT (repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at
                    """,
                    parameters,
                    cancellationToken);
                return linked > 0;
            },
            cancellationToken);

    public Task<BlobRecord?> GetLinkedBlobAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                """
                SELECT b.digest, b.size, b.touched_at FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
                WHERE l.repository_id = @repository AND l.digest = @digest AND b.state = 'live'
                """,
                Map,
                [("repository", repositoryId), ("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    /// <summary><see cref="FindLinkedBlobAsync"/>'s statement: the repository row, and the blob's when it is live and linked to it.</summary>
    internal const string FindLinkedSql =
        $"SELECT {RepositoryStore.SelectColumnsOfR}, b.digest, b.size, b.touched_at FROM repositories r "
        + "LEFT JOIN repository_blobs l ON l.repository_id = r.id AND l.digest = @digest "
        + "LEFT JOIN blobs b ON b.digest = l.digest AND b.state = 'live' "
        + $"WHERE {RepositoryStore.WhereKeyOfR}";

    public async Task<(Repository Repository, BlobRecord? Blob)?> FindLinkedBlobAsync(RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        // Served from the read cache while the database has not changed since it was read (ReadCache: exact).
        var cache = database.Cache;
        var cacheKey = new ReadCache.ReadKey(ReadCache.Kind.LinkedBlob, key, digest.Hex);
        ReadCache.Stamp? stamp = null;
        if (cache is not null && cache.TryGet(cacheKey, out stamp, out var kept))
        {
            return ((Repository Repository, BlobRecord? Blob)?)kept;
        }

        var found = await ReadLinkedBlobAsync(key, digest, cancellationToken);
        if (stamp is { } readUnder)
        {
            cache!.Add(cacheKey, readUnder, found, 0);
        }

        return found;
    }

    private async Task<(Repository Repository, BlobRecord? Blob)?> ReadLinkedBlobAsync(RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        var found = await database.ReadAsync(
            s => s.SingleAsync(
                FindLinkedSql,
                r => Tuple.Create(
                    RepositoryStore.Map(r),
                    r.IsDBNull(RepositoryStore.ColumnCount) ? null : new BlobRecord(r.Digest(RepositoryStore.ColumnCount), r.GetInt64(RepositoryStore.ColumnCount + 1), r.Time(RepositoryStore.ColumnCount + 2))),
                [.. RepositoryStore.KeyParameters(key), ("digest", digest.ToString())],
                cancellationToken),
            cancellationToken,
            member: nameof(FindLinkedBlobAsync));
        return found is null ? null : (found.Item1, found.Item2);
    }

    public Task<bool> IsReferencedInRepositoryAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.ExistsAsync(
                "SELECT 1 FROM manifest_blobs WHERE blob_digest = @digest AND repository_id = @repository LIMIT 1",
                [("repository", repositoryId), ("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    public Task<bool> UnlinkBlobAsync(long repositoryId, Digest digest, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "DELETE FROM repository_blobs WHERE repository_id = @repository AND digest = @digest",
                [("repository", repositoryId), ("digest", digest.ToString())],
                cancellationToken) > 0,
            cancellationToken);

    public Task<BlobRecord?> GetBlobAsync(Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT digest, size, touched_at FROM blobs WHERE digest = @digest AND state = 'live'",
                Map,
                [("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    public abstract Task<IReadOnlyList<BlobRecord>> ClaimGarbageAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);

    public Task<IReadOnlyList<BlobRecord>> ListClaimedAsync(int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<BlobRecord>>(
            async s => await s.ListAsync(
                "SELECT digest, size, touched_at FROM blobs WHERE state = 'deleting' ORDER BY digest LIMIT @limit",
                Map,
                [("limit", limit)],
                cancellationToken),
            cancellationToken);

    public abstract Task ForgetClaimedAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    public async IAsyncEnumerable<BlobRecord> ListReferencedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.Dialect.OpenAsync(cancellationToken);
        await using var command = new Session(connection, null, database.Dialect).Command(
            """
            SELECT b.digest, b.size, b.touched_at FROM blobs b
            WHERE b.state = 'live' AND EXISTS (SELECT 1 FROM manifest_blobs m WHERE m.blob_digest = b.digest)
            ORDER BY b.digest
            """,
            []);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return Map(reader);
        }
    }

    // repository_blobs_digest finds the links; each repository's row is read by its key.
    public Task<IReadOnlyList<(string EncryptionType, string? KmsKey)>> ListLinkEncryptionsAsync(Digest digest, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<(string EncryptionType, string? KmsKey)>>(
            async s => await s.ListAsync(
                """
                SELECT DISTINCT r.encryption_type, r.kms_key FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
                WHERE rb.digest = @digest
                """,
                r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)),
                [("digest", digest.ToString())],
                cancellationToken),
            cancellationToken);

    // The covering index blobs_state_size (migration 21) answers this without reading the rows.
    public Task<BlobTotals> GetTotalsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s => (await s.ListAsync(
                "SELECT count(*), coalesce(sum(size), 0) FROM blobs WHERE state = 'live'",
                r => new BlobTotals(Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture)),
                [],
                cancellationToken))[0],
            cancellationToken);

    protected static BlobRecord Map(DbDataReader r) => new(r.Digest(0), r.GetInt64(1), r.Time(2));
}
