using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Registries;

namespace Wharf.Server.PullThroughCache;

/// <summary>The pull-through cache's upstreams over HTTP (<see cref="HttpUpstreamRegistries"/>), on the shared client of other registries.</summary>
internal static class UpstreamRegistration
{
    public static IServiceCollection AddUpstreamRegistries(this IServiceCollection services)
    {
        services.TryAddSingleton<RemoteHttp>();
        services.TryAddSingleton<IUpstreamRegistries, HttpUpstreamRegistries>();
        return services;
    }
}
