using Wharf.Server.Hosting;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// The built <c>wharf serve</c> with TLS settings: <c>--tls self-signed</c> makes its CA once and says how
/// to trust it; IAM mode refuses plain HTTP off loopback unless told; bad certificate settings are one line.
/// </summary>
public sealed class TlsStartupTests : IDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-tls-startup-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string DataDirectory => Path.Combine(directory, "data");

    private static readonly Dictionary<string, string> IamMode = new() { ["WHARF__Auth"] = "Iam" };

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Self_signed_makes_a_local_CA_once_prints_how_to_trust_it_and_IAM_mode_then_listens_on_any_address()
    {
        string caPem, serverPem;
        var tls = Path.Combine(DataDirectory, "tls");
        await using (var server = await WharfProcess.StartAsync(DataDirectory, IamMode, "--address", "0.0.0.0", "--tls", "self-signed"))
        {
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
            var output = server.StandardOutput;
            Assert.Contains($"Wharf listening on https://0.0.0.0:{server.Port}", output, StringComparison.Ordinal);
            Assert.Contains("created now", output, StringComparison.Ordinal);
            Assert.Contains($"--cert-dir {Path.Combine(tls, "cert-dir")}", output, StringComparison.Ordinal);
            Assert.Contains($"/etc/docker/certs.d/localhost:{server.Port}/ca.crt", output, StringComparison.Ordinal);
            Assert.Contains($"--ca-bundle {Path.Combine(tls, "ca.pem")}", output, StringComparison.Ordinal);
            Assert.Contains($"AWS_CA_BUNDLE={Path.Combine(tls, "ca.pem")}", output, StringComparison.Ordinal);
            Assert.Contains($"--cacert {Path.Combine(tls, "ca.pem")}", output, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", output + server.StandardError, StringComparison.Ordinal);

            foreach (var key in new[] { "ca.key", "server.key" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, key)));
            }

            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(tls, "ca.pem"), Ct), await File.ReadAllTextAsync(Path.Combine(tls, "cert-dir", "ca.crt"), Ct));
            Assert.Equal(["ca.crt"], Directory.GetFiles(Path.Combine(tls, "cert-dir")).Select(Path.GetFileName));
            caPem = await File.ReadAllTextAsync(Path.Combine(tls, "ca.pem"), Ct);
            serverPem = await File.ReadAllTextAsync(Path.Combine(tls, "server.pem"), Ct);
        }

        await using (var again = await WharfProcess.StartAsync(DataDirectory, IamMode, "--address", "0.0.0.0", "--tls", "self-signed"))
        {
            // curl verifies the server against the CA alone, by name and by address; without the CA it refuses.
            foreach (var url in new[] { $"https://127.0.0.1:{again.Port}/v2/", $"https://localhost:{again.Port}/v2/" })
            {
                var trusted = (await ProcessRunner.RunAsync(Requires.Tool("curl"), ["-sS", "--cacert", Path.Combine(tls, "ca.pem"), "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--http2", url], TimeSpan.FromSeconds(30))).EnsureSuccess();
                Assert.Equal("401 2", trusted.StandardOutput.Trim());
            }

            var untrusted = await ProcessRunner.RunAsync(Requires.Tool("curl"), ["-sS", "-o", "/dev/null", $"https://127.0.0.1:{again.Port}/v2/"], TimeSpan.FromSeconds(30));
            Assert.Equal(60, untrusted.ExitCode); // curl's "peer certificate cannot be authenticated with known CA certificates"

            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("made on an earlier start", again.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Equal(caPem, await File.ReadAllTextAsync(Path.Combine(tls, "ca.pem"), Ct));
        Assert.Equal(serverPem, await File.ReadAllTextAsync(Path.Combine(tls, "server.pem"), Ct));
    }

    [Fact]
    public async Task Iam_mode_refuses_plain_http_off_loopback_unless_allowed()
    {
        var refused = await ServeAsync(IamMode, "--address", "0.0.0.0");
        Assert.Equal(2, refused.ExitCode);
        StartupTests.AssertRefused(refused, "in IAM mode Wharf will not listen on 0.0.0.0, which is not a loopback address, over plain HTTP: registry passwords, tokens and console sign-ins would cross the network in clear; pass --tls-cert and --tls-key (or --tls self-signed), or --allow-plain-http");

        await using var allowed = await WharfProcess.StartAsync(DataDirectory, IamMode, "--address", "0.0.0.0", "--allow-plain-http");
        Assert.Equal("http", allowed.BaseAddress.Scheme);
        Assert.Equal(0, await allowed.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Bad_certificate_settings_are_refused_at_start_with_one_line()
    {
        var ca = await TestCertificateAuthority.CreateAsync(Path.Combine(directory, "ca"), "bad");
        var (certificate, key) = await ca.IssueServerAsync("server");
        var (_, otherKey) = await ca.IssueServerAsync("other");
        var garbage = Path.Combine(directory, "garbage.pem");
        await File.WriteAllTextAsync(garbage, "this is not a certificate\n", Ct);

        // Through the command line: exit 2 and one line.
        var noKey = await ServeAsync(null, "--tls-cert", certificate);
        Assert.Equal(2, noKey.ExitCode);
        StartupTests.AssertRefused(noKey, "Tls:Certificate is set without Tls:Key; pass --tls-key");
        StartupTests.AssertRefused(await ServeAsync(null, "--tls-cert", garbage, "--tls-key", key), $"Tls:Certificate '{garbage}' holds no PEM certificate; pass --tls-cert with a file that starts with -----BEGIN CERTIFICATE-----");
        StartupTests.AssertRefused(await ServeAsync(null, "--tls", "on"), "--tls must be self-signed, not 'on'");

        // The same checks, in process.
        Assert.Equal($"Tls:Key '{otherKey}' is not the private key of the certificate in Tls:Certificate '{certificate}'; pass the key that was made with that certificate", await ProblemAsync(certificate, otherKey));
        Assert.Equal($"Tls:Key '{directory}/missing.key' does not exist; pass --tls-key with the PEM file of the certificate's private key", await ProblemAsync(certificate, Path.Combine(directory, "missing.key")));
        Assert.Equal($"Tls:Key '{certificate}' holds no PEM private key; pass --tls-key with a file that starts with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)", await ProblemAsync(certificate, certificate));
        var encrypted = Path.Combine(directory, "encrypted.key");
        await File.WriteAllTextAsync(encrypted, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n", Ct);
        Assert.StartsWith($"Tls:Key '{encrypted}' is encrypted", await ProblemAsync(certificate, encrypted), StringComparison.Ordinal);
        var huge = Path.Combine(directory, "huge.pem");
        await File.WriteAllBytesAsync(huge, new byte[TlsCertificateFiles.MaxFileBytes + 1], Ct);
        Assert.StartsWith($"Tls:Certificate '{huge}' is {TlsCertificateFiles.MaxFileBytes + 1} bytes", await ProblemAsync(huge, key), StringComparison.Ordinal);
        Assert.StartsWith("--tls self-signed and --tls-cert/--tls-key", await ProblemAsync(certificate, key, selfSigned: true), StringComparison.Ordinal);
        Assert.Null(await ProblemAsync(certificate, key));
    }

    private async Task<string?> ProblemAsync(string certificate, string key, bool selfSigned = false)
    {
        var options = new WharfOptions { DataDirectory = DataDirectory, Auth = AuthMode.Open, Tls = { Certificate = certificate, Key = key, SelfSigned = selfSigned } };
        return await StartupValidator.ValidateAsync(options, listening: true, Ct);
    }

    private Task<ProcessResult> ServeAsync(IDictionary<string, string>? environment, params string[] args)
    {
        var all = new List<string> { "serve", "--data-dir", DataDirectory, "--port", "0", "--public-port", "0" };
        all.AddRange(args);
        var withAuth = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        withAuth.TryAdd("WHARF__Auth", "Open");
        return WharfCommand.RunAsync(all, TimeSpan.FromSeconds(60), withAuth);
    }
}
