using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Wharf.Core.Replication;
using Wharf.Server.Registries;

namespace Wharf.Server.Replication;

/// <summary>
/// The regions that <c>Replication:Regions</c> maps to another Wharf or an OCI registry; one target per
/// region, kept for the process's life (it caches the remote's auth token).
/// </summary>
internal sealed class RemoteSites(
    IOptions<Hosting.WharfOptions> options,
    RemoteHttp http,
    RemoteCredentials credentials,
    TimeProvider time,
    ILogger<RemoteSites> logger) : IReplicationSites
{
    private readonly ConcurrentDictionary<string, IReplicationTarget> targets = new(StringComparer.Ordinal);

    public IReplicationTarget? Find(ReplicationDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!options.Value.Replication.Regions.TryGetValue(destination.Region, out var remote))
        {
            return null;
        }

        return targets.GetOrAdd(destination.Region, region => remote.ParsedKind == RemoteRegionKind.Oci
            ? new OciRegistryTarget(region, remote, http.Client, credentials, time, logger)
            : new RemoteWharfTarget(region, remote, http.Client, credentials, time, logger));
    }
}

internal static partial class RemoteReplicationLog
{
    [LoggerMessage(EventId = Hosting.WharfEventId.RemoteReplicated, Level = LogLevel.Information, Message = "Replicated {Source}@{Digest} to region {Region}: {Uploaded} blobs sent ({Bytes} bytes), {Present} already there, {Mounted} mounted from another repository")]
    public static partial void Replicated(this ILogger logger, Wharf.Core.Primitives.RepositoryKey source, Wharf.Core.Primitives.Digest digest, string region, int uploaded, long bytes, int present, int mounted);
}
