using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Wharf.Server.Telemetry;

/// <summary>
/// Who may scrape <c>/metrics</c> (<c>Telemetry:Metrics:AllowFrom</c>): addresses and CIDR blocks, or <c>any</c>.
/// IPv4 clients reaching a dual-stack socket (<c>::ffff:a.b.c.d</c>) are matched as IPv4.
/// </summary>
internal sealed class MetricsAllowList
{
    private readonly IPNetwork[] networks;
    private readonly bool any;

    private MetricsAllowList(IPNetwork[] networks, bool any)
    {
        this.networks = networks;
        this.any = any;
    }

    /// <summary>Parses the setting, or returns null with <paramref name="problem"/> naming the entry that is neither an address nor a CIDR block.</summary>
    public static MetricsAllowList? TryParse(string? setting, out string? problem)
    {
        problem = null;
        var entries = (setting ?? string.Empty).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var networks = new List<IPNetwork>();
        var any = false;
        foreach (var entry in entries)
        {
            if (string.Equals(entry, "any", StringComparison.OrdinalIgnoreCase))
            {
                any = true;
            }
            else if (IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                problem = entry;
                return null;
            }
        }

        return new MetricsAllowList([.. networks], any);
    }

    public bool Allows(IPAddress? remote)
    {
        if (any)
        {
            return true;
        }

        if (remote is null)
        {
            return false;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        foreach (var network in networks)
        {
            if (network.Contains(remote))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// The metrics port (<c>Telemetry:Metrics:Port</c>), when set: a listener beside the main one whose connections are
/// marked when Kestrel accepts them, so that only <c>/metrics</c> is served there and <c>/metrics</c> nowhere else.
/// </summary>
internal sealed class MetricsListener(int? port, IPAddress address)
{
    private static readonly object Marker = new();

    private ListenOptions? listen;

    /// <summary>Whether metrics have a port of their own.</summary>
    public bool HasOwnPort => port is not null;

    /// <summary>The bound end point (with port 0, the real port once Kestrel has bound it), or null without a port of its own.</summary>
    public IPEndPoint? EndPoint => listen?.IPEndPoint;

    public void Listen(KestrelServerOptions kestrel)
    {
        if (port is not { } p)
        {
            return;
        }

        kestrel.Listen(address, p, listenOptions =>
        {
            listenOptions.Use(next => connection =>
            {
                connection.Items[Marker] = Marker;
                return next(connection);
            });
            listen = listenOptions;
        });
    }

    /// <summary>Whether the request's connection came in on the metrics port.</summary>
    public bool IsMetricsConnection(HttpContext context) =>
        HasOwnPort
        && context.Features.Get<IConnectionItemsFeature>()?.Items is { } items
        && items.TryGetValue(Marker, out var mark) && ReferenceEquals(mark, Marker);
}
