using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// GC's claim and forget on SQLite: every write transaction is <c>BEGIN IMMEDIATE</c>, so a claim and
/// a manifest PUT (<see cref="SqliteReferenceCheck"/>) never interleave, and one statement suffices.
/// </summary>
internal sealed class SqliteBlobIndex(Database database) : BlobIndex(database)
{
    public override Task<IReadOnlyList<BlobRecord>> ClaimGarbageAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        // In the write transaction no PutManifest can interleave: a blob is either referenced
        // (and skipped here) or claimed before the PUT's own live-and-linked check runs.
        Database.WriteAsync<IReadOnlyList<BlobRecord>>(
            async s => await s.ListAsync(
                """
                UPDATE blobs SET state = 'deleting'
                WHERE digest IN (
                    SELECT b.digest FROM blobs b
                    WHERE b.state = 'live' AND b.touched_at < @cutoff
                      AND NOT EXISTS (SELECT 1 FROM manifest_blobs m WHERE m.blob_digest = b.digest)
                    ORDER BY b.touched_at, b.digest
                    LIMIT @limit)
                RETURNING digest, size, touched_at
                """,
                Map,
                [("cutoff", Columns.Ms(cutoff)), ("limit", limit)],
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
