using Wharf.Core.Primitives;

namespace Wharf.Core.Storage;

/// <summary>A committed blob's size and when its bytes were written.</summary>
public sealed record BlobStat(Digest Digest, long Size, DateTimeOffset ModifiedAt);

/// <summary>
/// Content-addressed bytes, repository-agnostic and dumb (distribution <c>storagedriver.go</c>):
/// no digest, size or limit checks happen here — the services above do them once. Which repository
/// may read a blob is metadata, never a property of the store.
/// <para>
/// Uploads are staged under an opaque id chosen by the caller (1–64 characters of A–Z, a–z, 0–9, '_'
/// and '-'; others are rejected with <see cref="ArgumentException"/>); staged bytes are invisible until
/// <see cref="CommitUploadAsync"/> moves them, atomically, to their content address.
/// </para>
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Confirms the store can be used now (its root or bucket exists and the credentials work), for
    /// start-up validation and readiness. Throws <see cref="BlobStoreUnavailableException"/> with a
    /// one-line reason that names neither secrets nor credentials.
    /// </summary>
    Task CheckAsync(CancellationToken cancellationToken);

    /// <summary>Size of a committed blob, or null when it is absent.</summary>
    Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a committed blob for reading from <paramref name="offset"/>, for at most
    /// <paramref name="length"/> bytes (all remaining when null), or null when absent. The stream is
    /// asynchronous and seek-free; the caller disposes it. Throws <see cref="ArgumentOutOfRangeException"/>
    /// when <paramref name="offset"/> is beyond the blob's size (a range ending beyond it is cut short).
    /// </summary>
    Task<Stream?> OpenReadAsync(Digest digest, long offset, long? length, CancellationToken cancellationToken);

    /// <summary>Deletes a committed blob; false when it was already absent.</summary>
    Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Every committed blob (for garbage collection and <c>wharf check</c>).</summary>
    IAsyncEnumerable<BlobStat> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A URL a client may fetch the blob from directly for <paramref name="lifetime"/>, or null when
    /// the backend cannot offer one (the filesystem never can; the server then streams).
    /// </summary>
    Task<Uri?> GetDownloadUrlAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Creates an empty staging area for an upload. Idempotent for the same id.</summary>
    Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="source"/> to the staged upload starting at <paramref name="offset"/>,
    /// first discarding any staged bytes at or beyond that offset (left by a crashed request), and
    /// returns the staged size afterwards. Reads the source to its end with pooled buffers; never
    /// buffers it whole. Throws <see cref="KeyNotFoundException"/> when the upload does not exist and
    /// <see cref="ArgumentOutOfRangeException"/> when <paramref name="offset"/> is beyond the staged size.
    /// </summary>
    Task<long> AppendUploadAsync(string uploadId, long offset, Stream source, CancellationToken cancellationToken);

    /// <summary>Bytes staged so far, or null when the upload does not exist.</summary>
    Task<long?> GetUploadSizeAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the first <paramref name="length"/> staged bytes back (to rebuild a running hash on another node).
    /// Throws <see cref="KeyNotFoundException"/> when the upload does not exist and
    /// <see cref="ArgumentOutOfRangeException"/> when fewer bytes are staged.
    /// </summary>
    Task<Stream> OpenUploadReadAsync(string uploadId, long length, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the first <paramref name="length"/> staged bytes the blob <paramref name="digest"/>
    /// atomically (rename / multipart complete), durably, and removes the staging area. The caller has
    /// already verified the digest. If the blob already exists the staged copy is discarded. Throws
    /// <see cref="KeyNotFoundException"/> when the upload does not exist and
    /// <see cref="ArgumentOutOfRangeException"/> when fewer than <paramref name="length"/> bytes are staged.
    /// </summary>
    Task CommitUploadAsync(string uploadId, long length, Digest digest, CancellationToken cancellationToken);

    /// <summary>Removes a staging area and its bytes; false when absent.</summary>
    Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Every staging area (to clean up what no upload session owns).</summary>
    IAsyncEnumerable<string> ListUploadsAsync(CancellationToken cancellationToken);
}
