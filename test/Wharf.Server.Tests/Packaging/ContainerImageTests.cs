using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Wharf.Testing;

namespace Wharf.Server.Tests.Packaging;

/// <summary>
/// Wharf's own container image (packaging/Containerfile, built by packaging/build-image with buildah) as
/// docs/operations.md describes it: its configuration, and a container of it run by podman with its default
/// command (IAM mode, HTTPS with a self-signed CA kept in the volume) — as a non-root user, healthy by its own
/// health check, taking a push from skopeo and a pull by podman that verify the certificate, keeping
/// everything in its one volume across a stop and a new container.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class ContainerImageTests(ContainerImageFixture image) : IClassFixture<ContainerImageFixture>
{
    private const string Region = "us-east-1";
    private const string Repository = "image-test/busybox";

    [Fact]
    public async Task Image_has_the_documented_user_volume_ports_health_check_and_labels()
    {
        image.EnsureAvailable();
        var inspect = (await image.Tools.BuildahAsync("inspect", "--type", "image", ContainerImageFixture.Image)).EnsureSuccess();
        using var document = JsonDocument.Parse(inspect.StandardOutput);
        var config = document.RootElement.GetProperty("OCIv1").GetProperty("config");

        Assert.Equal("10001:10001", config.GetProperty("User").GetString());
        Assert.Equal(["/var/lib/wharf"], config.GetProperty("Volumes").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["5000/tcp", "5001/tcp"], config.GetProperty("ExposedPorts").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["/opt/wharf/wharf"], config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["serve", "--tls", "self-signed"], config.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()));
        var environment = config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains("WHARF__DataDirectory=/var/lib/wharf", environment);
        Assert.Contains("WHARF__Address=0.0.0.0", environment);

        var labels = config.GetProperty("Labels");
        Assert.Equal("Wharf", labels.GetProperty("org.opencontainers.image.title").GetString());
        var head = (await ProcessRunner.RunAsync("git", ["-C", ContainerImageFixture.RepositoryRoot(), "rev-parse", "HEAD"])).EnsureSuccess().StandardOutput.Trim();
        Assert.StartsWith(head, labels.GetProperty("org.opencontainers.image.revision").GetString(), StringComparison.Ordinal);
        Assert.Matches(@"^\d+\.\d+\.\d+", labels.GetProperty("org.opencontainers.image.version").GetString());

        // The health check survives only in the docker format; an OCI-format build would drop it silently.
        var health = document.RootElement.GetProperty("Docker").GetProperty("config").GetProperty("Healthcheck");
        var test = health.GetProperty("Test").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["CMD", "/bin/busybox", "sh", "-c"], test.Take(4));
        Assert.Contains("openssl s_client -quiet -connect 127.0.0.1:$p", test[4], StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:$p/health/ready", test[4], StringComparison.Ordinal);

        // One layer from scratch: no base image from a registry, nothing but what Wharf needs.
        Assert.Single(document.RootElement.GetProperty("OCIv1").GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray());
        var size = long.Parse((await image.PodmanAsync("image", "inspect", "--format", "{{.Size}}", ContainerImageFixture.Image)).EnsureSuccess().StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(size, 50_000_000, 250_000_000);
    }

    [Fact]
    public async Task Container_runs_as_non_root_is_healthy_and_keeps_a_pushed_image_in_its_volume_across_a_new_container()
    {
        image.EnsureAvailable();
        var volume = await image.CreateVolumeAsync();
        var first = await image.RunAsync(volume);

        // The server process, seen from the host, runs as the image's user.
        var pid = (await image.PodmanAsync("inspect", "--format", "{{.State.Pid}}", first.Name)).EnsureSuccess().StandardOutput.Trim();
        var status = await File.ReadAllLinesAsync($"/proc/{pid}/status", TestContext.Current.CancellationToken);
        Assert.Equal("10001", status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.Equal("10001", status.Single(l => l.StartsWith("Gid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.Contains("wharf", await File.ReadAllTextAsync($"/proc/{pid}/comm", TestContext.Current.CancellationToken), StringComparison.Ordinal);

        // The image's own health check, run by podman inside the container.
        (await image.PodmanAsync("healthcheck", "run", first.Name)).EnsureSuccess();

        // IAM mode over HTTPS: the root key and the CA the first start wrote into the volume; every client
        // verifies the certificate against that CA.
        var credentialsFile = (await image.PodmanAsync("exec", first.Name, "/bin/busybox", "cat", "/var/lib/wharf/root-credentials")).EnsureSuccess().StandardOutput;
        var credentials = ParseCredentials(credentialsFile);
        var certDirectory = Directory.CreateTempSubdirectory("wharf-image-ca-").FullName;
        var ca = Path.Combine(certDirectory, "ca.crt");
        await File.WriteAllTextAsync(ca, (await image.PodmanAsync("exec", first.Name, "/bin/busybox", "cat", "/var/lib/wharf/tls/ca.pem")).EnsureSuccess().StandardOutput, TestContext.Current.CancellationToken);
        (await AwsClients.CliAsync(first.BaseAddress, Region, credentials, "ecr", "create-repository", "--repository-name", Repository, "--ca-bundle", ca)).EnsureSuccess();
        var password = (await AwsClients.CliAsync(first.BaseAddress, Region, credentials, "ecr", "get-login-password", "--ca-bundle", ca)).EnsureSuccess().StandardOutput.Trim();
        var creds = "AWS:" + password;
        var reference = $"{first.Registry}/{Repository}:1";
        var archive = await TestImages.BusyboxArchiveAsync();
        (await image.Tools.SkopeoAsync("copy", "--dest-cert-dir", certDirectory, "--dest-creds", creds, "oci-archive:" + archive, "docker://" + reference)).EnsureSuccess();
        (await image.PodmanAsync("pull", "--cert-dir", certDirectory, "--creds", creds, reference)).EnsureSuccess();
        var digest = await DigestAsync(reference, creds, certDirectory);

        // The public port is published too: the gallery answers there over HTTPS under the same CA.
        using (var caCertificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(ca, TestContext.Current.CancellationToken)))
        using (var handler = new HttpClientHandler())
        {
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(caCertificate);
                return chain.Build(certificate!);
            };
            using var client = new HttpClient(handler);
            using var gallery = await client.GetAsync(new Uri($"https://127.0.0.1:{first.PublicPort}/"), TestContext.Current.CancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.OK, gallery.StatusCode);
            Assert.Equal("text/html", gallery.Content.Headers.ContentType?.MediaType);
        }

        // A client that does not trust the CA is refused.
        var untrusted = await image.Tools.SkopeoAsync("inspect", "--creds", creds, "docker://" + reference);
        Assert.NotEqual(0, untrusted.ExitCode);
        Assert.Contains("certificate", untrusted.StandardError, StringComparison.Ordinal);

        // The data is in the volume, owned by the wharf user; none of it in the container's own layer.
        var mountpoint = (await image.PodmanAsync("volume", "inspect", "--format", "{{.Mountpoint}}", volume)).EnsureSuccess().StandardOutput.Trim();
        foreach (var entry in new[] { "wharf.db", "blobs", "root-credentials", "tls/ca.pem" })
        {
            var owner = (await ProcessRunner.RunAsync("stat", ["-c", "%u:%g", Path.Combine(mountpoint, entry)])).EnsureSuccess().StandardOutput.Trim();
            Assert.Equal("10001:10001", owner);
        }

        Assert.Equal(credentialsFile, await File.ReadAllTextAsync(Path.Combine(mountpoint, "root-credentials"), TestContext.Current.CancellationToken));
        var diff = (await image.PodmanAsync("diff", first.Name)).EnsureSuccess().StandardOutput;
        Assert.DoesNotContain("/var/lib/wharf", diff, StringComparison.Ordinal);

        // SIGTERM drains and exits 0 (podman would SIGKILL after 30 s and report 137).
        (await image.PodmanAsync("stop", "-t", "30", first.Name)).EnsureSuccess();
        Assert.Equal("0", (await image.PodmanAsync("inspect", "--format", "{{.State.ExitCode}}", first.Name)).EnsureSuccess().StandardOutput.Trim());
        (await image.PodmanAsync("rm", first.Name)).EnsureSuccess();

        // A new container on the same volume: the same account, key, signing keys (the old token still
        // works) and CA (the same certificate directory verifies it), and the image is still there.
        var second = await image.RunAsync(volume);
        var logs = await image.PodmanAsync("logs", second.Name);
        Assert.DoesNotContain("Created account", logs.StandardOutput + logs.StandardError, StringComparison.Ordinal);
        Assert.Equal(credentialsFile, (await image.PodmanAsync("exec", second.Name, "/bin/busybox", "cat", "/var/lib/wharf/root-credentials")).EnsureSuccess().StandardOutput);
        Assert.Equal(digest, await DigestAsync($"{second.Registry}/{Repository}:1", creds, certDirectory));
        (await image.PodmanAsync("healthcheck", "run", second.Name)).EnsureSuccess();
    }

    [Fact]
    public async Task Health_check_passes_over_plain_http_and_fails_within_its_bound_when_the_server_hangs()
    {
        image.EnsureAvailable();
        var volume = await image.CreateVolumeAsync();

        // Behind a TLS-terminating proxy: the command of your own, the image's settings kept.
        var container = await image.RunAsync(volume, "serve", "--allow-plain-http");
        (await image.PodmanAsync("healthcheck", "run", container.Name)).EnsureSuccess();

        // Freeze Wharf (SIGSTOP): the kernel still accepts connections for it, so the check's request hangs;
        // it must end unhealthy within its own bound instead of passing or waiting forever.
        var pid = (await image.PodmanAsync("inspect", "--format", "{{.State.Pid}}", container.Name)).EnsureSuccess().StandardOutput.Trim();
        (await ProcessRunner.RunAsync("kill", ["-STOP", pid])).EnsureSuccess();
        try
        {
            var started = DateTime.UtcNow;
            var check = await image.PodmanAsync("healthcheck", "run", container.Name);
            Assert.Equal(1, check.ExitCode);
            Assert.Contains("unhealthy", check.StandardOutput + check.StandardError, StringComparison.Ordinal);
            Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        }
        finally
        {
            (await ProcessRunner.RunAsync("kill", ["-CONT", pid])).EnsureSuccess();
        }
    }

    private async Task<string> DigestAsync(string reference, string creds, string certDirectory) =>
        (await image.Tools.SkopeoAsync("inspect", "--cert-dir", certDirectory, "--creds", creds, "--format", "{{.Digest}}", "docker://" + reference)).EnsureSuccess().StandardOutput.Trim();

    private static Dictionary<string, string> ParseCredentials(string file)
    {
        var lines = file.Split('\n').Select(l => l.Split(" = ", 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        return new() { ["AWS_ACCESS_KEY_ID"] = lines["aws_access_key_id"], ["AWS_SECRET_ACCESS_KEY"] = lines["aws_secret_access_key"] };
    }
}
