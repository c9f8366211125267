using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Replication;

/// <summary>
/// ECR's <c>PutReplicationConfiguration</c> and the configuration <c>DescribeRegistry</c> shows. The
/// configuration is the registry's (one account in one region) and is kept among its settings, so
/// another region of the same account has its own.
/// </summary>
public sealed class ReplicationConfigurationService(IMetadataStore store, IAccessAuthorizer authorizer)
{
    /// <summary>
    /// Replaces the registry's configuration with <paramref name="configuration"/> (the request's
    /// <c>replicationConfiguration</c>); no rules turns replication off. Only images pushed afterwards replicate.
    /// </summary>
    public async Task<ReplicationConfiguration> PutAsync(Caller caller, RegistryKey registry, JsonElement configuration, CancellationToken cancellationToken)
    {
        // No resource type: IAM evaluates the action on "*", as for DescribeRegistry.
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.PutReplicationConfiguration, "*", cancellationToken);
        var parsed = ReplicationConfigurationParser.Parse(configuration, registry);
        await store.Repositories.SetRegistrySettingAsync(registry, ReplicationConfiguration.SettingName, parsed.ToSetting(), cancellationToken);
        return parsed;
    }

    /// <summary>The registry's configuration for <c>DescribeRegistry</c> (the empty one until a put).</summary>
    public async Task<ReplicationConfiguration> DescribeAsync(Caller caller, RegistryKey registry, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DescribeRegistry, "*", cancellationToken);
        return await ReplicationConfiguration.LoadAsync(store.Repositories, registry, cancellationToken);
    }
}
