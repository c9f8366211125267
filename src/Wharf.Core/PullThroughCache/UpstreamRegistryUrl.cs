using System.Text.RegularExpressions;
using Wharf.Core.Errors;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// A rule's <c>upstreamRegistryUrl</c>: ECR's bare host (<c>registry-1.docker.io</c>, HTTPS) or, as Wharf's
/// extension, <c>https://host[:port][/]</c> of any OCI registry (<c>http://</c> with
/// <see cref="PullThroughCacheSettings.AllowInsecureUpstreams"/>), and the <c>upstreamRegistry</c> name ECR
/// gives each host it knows (ECR-NOTES §7.1).
/// </summary>
public static partial class UpstreamRegistryUrl
{
    /// <summary>The <c>upstreamRegistry</c> names of ECR's model.</summary>
    public static IReadOnlySet<string> RegistryNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Ecr, "ecr-public", "quay", "k8s", "docker-hub", "github-container-registry", "azure-container-registry", "gitlab-container-registry", "chainguard",
    };

    /// <summary>An ECR private registry, or (any other URL) another Wharf; reached with the rule's role.</summary>
    public const string Ecr = "ecr";

    private static readonly Dictionary<string, string> KnownHosts = new(StringComparer.Ordinal)
    {
        ["registry-1.docker.io"] = "docker-hub",
        ["ghcr.io"] = "github-container-registry",
        ["quay.io"] = "quay",
        ["registry.k8s.io"] = "k8s",
        ["public.ecr.aws"] = "ecr-public",
        ["registry.gitlab.com"] = "gitlab-container-registry",
        ["cgr.dev"] = "chainguard",
    };

    /// <summary>
    /// The base address of the upstream (<c>https://host[:port]/</c>). Throws <c>InvalidParameterException</c>
    /// for what is not a registry's address, and for <c>http://</c> unless <paramref name="allowInsecure"/>.
    /// </summary>
    public static Uri Parse(string url, bool allowInsecure)
    {
        var withScheme = url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http")
            || uri.Host.Length == 0
            || uri.UserInfo.Length > 0
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0
            || uri.AbsolutePath != "/")
        {
            throw WharfException.InvalidParameter(
                "upstreamRegistryUrl",
                "must be a registry host such as registry-1.docker.io, or https://host[:port] of an OCI registry (no path, query or credentials)");
        }

        if (uri.Scheme == "http" && !allowInsecure)
        {
            throw WharfException.InvalidParameter(
                "upstreamRegistryUrl",
                "http:// upstreams are refused unless the setting PullThroughCache:AllowInsecureUpstreams is true; use https://");
        }

        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }

    /// <summary>The <c>upstreamRegistry</c> ECR names this address by, or null for an upstream ECR does not list.</summary>
    public static string? KnownRegistry(Uri baseUri)
    {
        if (baseUri.Scheme != "https" || !baseUri.IsDefaultPort)
        {
            return null;
        }

        var host = baseUri.IdnHost.ToLowerInvariant();
        return KnownHosts.GetValueOrDefault(host)
            ?? (host.EndsWith(".azurecr.io", StringComparison.Ordinal) ? "azure-container-registry"
                : EcrHost().IsMatch(host) ? Ecr
                : null);
    }

    /// <summary>Upstreams ECR reaches only with a Secrets Manager secret (ECR-NOTES §7.1).</summary>
    public static bool NeedsCredential(string? registry) =>
        registry is "docker-hub" or "github-container-registry" or "gitlab-container-registry" or "azure-container-registry" or "chainguard";

    /// <summary>Upstreams ECR reaches without a secret: anonymously, or (<c>ecr</c>) with the rule's role.</summary>
    public static bool RefusesCredential(string? registry) => registry is Ecr or "ecr-public" or "k8s" or "quay";

    [GeneratedRegex(@"^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$", RegexOptions.CultureInvariant)]
    private static partial Regex EcrHost();
}
