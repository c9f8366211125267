using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Identity;

namespace Wharf.Server.DataPlane;

/// <summary>
/// What differs between the two /v2 surfaces that share <see cref="DataPlaneHandler"/>'s dispatch: the
/// private registries' (the main port; the host picks the registry, the name is the repository's) and
/// the public address's (<c>&lt;alias&gt;/&lt;repository&gt;</c> names, the Bearer flow, fair-use
/// limits). Each says who is calling and which repository a route's name names.
/// </summary>
internal interface IDataPlaneScope
{
    /// <summary>Who is calling (authentication comes before anything is parsed).</summary>
    ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken);

    /// <summary>The repository <paramref name="name"/> names here, or null when it names none (<c>NAME_UNKNOWN</c>).</summary>
    ValueTask<RepositoryKey?> RepositoryAsync(RequestIdentity identity, RepositoryName name, CancellationToken cancellationToken);

    /// <summary>Whether <c>/v2/_catalog</c> lists the registry's repositories (the public address has no catalog).</summary>
    bool HasCatalog { get; }

    /// <summary>Before a manifest GET (an image pull).</summary>
    void BeforePull(HttpContext context, Caller caller)
    {
    }

    /// <summary>Before a blob GET.</summary>
    ValueTask BeforeBlobAsync(HttpContext context, Caller caller, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Whether <see cref="BlobSent"/> wants the bytes of redirected downloads too (costs a stat).</summary>
    bool CountsBlobBytes => false;

    /// <summary>After a blob GET: the bytes it sent (or, redirected, the blob's size).</summary>
    void BlobSent(HttpContext context, Caller caller, long bytes)
    {
    }
}

/// <summary>The private registries' /v2 on the main port: the host picks the registry, the name is the repository's.</summary>
internal sealed class PrivateDataPlaneScope(IRequestIdentityResolver identities) : IDataPlaneScope
{
    public ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken) =>
        identities.ResolveAsync(context, cancellationToken);

    public ValueTask<RepositoryKey?> RepositoryAsync(RequestIdentity identity, RepositoryName name, CancellationToken cancellationToken) =>
        ValueTask.FromResult<RepositoryKey?>(new RepositoryKey(identity.Registry, name));

    public bool HasCatalog => true;
}
