using System.Runtime.CompilerServices;
using System.Data.Common;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// Blob rows and repository links. A row is <c>live</c> or <c>deleting</c> (claimed by GC); touch
/// times only move forward. Claims and manifest commits exclude each other through row locks: see
/// <see cref="ClaimGarbageAsync"/> and <see cref="PgReferenceCheck"/>.
/// </summary>
internal sealed class PgBlobIndex(Database database) : IBlobIndex
{
    public Task<BlobReservation> ReserveBlobAsync(Digest digest, long size, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // The upsert's WHERE leaves a 'deleting' row untouched, and then no row changes.
                var changed = await s.ExecuteAsync(
                    """
                    INSERT INTO blobs (digest, size, state, touched_at) VALUES (@digest, @size, 'live', @now)
                    ON CONFLICT (digest) DO UPDATE SET touched_at = GREATEST(blobs.touched_at, excluded.touched_at)
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

                // The update locks the row: a claim cannot slip between this check and the link.
                var touched = await s.ExecuteAsync(
                    "UPDATE blobs SET touched_at = GREATEST(touched_at, @now) WHERE digest = @digest AND state = 'live'",
                    parameters,
                    cancellationToken);
                if (touched == 0)
                {
                    return false;
                }

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

    /// <summary>
    /// Two statements in one READ COMMITTED transaction. The first locks candidates
    /// <c>FOR UPDATE SKIP LOCKED</c>: rows a manifest commit holds <c>FOR SHARE</c> are skipped. The
    /// second re-checks "no manifest references it" in a fresh snapshot, after the locks are held, so
    /// a manifest that committed between the two statements is seen; and a manifest commit that
    /// starts later blocks on our locks and then finds the rows no longer live.
    /// </summary>
    public Task<IReadOnlyList<BlobRecord>> ClaimGarbageAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<BlobRecord>>(
            async s =>
            {
                var candidates = await s.ListAsync(
                    """
                    SELECT b.digest FROM blobs b
                    WHERE b.state = 'live' AND b.touched_at < @cutoff
                      AND NOT EXISTS (SELECT 1 FROM manifest_blobs m WHERE m.blob_digest = b.digest)
                    ORDER BY b.touched_at, b.digest
                    LIMIT @limit
                    FOR UPDATE SKIP LOCKED
                    """,
                    r => r.GetString(0),
                    [("cutoff", Columns.Ms(cutoff)), ("limit", limit)],
                    cancellationToken);
                if (candidates.Count == 0)
                {
                    return [];
                }

                return await s.ListAsync(
                    """
                    UPDATE blobs b SET state = 'deleting'
                    WHERE b.digest = ANY(@digests) AND b.state = 'live' AND b.touched_at < @cutoff
                      AND NOT EXISTS (SELECT 1 FROM manifest_blobs m WHERE m.blob_digest = b.digest)
                    RETURNING b.digest, b.size, b.touched_at
                    """,
                    Map,
                    [("digests", candidates.ToArray()), ("cutoff", Columns.Ms(cutoff))],
                    cancellationToken);
            },
            cancellationToken);

    public Task<IReadOnlyList<BlobRecord>> ListClaimedAsync(int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<BlobRecord>>(
            async s => await s.ListAsync(
                "SELECT digest, size, touched_at FROM blobs WHERE state = 'deleting' ORDER BY digest LIMIT @limit",
                Map,
                [("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task ForgetClaimedAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        // Links go by cascade; a live row (never claimed, or reserved again) is left alone. The rows are
        // locked in digest order first, the order a manifest commit takes them FOR SHARE in: deleting in
        // scan order could deadlock with a commit that holds one and waits for another.
        database.WriteAsync(
            async s =>
            {
                (string, object?)[] parameters = [("digests", digests.Select(d => d.ToString()).ToArray())];
                await s.ExecuteAsync("SELECT digest FROM blobs WHERE digest = ANY(@digests) AND state = 'deleting' ORDER BY digest FOR UPDATE", parameters, cancellationToken);
                return await s.ExecuteAsync("DELETE FROM blobs WHERE digest = ANY(@digests) AND state = 'deleting'", parameters, cancellationToken);
            },
            cancellationToken);

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

    private static BlobRecord Map(DbDataReader r) => new(r.Digest(0), r.GetInt64(1), r.Time(2));
}
