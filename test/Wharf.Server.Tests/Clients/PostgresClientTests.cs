using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Clients;

/// <summary>The real clients against Wharf on PostgreSQL metadata.</summary>
public sealed class PostgresClientTests
{
    [Fact]
    public async Task Skopeo_and_podman_round_trip_on_PostgreSQL()
    {
        await using var server = await WharfTestServer.StartOnPostgresAsync();
        var tools = ContainerTools.Instance;
        var image = await TestImages.MultiLayerAsync();
        var target = $"docker://{server.HostAndPort}/pg/multi:v1";
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, target)).EnsureSuccess();

        var outDir = Path.Combine(server.DataDirectory, "pulled");
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", target, $"oci:{outDir}:v1")).EnsureSuccess();
        Assert.Equal(image.Manifest.Digest, ClientTests.ReadLayoutManifestDigest(outDir));
        foreach (var layer in image.Layers)
        {
            Assert.Equal(layer.Digest, await OciLayout.Sha256FileAsync(Path.Combine(outDir, "blobs", "sha256", layer.Digest["sha256:".Length..])));
        }

        await TestImages.BusyboxArchiveAsync();
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{server.HostAndPort}/pg/busybox:1")).EnsureSuccess();
        (await tools.PodmanAsync("pull", "--tls-verify=false", $"{server.HostAndPort}/pg/busybox:1")).EnsureSuccess();
        var tags = (await tools.SkopeoAsync("list-tags", "--tls-verify=false", $"docker://{server.HostAndPort}/pg/busybox")).EnsureSuccess().StandardOutput;
        Assert.Contains("\"1\"", tags, StringComparison.Ordinal);
    }
}
