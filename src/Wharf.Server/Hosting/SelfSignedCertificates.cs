using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wharf.Server.Hosting;

/// <summary>
/// <c>--tls self-signed</c>: a local CA made once under <c>&lt;DataDirectory&gt;/tls/</c>, and a server
/// certificate it signs for the names this install answers to, issued again when it nears its end or
/// the names change. Clients trust the CA (<c>ca.pem</c>), so a new server certificate needs nothing of them.
/// Private keys are written readable by their owner only, from their creation on.
/// </summary>
internal sealed class SelfSignedCertificates(string dataDirectory)
{
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    public static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(365);

    /// <summary>A server certificate this close to its end is issued again (at start, or by the running server).</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    public string Directory { get; } = Path.GetFullPath(Path.Combine(dataDirectory, "tls"));

    /// <summary>The CA's certificate: what clients trust (the AWS CLI's <c>--ca-bundle</c>, curl's <c>--cacert</c>).</summary>
    public string CaCertificate => Path.Combine(Directory, "ca.pem");

    public string CaKey => Path.Combine(Directory, "ca.key");

    public string Certificate => Path.Combine(Directory, "server.pem");

    public string Key => Path.Combine(Directory, "server.key");

    /// <summary>A directory with the CA as <c>ca.crt</c> and nothing else, as podman's and skopeo's <c>--cert-dir</c> want it.</summary>
    public string CertDirectory => Path.Combine(Directory, "cert-dir");

    /// <summary>What <see cref="Ensure"/> did, for the start's message.</summary>
    public sealed record Outcome(bool CaCreated, bool ServerIssued, DateTimeOffset CaNotAfter);

    /// <summary>
    /// Makes the CA when it is missing or would end before a new server certificate does, and the server
    /// certificate when it is missing, not the CA's, ending within <see cref="RenewBefore"/>, or not for
    /// exactly <paramref name="names"/>.
    /// </summary>
    public Outcome Ensure(IReadOnlyList<string> names, DateTimeOffset now)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var caCreated = false;
        var ca = TryLoad(CaCertificate, CaKey);
        if (ca is null || !IsCa(ca) || ca.NotAfter.ToUniversalTime() < (now + ServerLifetime).UtcDateTime)
        {
            ca?.Dispose();
            ca = CreateCa(now);
            caCreated = true;
        }

        using (ca)
        {
            WriteCertDirectory(ca);
            var issued = false;
            using var server = TryLoad(Certificate, Key);
            if (caCreated || server is null || !IsCurrent(server, ca, names, now))
            {
                Issue(ca, names, now);
                issued = true;
            }

            return new Outcome(caCreated, issued, ca.NotAfter.ToUniversalTime());
        }
    }

    /// <summary>Whether the server certificate on disk needs issuing again (ends within <see cref="RenewBefore"/>).</summary>
    public static bool NeedsRenewal(X509Certificate2 server, DateTimeOffset now) =>
        server.NotAfter.ToUniversalTime() - now.UtcDateTime < RenewBefore;

    /// <summary>
    /// The names a self-signed certificate is for: localhost and the loopbacks; the listen address, or
    /// with an any-address the machine's own addresses; the machine's name; the public host; the
    /// default registry's host (<c>Registry:HostPattern</c> filled in); and <c>Tls:Names</c>.
    /// </summary>
    public static IReadOnlyList<string> Names(WharfOptions options)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        void Add(string? name)
        {
            if (!string.IsNullOrWhiteSpace(name))
            {
                var trimmed = name.Trim().TrimEnd('.').ToLowerInvariant();
                if (IPAddress.TryParse(trimmed.Trim('[', ']'), out var ip))
                {
                    names.Add(ip.ToString());
                }
                else if (Uri.CheckHostName(trimmed) == UriHostNameType.Dns)
                {
                    names.Add(trimmed);
                }
            }
        }

        Add("localhost");
        Add("127.0.0.1");
        Add("::1");
        var address = WharfOptionsValidator.ParseAddress(options.Address);
        if (address is not null && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            foreach (var own in OwnAddresses())
            {
                Add(own.ToString());
            }
        }
        else
        {
            Add(address?.ToString());
        }

        try
        {
            Add(Dns.GetHostName());
        }
        catch (SocketException)
        {
        }

        Add(options.Public.Host);
        Add(options.Registry.HostPattern
            .Replace("{account}", options.Registry.DefaultAccount, StringComparison.Ordinal)
            .Replace("{region}", options.Registry.DefaultRegion, StringComparison.Ordinal));
        foreach (var extra in options.Tls.Names)
        {
            Add(extra);
        }

        return [.. names];
    }

    private static IEnumerable<IPAddress> OwnAddresses()
    {
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            yield break;
        }

        foreach (var networkInterface in interfaces)
        {
            if (networkInterface.OperationalStatus != OperationalStatus.Up)
            {
                continue;
            }

            foreach (var unicast in networkInterface.GetIPProperties().UnicastAddresses)
            {
                var ip = unicast.Address;
                if (!IPAddress.IsLoopback(ip) && (ip.AddressFamily == AddressFamily.InterNetwork
                    || ip.AddressFamily == AddressFamily.InterNetworkV6 && !ip.IsIPv6LinkLocal && !ip.IsIPv6SiteLocal && !ip.IsIPv6Multicast))
                {
                    yield return ip;
                }
            }
        }
    }

    private static X509Certificate2? TryLoad(string certificate, string key)
    {
        if (!File.Exists(certificate) || !File.Exists(key))
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
        {
            return null; // damaged or half-written: made again
        }
    }

    private static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    private static bool IsCurrent(X509Certificate2 server, X509Certificate2 ca, IReadOnlyList<string> names, DateTimeOffset now)
    {
        if (NeedsRenewal(server, now) || server.NotBefore.ToUniversalTime() > now.UtcDateTime)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        if (!chain.Build(server))
        {
            return false;
        }

        return CertificateNames(server).SetEquals(names);
    }

    private static HashSet<string> CertificateNames(X509Certificate2 certificate)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == "2.5.29.17")
            {
                var san = new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
                names.UnionWith(san.EnumerateDnsNames());
                names.UnionWith(san.EnumerateIPAddresses().Select(ip => ip.ToString()));
            }
        }

        return names;
    }

    private X509Certificate2 CreateCa(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Wharf local CA ({SafeMachineName()}), O=Wharf", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var ca = request.CreateSelfSigned(now.AddMinutes(-5), now + CaLifetime);

        // The key first: a CA certificate on disk always has its key beside it.
        WriteAtomically(CaKey, key.ExportPkcs8PrivateKeyPem(), ownerOnly: true);
        WriteAtomically(CaCertificate, ca.ExportCertificatePem() + "\n", ownerOnly: false);
        return ca;
    }

    private void Issue(X509Certificate2 ca, IReadOnlyList<string> names, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={(names.Contains("localhost") ? "localhost" : names[0])}, O=Wharf", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build(critical: false));
        var notAfter = now + ServerLifetime;
        if (notAfter > ca.NotAfter.ToUniversalTime())
        {
            notAfter = ca.NotAfter.ToUniversalTime();
        }

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F; // a positive serial number
        using var caKey = ca.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the local CA has no private key");
        using var server = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), notAfter, serial);

        // The key first, then the certificate: a reader that sees the new certificate finds its key in
        // place (a reader between the two keeps the certificate it has, see ServerCertificate).
        WriteAtomically(Key, key.ExportPkcs8PrivateKeyPem(), ownerOnly: true);
        WriteAtomically(Certificate, server.ExportCertificatePem() + "\n", ownerOnly: false);
    }

    private void WriteCertDirectory(X509Certificate2 ca)
    {
        System.IO.Directory.CreateDirectory(CertDirectory);
        var target = Path.Combine(CertDirectory, "ca.crt");
        var pem = ca.ExportCertificatePem() + "\n";
        if (!File.Exists(target) || File.ReadAllText(target) != pem)
        {
            WriteAtomically(target, pem, ownerOnly: false);
        }
    }

    /// <summary>Writes a temporary file beside <paramref name="path"/> (mode 0600 from its creation when <paramref name="ownerOnly"/>), then renames it over.</summary>
    private static void WriteAtomically(string path, string content, bool ownerOnly)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = ownerOnly
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        File.Delete(temporary);
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static string SafeMachineName()
    {
        var name = Environment.MachineName;
        return new string([.. name.Where(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_')]);
    }
}
