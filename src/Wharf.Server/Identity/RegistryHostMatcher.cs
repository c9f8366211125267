using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Wharf.Core.Primitives;
using Wharf.Server.Hosting;

namespace Wharf.Server.Identity;

/// <summary>
/// Maps a <c>Host</c> header (port ignored) to a registry: a host matching <c>Registry:HostPattern</c>
/// names its account and region; any other host is the default registry (DESIGN.md).
/// </summary>
internal sealed class RegistryHostMatcher
{
    private readonly Regex pattern;
    private readonly RegistryKey defaultRegistry;

    public RegistryHostMatcher(IOptions<WharfOptions> options)
    {
        var registry = options.Value.Registry;
        defaultRegistry = new RegistryKey(AccountId.Parse(registry.DefaultAccount), registry.DefaultRegion);
        var text = "^" + Regex.Escape(registry.HostPattern)
            .Replace(@"\{account}", "(?<account>[0-9]{12})", StringComparison.Ordinal)
            .Replace(@"\{region}", "(?<region>[a-z]{2}(-[a-z0-9]+)+)", StringComparison.Ordinal) + "$";
        pattern = new Regex(text, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
    }

    public RegistryKey DefaultRegistry => defaultRegistry;

    /// <summary>True when <paramref name="host"/> matches the host pattern (and so names a registry).</summary>
    public bool IsPatternHost(string? host) => !string.IsNullOrEmpty(host) && pattern.IsMatch(host);

    public RegistryKey Match(string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return defaultRegistry;
        }

        var match = pattern.Match(host);
        if (!match.Success || !AccountId.TryParse(match.Groups["account"].Value, out var account))
        {
            return defaultRegistry;
        }

        return new RegistryKey(account, match.Groups["region"].Value.ToLowerInvariant());
    }
}

/// <summary><c>open</c> mode: the registry from the host name, the caller its account's root.</summary>
internal sealed class OpenRequestIdentity(RegistryHostMatcher hosts) : IRequestIdentityResolver
{
    public ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var registry = hosts.Match(context.Request.Host.Host);
        return ValueTask.FromResult(new RequestIdentity(registry, Core.Security.Caller.Root(registry.Account)));
    }
}
