using Microsoft.Extensions.Options;
using Wharf.Core.Primitives;
using Wharf.Server.Hosting;

namespace Wharf.Server.Identity;

/// <summary>
/// The registry's host as clients reach it, so that a printed <c>repositoryUri</c> (the API's) or push
/// command (the console's) works as an image reference: the configured host pattern filled in, with the
/// port the caller used — except that the default registry, when the caller did not use a pattern host,
/// is named by the host the caller used (<c>127.0.0.1:5000</c>), which is where /v2 serves it.
/// </summary>
internal sealed class RegistryAddress(RegistryHostMatcher hosts, IOptions<WharfOptions> options)
{
    public string Host(HttpRequest request, RegistryKey registry)
    {
        var requestHost = request.Host;
        if (registry == hosts.DefaultRegistry && !hosts.IsPatternHost(requestHost.Host))
        {
            return requestHost.Value!;
        }

        var host = options.Value.Registry.HostPattern
            .Replace("{account}", registry.Account.Value, StringComparison.Ordinal)
            .Replace("{region}", registry.Region, StringComparison.Ordinal);
        return requestHost.Port is { } port ? $"{host}:{port}" : host;
    }
}
