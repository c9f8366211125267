namespace Wharf.Server.Hosting;

/// <summary>HTTPS settings (<c>Tls:*</c>; flags <c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls self-signed</c>).</summary>
public sealed class TlsOptions
{
    /// <summary>
    /// The server certificate, a PEM file: the certificate first, then any intermediates, which are sent
    /// to clients with it. Read again whenever it changes on disk.
    /// </summary>
    public string? Certificate { get; set; }

    /// <summary>The certificate's private key, an unencrypted PEM file (PKCS#8, RSA or EC); keep it mode 0600.</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Serve a certificate of a local CA that Wharf creates once under <c>&lt;DataDirectory&gt;/tls/</c>
    /// (clients must be told to trust <c>ca.pem</c>; the start prints how).
    /// </summary>
    public bool SelfSigned { get; set; }

    /// <summary>Host names or IP addresses the self-signed certificate names besides those Wharf finds itself (localhost, the loopbacks, the address, the machine's name).</summary>
    public List<string> Names { get; set; } = [];

    /// <summary>Whether the listeners speak HTTPS.</summary>
    public bool Enabled => SelfSigned || !string.IsNullOrEmpty(Certificate) || !string.IsNullOrEmpty(Key);
}
