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
    public int BlobsChecked { get; private set; }

    public async IAsyncEnumerable<string> CheckAsync(bool deep, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            await foreach (var blob in store.Blobs.ListReferencedAsync(cancellationToken))
            {
                BlobsChecked++;
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
