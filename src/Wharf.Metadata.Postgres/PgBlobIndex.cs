using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// GC's claim and forget on PostgreSQL. Claims and manifest commits exclude each other through row
/// locks: see <see cref="ClaimGarbageAsync"/> and <see cref="PgReferenceCheck"/>.
/// </summary>
internal sealed class PgBlobIndex(Database database) : BlobIndex(database)
{
    /// <summary>
    /// Two statements in one READ COMMITTED transaction. The first locks candidates
    /// <c>FOR UPDATE SKIP LOCKED</c>: rows a manifest commit holds <c>FOR SHARE</c> are skipped. The
    /// second re-checks "no manifest references it" in a fresh snapshot, after the locks are held, so
    /// a manifest that committed between the two statements is seen; and a manifest commit that
    /// starts later blocks on our locks and then finds the rows no longer live.
    /// </summary>
    public override Task<IReadOnlyList<BlobRecord>> ClaimGarbageAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        Database.WriteAsync<IReadOnlyList<BlobRecord>>(
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

    public override Task ForgetClaimedAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        // Links go by cascade; a live row (never claimed, or reserved again) is left alone. The rows are
        // locked in digest order first, the order a manifest commit takes them FOR SHARE in: deleting in
        // scan order could deadlock with a commit that holds one and waits for another.
        Database.WriteAsync(
            async s =>
            {
                (string, object?)[] parameters = [("digests", digests.Select(d => d.ToString()).ToArray())];
                await s.ExecuteAsync("SELECT digest FROM blobs WHERE digest = ANY(@digests) AND state = 'deleting' ORDER BY digest FOR UPDATE", parameters, cancellationToken);
                return await s.ExecuteAsync("DELETE FROM blobs WHERE digest = ANY(@digests) AND state = 'deleting'", parameters, cancellationToken);
            },
            cancellationToken);
}
