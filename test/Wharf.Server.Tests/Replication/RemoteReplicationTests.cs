using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// Replication to a remote region end to end: a skopeo push to Wharf, the replication configuration put with
/// the AWS CLI, the copy made by the engine's worker through the region's target, the status read with
/// <c>describe-image-replication-status</c>. The destination is CNCF Distribution (a plain OCI registry).
/// </summary>
public sealed class RemoteReplicationTests
{
    private const string Region = "eu-mirror-1";
    private const string Account = "123456789012";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_push_arrives_byte_identical_in_Distribution_and_the_status_is_COMPLETE()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var settings = Settings(registry);
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();
        await ConfigureAsync(server.BaseAddress);
        var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout"), "v1", [300_000, 5000], 1200, Ct);

        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/team/app:v1")).EnsureSuccess();
        await WaitStatusAsync(server.BaseAddress, image.Manifest.Digest, s => s.Status == "COMPLETE");

        var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/mirror/team/app:v1")).EnsureSuccess().StandardOutput;
        Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), Ct), raw.TrimEnd('\n'));
        Assert.Equal(3, registry.BlobUploads("mirror/team/app"));
    }

    [Fact]
    public async Task A_destination_that_is_down_keeps_the_status_IN_PROGRESS_with_DESTINATION_UNREACHABLE_until_it_is_up()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        var settings = Settings(registry);
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();
        await ConfigureAsync(server.BaseAddress);
        var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout"), "v1", [20_000], 1210, Ct);

        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/team/app:v1")).EnsureSuccess();
        var down = await WaitStatusAsync(server.BaseAddress, image.Manifest.Digest, s => s.FailureCode is not null);
        Assert.Equal("IN_PROGRESS", down.Status);
        Assert.StartsWith("DESTINATION_UNREACHABLE: ", down.FailureCode, StringComparison.Ordinal);
        Assert.Contains(registry.HostAndPort, down.FailureCode, StringComparison.Ordinal);

        await registry.StartAsync();
        var up = await WaitStatusAsync(server.BaseAddress, image.Manifest.Digest, s => s.Status == "COMPLETE");
        Assert.Null(up.FailureCode);
        var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/mirror/team/app:v1")).EnsureSuccess().StandardOutput;
        Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), Ct), raw.TrimEnd('\n'));
    }

    [Fact]
    public async Task A_source_killed_mid_copy_finishes_the_copy_after_restart_without_a_duplicate()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-repl-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        try
        {
            var settings = Settings(registry);
            var config = Path.Combine(dataDirectory, "..", Path.GetFileName(dataDirectory) + ".json");
            await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(settings), Ct);
            const long large = 400L << 20;
            var image = await OciLayout.WriteImageAsync(dataDirectory + "-layout", "v1", [large], 1220, Ct);
            var layer = image.Layers[0].Digest;

            await using (var first = await WharfProcess.StartAsync(dataDirectory, null, "--config", config))
            {
                (await RemoteRegions.SetCredentialsAsync(["--data-dir", dataDirectory], settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();
                await ConfigureAsync(first.BaseAddress);
                (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://127.0.0.1:{first.Port}/team/app:v1")).EnsureSuccess();

                // Killed while the large layer is on its way: part of it is staged at the destination.
                var uploads = Path.Combine(registry.Root, "data", "docker", "registry", "v2", "repositories", "mirror", "team", "app", "_uploads");
                await WaitAsync(() => Task.FromResult(Directory.Exists(uploads) && Directory.EnumerateFiles(uploads, "data", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0)), TimeSpan.FromMinutes(3));
                first.Kill();
            }

            Assert.Equal(0, CompletedUploads(registry, layer));
            await using var second = await WharfProcess.StartAsync(dataDirectory, null, "--config", config);
            await WaitStatusAsync(second.BaseAddress, image.Manifest.Digest, s => s.Status == "COMPLETE", TimeSpan.FromMinutes(5));

            // One copy of the layer was completed, and the tag names the one manifest.
            Assert.Equal(1, CompletedUploads(registry, layer));
            var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/mirror/team/app:v1")).EnsureSuccess().StandardOutput;
            Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), Ct), raw.TrimEnd('\n'));
            var tags = (await ContainerTools.Instance.SkopeoAsync("list-tags", "--tls-verify=false", "--creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/mirror/team/app")).EnsureSuccess().StandardOutput;
            using var listed = JsonDocument.Parse(tags);
            Assert.Equal(["v1"], listed.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
            Directory.Delete(dataDirectory + "-layout", recursive: true);
        }
    }

    private static Dictionary<string, string?> Settings(DistributionRegistry registry)
    {
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci", prefix: "mirror");
        settings["Replication:Interval"] = "00:00:00.200";
        settings["Replication:RetryBaseDelay"] = "00:00:00.500";
        settings["Replication:MaxRetryDelay"] = "00:00:01";
        settings["Replication:ClaimTimeout"] = "00:00:10";
        return settings;
    }

    private static int CompletedUploads(DistributionRegistry registry, string digest) =>
        registry.Log.Split('\n').Count(l => l.Contains("\"PUT /v2/mirror/team/app/blobs/uploads/", StringComparison.Ordinal)
            && l.Contains("digest=" + Uri.EscapeDataString(digest), StringComparison.Ordinal) && l.Contains("\" 201 ", StringComparison.Ordinal));

    /// <summary>The rule every test uses, put with the AWS CLI: every repository to the remote region.</summary>
    private static async Task ConfigureAsync(Uri endpoint) =>
        (await AwsClients.CliAsync(endpoint, "us-east-1", "ecr", "put-replication-configuration", "--replication-configuration",
            $$"""{"rules":[{"destinations":[{"region":"{{Region}}","registryId":"{{Account}}"}]}]}""")).EnsureSuccess();

    internal sealed record ReplicationState(string Status, string? FailureCode);

    /// <summary>Polls <c>describe-image-replication-status</c> until the one destination's status satisfies <paramref name="done"/>.</summary>
    private static async Task<ReplicationState> WaitStatusAsync(Uri endpoint, string digest, Func<ReplicationState, bool> done, TimeSpan? timeout = null)
    {
        ReplicationState? last = null;
        await WaitAsync(async () =>
        {
            var result = await AwsClients.CliAsync(endpoint, "us-east-1", "ecr", "describe-image-replication-status", "--repository-name", "team/app", "--image-id", "imageDigest=" + digest);
            if (result.ExitCode != 0)
            {
                return false;
            }

            using var json = JsonDocument.Parse(result.StandardOutput);
            var statuses = json.RootElement.GetProperty("replicationStatuses");
            if (statuses.GetArrayLength() == 0)
            {
                return false;
            }

            var status = Assert.Single(statuses.EnumerateArray());
            Assert.Equal(Region, status.GetProperty("region").GetString());
            last = new ReplicationState(status.GetProperty("status").GetString()!, status.TryGetProperty("failureCode", out var code) ? code.GetString() : null);
            return done(last);
        }, timeout ?? TimeSpan.FromSeconds(90));
        return last!;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for replication");
            await Task.Delay(20, Ct);
        }
    }
}
