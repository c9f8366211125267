using System.Buffers;
using System.Runtime.CompilerServices;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.GarbageCollection;

/// <summary>
/// <c>wharf check</c>: every blob a manifest references must be in the blob store with the size the
/// metadata says and, when deep, the digest: a deep check streams each blob through its hash, which on
/// an S3 bucket means downloading it all. Yields one line per problem.
/// </summary>
public sealed class StoreChecker(IMetadataStore store, IBlobStore blobs)
{
    /// <summary>The phase <see cref="CheckAsync(bool, IProgress{WorkProgress}?, CancellationToken)"/> reports.</summary>
    public const string CheckPhase = "checking referenced blobs";

    public int BlobsChecked { get; private set; }

    public IAsyncEnumerable<string> CheckAsync(bool deep, CancellationToken cancellationToken) => CheckAsync(deep, null, cancellationToken);

    /// <summary>
    /// As above, reporting each blob checked to <paramref name="progress"/>, out of the live blobs (those
    /// referenced are among them, so the total is an upper bound; the last report has the true count).
    /// </summary>
    public async IAsyncEnumerable<string> CheckAsync(bool deep, IProgress<WorkProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long? total = progress is null ? null : (await store.Blobs.GetTotalsAsync(cancellationToken)).Count;
        progress?.Report(new WorkProgress(CheckPhase, 0, total));
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            await foreach (var blob in store.Blobs.ListReferencedAsync(cancellationToken))
            {
                BlobsChecked++;
                progress?.Report(new WorkProgress(CheckPhase, BlobsChecked, total is { } t ? Math.Max(t, BlobsChecked) : null));
                var stat = await blobs.StatAsync(blob.Digest, cancellationToken);
                if (stat is null)
                {
                    yield return $"{blob.Digest}: referenced by a manifest but missing from the blob store";
                    continue;
                }

                if (stat.Size != blob.Size)
                {
                    yield return $"{blob.Digest}: {stat.Size} bytes stored, {blob.Size} recorded";
                    continue;
                }

                if (!deep)
                {
                    continue;
                }

                var actual = await HashAsync(blob.Digest, buffer, cancellationToken);
                if (actual != blob.Digest)
                {
                    yield return $"{blob.Digest}: content hashes to {actual}";
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        progress?.Report(new WorkProgress(CheckPhase, BlobsChecked, BlobsChecked));
    }

    private async Task<Digest?> HashAsync(Digest digest, byte[] buffer, CancellationToken cancellationToken)
    {
        await using var stream = await blobs.OpenReadAsync(digest, 0, null, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        using var hash = digest.CreateHash();
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        return Digest.FromHash(digest.Algorithm, hash.GetHashAndReset());
    }
}
