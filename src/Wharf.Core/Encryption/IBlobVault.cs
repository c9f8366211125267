using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.Encryption;

/// <summary>
/// The one way repositories' blob content is read and written (issue 21): every blob is kept as its scope's
/// sealed copy (AES-256-GCM in segments under envelope data keys, docs/encryption.md "The format"), stored in
/// the <see cref="IBlobStore"/> at an address of its own and recorded in the metadata store. A plaintext blob
/// from before encryption (stored at its digest) is read as it is until the migration seals it; readers never
/// see half of each. Callers pass the scope of the repository they act for (<see cref="BlobScope.Of"/>) and
/// never touch the <see cref="IBlobStore"/> for content. Offsets and sizes here are always the plaintext's.
/// KMS failures (a disabled or deleted key) throw <see cref="Errors.WharfException"/> with the KMS code.
/// A sealed copy whose bytes were altered makes the read fail (<see cref="System.Security.Cryptography.AuthenticationTagMismatchException"/>
/// from the stream); it never yields wrong bytes.
/// </summary>
public interface IBlobVault
{
    /// <summary>
    /// Whether <paramref name="scope"/> has a copy of <paramref name="digest"/> to read, and its plaintext size:
    /// its sealed copy, else the legacy plaintext blob; null when neither exists. No decryption.
    /// </summary>
    Task<BlobStat?> StatAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// The scope's sealed copy of <paramref name="digest"/> as recorded (null when the scope has none, even if the
    /// legacy plaintext blob exists: that is what the migration and <c>wharf check</c> look for).
    /// </summary>
    Task<SealedCopy?> FindSealedAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the scope's copy of <paramref name="digest"/> for reading from plaintext <paramref name="offset"/>, for at
    /// most <paramref name="length"/> bytes (all remaining when null), or null when the scope has no copy. A sealed
    /// copy is decrypted as it streams (only the segments the range touches, with pooled buffers); a legacy plaintext
    /// blob is read as it is. Throws <see cref="ArgumentOutOfRangeException"/> when <paramref name="offset"/> is beyond
    /// the size. The caller disposes the stream.
    /// </summary>
    Task<Stream?> OpenReadAsync(BlobScope scope, Digest digest, long offset, long? length, CancellationToken cancellationToken);

    /// <summary>
    /// A URL a client may fetch the plaintext from directly (a presigned S3 URL), or null when there is none: never
    /// for a sealed copy (that would hand out ciphertext), unless the store's own encryption replaces sealing.
    /// </summary>
    Task<Uri?> GetDownloadUrlAsync(BlobScope scope, Digest digest, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the scope's sealed copy of <paramref name="digest"/> (its record first, then its bytes, so a crash
    /// leaves only unreferenced bytes, never a record without bytes). False when the scope had none. The legacy
    /// plaintext blob is not touched (see <see cref="DeletePlaintextAsync"/>).
    /// </summary>
    Task<bool> DeleteAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken);

    /// <summary>Deletes the legacy plaintext blob at <paramref name="digest"/> (after it was sealed, or by GC); false when absent.</summary>
    Task<bool> DeletePlaintextAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Every recorded sealed copy (GC, <c>wharf check</c>: their addresses are store objects that are not blob digests).</summary>
    IAsyncEnumerable<SealedCopy> ListSealedAsync(CancellationToken cancellationToken);

    /// <summary>Every scope's sealed copy of <paramref name="digest"/> (GC deletes them all when the blob goes).</summary>
    Task<IReadOnlyList<SealedCopy>> ListSealedAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Creates an empty staging area for an upload (<see cref="IBlobStore.CreateUploadAsync"/>).</summary>
    Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Seals <paramref name="source"/> (exactly <paramref name="length"/> plaintext bytes when given, else
    /// <see cref="InvalidDataException"/> and no chunk) under a fresh data key of <paramref name="scope"/> and stages it
    /// after <paramref name="chain"/> (the chunks the session recorded, a chain from 0), and returns the chunk in
    /// plaintext offsets (record its <see cref="UploadChunk.Name"/> as the session does). Exceptions are those of
    /// <see cref="IBlobStore.WriteUploadChunkAsync"/>.
    /// </summary>
    Task<UploadChunk> WriteUploadChunkAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chain, Stream source, long? length, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the staged plaintext of <paramref name="chunks"/> (a chain from 0 as recorded) from plaintext
    /// <paramref name="offset"/> to the chain's end, decrypting (to rebuild a running hash on another node, or to
    /// follow an import as it is staged). Exceptions are those of <see cref="IBlobStore.OpenUploadReadAsync(string, IReadOnlyList{UploadChunk}, long, CancellationToken)"/>.
    /// </summary>
    Task<Stream> OpenUploadReadAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, long offset, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the staged <paramref name="chunks"/> (digest already verified by the caller) the scope's sealed copy of
    /// <paramref name="digest"/>: the bytes are committed durably at the copy's address, then the copy is recorded.
    /// When the scope already has a copy the staged one is discarded (deduplication within one key). A crash between
    /// the two leaves unrecorded bytes that GC removes, never a record without bytes. Exceptions are those of
    /// <see cref="IBlobStore.CommitUploadAsync"/>. With sealing turned off the plaintext is committed at the digest.
    /// </summary>
    Task CommitUploadAsync(BlobScope scope, string uploadId, IReadOnlyList<UploadChunk> chunks, Digest digest, CancellationToken cancellationToken);

    /// <summary>Removes a staging area and everything of it (<see cref="IBlobStore.AbortUploadAsync"/>).</summary>
    Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Migration: seals the legacy plaintext blob at <paramref name="digest"/> in place for <paramref name="scope"/> —
    /// reads the plaintext (verifying it hashes to <paramref name="digest"/>, else <see cref="InvalidDataException"/>
    /// and nothing recorded), writes and commits the sealed copy, records it — and returns what it did. The
    /// plaintext is left for the caller to delete (<see cref="DeletePlaintextAsync"/>) once every scope that needs
    /// the blob has its copy. Idempotent; safe while the blob is being read.
    /// </summary>
    Task<SealResult> SealPlaintextAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken);
}

/// <summary>What <see cref="IBlobVault.SealPlaintextAsync"/> did.</summary>
public enum SealResult
{
    /// <summary>The sealed copy was written and recorded.</summary>
    Sealed,

    /// <summary>The scope already had a sealed copy; nothing was written.</summary>
    AlreadySealed,

    /// <summary>There is no plaintext blob at the digest (and no sealed copy): nothing to seal.</summary>
    Missing,

    /// <summary>Sealing is turned off (<c>Encryption:Enabled=false</c>); nothing was written.</summary>
    Disabled,
}

/// <summary>
/// A scope's sealed copy of a blob, as the metadata store records it (migration 0022).
/// </summary>
/// <param name="Digest">The plaintext's digest.</param>
/// <param name="ScopeId">The scope (<see cref="BlobScope.Id"/>: <c>aes256</c> or the KMS key's ARN).</param>
/// <param name="Address">Where the sealed bytes are in the <see cref="IBlobStore"/> (a digest-shaped name, not the content's hash).</param>
/// <param name="Size">The plaintext's size.</param>
/// <param name="Runs">
/// The plaintext offsets where each sealed run starts (one run per staged chunk, each under its own data key;
/// the first is 0). docs/encryption.md "The format".
/// </param>
/// <param name="UploadId">The upload (staging area) that wrote the bytes: bound into every segment's associated data.</param>
/// <param name="CreatedAt">When it was recorded.</param>
public sealed record SealedCopy(Digest Digest, string ScopeId, Digest Address, long Size, IReadOnlyList<long> Runs, string UploadId, DateTimeOffset CreatedAt)
{
    /// <summary>The scope the copy belongs to.</summary>
    public BlobScope Scope => ScopeId == BlobScope.Master.Id ? BlobScope.Master : new BlobScope(ScopeId);
}
