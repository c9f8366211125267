using System.Text.RegularExpressions;

namespace Wharf.Server.Replication;

/// <summary>What serves a remote region.</summary>
public enum RemoteRegionKind
{
    /// <summary>Another Wharf: ECR's API (SigV4) for the repository and its auth token, then <c>/v2</c>.</summary>
    Wharf,

    /// <summary>Any OCI registry (Distribution, Harbor, zot, …): <c>/v2</c> only, with basic or bearer auth.</summary>
    Oci,
}

/// <summary>
/// <c>Replication:Regions:&lt;region&gt;:*</c>: a region served elsewhere. A replication rule's destination in
/// one of these regions is copied there; any other region is this Wharf's own. Credentials are not settings:
/// <c>wharf replication credentials set</c> keeps them sealed in the metadata store.
/// </summary>
public sealed class RemoteRegionOptions
{
    /// <summary>Base URL of the other Wharf (its ECR API and <c>/v2</c>) or of the OCI registry, e.g. <c>https://registry-b.example.com</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>wharf</c> (the default) or <c>oci</c>; see <see cref="RemoteRegionKind"/>.</summary>
    public string Kind { get; set; } = "wharf";

    /// <summary><see cref="Kind"/> parsed (after validation).</summary>
    public RemoteRegionKind ParsedKind => Enum.Parse<RemoteRegionKind>(Kind, ignoreCase: true);

    /// <summary>For <see cref="RemoteRegionKind.Oci"/>: a path put before every repository name (a Harbor project, a namespace).</summary>
    public string? RepositoryPrefix { get; set; }

    /// <summary>
    /// How long one request may take (a blob upload gets this plus one second per MiB); a destination
    /// that does not answer in time counts as unreachable and is retried.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Checks <c>Replication:Regions</c> (for <see cref="Hosting.WharfOptionsValidator"/>); each problem one sentence that says what to fix.</summary>
internal static partial class RemoteRegionsValidator
{
    public static string? FirstProblem(IReadOnlyDictionary<string, RemoteRegionOptions> regions)
    {
        foreach (var (region, remote) in regions)
        {
            var key = $"Replication:Regions:{region}";
            if (!RegionName().IsMatch(region))
            {
                return $"{key}: '{region}' is not a region name such as eu-west-1 (lowercase words joined by '-')";
            }

            if (remote is null || string.IsNullOrWhiteSpace(remote.Endpoint))
            {
                return $"{key}:Endpoint is empty; set the base URL of the Wharf or OCI registry that serves {region}, such as https://registry-b.example.com";
            }

            if (!Uri.TryCreate(remote.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https") || endpoint.UserInfo.Length > 0
                || endpoint.Query.Length > 0 || endpoint.Fragment.Length > 0)
            {
                return $"{key}:Endpoint '{remote.Endpoint}' is not an http or https URL such as https://registry-b.example.com (credentials go in 'wharf replication credentials set {region}', never in the URL)";
            }

            if (!Enum.TryParse<RemoteRegionKind>(remote.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || int.TryParse(remote.Kind, out _))
            {
                return $"{key}:Kind is '{remote.Kind}'; set wharf (another Wharf) or oci (any OCI registry)";
            }

            if (remote.RepositoryPrefix is { Length: > 0 } prefix)
            {
                if (kind != RemoteRegionKind.Oci)
                {
                    return $"{key}:RepositoryPrefix is for Kind oci only: another Wharf keeps the repository names, as ECR does";
                }

                if (!PrefixShape().IsMatch(prefix))
                {
                    return $"{key}:RepositoryPrefix '{prefix}' is not a repository path such as 'library' or 'team/mirror' (lowercase letters, digits, '.', '_', '-', '/' between components)";
                }
            }

            if (remote.RequestTimeout <= TimeSpan.Zero)
            {
                return $"{key}:RequestTimeout is {remote.RequestTimeout}; set a positive duration such as 00:00:30";
            }
        }

        return null;
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionName();

    [GeneratedRegex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixShape();
}
