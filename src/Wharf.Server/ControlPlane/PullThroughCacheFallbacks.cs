using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Secrets;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// The secret store when none is registered: no secret exists, so a rule naming one is refused with
/// <c>SecretNotFoundException</c>. Registered with TryAdd, so the secrets API's store replaces it.
/// </summary>
internal sealed class NoSecretValues : ISecretValues
{
    public Task<string> GetCurrentStringAsync(RegistryKey registry, string secretArn, CancellationToken cancellationToken) =>
        throw new WharfException(WharfErrorCode.SecretNotFound, $"The secret '{secretArn}' does not exist: this Wharf has no secret store");
}

/// <summary>Upstreams when no HTTP client for them is registered: each is unavailable.</summary>
internal sealed class NoUpstreamRegistries : IUpstreamRegistries
{
    public Task<IUpstreamRegistry> ConnectAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken) =>
        throw new UpstreamException(UpstreamFailure.Unavailable, "this Wharf has no client for upstream registries");
}
