using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Wharf.Server.Hosting;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// The local CA of <c>--tls self-signed</c> on a fake clock: made once, reused, its server certificate
/// issued again when the names change or its end nears (also by a running server), the CA itself only
/// when it would end before a new server certificate.
/// </summary>
public sealed class SelfSignedCertificatesTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-self-signed-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void The_CA_is_made_once_and_the_server_certificate_is_issued_again_for_new_names_or_near_its_end()
    {
        var ca = new SelfSignedCertificates(directory);
        string[] names = ["127.0.0.1", "::1", "localhost", "registry.lan"];

        var first = ca.Ensure(names, Start);
        Assert.True(first.CaCreated);
        Assert.True(first.ServerIssued);
        var caPem = File.ReadAllText(ca.CaCertificate);
        using (var server = X509Certificate2.CreateFromPemFile(ca.Certificate, ca.Key))
        {
            var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            Assert.Equal(["localhost", "registry.lan"], san.EnumerateDnsNames().Order());
            Assert.Equal(["127.0.0.1", "::1"], san.EnumerateIPAddresses().Select(ip => ip.ToString()).Order());
            Assert.Contains(server.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
            Assert.Equal(Start.AddDays(365).UtcDateTime, server.NotAfter.ToUniversalTime());
            Assert.NotNull(server.GetECDsaPrivateKey());
        }

        var again = ca.Ensure(names, Start.AddDays(1));
        Assert.False(again.CaCreated || again.ServerIssued);

        var renamed = ca.Ensure([.. names, "10.0.0.5"], Start.AddDays(2));
        Assert.Equal((false, true), (renamed.CaCreated, renamed.ServerIssued));
        Assert.Equal(caPem, File.ReadAllText(ca.CaCertificate));

        var late = ca.Ensure([.. names, "10.0.0.5"], Start.AddDays(2 + 340));
        Assert.Equal((false, true), (late.CaCreated, late.ServerIssued));
        Assert.Equal(caPem, File.ReadAllText(ca.CaCertificate));

        // With less than a server certificate's life left, the CA is made again (clients must trust the new one).
        var old = ca.Ensure(names, Start.AddDays(3650 - 300));
        Assert.True(old.CaCreated);
        Assert.NotEqual(caPem, File.ReadAllText(ca.CaCertificate));
        Assert.Equal(File.ReadAllText(ca.CaCertificate), File.ReadAllText(Path.Combine(ca.CertDirectory, "ca.crt")));
    }

    [Fact]
    public void A_damaged_server_certificate_is_issued_again_by_the_same_CA()
    {
        var ca = new SelfSignedCertificates(directory);
        ca.Ensure(["localhost"], Start);
        var caPem = File.ReadAllText(ca.CaCertificate);
        File.WriteAllText(ca.Certificate, "-----BEGIN CERTIFICATE-----\ntruncated");
        var repaired = ca.Ensure(["localhost"], Start);
        Assert.Equal((false, true), (repaired.CaCreated, repaired.ServerIssued));
        Assert.Equal(caPem, File.ReadAllText(ca.CaCertificate));
        using var server = X509Certificate2.CreateFromPemFile(ca.Certificate, ca.Key);
        Assert.Equal("localhost", server.GetNameInfo(X509NameType.DnsName, forIssuer: false));
    }

    [Fact]
    public void A_running_server_issues_and_serves_a_new_certificate_before_the_old_one_ends()
    {
        var time = new FakeTimeProvider(Start);
        var ca = new SelfSignedCertificates(directory);
        string[] names = ["localhost"];
        ca.Ensure(names, time.GetUtcNow());
        using var certificate = new ServerCertificate(ca.Certificate, ca.Key, NullLogger.Instance, time, ca, now => ca.Ensure(names, now).ServerIssued, pollInterval: TimeSpan.FromDays(1));
        var before = certificate.Certificate.Thumbprint;

        time.Advance(TimeSpan.FromDays(300)); // 65 days left: nothing to do yet
        Assert.Equal(before, certificate.Certificate.Thumbprint);

        time.Advance(TimeSpan.FromDays(40)); // 25 days left: the next check issues and serves a new one
        Assert.NotEqual(before, certificate.Certificate.Thumbprint);
        Assert.True(certificate.Certificate.NotAfter.ToUniversalTime() > Start.AddDays(365 + 300).UtcDateTime);
        using var onDisk = X509Certificate2.CreateFromPemFile(ca.Certificate, ca.Key);
        Assert.Equal(onDisk.Thumbprint, certificate.Certificate.Thumbprint);
    }
}
