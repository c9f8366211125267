using System.Net;
using System.Net.Sockets;

namespace Wharf.Server.Public.Limits;

/// <summary>
/// The key an anonymous client is counted by: its IPv4 address, or the /64 network of its IPv6 address —
/// one IPv6 host is normally given a whole /64, and counting each of its 2^64 addresses apart would let
/// it start a fresh bucket and a fresh month's bytes with every request.
/// </summary>
internal static class SourceAddress
{
    public static string Of(HttpContext context) => Of(context.Connection.RemoteIpAddress);

    public static string Of(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IsLoopback(address))
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
