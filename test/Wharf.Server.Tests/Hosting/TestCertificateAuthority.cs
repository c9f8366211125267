using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// A CA made with openssl, as an operator's would be (not with Wharf's own code): a root and an
/// intermediate under it, which signs server certificates. A server's certificate file is its leaf and
/// then the intermediate, so clients that trust only the root verify it only if the server sends the chain.
/// </summary>
internal sealed class TestCertificateAuthority
{
    private TestCertificateAuthority(string directory, string name)
    {
        Directory = directory;
        Name = name;
    }

    public string Directory { get; }

    public string Name { get; }

    /// <summary>The root certificate (PEM): what clients are told to trust.</summary>
    public string RootPem => Path.Combine(Directory, "root.pem");

    /// <summary>A directory holding the root as <c>ca.crt</c>: podman's and skopeo's <c>--cert-dir</c>.</summary>
    public string CertDirectory => Path.Combine(Directory, "cert-dir");

    public X509Certificate2 Root => X509CertificateLoader.LoadCertificateFromFile(RootPem);

    public static async Task<TestCertificateAuthority> CreateAsync(string directory, string name)
    {
        System.IO.Directory.CreateDirectory(directory);
        var ca = new TestCertificateAuthority(directory, name);
        await ca.OpensslAsync("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "root.key", "-out", "root.pem", "-days", "3", "-subj", $"/CN=Test root {name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        await ca.OpensslAsync("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "intermediate.key", "-out", "intermediate.csr", "-subj", $"/CN=Test intermediate {name}");
        await File.WriteAllTextAsync(Path.Combine(directory, "intermediate.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        await ca.OpensslAsync("x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", Serial(),
            "-days", "3", "-out", "intermediate.pem", "-extfile", "intermediate.ext");
        System.IO.Directory.CreateDirectory(ca.CertDirectory);
        File.Copy(ca.RootPem, Path.Combine(ca.CertDirectory, "ca.crt"));
        return ca;
    }

    /// <summary>
    /// A server certificate (RSA 2048) for localhost, 127.0.0.1 and ::1 signed by the intermediate; returns
    /// the certificate file (leaf, then intermediate) and the key file, both under <see cref="Directory"/>.
    /// </summary>
    public async Task<(string Certificate, string Key)> IssueServerAsync(string fileName)
    {
        await OpensslAsync("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", fileName + ".key", "-out", fileName + ".csr", "-subj", "/CN=localhost");
        await File.WriteAllTextAsync(Path.Combine(Directory, fileName + ".ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        await OpensslAsync("x509", "-req", "-in", fileName + ".csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key", "-set_serial", Serial(),
            "-days", "2", "-out", fileName + ".leaf.pem", "-extfile", fileName + ".ext");
        var certificate = Path.Combine(Directory, fileName + ".pem");
        await File.WriteAllTextAsync(certificate, await File.ReadAllTextAsync(Path.Combine(Directory, fileName + ".leaf.pem")) + await File.ReadAllTextAsync(Path.Combine(Directory, "intermediate.pem")));
        return (certificate, Path.Combine(Directory, fileName + ".key"));
    }

    /// <summary>The SHA-1 thumbprint of the first certificate in a PEM file (the leaf).</summary>
    public static string Thumbprint(string certificatePem)
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePem));
        return certificate.Thumbprint;
    }

    /// <summary>A handler that verifies the server's chain up to <paramref name="roots"/> only (not the system's roots).</summary>
    public static SocketsHttpHandler TrustingHandler(params X509Certificate2[] roots)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        return new SocketsHttpHandler { AllowAutoRedirect = false, SslOptions = { CertificateChainPolicy = policy } };
    }

    /// <summary>
    /// The thumbprint of the certificate a new TLS connection to <paramref name="endpoint"/> is served,
    /// verified against <paramref name="roots"/> (a certificate that does not verify fails the handshake).
    /// </summary>
    public static async Task<string> ServedThumbprintAsync(Uri endpoint, CancellationToken cancellationToken, params X509Certificate2[] roots)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
        await using var tls = new SslStream(tcp.GetStream());
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = endpoint.Host, CertificateChainPolicy = policy }, cancellationToken);
        return tls.RemoteCertificate!.GetCertHashString();
    }

    private static string Serial() => "0x" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant().TrimStart('0').PadLeft(1, '1');

    private async Task OpensslAsync(params string[] args) =>
        (await ProcessRunner.RunAsync(Requires.Tool("openssl"), args, TimeSpan.FromMinutes(1), workingDirectory: Directory)).EnsureSuccess();
}
