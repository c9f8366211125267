using System.Text;
using System.Text.Json.Nodes;
using Wharf.Core.Replication;
using Wharf.Server.Registries;

namespace Wharf.Server.Replication;

/// <summary>
/// A region served by another Wharf, reached exactly as a remote ECR client reaches it: SigV4-signed ECR API
/// calls with the destination account's access key (<c>GetAuthorizationToken</c>, <c>DescribeRepositories</c>,
/// creating a missing repository through the remote's <c>REPLICATION</c> creation template), then <c>/v2</c>
/// with the token. Each manifest PUT names the source registry in <see cref="ReplicatedFromHeader"/>, so the
/// remote records an <c>ECR Replication Action</c> rather than a push and never replicates it back.
/// </summary>
internal sealed class RemoteWharfTarget(
    string region,
    RemoteRegionOptions options,
    HttpClient http,
    RemoteCredentials credentials,
    TimeProvider time,
    ILogger logger) : IReplicationTarget, IRegistryAuthorization
{
    /// <summary>On a manifest PUT: <c>&lt;account&gt;/&lt;region&gt;</c> of the registry the copy comes from.</summary>
    public const string ReplicatedFromHeader = "X-Wharf-Replicated-From";

    // Renew this long before the remote's token expires (ECR's last 12 hours), so no push starts on a dying one.
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(30);

    private readonly Uri endpoint = new(options.Endpoint!.TrimEnd('/') + "/");
    private readonly BlobLocations locations = new();
    private volatile RegistryToken? token;

    public async Task ReplicateAsync(ReplicationItem item, IReplicationSource source, CancellationToken cancellationToken)
    {
        var api = Api();
        var repository = item.Source.Name.Value;
        try
        {
            await EnsureRepositoryAsync(api, item.Destination.RegistryId, repository, cancellationToken);
        }
        catch (AwsApiException e)
        {
            throw Classify(e);
        }

        var v2 = (await TokenAsync(refresh: false, cancellationToken)).V2;
        var client = new RegistryPushClient(http, v2, this, options.RequestTimeout, $"region {region} ({v2.GetLeftPart(UriPartial.Authority)})", locations);
        var outcome = await client.PushAsync(
            repository,
            item,
            source,
            new Dictionary<string, string> { [ReplicatedFromHeader] = item.Source.Registry.ToString() },
            cancellationToken);
        logger.Replicated(item.Source, item.Digest, region, outcome.BlobsUploaded, outcome.BytesUploaded, outcome.BlobsPresent, outcome.BlobsMounted);
    }

    async Task<string?> IRegistryAuthorization.GetAsync(string repository, bool refresh, CancellationToken cancellationToken) =>
        (await TokenAsync(refresh, cancellationToken)).Header;

    private AwsApiClient Api() => new(http, endpoint, region, CredentialAsync, time, options.RequestTimeout, DestinationFailures.Strategy);

    private async Task<RemoteCredential> CredentialAsync(CancellationToken cancellationToken) =>
        await credentials.GetAsync(region, cancellationToken)
        ?? throw new ReplicationException(DestinationFailures.AuthFailed, $"no credentials are set for region {region}; run 'wharf replication credentials set {region} --access-key-id …' with the destination account's key", retryable: false);

    /// <summary>The <c>/v2</c> Basic header (<c>AWS:&lt;token&gt;</c>) and address, kept until shortly before the token expires.</summary>
    private async Task<RegistryToken> TokenAsync(bool refresh, CancellationToken cancellationToken)
    {
        // Two copies that both find the token stale each fetch one; either is good, so no lock (the
        // reference is swapped whole).
        if (!refresh && token is { } known && known.Until > time.GetUtcNow())
        {
            return known;
        }

        JsonObject answer;
        try
        {
            answer = await Api().CallAsync("GetAuthorizationToken", [], cancellationToken);
        }
        catch (AwsApiException e)
        {
            throw Classify(e);
        }

        var data = answer["authorizationData"]?[0];
        var encoded = data?["authorizationToken"]?.GetValue<string>()
            ?? throw new ReplicationException(DestinationFailures.Rejected, $"GetAuthorizationToken of region {region} answered without a token", retryable: false);
        var expires = data["expiresAt"]?.GetValue<double>() is { } seconds ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : time.GetUtcNow().AddHours(1);
        var fresh = new RegistryToken("Basic " + encoded, V2Address(data["proxyEndpoint"]?.GetValue<string>()), expires - RenewBefore);
        token = fresh;
        return fresh;
    }

    /// <summary>
    /// Where <c>/v2</c> is: the host the remote names for the registry (its <c>proxyEndpoint</c>, which selects
    /// the account and region there), reached with the scheme configured here, since a remote behind a TLS
    /// proxy may see its own requests as plain HTTP.
    /// </summary>
    private Uri V2Address(string? proxyEndpoint)
    {
        if (proxyEndpoint is null || !Uri.TryCreate(proxyEndpoint, UriKind.Absolute, out var proxy))
        {
            return endpoint;
        }

        var builder = new UriBuilder(endpoint) { Host = proxy.Host, Path = "/" };
        builder.Port = proxy.IsDefaultPort ? (endpoint.Scheme == Uri.UriSchemeHttps ? 443 : 80) : proxy.Port;
        return builder.Uri;
    }

    /// <summary>
    /// Creates the repository when the remote lacks it, as the remote would for replication: through its
    /// <c>REPLICATION</c> creation template (longest prefix, then <c>ROOT</c>) when it has one and lets this key
    /// read them, else with ECR's defaults.
    /// </summary>
    private static async Task EnsureRepositoryAsync(AwsApiClient api, string registryId, string repository, CancellationToken cancellationToken)
    {
        try
        {
            await api.CallAsync("DescribeRepositories", new JsonObject { ["registryId"] = registryId, ["repositoryNames"] = new JsonArray(repository) }, cancellationToken);
            return;
        }
        catch (AwsApiException e) when (e.Type == "RepositoryNotFoundException")
        {
        }

        var template = await TemplateAsync(api, repository, cancellationToken);
        var create = new JsonObject { ["registryId"] = registryId, ["repositoryName"] = repository };
        if (template is not null)
        {
            foreach (var (from, to) in new[]
            {
                ("imageTagMutability", "imageTagMutability"),
                ("imageTagMutabilityExclusionFilters", "imageTagMutabilityExclusionFilters"),
                ("encryptionConfiguration", "encryptionConfiguration"),
                ("resourceTags", "tags"),
            })
            {
                if (template[from] is { } value)
                {
                    create[to] = value.DeepClone();
                }
            }
        }

        try
        {
            await api.CallAsync("CreateRepository", create, cancellationToken);
        }
        catch (AwsApiException e) when (e.Type == "RepositoryAlreadyExistsException")
        {
            // Created meanwhile (another item of the same repository): its settings are the creator's.
            return;
        }

        if (template?["repositoryPolicy"]?.GetValue<string>() is { Length: > 0 } policy)
        {
            await api.CallAsync("SetRepositoryPolicy", new JsonObject { ["registryId"] = registryId, ["repositoryName"] = repository, ["policyText"] = policy }, cancellationToken);
        }

        if (template?["lifecyclePolicy"]?.GetValue<string>() is { Length: > 0 } lifecycle)
        {
            await api.CallAsync("PutLifecyclePolicy", new JsonObject { ["registryId"] = registryId, ["repositoryName"] = repository, ["lifecyclePolicyText"] = lifecycle }, cancellationToken);
        }
    }

    private static async Task<JsonObject?> TemplateAsync(AwsApiClient api, string repository, CancellationToken cancellationToken)
    {
        var templates = new List<JsonObject>();
        try
        {
            string? next = null;
            for (var page = 0; page < 100; page++)
            {
                var input = new JsonObject();
                if (next is not null)
                {
                    input["nextToken"] = next;
                }

                var answer = await api.CallAsync("DescribeRepositoryCreationTemplates", input, cancellationToken);
                templates.AddRange((answer["repositoryCreationTemplates"] as JsonArray ?? []).OfType<JsonObject>());
                if ((next = answer["nextToken"]?.GetValue<string>()) is null)
                {
                    break;
                }
            }
        }
        catch (AwsApiException)
        {
            // A remote without templates, or a key not allowed to read them: ECR's defaults, as for no template.
            return null;
        }

        return templates
            .Where(t => (t["appliedFor"] as JsonArray ?? []).Any(a => a?.GetValue<string>() == "REPLICATION"))
            .Select(t => (Template: t, Prefix: t["prefix"]?.GetValue<string>() ?? string.Empty))
            .Where(t => t.Prefix == "ROOT" || repository.StartsWith(t.Prefix.TrimEnd('/') + "/", StringComparison.Ordinal))
            .OrderByDescending(t => t.Prefix == "ROOT" ? -1 : t.Prefix.Length)
            .Select(t => t.Template)
            .FirstOrDefault();
    }

    private ReplicationException Classify(AwsApiException e) =>
        e.Type is "AccessDeniedException" or "UnrecognizedClientException" or "InvalidSignatureException" or "ExpiredTokenException" or "IncompleteSignatureException"
            ? new ReplicationException(DestinationFailures.AuthFailed, $"region {region} refused this Wharf's key ({e.Type}): {Trim(e.Message)}", retryable: false, e)
            : new ReplicationException(DestinationFailures.Rejected, $"region {region} answered {e.Type}: {Trim(e.Message)}", retryable: false, e);

    private static string Trim(string message) => message.Length <= 300 ? message : new StringBuilder(message, 0, 300, 303).Append("...").ToString();
}

/// <summary>A remote Wharf's <c>/v2</c> authorization: the Basic header, where <c>/v2</c> is, and until when to use it.</summary>
internal sealed record RegistryToken(string Header, Uri V2, DateTimeOffset Until);
