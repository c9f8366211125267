using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.Identity;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Replication;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Core.Uploads;
using Wharf.Server.Identity;
using Wharf.Server.PullThroughCache;
using Wharf.Server.Secrets;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// The AWS API surface: <c>POST /</c> (AWS JSON 1.1 for ECR; a form body goes to the IAM and STS Query
/// API, <see cref="QueryApiEndpoints"/>) and the layer download URLs it hands out.
/// </summary>
internal static class ControlPlaneEndpoints
{
    public static IServiceCollection AddControlPlane(this IServiceCollection services)
    {
        services.TryAddSingleton<RepositoryService>();
        services.TryAddSingleton<ImageService>();
        services.TryAddSingleton<LayerService>();
        services.TryAddSingleton<LifecycleService>();
        services.TryAddSingleton<PullTimeExclusions>();
        services.TryAddSingleton<TokenKeyRing>();
        services.TryAddSingleton<PageTokens>();
        services.TryAddSingleton<AuthTokens>();
        services.TryAddSingleton<LayerDownloads>();
        services.TryAddSingleton<LayerUploadApi>();
        services.TryAddSingleton<EcrOperations>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAwsJsonService, EcrOperations>(sp => sp.GetRequiredService<EcrOperations>()));

        // ECR Public's API on the same endpoint (its target prefix and signing name tell the two apart).
        services.TryAddSingleton<EcrPublicOperations>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAwsJsonService, EcrPublicOperations>(sp => sp.GetRequiredService<EcrPublicOperations>()));
        services.TryAddSingleton<IApiIdentityResolver, OpenApiIdentity>();
        services.TryAddSingleton<AwsJsonHandler>();
        services.TryAddSingleton<ReplicationConfigurationService>();
        services.TryAddSingleton<CreationTemplateService>();
        services.AddSecrets();
        Kms.KmsRegistration.AddKms(services);
        services.TryAddSingleton<PullThroughCacheRuleService>();
        return services;
    }

    public static IEndpointRouteBuilder MapControlPlane(this IEndpointRouteBuilder endpoints)
    {
        var downloads = endpoints.ServiceProvider.GetRequiredService<LayerDownloads>();

        // The handlers are singletons resolved on the first request, not here: their dependencies (the
        // master key among them) are then only created by a server that is asked for them.
        endpoints.MapPost("/", context => QueryApiHandler.IsQueryRequest(context.Request)
            ? context.RequestServices.GetRequiredService<QueryApiHandler>().HandleAsync(context)
            : context.RequestServices.GetRequiredService<AwsJsonHandler>().HandleAsync(context));
        endpoints.MapMethods(LayerDownloads.PathPrefix + "{token}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string token) => downloads.HandleAsync(context, token));
        return endpoints;
    }
}
