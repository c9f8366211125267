using System.Text.Json.Nodes;
using Wharf.Core.Encryption;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Core.Storage;

namespace Wharf.Core.Uploads;

/// <summary>An open blob (or a range of it): the caller streams <see cref="Content"/> and disposes it.</summary>
/// <param name="Digest">The blob's digest.</param>
/// <param name="Size">The whole blob's size.</param>
/// <param name="Offset">Where <see cref="Content"/> starts.</param>
/// <param name="Length">How many bytes <see cref="Content"/> yields.</param>
/// <param name="IsPartial">True when a range was requested and satisfied (206).</param>
/// <param name="Content">The bytes, streamed from the blob store.</param>
public sealed record BlobRead(Digest Digest, long Size, long Offset, long Length, bool IsPartial, Stream Content) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>Blobs as one repository sees them: only blobs linked to it exist (DESIGN.md).</summary>
public sealed class BlobService(IMetadataStore store, IBlobVault blobs, RepositoryResolver repositories, TimeProvider time)
{
    /// <summary>HEAD: the blob's size if it is linked to the repository, else <c>BLOB_UNKNOWN</c>.</summary>
    public async Task<BlobRecord> StatAsync(Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        // The repository and the blob's link in one store call (one round trip on PostgreSQL).
        var found = await repositories.FindAsync(caller, key, EcrActions.BatchCheckLayerAvailability, (k, c) => store.Blobs.FindLinkedBlobAsync(k, digest, c), cancellationToken)
            ?? throw RepositoryResolver.NameUnknown(key);
        return found.Item ?? throw BlobUnknown(digest);
    }

    /// <summary>GET: opens the blob, or the satisfiable part of <paramref name="range"/>; 416 when unsatisfiable.</summary>
    public async Task<BlobRead> OpenAsync(Caller caller, RepositoryKey key, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        // The repository and the blob's link in one store call, as HEAD (SQLite serves it from its read cache).
        var found = await repositories.FindAsync(caller, key, EcrActions.GetDownloadUrlForLayer, (k, c) => store.Blobs.FindLinkedBlobAsync(k, digest, c), cancellationToken)
            ?? throw RepositoryResolver.NameUnknown(key);
        return found.Item is { } record
            ? await OpenRecordAsync(found.Repository, record, digest, range, cancellationToken) ?? throw BlobUnknown(digest)
            : throw BlobUnknown(digest);
    }

    /// <summary>
    /// <see cref="OpenAsync"/> for a repository already resolved and authorised (a pull through the cache):
    /// null when the blob is not linked to it.
    /// </summary>
    internal async Task<BlobRead?> TryOpenLinkedAsync(Repository repository, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        return await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken) is { } record
            ? await OpenRecordAsync(repository, record, digest, range, cancellationToken)
            : null;
    }

    /// <summary>Opens <paramref name="record"/>, linked to <paramref name="repository"/>, or the satisfiable part of <paramref name="range"/>.</summary>
    private async Task<BlobRead?> OpenRecordAsync(Repository repository, BlobRecord record, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        long offset = 0;
        var length = record.Size;
        if (range is { } r && !r.TryResolve(record.Size, out offset, out length))
        {
            throw new WharfException(WharfErrorCode.RangeNotSatisfiable)
            {
                Headers = new Dictionary<string, string> { ["Content-Range"] = $"bytes */{record.Size}" },
            };
        }

        var stream = await blobs.OpenReadAsync(BlobScope.Of(repository.Settings), digest, offset, length, cancellationToken);
        return stream is null ? null : new BlobRead(digest, record.Size, offset, length, range is not null, stream);
    }

    /// <summary>
    /// A small blob whole (an image's config, for the console), for a caller allowed to download the
    /// repository's layers (<c>GetDownloadUrlForLayer</c>, as a pull of it would need). The content is null
    /// when the blob is larger than <paramref name="maxBytes"/>: an untrusted blob never costs more than that to read.
    /// </summary>
    public async Task<(BlobRecord Blob, byte[]? Content)> ReadSmallAsync(Caller caller, RepositoryKey key, Digest digest, int maxBytes, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.GetDownloadUrlForLayer, cancellationToken);
        var record = await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken) ?? throw BlobUnknown(digest);
        if (record.Size > maxBytes)
        {
            return (record, null);
        }

        await using var stream = await blobs.OpenReadAsync(BlobScope.Of(repository.Settings), digest, 0, record.Size, cancellationToken) ?? throw BlobUnknown(digest);

        // One byte more than the record says, so a store holding more than it should is noticed, not read on.
        var buffer = new byte[record.Size + 1];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return read == record.Size ? (record, buffer[..read]) : (record, null);
    }

    /// <summary>
    /// GET when the server redirects downloads: after the same checks as <see cref="OpenAsync"/>, a URL
    /// the client may fetch the blob from directly for <paramref name="lifetime"/> (a presigned S3 URL),
    /// or null when the blob store offers none and the bytes must be streamed.
    /// </summary>
    public async Task<Uri?> GetDownloadUrlAsync(Caller caller, RepositoryKey key, Digest digest, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.GetDownloadUrlForLayer, cancellationToken);
        _ = await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken) ?? throw BlobUnknown(digest);
        return await blobs.GetDownloadUrlAsync(BlobScope.Of(repository.Settings), digest, lifetime, cancellationToken);
    }

    /// <summary>DELETE: removes the repository's link to the blob (GC reclaims unreferenced bytes later).</summary>
    public async Task DeleteAsync(Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.BatchDeleteImage, cancellationToken);
        if (!await store.Blobs.UnlinkBlobAsync(repository.Id, digest, cancellationToken))
        {
            throw BlobUnknown(digest);
        }
    }

    /// <summary>
    /// Cross-repository mount: links the blob into <paramref name="target"/> when the caller may read
    /// <paramref name="source"/> and the blob is readable there (a GET of it in the source would succeed),
    /// whether or not a manifest references it yet: the caller could as well download and upload it.
    /// False means "fall back to an ordinary upload" — including when the source is unreadable, so that
    /// a mount never reveals whether a repository the caller cannot read holds a blob.
    /// </summary>
    public async Task<bool> TryMountAsync(Caller caller, RepositoryKey target, Digest digest, RepositoryKey source, CancellationToken cancellationToken)
    {
        var targetRepository = await repositories.GetForPushAsync(caller, target, EcrActions.InitiateLayerUpload, cancellationToken);
        var settings = await store.Repositories.GetRegistrySettingsAsync(target.Registry, cancellationToken);
        if (AccountSettings.Value(settings, AccountSettings.BlobMounting) == "DISABLED")
        {
            return false;
        }

        Repository? sourceRepository;
        try
        {
            sourceRepository = await repositories.GetAsync(caller, source, EcrActions.GetDownloadUrlForLayer, cancellationToken);
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.Denied or WharfErrorCode.NameUnknown or WharfErrorCode.KmsException)
        {
            return false;
        }

        // ECR mounts only between repositories with the same encryption (type and key): the target's scope could not
        // read the source's sealed copy, so the client uploads instead.
        if (!SameEncryption(sourceRepository.Settings, targetRepository.Settings))
        {
            return false;
        }

        if (await store.Blobs.GetLinkedBlobAsync(sourceRepository.Id, digest, cancellationToken) is null)
        {
            return false;
        }

        return await store.Blobs.LinkBlobAsync(targetRepository.Id, digest, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Whether a blob of a repository with <paramref name="source"/> settings may be mounted into one with <paramref name="target"/>'s.</summary>
    public static bool SameEncryption(RepositorySettings source, RepositorySettings target) =>
        string.Equals(source.EncryptionType, target.EncryptionType, StringComparison.Ordinal)
        && Encryption.BlobScope.Of(source) == Encryption.BlobScope.Of(target);

    internal static WharfException BlobUnknown(Digest digest) =>
        new(WharfErrorCode.BlobUnknown, $"blob {digest} is unknown to this repository", new JsonObject { ["digest"] = digest.ToString() });
}
