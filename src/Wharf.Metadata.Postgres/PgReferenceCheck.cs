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
    public async Task<PutManifestResult?> CheckAsync(Session s, ManifestWrite write, CancellationToken cancellationToken)
    {
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
