using System.Buffers;
using System.Runtime.CompilerServices;
using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.GarbageCollection;

/// <summary>
/// <c>wharf check</c>: every blob a manifest references must be in the blob store, for every scope that needs it
/// (each repository linked to it reads it under its encryption's key, <see cref="BlobScope"/>): as that scope's sealed
/// copy, or as the plaintext blob from before encryption, which is counted as unencrypted
/// (<see cref="Unencrypted"/>: <c>wharf encrypt</c> seals it). Sizes are checked against the metadata and, when deep,
/// the content: a deep check streams each copy through its hash, decrypting a sealed copy (which authenticates every
/// segment), which on an S3 bucket means downloading it all. Yields one line per problem.
/// </summary>
public sealed class StoreChecker(IMetadataStore store, IBlobStore blobs, IBlobVault vault)
{
    /// <summary>The phase <see cref="CheckAsync(bool, IProgress{WorkProgress}?, CancellationToken)"/> reports.</summary>
    public const string CheckPhase = "checking referenced blobs";

    public int BlobsChecked { get; private set; }

    /// <summary>Referenced blobs that some scope reads as plaintext (not yet sealed) in the last check.</summary>
    public int Unencrypted { get; private set; }

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
                var plaintext = false;
                foreach (var scope in await EncryptionMigrator.ScopesAsync(store, blob.Digest, cancellationToken))
                {
                    var copy = await vault.FindSealedAsync(scope, blob.Digest, cancellationToken);
                    var problem = copy is null
                        ? await CheckPlaintextAsync(blob, deep, buffer, cancellationToken)
                        : await CheckSealedAsync(blob, copy, deep, buffer, cancellationToken);
                    plaintext |= copy is null && problem is null;
                    if (problem is not null)
                    {
                        yield return problem;
                        break;
                    }
                }

                if (plaintext)
                {
                    Unencrypted++;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        progress?.Report(new WorkProgress(CheckPhase, BlobsChecked, BlobsChecked));
    }

    private async Task<string?> CheckPlaintextAsync(BlobRecord blob, bool deep, byte[] buffer, CancellationToken cancellationToken)
    {
        var stat = await blobs.StatAsync(blob.Digest, cancellationToken);
        if (stat is null)
        {
            return $"{blob.Digest}: referenced by a manifest but missing from the blob store";
        }

        if (stat.Size != blob.Size)
        {
            return $"{blob.Digest}: {stat.Size} bytes stored, {blob.Size} recorded";
        }

        if (!deep)
        {
            return null;
        }

        var (actual, failure) = await HashAsync(BlobScope.Master, blob.Digest, buffer, cancellationToken);
        return failure is not null ? $"{blob.Digest}: cannot be read: {failure}"
            : actual != blob.Digest ? $"{blob.Digest}: content hashes to {actual}"
            : null;
    }

    private async Task<string?> CheckSealedAsync(BlobRecord blob, SealedCopy copy, bool deep, byte[] buffer, CancellationToken cancellationToken)
    {
        if (copy.Size != blob.Size)
        {
            return $"{blob.Digest}: the sealed copy under {copy.ScopeId} holds {copy.Size} bytes, {blob.Size} recorded";
        }

        if (await blobs.StatAsync(copy.Address, cancellationToken) is null)
        {
            return $"{blob.Digest}: referenced by a manifest but its sealed copy under {copy.ScopeId} ({copy.Address}) is missing from the blob store";
        }

        if (!deep)
        {
            return null;
        }

        var (actual, failure) = await HashAsync(copy.Scope, blob.Digest, buffer, cancellationToken);
        return failure is not null ? $"{blob.Digest}: the sealed copy under {copy.ScopeId} cannot be read: {failure}"
            : actual != blob.Digest ? $"{blob.Digest}: the sealed copy under {copy.ScopeId} decrypts to content hashing to {actual}"
            : null;
    }

    // The scope's copy through the vault: a sealed copy is decrypted (and authenticated), a plaintext blob read as it is.
    private async Task<(Digest? Actual, string? Failure)> HashAsync(BlobScope scope, Digest digest, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await vault.OpenReadAsync(scope, digest, 0, null, cancellationToken);
            if (stream is null)
            {
                return (null, "gone while checked");
            }

            using var hash = digest.CreateHash();
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }

            return (Digest.FromHash(digest.Algorithm, hash.GetHashAndReset()), null);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or InvalidDataException or Errors.WharfException)
        {
            // A tampered segment fails its tag; a KMS key that is disabled cannot unwrap the data key.
            return (null, e.Message);
        }
    }
}
