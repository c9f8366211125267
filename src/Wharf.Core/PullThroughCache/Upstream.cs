using Wharf.Core.Primitives;

namespace Wharf.Core.PullThroughCache;

/// <summary>Why an upstream could not give what was asked.</summary>
public enum UpstreamFailure
{
    /// <summary>The upstream answered that the repository, manifest or blob does not exist (404, or its NAME/MANIFEST/BLOB_UNKNOWN).</summary>
    NotFound,

    /// <summary>Unreachable, timed out, 5xx, or an answer that broke the protocol or a bound.</summary>
    Unavailable,

    /// <summary>429: the upstream limits requests (Docker Hub's pull limit).</summary>
    TooManyRequests,

    /// <summary>401/403 with the rule's credentials (or none): a wrong secret, a role that may not pull.</summary>
    AccessDenied,
}

/// <summary>An upstream's refusal or failure, with a message fit for the caller (never a credential).</summary>
public sealed class UpstreamException(UpstreamFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public UpstreamFailure Failure { get; } = failure;
}

/// <summary>A manifest or index as the upstream served it: the exact bytes, their digest and media type.</summary>
public sealed record UpstreamManifest(Digest Digest, string MediaType, ReadOnlyMemory<byte> Content);

/// <summary>A blob being read from the upstream: its length when the upstream declared it, and the bytes. The caller disposes it.</summary>
public sealed record UpstreamBlob(long? Length, Stream Content) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>
/// One upstream registry as a rule reaches it, authenticated as the rule says (anonymous, Basic or the
/// Bearer token flow with the secret's <c>username</c>/<c>accessToken</c>, or an ECR token through the
/// rule's role), tokens cached. Every failure is an <see cref="UpstreamException"/>; every answer is read
/// to a bound (a manifest to 4 MiB) and checked (a manifest asked for by digest must have it).
/// </summary>
public interface IUpstreamRegistry
{
    /// <summary>GET of a manifest by tag or digest, with the media types every client accepts.</summary>
    Task<UpstreamManifest> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken);

    /// <summary>HEAD of a manifest: the digest a tag points at now (the cheap freshness check; a GET when the upstream sends no digest).</summary>
    Task<Digest> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken);

    /// <summary>GET of a blob, streamed (redirects followed, without the upstream's credentials).</summary>
    Task<UpstreamBlob> OpenBlobAsync(string repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// Authenticates as a pull would (<c>ValidatePullThroughCacheRule</c>): the <c>/v2/</c> challenge, and a
    /// token for <paramref name="repository"/> (or for a repository the rule's prefix names) when the upstream asks for one.
    /// </summary>
    Task CheckAsync(string? repository, CancellationToken cancellationToken);
}

/// <summary>The upstreams of rules; the host builds them over HTTP.</summary>
public interface IUpstreamRegistries
{
    /// <summary>
    /// The upstream of <paramref name="rule"/> in <paramref name="registry"/>, with the credentials it names read
    /// now (a changed secret applies from the next call). Throws <see cref="Errors.WharfException"/> with
    /// <c>SecretNotFound</c>, <c>UnableToAccessSecret</c> or <c>UnableToDecryptSecretValue</c> when the
    /// secret cannot be used, and <see cref="UpstreamException"/> when the role cannot be assumed.
    /// </summary>
    Task<IUpstreamRegistry> ConnectAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken);
}

/// <summary>The settings pulls through the cache need (the host maps its options onto this).</summary>
/// <param name="TagFreshness">How long a cached tag is served without asking the upstream whether it moved (ECR: 24 h).</param>
/// <param name="AllowInsecureUpstreams">Accept <c>http://</c> upstream URLs (tests on loopback, labs); off by default.</param>
public sealed record PullThroughCacheSettings(TimeSpan TagFreshness, bool AllowInsecureUpstreams)
{
    public static PullThroughCacheSettings Default { get; } = new(TimeSpan.FromHours(24), false);
}
