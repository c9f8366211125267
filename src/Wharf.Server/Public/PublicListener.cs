using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Wharf.Core.Public;
using Wharf.Server.Hosting;

namespace Wharf.Server.Public;

/// <summary>
/// The public address (docs/public.md, "Pulling and pushing on the public address"): the connections of
/// the public listener (<c>Public:Port</c>), marked when Kestrel accepts them, and requests on the main
/// port whose host is <c>Public:Host</c>. The mark is the connection's, never the request's: a Host
/// header naming the public port on the main listener does not make a request public (nor private).
/// </summary>
internal sealed class PublicListener(PublicOptions options, IPAddress address)
{
    /// <summary>The connection item that marks a connection accepted by the public listener.</summary>
    private static readonly object Marker = new();

    private ListenOptions? listen;

    public bool Enabled => options.Enabled;

    /// <summary>Adds the public listener to Kestrel, beside the main one, on the same address; <paramref name="configure"/> adds TLS when it is on.</summary>
    public void Listen(KestrelServerOptions kestrel, Action<ListenOptions>? configure = null)
    {
        if (!options.Enabled)
        {
            return;
        }

        kestrel.Listen(address, options.Port, listenOptions =>
        {
            listenOptions.Use(next => connection =>
            {
                connection.Items[Marker] = Marker;
                return next(connection);
            });
            configure?.Invoke(listenOptions);
            listen = listenOptions;
        });
    }

    /// <summary>The public listener's bound end point (with port 0, the real port once Kestrel has bound it), or null when disabled.</summary>
    public IPEndPoint? EndPoint => listen?.IPEndPoint;

    /// <summary>Whether the request belongs to the public address: its connection came in on the public listener, or its host is <c>Public:Host</c>.</summary>
    public bool IsPublic(HttpContext context)
    {
        if (!options.Enabled)
        {
            return false;
        }

        if (context.Features.Get<IConnectionItemsFeature>()?.Items is { } items
            && items.TryGetValue(Marker, out var mark) && ReferenceEquals(mark, Marker))
        {
            return true;
        }

        return options.Host is { Length: > 0 } host
            && string.Equals(context.Request.Host.Host.TrimEnd('.'), host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// How clients write the public address: <c>Public:Host</c> when set; else the listener's
    /// <c>host:port</c>, with <c>localhost</c> for an any-address (0.0.0.0, ::) listener.
    /// </summary>
    public string Authority
    {
        get
        {
            if (options.Host is { Length: > 0 } host)
            {
                return host.ToLowerInvariant();
            }

            var port = EndPoint?.Port is { } bound and > 0 ? bound : options.Port;
            var ip = EndPoint?.Address ?? address;
            var name = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)
                ? "localhost"
                : ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
            return $"{name}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }
    }
}

/// <summary><see cref="IPublicAddress"/> from the public listener.</summary>
internal sealed class PublicAddress(PublicListener listener) : IPublicAddress
{
    public string Authority => listener.Authority;
}
