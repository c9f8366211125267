using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Wharf.Server.Hosting;

/// <summary>HTTPS on Kestrel's listeners: certificates from PEM files (reloaded when they change) or a self-signed local CA.</summary>
internal static class TlsSetup
{
    /// <summary>Registers the <see cref="ServerCertificate"/> when TLS is on (it is made when Kestrel starts, so a bad file fails the start).</summary>
    public static IServiceCollection AddTls(this IServiceCollection services, WharfOptions options)
    {
        if (!options.Tls.Enabled)
        {
            return services;
        }

        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<WharfOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Wharf.Tls");
            if (!settings.Tls.SelfSigned)
            {
                return new ServerCertificate(settings.Tls.Certificate!, settings.Tls.Key!, logger, time);
            }

            var selfSigned = new SelfSignedCertificates(settings.DataDirectory);
            var names = SelfSignedCertificates.Names(settings);
            var outcome = selfSigned.Ensure(names, time.GetUtcNow());
            return new ServerCertificate(selfSigned.Certificate, selfSigned.Key, logger, time, selfSigned, now => selfSigned.Ensure(names, now).ServerIssued)
            {
                SelfSignedOutcome = outcome,
            };
        });
        return services;
    }

    /// <summary>
    /// Makes <paramref name="listen"/> speak HTTPS with <paramref name="certificate"/> (nothing when null):
    /// TLS 1.2 or 1.3, HTTP/1.1 and HTTP/2 chosen by ALPN. The certificate is read per handshake, so a
    /// reloaded one serves the next connection.
    /// </summary>
    public static void Configure(ListenOptions listen, ServerCertificate? certificate)
    {
        if (certificate is null)
        {
            return;
        }

        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            // Kestrel adds ALPN (h2, http/1.1) from listen.Protocols to what this returns.
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate.Context,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            }),
        });
    }

    /// <summary>The checks that read the files (<see cref="StartupValidator"/>): both exist, parse, and belong together.</summary>
    public static string? FileProblem(WharfOptions options)
    {
        if (!options.Tls.Enabled || options.Tls.SelfSigned)
        {
            return null;
        }

        try
        {
            TlsCertificateFiles.Load(options.Tls.Certificate!, options.Tls.Key!);
            return null;
        }
        catch (TlsCertificateException e)
        {
            return e.Message;
        }
    }

    /// <summary>The settings' problem (no I/O), for <see cref="WharfOptionsValidator"/>; null when fine.</summary>
    public static string? SettingsProblem(WharfOptions options, IPAddress address)
    {
        var tls = options.Tls;
        if (tls.SelfSigned && (!string.IsNullOrEmpty(tls.Certificate) || !string.IsNullOrEmpty(tls.Key)))
        {
            return "--tls self-signed and --tls-cert/--tls-key (Tls:SelfSigned and Tls:Certificate/Tls:Key) both choose the certificate; pass one of them";
        }

        if (!tls.SelfSigned && tls.Enabled && (string.IsNullOrEmpty(tls.Certificate) || string.IsNullOrEmpty(tls.Key)))
        {
            return string.IsNullOrEmpty(tls.Key)
                ? "Tls:Certificate is set without Tls:Key; pass --tls-key with the certificate's private key (PEM) as well as --tls-cert"
                : "Tls:Key is set without Tls:Certificate; pass --tls-cert with the certificate (PEM) as well as --tls-key";
        }

        foreach (var name in tls.Names)
        {
            if (!IPAddress.TryParse(name, out _) && Uri.CheckHostName(name) != UriHostNameType.Dns)
            {
                return $"Tls:Names has '{name}', which is neither a host name nor an IP address; list names such as registry.example.com or 10.0.0.5";
            }
        }

        if (options.Auth == AuthMode.Iam && !tls.Enabled && !IPAddress.IsLoopback(address) && !options.AllowPlainHttp)
        {
            return $"in IAM mode Wharf will not listen on {options.Address}, which is not a loopback address, over plain HTTP: registry passwords, tokens and console sign-ins would cross the network in clear; pass --tls-cert and --tls-key (or --tls self-signed), or --allow-plain-http behind a TLS proxy on a network you trust";
        }

        return null;
    }

    /// <summary>
    /// For <c>--tls self-signed</c>: where the CA is and how each client is told to trust it, written
    /// once at start on standard output. <paramref name="authorities"/> are the listeners' <c>host:port</c>.
    /// </summary>
    public static void WriteTrustInstructions(TextWriter output, ServerCertificate certificate, IReadOnlyList<string> authorities)
    {
        if (certificate.SelfSigned is not { } ca)
        {
            return;
        }

        var outcome = certificate.SelfSignedOutcome;
        var how = outcome?.CaCreated == true ? "created now" : "made on an earlier start";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            TLS with a self-signed certificate from Wharf's local CA ({how}, valid until {outcome?.CaNotAfter:yyyy-MM-dd}): {ca.CaCertificate}
            Clients must trust that CA:
              podman, skopeo, buildah:  --cert-dir {ca.CertDirectory}   (skopeo copy: --src-cert-dir / --dest-cert-dir)
              docker:                   {string.Join(" and ", authorities.Select(a => $"/etc/docker/certs.d/{a}/ca.crt"))} (copies of {ca.CaCertificate})
              the AWS CLI:              --ca-bundle {ca.CaCertificate}   (or AWS_CA_BUNDLE={ca.CaCertificate})
              curl:                     --cacert {ca.CaCertificate}
            The server certificate ({ca.Certificate}) is issued again by itself before it expires; the CA stays.
            """));
        output.Flush();
    }
}
