namespace Wharf.Server.Hosting;

/// <summary>HTTPS settings (<c>Tls:*</c>; flags <c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls self-signed</c>).</summary>
public sealed class TlsOptions
{
}
