using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.Identity;

namespace Wharf.Server.Identity;

/// <summary>
/// The IAM and STS Query APIs. Their <c>POST /</c> shares its route with the ECR JSON API, so the control
/// plane's one <c>POST /</c> hands a form body (<see cref="QueryApiHandler.IsQueryRequest"/>) here;
/// <c>GET /?Action=…</c>, the Query protocol in the URL (presigned STS calls), is theirs alone.
/// </summary>
internal static class QueryApiEndpoints
{
    public static IServiceCollection AddQueryApi(this IServiceCollection services)
    {
        services.TryAddSingleton<IdentityService>();
        services.TryAddSingleton<QueryApiHandler>();
        return services;
    }

    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder endpoints)
    {
        // Resolved on the first request, not here: its dependencies (the master key among them) are then
        // only created by a server that is asked for them.
        endpoints.MapGet("/", context => context.RequestServices.GetRequiredService<QueryApiHandler>().HandleAsync(context));
        return endpoints;
    }
}
