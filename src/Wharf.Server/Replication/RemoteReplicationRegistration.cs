using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.Replication;
using Wharf.Server.Registries;

namespace Wharf.Server.Replication;

/// <summary>Remote regions (another Wharf, a plain OCI registry) from <c>Replication:Regions</c>, and their sealed credentials.</summary>
internal static class RemoteReplicationRegistration
{
    public static IServiceCollection AddRemoteReplication(this IServiceCollection services)
    {
        services.AddSingleton<RemoteCredentials>();
        services.TryAddSingleton<RemoteHttp>();

        // The engine registers NoRemoteSites with TryAdd; this replaces it whichever comes first.
        services.Replace(ServiceDescriptor.Singleton<IReplicationSites, RemoteSites>());
        return services;
    }
}
