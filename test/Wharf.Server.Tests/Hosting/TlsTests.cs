using System.Net;
using System.Security.Authentication;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wharf.Server.Hosting;
using Wharf.Server.Tests.Console;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// One IAM-mode server over HTTPS with an operator's certificate (leaf and intermediate in the file, the
/// root trusted by the clients only), shared by the client tests; the root's credentials.
/// </summary>
public sealed class TlsServerFixture : IAsyncLifetime
{
    public const string Region = "us-east-1";

    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-tls-" + Guid.NewGuid().ToString("N"));

    internal TestCertificateAuthority Ca { get; private set; } = null!;

    internal WharfTestServer Server { get; private set; } = null!;

    internal Dictionary<string, string> Root { get; private set; } = null!;

    internal string ServedThumbprint { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        Ca = await TestCertificateAuthority.CreateAsync(Path.Combine(directory, "ca"), "one");
        var (certificate, key) = await Ca.IssueServerAsync("server");
        ServedThumbprint = TestCertificateAuthority.Thumbprint(certificate);
        Server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam", ["Tls:Certificate"] = certificate, ["Tls:Key"] = key });
        Root = AwsClients.ReadCredentialsFile(Path.Combine(Server.DataDirectory, "root-credentials"));
    }

    /// <summary>The AWS CLI against the server, verifying its certificate with the test root (<c>--ca-bundle</c>).</summary>
    internal Task<ProcessResult> AwsAsync(params string[] args) =>
        AwsClients.CliAsync(Server.BaseAddress, Region, Root, [.. args, "--ca-bundle", Ca.RootPem]);

    internal HttpClient TrustingClient(Uri baseAddress) => new(TestCertificateAuthority.TrustingHandler(Ca.Root)) { BaseAddress = baseAddress };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }
}

/// <summary>
/// Issue 20, point 1: HTTPS with real clients and verification on — podman, skopeo and the AWS CLI trust
/// the CA and work; clients that do not trust it are refused; HTTP/2 by ALPN; the URLs Wharf hands out
/// say https; the console's cookie is Secure.
/// </summary>
public sealed class TlsTests(TlsServerFixture fixture) : IClassFixture<TlsServerFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private WharfTestServer Server => fixture.Server;

    [Fact]
    public async Task Podman_skopeo_and_the_aws_cli_push_and_pull_over_https_with_verification_on()
    {
        Assert.Equal("https", Server.BaseAddress.Scheme);
        var created = (await fixture.AwsAsync("ecr", "create-repository", "--repository-name", "tls/busybox")).EnsureSuccess();
        using (var json = JsonDocument.Parse(created.StandardOutput))
        {
            Assert.Equal($"{Server.HostAndPort}/tls/busybox", json.RootElement.GetProperty("repository").GetProperty("repositoryUri").GetString());
        }

        using (var token = JsonDocument.Parse((await fixture.AwsAsync("ecr", "get-authorization-token")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal($"https://{Server.HostAndPort}", token.RootElement.GetProperty("authorizationData")[0].GetProperty("proxyEndpoint").GetString());
        }

        var password = (await fixture.AwsAsync("ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var tools = ContainerTools.Instance;
        var archive = await TestImages.BusyboxArchiveAsync();
        var authFile = Path.Combine(Server.DataDirectory, "auth.json");
        var certDir = fixture.Ca.CertDirectory;

        (await tools.PodmanAsync("login", "--authfile", authFile, "--cert-dir", certDir, "--tls-verify=true", "-u", "AWS", "-p", password, Server.HostAndPort)).EnsureSuccess();
        (await tools.PodmanAsync("push", "--authfile", authFile, "--cert-dir", certDir, "--tls-verify=true", TestImages.BusyboxLocalName, $"docker://{Server.HostAndPort}/tls/busybox:podman")).EnsureSuccess();
        (await tools.PodmanAsync("pull", "--authfile", authFile, "--cert-dir", certDir, "--tls-verify=true", $"{Server.HostAndPort}/tls/busybox:podman")).EnsureSuccess();

        (await tools.SkopeoAsync("copy", "--dest-cert-dir", certDir, "--dest-tls-verify=true", "--dest-creds", "AWS:" + password, "oci-archive:" + archive, $"docker://{Server.HostAndPort}/tls/busybox:skopeo")).EnsureSuccess();
        var outDir = Path.Combine(Server.DataDirectory, "pulled");
        (await tools.SkopeoAsync("copy", "--src-cert-dir", certDir, "--src-tls-verify=true", "--src-creds", "AWS:" + password, $"docker://{Server.HostAndPort}/tls/busybox:skopeo", $"oci:{outDir}:v1")).EnsureSuccess();
        Assert.True(File.Exists(Path.Combine(outDir, "index.json")));

        using var images = JsonDocument.Parse((await fixture.AwsAsync("ecr", "describe-images", "--repository-name", "tls/busybox")).EnsureSuccess().StandardOutput);
        var tags = images.RootElement.GetProperty("imageDetails").EnumerateArray().SelectMany(d => d.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString())).Order().ToList();
        Assert.Equal(["podman", "skopeo"], tags);
    }

    [Fact]
    public async Task Clients_that_do_not_trust_the_CA_are_refused()
    {
        var tools = ContainerTools.Instance;
        var skopeo = await tools.SkopeoAsync("inspect", "--tls-verify=true", $"docker://{Server.HostAndPort}/tls/none:1");
        Assert.NotEqual(0, skopeo.ExitCode);
        Assert.Contains("certificate signed by unknown authority", skopeo.StandardError, StringComparison.Ordinal);

        var podman = await tools.PodmanAsync("pull", "--tls-verify=true", $"{Server.HostAndPort}/tls/none:1");
        Assert.NotEqual(0, podman.ExitCode);
        Assert.Contains("certificate signed by unknown authority", podman.StandardError, StringComparison.Ordinal);

        var aws = await AwsClients.CliAsync(Server.BaseAddress, TlsServerFixture.Region, fixture.Root, "ecr", "describe-repositories");
        Assert.NotEqual(0, aws.ExitCode);
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", aws.StandardError, StringComparison.Ordinal);

        using var client = new HttpClient { BaseAddress = Server.BaseAddress };
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/v2/", Ct));
        Assert.IsType<AuthenticationException>(refused.InnerException);

        // The same clients with the CA get through the handshake (to the registry's own 401).
        using var trusting = fixture.TrustingClient(Server.BaseAddress);
        Assert.Equal(HttpStatusCode.Unauthorized, (await trusting.GetAsync("/v2/", Ct)).StatusCode);
    }

    [Fact]
    public async Task Http2_is_negotiated_by_ALPN_on_both_listeners_and_HTTP_1_1_still_works()
    {
        foreach (var address in new[] { Server.BaseAddress, Server.PublicBaseAddress })
        {
            Assert.Equal("https", address.Scheme);
            using var client = fixture.TrustingClient(address);
            using var h2 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v2/") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, Ct);
            Assert.Equal(HttpVersion.Version20, h2.Version);
            Assert.Equal(HttpStatusCode.Unauthorized, h2.StatusCode);

            using var h1 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v2/") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, Ct);
            Assert.Equal(HttpVersion.Version11, h1.Version);
            Assert.Equal(HttpStatusCode.Unauthorized, h1.StatusCode);
        }

        // The public address's challenge names its token realm over https.
        using var publicClient = fixture.TrustingClient(Server.PublicBaseAddress);
        using var challenge = await publicClient.GetAsync("/v2/", Ct);
        Assert.StartsWith($"Bearer realm=\"https://{Server.PublicHostAndPort}/token/\"", challenge.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        // The certificate served is the file's, with its chain verified to the root alone.
        Assert.Equal(fixture.ServedThumbprint, await TestCertificateAuthority.ServedThumbprintAsync(Server.BaseAddress, Ct, fixture.Ca.Root));
    }

    [Fact]
    public async Task The_console_session_cookie_is_Secure_over_TLS()
    {
        await SignInTests.UserWithPasswordAsync(Server, "tls-alice");
        using var http = new ConsoleHttp(Server, TestCertificateAuthority.TrustingHandler(fixture.Ca.Root));
        using var signedIn = await http.SignInAsync(SignInTests.Account, "tls-alice", SignInTests.Password);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        var setCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("wharf-console=", StringComparison.Ordinal));
        Assert.Contains("; secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.True(await http.SignedInAsync());
    }
}

/// <summary>A certificate rotated on disk is served to new connections without a restart; a pair that does not load never is.</summary>
public sealed class TlsRotationTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rotated_certificate_is_picked_up_live_and_a_half_written_pair_never_replaces_a_good_one()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-tls-rotation-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = await TestCertificateAuthority.CreateAsync(Path.Combine(directory, "ca1"), "one");
            var second = await TestCertificateAuthority.CreateAsync(Path.Combine(directory, "ca2"), "two");
            var (cert1, key1) = await first.IssueServerAsync("server");
            var (cert2, key2) = await second.IssueServerAsync("server");
            var live = Path.Combine(directory, "live");
            Directory.CreateDirectory(live);
            var certificate = Path.Combine(live, "server.pem");
            var key = Path.Combine(live, "server.key");
            File.Copy(cert1, certificate);
            File.Copy(key1, key);

            var logs = new CapturedLogs();
            await using var server = await WharfTestServer.StartAsync(
                new Dictionary<string, string?> { ["Tls:Certificate"] = certificate, ["Tls:Key"] = key },
                services: s => s.AddSingleton<ILoggerProvider>(logs));
            X509Roots roots = new(first, second);
            var old = TestCertificateAuthority.Thumbprint(cert1);
            var rotated = TestCertificateAuthority.Thumbprint(cert2);
            Assert.Equal(old, await TestCertificateAuthority.ServedThumbprintAsync(server.BaseAddress, Ct, roots.All));

            // A connection opened before the rotation, kept alive across it.
            using var kept = new HttpClient(TestCertificateAuthority.TrustingHandler(roots.All)) { BaseAddress = server.BaseAddress };
            Assert.Equal(HttpStatusCode.OK, (await kept.GetAsync("/v2/", Ct)).StatusCode);

            // Half a rotation: the new certificate beside the old key. Logged, and the old pair is still served.
            var warnings = logs.Entries.Count(e => e.EventId == WharfEventId.TlsReloadFailed);
            await File.WriteAllTextAsync(certificate, await File.ReadAllTextAsync(cert2, Ct), Ct);
            await PollAsync(() => Task.FromResult(logs.Entries.Count(e => e.EventId == WharfEventId.TlsReloadFailed) > warnings), "a warning that the half-written pair does not load");
            Assert.Contains(logs.Entries, e => e.EventId == WharfEventId.TlsReloadFailed && e.Level == LogLevel.Warning && e.Message.Contains("is not the private key of the certificate", StringComparison.Ordinal) && e.Message.Contains(old, StringComparison.Ordinal));
            Assert.Equal(old, await TestCertificateAuthority.ServedThumbprintAsync(server.BaseAddress, Ct, roots.All));

            // The key follows: new connections get the new certificate, with no restart.
            await File.WriteAllTextAsync(key, await File.ReadAllTextAsync(key2, Ct), Ct);
            await PollAsync(async () => await TestCertificateAuthority.ServedThumbprintAsync(server.BaseAddress, Ct, roots.All) == rotated, "the rotated certificate on a new connection");
            Assert.Contains(logs.Entries, e => e.EventId == WharfEventId.TlsCertificateLoaded && e.Message.Contains(rotated, StringComparison.Ordinal) && e.Message.Contains("reloaded", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.OK, (await kept.GetAsync("/v2/", Ct)).StatusCode);

            // A client that trusts only the first CA now refuses the server.
            await Assert.ThrowsAsync<AuthenticationException>(() => TestCertificateAuthority.ServedThumbprintAsync(server.BaseAddress, Ct, first.Root));

            // A damaged file is refused too, and the rotated pair stays.
            warnings = logs.Entries.Count(e => e.EventId == WharfEventId.TlsReloadFailed);
            await File.WriteAllTextAsync(certificate, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n", Ct);
            await PollAsync(() => Task.FromResult(logs.Entries.Count(e => e.EventId == WharfEventId.TlsReloadFailed) > warnings), "a warning that the damaged file does not load");
            Assert.Equal(rotated, await TestCertificateAuthority.ServedThumbprintAsync(server.BaseAddress, Ct, roots.All));

            // No log line carries key material.
            var keyBody = (await File.ReadAllTextAsync(key2, Ct)).Split('\n')[1];
            Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(keyBody, StringComparison.Ordinal) || e.Message.Contains("PRIVATE KEY", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 20 s for {what}");
            await Task.Delay(100, Ct);
        }
    }

    private sealed class X509Roots(TestCertificateAuthority first, TestCertificateAuthority second)
    {
        public System.Security.Cryptography.X509Certificates.X509Certificate2[] All { get; } = [first.Root, second.Root];
    }
}
