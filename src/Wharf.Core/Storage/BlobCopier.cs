using System.Runtime.CompilerServices;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;

namespace Wharf.Core.Storage;

/// <summary>What <see cref="BlobCopier"/> did with one blob.</summary>
public enum BlobCopyOutcome
{
    Copied,

    /// <summary>The destination already had the blob with the same size (blobs are content-addressed).</summary>
    AlreadyPresent,

    /// <summary>Not copied: <see cref="BlobCopyResult.Problem"/> says why.</summary>
    Failed,
}

public sealed record BlobCopyResult(Digest Digest, long Size, BlobCopyOutcome Outcome, string? Problem = null);

/// <summary>
/// Copies every committed blob of one store into another, for <c>wharf migrate</c>: through the
/// destination's own upload path (create, write, commit), so it works for any pair of backends and
/// the destination sees each blob appear atomically. Each blob is streamed, never held whole, and
/// hashed on the way: a source blob whose bytes no longer match its digest is reported, not copied.
/// A blob the destination already has is skipped, which makes a second run resume the first.
/// Sealed copies (encryption at rest) are stored under names that are not their bytes' hash
/// (<paramref name="sealedAddresses"/>, from the source's metadata): they are copied as they are, ciphertext for
/// ciphertext (the master key and their records go with the metadata), checked by size; their segments'
/// authentication tags are what proves them when read.
/// </summary>
public sealed class BlobCopier(IBlobStore source, IBlobStore destination, IReadOnlySet<Digest>? sealedAddresses = null)
{
    /// <summary>Blobs looked at by the last <see cref="VerifyAsync"/>.</summary>
    public int Verified { get; private set; }

    public async IAsyncEnumerable<BlobCopyResult> CopyAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var blob in source.ListAsync(cancellationToken))
        {
            if (await destination.StatAsync(blob.Digest, cancellationToken) is { } present)
            {
                yield return present.Size == blob.Size
                    ? new BlobCopyResult(blob.Digest, blob.Size, BlobCopyOutcome.AlreadyPresent)
                    : new BlobCopyResult(blob.Digest, blob.Size, BlobCopyOutcome.Failed, $"the destination holds {present.Size} bytes under this digest, the source {blob.Size}; delete the destination's copy and run again");
                continue;
            }

            var problem = await CopyOneAsync(blob, cancellationToken);
            yield return new BlobCopyResult(blob.Digest, blob.Size, problem is null ? BlobCopyOutcome.Copied : BlobCopyOutcome.Failed, problem);
        }
    }

    /// <summary>
    /// One line per source blob the destination lacks or holds with another size; when
    /// <paramref name="deep"/>, also per destination copy whose bytes do not hash to its digest (each is
    /// read back whole, which on S3 means downloading it).
    /// </summary>
    public async IAsyncEnumerable<string> VerifyAsync(bool deep, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var blob in source.ListAsync(cancellationToken))
        {
            Verified++;
            var copy = await destination.StatAsync(blob.Digest, cancellationToken);
            if (copy is null)
            {
                yield return $"{blob.Digest}: missing from the destination's blob store";
            }
            else if (copy.Size != blob.Size)
            {
                yield return $"{blob.Digest}: {copy.Size} bytes in the destination, {blob.Size} in the source";
            }
            else if (deep && !IsSealed(blob.Digest) && await HashDestinationAsync(blob.Digest, cancellationToken) is { } actual && actual != blob.Digest)
            {
                yield return $"{blob.Digest}: the destination's copy hashes to {actual}";
            }
        }
    }

    private bool IsSealed(Digest name) => sealedAddresses?.Contains(name) == true;

    private async Task<Digest?> HashDestinationAsync(Digest digest, CancellationToken cancellationToken)
    {
        await using var stream = await destination.OpenReadAsync(digest, 0, null, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        using var hash = digest.CreateHash();
        await new HashingReadStream(stream, hash).CopyToAsync(Stream.Null, cancellationToken);
        return Digest.FromHash(digest.Algorithm, hash.GetHashAndReset());
    }

    // Null when copied; otherwise why not. Store faults (I/O, network) propagate: the run stops there.
    private async Task<string?> CopyOneAsync(BlobStat blob, CancellationToken cancellationToken)
    {
        var uploadId = "migrate-" + Guid.NewGuid().ToString("N");
        await destination.CreateUploadAsync(uploadId, cancellationToken);
        var committed = false;
        try
        {
            await using var stream = await source.OpenReadAsync(blob.Digest, 0, null, cancellationToken);
            if (stream is null)
            {
                return "listed by the source's blob store but gone when read";
            }

            using var hash = blob.Digest.CreateHash();
            var hashing = new HashingReadStream(stream, hash);
            UploadChunk chunk;
            try
            {
                chunk = await destination.WriteUploadChunkAsync(uploadId, 0, hashing, blob.Size, cancellationToken);
            }
            catch (InvalidDataException)
            {
                return $"the source's bytes are not the {blob.Size} bytes its listing gives; run 'wharf check' on the source";
            }

            var written = chunk.Length;
            var actual = Digest.FromHash(blob.Digest.Algorithm, hash.GetHashAndReset());
            if ((actual != blob.Digest && !IsSealed(blob.Digest)) || written != blob.Size)
            {
                return $"the source's bytes ({written} bytes) hash to {actual}, not to their name; run 'wharf check' on the source";
            }

            // An empty blob writes no chunk: its chain is empty.
            await destination.CommitUploadAsync(uploadId, written == 0 ? [] : [chunk], blob.Digest, cancellationToken);
            committed = true;
            return null;
        }
        finally
        {
            if (!committed)
            {
                await destination.AbortUploadAsync(uploadId, CancellationToken.None);
            }
        }
    }
}
