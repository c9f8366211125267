using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Wharf.Server.Public;

/// <summary>
/// Public registries (ECR Public): the services, the public address (<c>Public:Port</c>, <c>Public:Host</c>)
/// with its /v2, token realm and gallery, and the fair-use limits. Each part registers itself here.
/// </summary>
internal static class PublicRegistration
{
    public static IServiceCollection AddPublicRegistries(this IServiceCollection services)
    {
        services.TryAddSingleton<Core.Public.PublicRegistryService>();
        services.TryAddSingleton<Limits.AnonymousDataUsage>();
        services.TryAddSingleton<IPublicPullLimits>(sp =>
            sp.GetRequiredService<IOptions<Hosting.WharfOptions>>().Value.Public.Enabled
                ? ActivatorUtilities.CreateInstance<Limits.PublicPullLimits>(sp)
                : new NoPublicPullLimits());
        services.AddHostedService<Limits.AnonymousUsageFlusher>();
        services.TryAddSingleton<Core.Public.PublicGalleryReader>();
        services.TryAddSingleton<Gallery.GalleryHandler>();
        services.TryAddSingleton<Core.Public.IPublicAddress, PublicAddress>();
        services.TryAddSingleton<PublicIdentity>();
        services.TryAddSingleton<PublicTokenRealm>();
        services.TryAddSingleton<PublicDataPlane>();
        services.TryAddSingleton<PublicAddressHandler>();
        return services;
    }

    /// <summary>
    /// Routes requests to the public address (its listener, or <c>Public:Host</c> on the main port) to the
    /// public pipeline, a terminal branch: nothing there reaches the private endpoints (the private /v2,
    /// the ECR API, the query API, /health).
    /// </summary>
    public static WebApplication MapPublicAddress(this WebApplication app)
    {
        var listener = app.Services.GetRequiredService<PublicListener>();
        if (!listener.Enabled)
        {
            return app;
        }

        var handler = app.Services.GetRequiredService<PublicAddressHandler>();
        app.MapWhen(listener.IsPublic, branch => branch.Run(handler.HandleAsync));
        return app;
    }
}
