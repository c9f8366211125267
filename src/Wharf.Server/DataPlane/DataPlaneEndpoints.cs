using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Wharf.Core.Images;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Repositories;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;

namespace Wharf.Server.DataPlane;

/// <summary>The OCI distribution API under <c>/v2/</c>.</summary>
internal static class DataPlaneEndpoints
{
    public static IServiceCollection AddDataPlane(this IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WharfOptions>>().Value;
            return new DataPlaneSettings(options.Registry.CreateOnPush, options.Uploads.Expiry);
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WharfOptions>>().Value.PullThroughCache;
            return new PullThroughCacheSettings(options.TagFreshness, options.AllowInsecureUpstreams);
        });
        services.TryAddSingleton<RepositoryEncryption>();
        services.TryAddSingleton<RepositoryResolver>();
        services.TryAddSingleton<RepositoryCreator>();
        services.TryAddSingleton<BlobService>();
        services.TryAddSingleton<UploadService>();
        services.TryAddSingleton<PullRecorder>();
        services.TryAddSingleton<ManifestWriter>();
        services.TryAddSingleton<UpstreamBlobFetcher>();
        services.TryAddSingleton<PullThroughCacheService>();
        services.TryAddSingleton<PullThroughBlobs>();
        services.TryAddSingleton<ManifestService>();
        services.TryAddSingleton<ListingService>();
        services.TryAddSingleton<RegistryHostMatcher>();
        services.TryAddSingleton<RegistryAddress>();
        services.TryAddSingleton<IRequestIdentityResolver, OpenRequestIdentity>();
        services.TryAddSingleton<DataPlaneHandler>();
        return services;
    }

    /// <summary>
    /// One catch-all route: repository names contain <c>/</c>, so <see cref="DataPlaneRoute"/> parses the
    /// path from the right, and the handler dispatches on method itself (405 with the OCI body).
    /// </summary>
    public static IEndpointRouteBuilder MapDataPlane(this IEndpointRouteBuilder endpoints)
    {
        var handler = endpoints.ServiceProvider.GetRequiredService<DataPlaneHandler>();
        endpoints.Map("/v2", handler.HandleAsync);
        endpoints.Map("/v2/{**rest}", handler.HandleAsync);
        return endpoints;
    }
}
