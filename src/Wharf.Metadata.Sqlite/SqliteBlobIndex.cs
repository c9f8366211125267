using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// GC's claim and forget on SQLite. Every write transaction is <c>BEGIN IMMEDIATE</c>, so a claim and a
/// manifest PUT (<see cref="SqliteReferenceCheck"/>) never interleave. The search for candidates is a
/// read outside it (a WAL snapshot: pushes go on meanwhile); only the claim of what it found takes the
/// writer lock, and re-checks each candidate there.
/// </summary>
internal sealed class SqliteBlobIndex(Database database) : BlobIndex(database)
{
    /// <summary>
    /// Scans from the oldest live blob for up to <paramref name="limit"/> unreferenced ones and claims them; when
    /// every candidate of a batch was taken back by a push meanwhile, scans on past it, so an empty answer still
    /// means there is nothing to claim. (Scanning inside the write transaction held every push for the whole
    /// scan: over a second at 200,000 blobs, the busy timeout at a few million.)
    /// </summary>
    public override async Task<IReadOnlyList<BlobRecord>> ClaimGarbageAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        GcCandidate? from = null;
        while (await ScanAsync(cutoff, from, limit, cancellationToken) is { Count: > 0 } candidates)
        {
            if (await ClaimAsync(candidates, cutoff, cancellationToken) is { Count: > 0 } claimed)
            {
                return claimed;
            }

            from = candidates[^1];
        }

        return [];
    }

    /// <summary>
    /// Live blobs touched before the cutoff that no manifest references, oldest first, after <paramref name="from"/>:
    /// one statement, its own snapshot, no lock. Ties on the touch time go by rowid, which the (state, touched_at)
    /// index holds, so the order is the index's and a page reads one range of it.
    /// </summary>
    internal Task<List<GcCandidate>> ScanAsync(DateTimeOffset cutoff, GcCandidate? from, int limit, CancellationToken cancellationToken) =>
        Database.ReadAsync(
            s => s.ListAsync(
                ScanSql(from is not null),
                r => new GcCandidate(r.GetInt64(0), r.GetInt64(1), r.GetString(2)),
                [("cutoff", Columns.Ms(cutoff)), ("fromAt", from?.TouchedAt ?? 0L), ("fromRow", from?.Row ?? 0L), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    internal static string ScanSql(bool from) =>
        $"""
        SELECT b.touched_at, b.rowid, b.digest FROM blobs b
        WHERE b.state = 'live' AND b.touched_at < @cutoff{(from ? " AND (b.touched_at, b.rowid) > (@fromAt, @fromRow)" : string.Empty)}
          AND NOT EXISTS (SELECT 1 FROM manifest_blobs m WHERE m.blob_digest = b.digest)
        ORDER BY b.touched_at, b.rowid
        LIMIT @limit
        """;

    // The unary plus keeps state and touched_at conditions off the index (the planner, without statistics, read
    // the (state, touched_at) range of every old blob rather than look up a few hundred digests by key).
    internal const string ClaimSql =
        """
        UPDATE blobs SET state = 'deleting'
        WHERE digest IN (SELECT value FROM json_each(@digests)) AND +state = 'live' AND +touched_at < @cutoff
          AND NOT EXISTS (SELECT 1 FROM manifest_blobs m WHERE m.blob_digest = blobs.digest)
        RETURNING digest, size, touched_at
        """;

    /// <summary>
    /// Claims the candidates that are still garbage, in one short write transaction: no PutManifest can interleave,
    /// so a blob a push referenced (or reserved, or linked: its touch time moved) since the scan is left alone, and a
    /// push after this commit finds the blob no longer live.
    /// </summary>
    internal Task<IReadOnlyList<BlobRecord>> ClaimAsync(IReadOnlyCollection<GcCandidate> candidates, DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        Database.WriteAsync<IReadOnlyList<BlobRecord>>(
            async s => await s.ListAsync(
                ClaimSql,
                Map,
                [("digests", s.Dialect.ListValue(candidates.Select(c => c.Digest))), ("cutoff", Columns.Ms(cutoff))],
                cancellationToken),
            cancellationToken);

    public override Task ForgetClaimedAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) =>
        Database.WriteAsync(
            async s =>
            {
                // Links go by cascade; a live row (never claimed, or reserved again) is left alone.
                await using var command = s.Command("DELETE FROM blobs WHERE digest = @digest AND state = 'deleting'", [("digest", string.Empty)]);
                foreach (var digest in digests)
                {
                    command.Parameters[0].Value = digest.ToString();
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }

                return true;
            },
            cancellationToken);
}

/// <summary>A blob the GC scan found unreferenced, with its place in the scan's order.</summary>
internal sealed record GcCandidate(long TouchedAt, long Row, string Digest);
