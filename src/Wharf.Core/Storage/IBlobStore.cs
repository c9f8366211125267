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
/// and '-'; others are rejected with <see cref="ArgumentException"/>) as a chain of chunks: each write
/// stores one chunk, atomically, under its start offset and a fresh write id (<see cref="UploadChunk"/>),
/// so two writes at one offset never replace each other. The store keeps no chain of its own: the
/// caller records the chunks it accepted (the upload session), and reads and commits take exactly the
/// chain they are given — never a chunk of a request that failed or lost a race. Staged bytes are
/// invisible until <see cref="CommitUploadAsync"/> makes them, atomically, the blob at their content
/// address. The S3 store is safe for many nodes: the chunks of one upload may be written through any
/// number of store instances over the same place. The filesystem store keeps the chain as one file cut
/// at each write's offset, which is safe only while one node serialises an upload's writes (it does:
/// the upload service holds a lock per upload), so it serves one node.
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
    /// Stores <paramref name="source"/>, read to its end with pooled buffers and never buffered whole,
    /// as a chunk of the upload starting at <paramref name="offset"/>, under a fresh write id, and returns
    /// it (its end is <paramref name="offset"/> plus the bytes read). An empty source stores nothing.
    /// Callers write at 0 or where the last chunk they recorded ends, and record a chunk only once its
    /// write returned; a chunk never recorded (a failed request's, a race loser's) is never read and goes
    /// with the staging area. Throws <see cref="KeyNotFoundException"/> when the upload does not exist; a
    /// store that can tell cheaply that nothing is staged up to <paramref name="offset"/> throws
    /// <see cref="ArgumentOutOfRangeException"/>.
    /// When <paramref name="length"/> is given (the request declared its size), the source must hold
    /// exactly that many bytes, and a store may send them on as one object of that size: a source that
    /// holds fewer or more throws <see cref="InvalidDataException"/> and leaves no chunk. A source that
    /// fails is rethrown as it failed.
    /// </summary>
    Task<UploadChunk> WriteUploadChunkAsync(string uploadId, long offset, Stream source, long? length, CancellationToken cancellationToken);

    /// <summary>Whether the upload's staging area exists (created and neither committed nor aborted).</summary>
    Task<bool> UploadExistsAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the staged bytes of <paramref name="chunks"/> back, in order (to rebuild a running hash on
    /// another node). The chunks must form a chain from 0 (<see cref="UploadChunk.Chain"/>), else
    /// <see cref="ArgumentException"/>. Throws <see cref="KeyNotFoundException"/> when the upload does not
    /// exist and <see cref="ArgumentOutOfRangeException"/> when a chunk is not staged whole.
    /// </summary>
    Task<Stream> OpenUploadReadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, CancellationToken cancellationToken) =>
        OpenUploadReadAsync(uploadId, chunks, 0, cancellationToken);

    /// <summary>
    /// Reads the staged bytes of <paramref name="chunks"/> (a chain from 0, as above) from
    /// <paramref name="offset"/> to the chain's end, without reading what comes before (a reader that
    /// follows an upload as it is staged, as a pull through the cache does). Throws
    /// <see cref="ArgumentOutOfRangeException"/> when <paramref name="offset"/> is negative or beyond the
    /// chain's end, and otherwise as above.
    /// </summary>
    Task<Stream> OpenUploadReadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the staged bytes of <paramref name="chunks"/> (a chain from 0, as for
    /// <see cref="OpenUploadReadAsync(string, IReadOnlyList{UploadChunk}, CancellationToken)"/>) the blob <paramref name="digest"/> atomically (rename / copy /
    /// multipart complete), durably, and removes the staging area with every chunk in it. The caller has
    /// already verified the digest over exactly these chunks. If the blob already exists the staged copy
    /// is discarded. Throws <see cref="KeyNotFoundException"/> when the upload does not exist and
    /// <see cref="ArgumentOutOfRangeException"/> when a chunk is not staged whole (then nothing is
    /// committed and the staging area stays).
    /// </summary>
    Task CommitUploadAsync(string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a staging area and everything of it (chunks, and on S3 multipart uploads a crashed
    /// request or commit left); false when nothing was there.
    /// </summary>
    Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Every staging area, including one that holds only what a crashed request left (to clean up
    /// what no upload session owns).
    /// </summary>
    IAsyncEnumerable<string> ListUploadsAsync(CancellationToken cancellationToken);
}
