using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wharf.Server.Hosting;

/// <summary>A certificate or key file that cannot be served; the message is one sentence that says what to fix.</summary>
internal sealed class TlsCertificateException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A certificate and its key as loaded together from their PEM files: the leaf with its private key, the
/// intermediates that follow it in the certificate file, and the context SslStream serves them from.
/// One object, swapped whole on a reload, so that a handshake never meets a certificate with another's key.
/// </summary>
internal sealed class LoadedCertificate(X509Certificate2 leaf, SslStreamCertificateContext context, byte[] contentHash)
{
    public X509Certificate2 Leaf { get; } = leaf;

    public SslStreamCertificateContext Context { get; } = context;

    /// <summary>SHA-256 over both files' bytes: a reload that finds the same bytes changes nothing.</summary>
    public byte[] ContentHash { get; } = contentHash;
}

/// <summary>Reads a PEM certificate (with its chain) and private key into a <see cref="LoadedCertificate"/>.</summary>
internal static class TlsCertificateFiles
{
    /// <summary>A certificate chain or key is a few KiB; anything this large is not one, and is not read into memory.</summary>
    public const int MaxFileBytes = 1 << 20;

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>Loads the pair; throws <see cref="TlsCertificateException"/> with what to fix.</summary>
    public static LoadedCertificate Load(string certificatePath, string keyPath)
    {
        var certificateText = Read(certificatePath, "Tls:Certificate", "--tls-cert", "the PEM file of the server certificate");
        var keyText = Read(keyPath, "Tls:Key", "--tls-key", "the PEM file of the certificate's private key");

        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certificateText);
        }
        catch (CryptographicException e)
        {
            throw new TlsCertificateException($"Tls:Certificate '{certificatePath}' has a certificate that does not parse ({e.Message.TrimEnd('.')}); pass --tls-cert with a PEM file of the certificate, then its intermediates", e);
        }

        if (all.Count == 0)
        {
            throw new TlsCertificateException($"Tls:Certificate '{certificatePath}' holds no PEM certificate; pass --tls-cert with a file that starts with -----BEGIN CERTIFICATE-----");
        }

        if (keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new TlsCertificateException($"Tls:Key '{keyPath}' is encrypted; pass --tls-key with an unencrypted PEM key (e.g. openssl pkey -in key.pem -out plain.pem), readable by Wharf's user only (mode 0600)");
        }

        if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new TlsCertificateException($"Tls:Key '{keyPath}' holds no PEM private key; pass --tls-key with a file that starts with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)");
        }

        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPem(certificateText, keyText);
        }
        catch (Exception e) when ((e is ArgumentException or CryptographicException) && KeyParses(keyText))
        {
            throw new TlsCertificateException($"Tls:Key '{keyPath}' is not the private key of the certificate in Tls:Certificate '{certificatePath}'; pass the key that was made with that certificate", e);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new TlsCertificateException($"Tls:Key '{keyPath}' could not be read as the private key of the certificate in '{certificatePath}' (the key does not parse or is of another algorithm); pass --tls-key with the certificate's own key", e);
        }

        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage
                && usage.EnhancedKeyUsages.Count > 0
                && !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ServerAuthOid))
            {
                throw new TlsCertificateException($"the certificate in Tls:Certificate '{certificatePath}' is not for servers (its extended key usage lacks serverAuth); pass --tls-cert with a server certificate");
            }
        }

        if (OperatingSystem.IsWindows())
        {
            // Windows' SslStream cannot use a key that lives only in memory (CreateFromPem's); a PKCS#12
            // round trip gives it one it can.
            var exported = leaf.Export(X509ContentType.Pkcs12);
            leaf.Dispose();
            leaf = X509CertificateLoader.LoadPkcs12(exported, password: null);
        }

        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++)
        {
            intermediates.Add(all[i]);
        }

        all[0].Dispose();
        SslStreamCertificateContext context;
        try
        {
            context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        }
        catch (CryptographicException e)
        {
            throw new TlsCertificateException($"the certificate in Tls:Certificate '{certificatePath}' cannot be served ({e.Message.TrimEnd('.')}); pass --tls-cert with a server certificate and its intermediates", e);
        }

        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(certificateText + "\n" + keyText));
        return new LoadedCertificate(leaf, context, hash);
    }

    /// <summary>Whether the key file holds a key that parses on its own (so that a failed pairing is a mismatch, not a damaged file).</summary>
    private static bool KeyParses(string keyText)
    {
        using var rsa = RSA.Create();
        using var ecdsa = ECDsa.Create();
        foreach (var algorithm in new AsymmetricAlgorithm[] { rsa, ecdsa })
        {
            try
            {
                algorithm.ImportFromPem(keyText);
                return true;
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
            }
        }

        return false;
    }

    private static string Read(string path, string setting, string flag, string what)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (file.Length > MaxFileBytes)
            {
                throw new TlsCertificateException($"{setting} '{path}' is {file.Length} bytes, more than a PEM file of a certificate or key ({MaxFileBytes} at most); pass {flag} with {what}");
            }

            using var reader = new StreamReader(file);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TlsCertificateException($"{setting} '{path}' does not exist; pass {flag} with {what}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new TlsCertificateException($"{setting} '{path}' cannot be read ({e.Message.TrimEnd('.')}); pass {flag} with {what} that Wharf's user can read", e);
        }
    }
}
