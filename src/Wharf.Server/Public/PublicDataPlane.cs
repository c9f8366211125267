using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Server.DataPlane;
using Wharf.Server.Identity;

namespace Wharf.Server.Public;

/// <summary>
/// The public address's <c>/v2</c>: the private /v2's dispatch and services (<see cref="DataPlaneHandler"/>)
/// with ECR Public's names, callers and limits. A name is <c>&lt;alias&gt;/&lt;repository&gt;</c>: the alias
/// names an account's public registry (<see cref="RegistryKey.Public"/>), the rest a repository in it, so
/// no name here reaches a private repository. Anonymous callers read (the authorizer allows everyone
/// the public repositories' reads); a write by one is answered with the challenge, as registries answer
/// unauthenticated writes, so that a client logs in. There is no catalog (the gallery searches).
/// </summary>
internal sealed class PublicDataPlane(PublicIdentity identity, PublicRegistryService registries, IPublicPullLimits limits) : IDataPlaneScope
{
    public async ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var caller = await identity.ResolveAsync(context, cancellationToken);
        if (caller.IsAnonymous && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            throw identity.Challenge(context);
        }

        return new RequestIdentity(RegistryKey.Public(caller.Account), caller);
    }

    public async ValueTask<RepositoryKey?> RepositoryAsync(RequestIdentity identity, RepositoryName name, CancellationToken cancellationToken)
    {
        var slash = name.Value.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !RepositoryName.TryParse(name.Value[(slash + 1)..], out var repository))
        {
            return null;
        }

        return await registries.ResolveAliasAsync(name.Value[..slash], cancellationToken) is { } registry
            ? new RepositoryKey(registry, repository)
            : null;
    }

    public bool HasCatalog => false;

    public void BeforePull(HttpContext context, Caller caller) => limits.CheckPull(context, caller);

    public ValueTask BeforeBlobAsync(HttpContext context, Caller caller, CancellationToken cancellationToken) =>
        limits.CheckDataAsync(context, caller, cancellationToken);

    public bool CountsBlobBytes => true;

    public void BlobSent(HttpContext context, Caller caller, long bytes) => limits.CountBytes(context, caller, bytes);
}
