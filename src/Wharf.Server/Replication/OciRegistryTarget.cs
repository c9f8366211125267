using Wharf.Core.Replication;
using Wharf.Server.Registries;

namespace Wharf.Server.Replication;

/// <summary>
/// A region served by a plain OCI registry (Distribution, Harbor, zot, another vendor's): <c>/v2</c> only,
/// with the auth its challenge asks for. The repository keeps its name, under the configured prefix; the
/// registry must let the push create it (as Distribution does; in Harbor, the project must exist).
/// </summary>
internal sealed class OciRegistryTarget : IReplicationTarget
{
    private static readonly Dictionary<string, string> NoHeaders = [];
    private readonly string region;
    private readonly string? prefix;
    private readonly RegistryPushClient client;
    private readonly ILogger logger;

    public OciRegistryTarget(string region, RemoteRegionOptions options, HttpClient http, RemoteCredentials credentials, TimeProvider time, ILogger logger)
    {
        this.region = region;
        this.logger = logger;
        prefix = string.IsNullOrEmpty(options.RepositoryPrefix) ? null : options.RepositoryPrefix.Trim('/');
        var endpoint = new Uri(options.Endpoint!.TrimEnd('/') + "/");
        var name = $"region {region} ({endpoint.GetLeftPart(UriPartial.Authority)})";
        var authorization = new ChallengeAuthorization(http, endpoint, ct => credentials.GetAsync(region, ct), time, name, "pull,push", DestinationFailures.Strategy);
        client = new RegistryPushClient(http, endpoint, authorization, options.RequestTimeout, name, new BlobLocations());
    }

    public async Task ReplicateAsync(ReplicationItem item, IReplicationSource source, CancellationToken cancellationToken)
    {
        var repository = prefix is null ? item.Source.Name.Value : $"{prefix}/{item.Source.Name.Value}";
        var outcome = await client.PushAsync(repository, item, source, NoHeaders, cancellationToken);
        logger.Replicated(item.Source, item.Digest, region, outcome.BlobsUploaded, outcome.BytesUploaded, outcome.BlobsPresent, outcome.BlobsMounted);
    }
}
