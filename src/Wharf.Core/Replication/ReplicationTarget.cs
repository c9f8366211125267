using Wharf.Core.Primitives;

namespace Wharf.Core.Replication;

/// <summary>A replication rule's destination, as ECR names it: a region and a registry (account) id.</summary>
public sealed record ReplicationDestination(string Region, string RegistryId);

/// <summary>One manifest as a target copies it: its exact bytes, media type, and what it references.</summary>
/// <param name="Digest">The manifest's digest (of <paramref name="Content"/>).</param>
/// <param name="MediaType">The manifest's media type (the <c>Content-Type</c> of a PUT).</param>
/// <param name="Content">The exact bytes.</param>
/// <param name="Blobs">The blobs it references (config and layers, or an artifact's blobs), with their sizes.</param>
/// <param name="Children">For an index, the child manifests (each copied before the index).</param>
public sealed record ReplicationManifest(Digest Digest, string MediaType, byte[] Content, IReadOnlyList<(Digest Digest, long Size)> Blobs, IReadOnlyList<Digest> Children);

/// <summary>
/// One image to copy: the manifest (or index) <paramref name="Digest"/> of <paramref name="Source"/>, to be
/// stored under the same repository name in <paramref name="Destination"/> and tagged with
/// <paramref name="Tags"/> (none: by digest only).
/// </summary>
public sealed record ReplicationItem(RepositoryKey Source, Digest Digest, IReadOnlyList<string> Tags, ReplicationDestination Destination);

/// <summary>Reads what a target copies from this Wharf (the source registry).</summary>
public interface IReplicationSource
{
    /// <summary>The manifest <paramref name="digest"/> of the source repository, or null when it is gone.</summary>
    Task<ReplicationManifest?> GetManifestAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken);

    /// <summary>Opens a blob of the source repository for streaming (never buffered whole, decrypted as it streams); the caller disposes it.</summary>
    Task<Stream> OpenBlobAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken);
}

/// <summary>
/// Where a destination's copies go: this Wharf's own registry of another region or account, another Wharf
/// (a remote region, over the ECR API and <c>/v2</c>), or a plain OCI registry (<c>/v2</c> only).
/// </summary>
public interface IReplicationTarget
{
    /// <summary>
    /// Copies the image: creates the repository when missing (through the destination's <c>REPLICATION</c>
    /// creation template), copies the blobs the destination lacks (streamed), then the children of an index,
    /// then the manifest itself under each tag. Idempotent: a repeat after a crash leaves no duplicate.
    /// Throws <see cref="ReplicationException"/> for a failure the status reports.
    /// </summary>
    Task ReplicateAsync(ReplicationItem item, IReplicationSource source, CancellationToken cancellationToken);
}

/// <summary>
/// The regions served by something other than this Wharf (remote Wharf sites, plain OCI registries),
/// from settings. A destination whose region is not one of them is this Wharf's own.
/// </summary>
public interface IReplicationSites
{
    /// <summary>The target for <paramref name="destination"/> when its region is remote, else null.</summary>
    IReplicationTarget? Find(ReplicationDestination destination);
}

/// <summary>No remote regions: every destination is this Wharf's own (the default).</summary>
public sealed class NoRemoteSites : IReplicationSites
{
    public IReplicationTarget? Find(ReplicationDestination destination) => null;
}

/// <summary>
/// A replication that did not complete. <see cref="FailureCode"/> is what <c>DescribeImageReplicationStatus</c>
/// reports; a <see cref="Retryable"/> failure (destination unreachable, 5xx, throttled) is tried again with
/// backoff while the status stays <c>IN_PROGRESS</c>; any other is <c>FAILED</c> until the next push.
/// </summary>
public sealed class ReplicationException(string failureCode, string message, bool retryable, Exception? inner = null)
    : Exception(message, inner)
{
    public string FailureCode { get; } = failureCode;

    public bool Retryable { get; } = retryable;
}
