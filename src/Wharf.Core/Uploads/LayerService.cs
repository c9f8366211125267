using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;

namespace Wharf.Core.Uploads;

/// <summary>One entry of <c>BatchCheckLayerAvailability</c>: the layer with its size, or null when unavailable.</summary>
public sealed record LayerAvailability(string Digest, BlobRecord? Blob);

/// <summary>A layer part that does not continue the upload: ECR's <c>InvalidLayerPartException</c> carries where it stands.</summary>
public sealed record LayerPartRejected(long LastValidByteReceived);

/// <summary>
/// ECR's layer-upload API (the operations the ECR proxy uses). It drives the same upload sessions and
/// blob links as /v2, so a layer uploaded here is mountable and pullable there, and the reverse.
/// </summary>
public sealed class LayerService(IMetadataStore store, RepositoryResolver repositories, UploadService uploads, BlobService blobs)
{
    /// <summary>The part size <c>InitiateLayerUpload</c> suggests (ECR's maximum part size quota).</summary>
    public const long PartSize = 10 * 1024 * 1024;

    /// <summary>The result for each well-formed digest string; empty or malformed ones as failures.</summary>
    public async Task<(IReadOnlyList<LayerAvailability> Layers, IReadOnlyList<(string Digest, string Code, string Reason)> Failures)> CheckAvailabilityAsync(
        Caller caller, RepositoryKey key, IReadOnlyList<string> digests, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.BatchCheckLayerAvailability, cancellationToken);
        var layers = new List<LayerAvailability>();
        var failures = new List<(string, string, string)>();
        foreach (var text in digests.Distinct(StringComparer.Ordinal))
        {
            if (text.Length == 0)
            {
                failures.Add((text, "MissingLayerDigest", "Missing layer digest"));
            }
            else if (!Digest.TryParse(text, out var digest))
            {
                failures.Add((text, "InvalidLayerDigest", $"Invalid layer digest: '{text}' should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"));
            }
            else
            {
                layers.Add(new LayerAvailability(text, await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken)));
            }
        }

        return (layers, failures);
    }

    public async Task<string> InitiateAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken) =>
        (await uploads.StartAsync(caller, key, cancellationToken)).Id;

    /// <summary>
    /// Appends one part. <paramref name="first"/> must continue the upload and <paramref name="last"/>
    /// agree with the part's length; otherwise nothing is written and <see cref="WharfErrorCode.InvalidLayerPart"/>
    /// is thrown with <see cref="LayerPartRejected"/> as its detail. Returns the last byte received.
    /// </summary>
    public async Task<long> UploadPartAsync(
        Caller caller, RepositoryKey key, string uploadId, long first, long last, ReadOnlyMemory<byte> part, CancellationToken cancellationToken)
    {
        if (last - first + 1 != part.Length || part.Length == 0)
        {
            var status = await uploads.GetStatusAsync(caller, key, uploadId, cancellationToken);
            throw InvalidPart($"The layer part is {part.Length} bytes but partFirstByte {first} and partLastByte {last} describe {last - first + 1}.", status.Offset);
        }

        try
        {
            using var body = new MemoryStream(part.ToArray(), writable: false);
            var status = await uploads.AppendAsync(caller, key, uploadId, body, part.Length, first, part.Length, cancellationToken);
            return status.Offset - 1;
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.UploadRangeInvalid)
        {
            var status = await uploads.GetStatusAsync(caller, key, uploadId, cancellationToken);
            throw InvalidPart($"The part starts at byte {first}, but the upload has received {status.Offset} bytes: the next part must start at byte {status.Offset}.", status.Offset);
        }
    }

    /// <summary>Verifies the digest and commits the layer; ECR's errors for an empty upload, a mismatch, or a layer already there.</summary>
    public async Task<Digest> CompleteAsync(Caller caller, RepositoryKey key, string uploadId, Digest digest, CancellationToken cancellationToken)
    {
        var status = await uploads.GetStatusAsync(caller, key, uploadId, cancellationToken);
        if (status.Offset == 0)
        {
            throw new WharfException(WharfErrorCode.EmptyUpload, $"The layer upload '{uploadId}' does not contain any layer parts.");
        }

        var repository = await repositories.GetAsync(caller, key, EcrActions.CompleteLayerUpload, cancellationToken);
        if (await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken) is not null)
        {
            await uploads.CancelAsync(caller, key, uploadId, cancellationToken);
            throw new WharfException(WharfErrorCode.LayerAlreadyExists, $"The layer '{digest}' already exists in the repository with name '{key.Name}' in registry with id '{key.Registry.Account}'");
        }

        try
        {
            return await uploads.CompleteAsync(caller, key, uploadId, digest, body: null, contentLength: null, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.DigestInvalid)
        {
            throw new WharfException(
                WharfErrorCode.BlobUploadInvalid,
                $"The layer digest calculation performed by Wharf upon receipt of the image layer does not match the digest specified: {e.Message}");
        }
    }

    /// <summary>
    /// <c>GetDownloadUrlForLayer</c>'s checks: the layer must be in the repository and referenced by one
    /// of its images (<c>LayerInaccessibleException</c> otherwise, as ECR), else <c>LayersNotFoundException</c>.
    /// </summary>
    public async Task<BlobRecord> CheckDownloadableAsync(Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.GetDownloadUrlForLayer, cancellationToken);
        var blob = await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.LayersNotFound, $"The layer with digest '{digest}' does not exist in the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");
        return await store.Blobs.IsReferencedInRepositoryAsync(repository.Id, digest, cancellationToken)
            ? blob
            : throw new WharfException(WharfErrorCode.LayerInaccessible);
    }

    /// <summary>
    /// Opens a layer for a signed download URL, whose signature is the authorisation (as an S3 presigned
    /// URL). The URL lasts only while <c>GetDownloadUrlForLayer</c> would still hand it out: once no image
    /// of the repository references the layer (the image was deleted), it is <c>BLOB_UNKNOWN</c>, not
    /// served until garbage collection removes the bytes.
    /// </summary>
    public async Task<BlobRead> OpenForDownloadAsync(RepositoryKey key, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        var caller = Caller.Root(key.Registry.Account);
        var repository = await repositories.GetAsync(caller, key, EcrActions.GetDownloadUrlForLayer, cancellationToken);
        if (!await store.Blobs.IsReferencedInRepositoryAsync(repository.Id, digest, cancellationToken))
        {
            throw BlobService.BlobUnknown(digest);
        }

        return await blobs.OpenAsync(caller, key, digest, range, cancellationToken);
    }

    private static WharfException InvalidPart(string message, long received) =>
        new(WharfErrorCode.InvalidLayerPart, message, new LayerPartRejected(received - 1));
}
