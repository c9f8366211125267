using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Secrets;
using Wharf.Server.Hosting;
using Wharf.Server.Registries;
using Wharf.Server.Replication;

namespace Wharf.Server.PullThroughCache;

/// <summary>
/// The upstreams of pull-through cache rules over HTTP, on the one shared client of other registries
/// (<see cref="RemoteHttp"/>). The rule's URL is a host (HTTPS), an <c>https://</c> URL, or an <c>http://</c> one
/// when <c>PullThroughCache:AllowInsecureUpstreams</c> is on. Its secret is read at each connect; an upstream (and
/// the tokens it holds) is kept while the rule and the secret's value stay the same, and replaced when either changes.
/// </summary>
internal sealed partial class HttpUpstreamRegistries(
    RemoteHttp http,
    IServiceProvider services,
    IOptions<WharfOptions> options,
    TimeProvider time) : IUpstreamRegistries
{
    // Both open values with the master key: resolved when a rule first needs them, not with the pull path's
    // services, so that a server (or `wharf migrate`'s destination) creates no master key it was never asked for.
    private ISecretValues Secrets => services.GetRequiredService<ISecretValues>();

    private RemoteCredentials RemoteCredentials => services.GetRequiredService<RemoteCredentials>();

    /// <summary>The session name of the role sessions the cache opens on an <c>ecr</c> upstream (its CloudTrail-like trace there).</summary>
    public const string RoleSessionName = "wharf-pull-through-cache";

    private readonly ConcurrentDictionary<(RegistryKey Registry, string RuleKey), (PullThroughCacheRule Rule, string Fingerprint, IUpstreamRegistry Upstream)> upstreams = new();

    public async Task<IUpstreamRegistry> ConnectAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var settings = options.Value.PullThroughCache;
        var baseUri = BaseUri(rule.UpstreamRegistryUrl, settings.AllowInsecureUpstreams);
        var secret = rule.CredentialArn is null ? null : await ReadSecretAsync(registry, rule, cancellationToken);
        var fingerprint = secret is null ? string.Empty : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret.Fingerprint)));
        var key = (registry, rule.Key);
        if (upstreams.TryGetValue(key, out var known) && known.Rule == rule && known.Fingerprint == fingerprint)
        {
            return known.Upstream;
        }

        var name = $"upstream {baseUri.Authority}";
        IRegistryAuthorization authorization = rule.UpstreamRegistry == "ecr" && rule.CustomRoleArn is { } role
            ? new EcrRoleAuthorization(http.Client, baseUri, RegionOf(baseUri, registry), role, await RoleCallerAsync(baseUri, rule, secret, cancellationToken), time, settings.RequestTimeout, name)
            : new ChallengeAuthorization(
                http.Client,
                baseUri,
                _ => Task.FromResult(secret?.Login),
                time,
                name,
                "pull",
                UpstreamFailures.Instance);
        var upstream = new HttpUpstreamRegistry(http.Client, baseUri, authorization, settings.RequestTimeout, settings.AllowInsecureUpstreams, name);
        upstreams[key] = (rule, fingerprint, upstream);
        return upstream;
    }

    /// <summary>The upstream's base address (the rules API's parse); a URL Wharf refuses is Unavailable, with what to change.</summary>
    public static Uri BaseUri(string upstreamRegistryUrl, bool allowInsecure)
    {
        try
        {
            return UpstreamRegistryUrl.Parse(upstreamRegistryUrl, allowInsecure);
        }
        catch (WharfException e)
        {
            throw new UpstreamException(UpstreamFailure.Unavailable, $"the upstream registry URL '{upstreamRegistryUrl}' is refused: {e.Message}");
        }
    }

    /// <summary>
    /// The region whose ECR and STS an <c>ecr</c> upstream answers for: named by its host (<c>&lt;account&gt;.dkr.ecr.&lt;region&gt;.…</c>),
    /// else by the remote region of <c>Replication:Regions</c> at its address, else this registry's own.
    /// </summary>
    private string RegionOf(Uri baseUri, RegistryKey registry)
    {
        var match = EcrHost().Match(baseUri.Host);
        if (match.Success)
        {
            return match.Groups["region"].Value;
        }

        return RemoteRegionAt(baseUri) ?? registry.Region;
    }

    private string? RemoteRegionAt(Uri baseUri) =>
        options.Value.Replication.Regions
            .Where(r => r.Value.Endpoint is { } endpoint && Uri.TryCreate(endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var at) && at == baseUri)
            .Select(r => r.Key)
            .FirstOrDefault();

    /// <summary>Who calls <c>AssumeRole</c> on an <c>ecr</c> upstream: the secret's access key, else the remote region's credentials.</summary>
    private async Task<RemoteCredential> RoleCallerAsync(Uri baseUri, PullThroughCacheRule rule, UpstreamSecret? secret, CancellationToken cancellationToken)
    {
        if (secret?.AccessKey is { } key)
        {
            return key;
        }

        if (RemoteRegionAt(baseUri) is { } region && await RemoteCredentials.GetAsync(region, cancellationToken) is { } credential)
        {
            return credential;
        }

        throw new UpstreamException(
            UpstreamFailure.AccessDenied,
            $"upstream {baseUri.Authority} needs an access key to assume {rule.CustomRoleArn}: put 'accessKeyId' and 'secretAccessKey' in the rule's secret, "
            + $"or name {baseUri.GetLeftPart(UriPartial.Authority)} as a region's Endpoint in Replication:Regions and run 'wharf replication credentials set <region> --access-key-id …'");
    }

    private async Task<UpstreamSecret> ReadSecretAsync(RegistryKey registry, PullThroughCacheRule rule, CancellationToken cancellationToken)
    {
        var value = await Secrets.GetCurrentStringAsync(registry, rule.CredentialArn!, cancellationToken);
        return UpstreamSecret.Parse(value, ecr: rule.UpstreamRegistry == "ecr")
            ?? throw new WharfException(
                WharfErrorCode.UnableToDecryptSecretValue,
                rule.UpstreamRegistry == "ecr"
                    ? $"The secret {rule.CredentialArn} is not JSON with the string keys 'accessKeyId' and 'secretAccessKey' (or 'username' and 'accessToken')."
                    : $"The secret {rule.CredentialArn} is not JSON with the string keys 'username' and 'accessToken', as a pull through cache rule's secret must be.");
    }

    [GeneratedRegex(@"^[0-9]{12}\.dkr\.ecr\.(?<region>[a-z]{2}(-[a-z0-9]+)+)\.", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex EcrHost();
}

/// <summary>
/// A rule's secret as the cache reads it: ECR's <c>username</c> and <c>accessToken</c> (the upstream login), and,
/// as Wharf's extension for <c>ecr</c> upstreams, <c>accessKeyId</c> and <c>secretAccessKey</c> (who assumes the rule's role).
/// </summary>
internal sealed record UpstreamSecret(RemoteCredential? Login, RemoteCredential? AccessKey)
{
    /// <summary>What identifies the value (hashed before it is kept): a changed secret is a new upstream, with new tokens.</summary>
    public string Fingerprint => $"{Login?.Identity}\n{Login?.Secret}\n{AccessKey?.Identity}\n{AccessKey?.Secret}";

    // Never the values.
    public override string ToString() => "secret (hidden)";

    /// <summary>The secret's keys, or null when it is not such JSON (never echoing the value).</summary>
    public static UpstreamSecret? Parse(string value, bool ecr)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? Field(string name) =>
                document.RootElement.TryGetProperty(name, out var field) && field.ValueKind == JsonValueKind.String && field.GetString() is { Length: > 0 } text ? text : null;
            var login = Field("username") is { } user && Field("accessToken") is { } token ? new RemoteCredential(user, token) : null;
            var key = ecr && Field("accessKeyId") is { } id && Field("secretAccessKey") is { } secret ? new RemoteCredential(id, secret) : null;
            return login is null && key is null ? null : new UpstreamSecret(login, key);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
