namespace Wharf.Server.DataPlane;

/// <summary>The OCI distribution API under <c>/v2/</c>.</summary>
internal static class DataPlaneEndpoints
{
    public static IServiceCollection AddDataPlane(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapDataPlane(this IEndpointRouteBuilder endpoints) => endpoints;
}
