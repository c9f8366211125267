using Wharf.Core.Primitives;

namespace Wharf.Core.PullThroughCache;

/// <summary>The default when the host registers no upstream client: every upstream is unavailable (cached images are still served).</summary>
public sealed class NoUpstreamRegistries : IUpstreamRegistries
{
    public Task<IUpstreamRegistry> ConnectAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken) =>
        throw new UpstreamException(UpstreamFailure.Unavailable, "this server has no client for upstream registries");
}
