using System.Runtime.CompilerServices;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.Encryption;

/// <summary>
/// The vault before sealing: every scope reads and writes the plaintext blob at its digest. The first
/// implementation of <see cref="IBlobVault"/>, kept so readers can move to the vault before the sealed one lands.
/// </summary>
public sealed class PlaintextBlobVault(IBlobStore blobs) : IBlobVault
{
    public Task<BlobStat?> StatAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken) => blobs.StatAsync(digest, cancellationToken);

    public Task<SealedCopy?> FindSealedAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken) => Task.FromResult<SealedCopy?>(null);

    public Task<Stream?> OpenReadAsync(BlobScope scope, Digest digest, long offset, long? length, CancellationToken cancellationToken) =>
        blobs.OpenReadAsync(digest, offset, length, cancellationToken);

    public Task<Uri?> GetDownloadUrlAsync(BlobScope scope, Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) =>
        blobs.GetDownloadUrlAsync(digest, lifetime, cancellationToken);

    public Task<bool> DeleteAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task<bool> DeletePlaintextAsync(Digest digest, CancellationToken cancellationToken) => blobs.DeleteAsync(digest, cancellationToken);

    public async IAsyncEnumerable<SealedCopy> ListSealedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        yield break;
    }

    public Task<IReadOnlyList<SealedCopy>> ListSealedAsync(Digest digest, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<SealedCopy>>([]);

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken) => blobs.CreateUploadAsync(uploadId, cancellationToken);

    public Task<UploadChunk> WriteUploadChunkAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chain, Stream source, long? length, CancellationToken cancellationToken) =>
        blobs.WriteUploadChunkAsync(uploadId, chain.Count == 0 ? 0 : chain[^1].End, source, length, cancellationToken);

    public Task<Stream> OpenUploadReadAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken) =>
        blobs.OpenUploadReadAsync(uploadId, chunks, offset, cancellationToken);

    public Task CommitUploadAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken) =>
        blobs.CommitUploadAsync(uploadId, chunks, digest, cancellationToken);

    public Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken) => blobs.AbortUploadAsync(uploadId, cancellationToken);

    public Task<SealResult> SealPlaintextAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken) => Task.FromResult(SealResult.Disabled);
}
