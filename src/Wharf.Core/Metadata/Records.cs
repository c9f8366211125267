using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>A repository row. Later issues add settings (mutability, scanning, encryption) by migration.</summary>
public sealed record Repository(long Id, RepositoryKey Key, DateTimeOffset CreatedAt);

/// <summary>A blob the metadata store knows (its bytes are in the blob store).</summary>
public sealed record BlobRecord(Digest Digest, long Size, DateTimeOffset TouchedAt);

/// <summary>Outcome of <see cref="IBlobIndex.ReserveBlobAsync"/>.</summary>
public enum BlobReservation
{
    /// <summary>The row is live and its touch time is now: GC will leave it alone for a grace window.</summary>
    Reserved,

    /// <summary>GC has claimed the blob and is deleting its bytes; retry once the row is gone.</summary>
    BeingDeleted,
}

/// <summary>A stored manifest (or index): its exact bytes and what was derived from them at push.</summary>
public sealed record ManifestRecord(
    long RepositoryId,
    Digest Digest,
    string MediaType,
    string? ArtifactType,
    Digest? Subject,
    byte[] Content,
    string? AnnotationsJson,
    DateTimeOffset PushedAt)
{
    public long Size => Content.LongLength;
}

/// <summary>Everything one manifest PUT writes, in one transaction.</summary>
/// <param name="RepositoryId">Target repository.</param>
/// <param name="Digest">Digest of <paramref name="Content"/> (computed by the service).</param>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="ArtifactType">For referrers: <c>artifactType</c>, else the config media type; null for images without one.</param>
/// <param name="Subject">The <c>subject</c> digest, if any (the subject need not exist).</param>
/// <param name="Content">The exact bytes pushed.</param>
/// <param name="AnnotationsJson">The manifest's <c>annotations</c> object as JSON, for the referrers list.</param>
/// <param name="Blobs">Config and layer digests: each must be linked to the repository and live.</param>
/// <param name="Children">Index children: each must be a manifest of this repository.</param>
/// <param name="Tag">The tag to point at this manifest, or null for a push by digest.</param>
/// <param name="Now">The push time.</param>
public sealed record ManifestWrite(
    long RepositoryId,
    Digest Digest,
    string MediaType,
    string? ArtifactType,
    Digest? Subject,
    byte[] Content,
    string? AnnotationsJson,
    IReadOnlyList<Digest> Blobs,
    IReadOnlyList<Digest> Children,
    string? Tag,
    DateTimeOffset Now);

/// <summary>Outcome of <see cref="IImageStore.PutManifestAsync"/>. Nothing was written unless <see cref="Succeeded"/>.</summary>
public sealed record PutManifestResult(
    bool Succeeded,
    bool Created,
    IReadOnlyList<Digest> MissingBlobs,
    IReadOnlyList<Digest> MissingChildren)
{
    public static PutManifestResult Stored(bool created) => new(true, created, [], []);
}

/// <summary>Outcome of <see cref="IImageStore.DeleteManifestAsync"/>.</summary>
public enum DeleteManifestResult
{
    Deleted,
    NotFound,

    /// <summary>An index in the same repository still lists it (ECR's <c>ImageReferencedByManifestList</c>).</summary>
    ReferencedByIndex,
}

/// <summary>One entry of a referrers list (an OCI descriptor).</summary>
public sealed record ReferrerRecord(Digest Digest, string MediaType, long Size, string? ArtifactType, string? AnnotationsJson);

/// <summary>An upload session row (DESIGN.md "Uploads survive any node"). Bytes are staged under <see cref="Id"/>.</summary>
public sealed record UploadSession(string Id, long RepositoryId, long Offset, DateTimeOffset StartedAt, DateTimeOffset ExpiresAt);
