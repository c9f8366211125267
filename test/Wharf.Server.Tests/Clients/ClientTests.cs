using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Clients;

/// <summary>
/// Real clients — skopeo, podman, buildah — against real Kestrel, TLS verification off for 127.0.0.1.
/// Each test pushes to its own repository, so they share one server.
/// </summary>
[Collection(nameof(ClientCollection))]
public sealed class ClientTests(ClientFixture fixture)
{
    private readonly ContainerTools tools = ContainerTools.Instance;

    private string Host => fixture.Host;

    [Fact]
    public async Task Skopeo_copies_an_image_in_and_out_with_identical_digests()
    {
        var image = await TestImages.MultiLayerAsync();
        var target = $"docker://{Host}/clients/multi:v1";

        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, target)).EnsureSuccess();

        var outDir = Path.Combine(fixture.WorkDirectory, "multi-out-" + Guid.NewGuid().ToString("N"));
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", target, $"oci:{outDir}:v1")).EnsureSuccess();

        var pulled = ReadLayoutManifestDigest(outDir);
        Assert.Equal(image.Manifest.Digest, pulled);
        foreach (var layer in image.Layers.Append(image.Config))
        {
            var path = Path.Combine(outDir, "blobs", "sha256", layer.Digest["sha256:".Length..]);
            Assert.True(File.Exists(path), $"pulled layout lacks {layer.Digest}");
            Assert.Equal(layer.Digest, await OciLayout.Sha256FileAsync(path, TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task Skopeo_round_trips_an_oci_archive_built_by_buildah()
    {
        var archive = await TestImages.BusyboxArchiveAsync();
        var target = $"docker://{Host}/clients/busybox-archive:1";
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", "oci-archive:" + archive, target)).EnsureSuccess();

        var outArchive = Path.Combine(fixture.WorkDirectory, "busybox-out-" + Guid.NewGuid().ToString("N") + ".tar");
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", target, "oci-archive:" + outArchive)).EnsureSuccess();

        var original = (await tools.SkopeoAsync("inspect", "--raw", "oci-archive:" + archive)).EnsureSuccess().StandardOutput;
        var roundTripped = (await tools.SkopeoAsync("inspect", "--raw", "oci-archive:" + outArchive)).EnsureSuccess().StandardOutput;
        Assert.Equal(original.Trim(), roundTripped.Trim());
    }

    [Fact]
    public async Task Skopeo_inspects_lists_tags_and_deletes()
    {
        var image = await TestImages.MultiLayerAsync();
        foreach (var tag in new[] { "a", "b", "c" })
        {
            (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{Host}/clients/tags:{tag}")).EnsureSuccess();
        }

        var inspect = (await tools.SkopeoAsync("inspect", "--tls-verify=false", $"docker://{Host}/clients/tags:b")).EnsureSuccess();
        using (var doc = JsonDocument.Parse(inspect.StandardOutput))
        {
            Assert.Equal(image.Manifest.Digest, doc.RootElement.GetProperty("Digest").GetString());
            Assert.Equal(image.Layers.Count, doc.RootElement.GetProperty("Layers").GetArrayLength());
        }

        Assert.Equal(["a", "b", "c"], await ListTagsAsync("clients/tags"));

        (await tools.SkopeoAsync("delete", "--tls-verify=false", $"docker://{Host}/clients/tags@{image.Manifest.Digest}")).EnsureSuccess();
        Assert.Empty(await ListTagsAsync("clients/tags"));
        var gone = await tools.SkopeoAsync("inspect", "--tls-verify=false", $"docker://{Host}/clients/tags:a");
        Assert.NotEqual(0, gone.ExitCode);
    }

    [Fact]
    public async Task Podman_pushes_and_pulls()
    {
        await TestImages.BusyboxArchiveAsync();
        var remote = $"{Host}/clients/podman-busybox:1";
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, "docker://" + remote)).EnsureSuccess();

        var localId = (await tools.PodmanAsync("image", "inspect", "--format", "{{.Id}}", TestImages.BusyboxLocalName)).EnsureSuccess().StandardOutput.Trim();
        (await tools.PodmanAsync("pull", "--tls-verify=false", remote)).EnsureSuccess();
        var pulledId = (await tools.PodmanAsync("image", "inspect", "--format", "{{.Id}}", remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(localId, pulledId);
    }

    [Fact]
    public async Task Podman_pushes_a_multi_arch_index_and_pulls_it_by_digest()
    {
        await TestImages.BusyboxArchiveAsync();
        var multi = await TestImages.MultiLayerAsync();
        (await tools.PodmanAsync("pull", multi.SkopeoReference)).EnsureSuccess();

        var list = "localhost/wharf-test/multiarch-" + Guid.NewGuid().ToString("N")[..8] + ":1";
        (await tools.PodmanAsync("manifest", "create", list)).EnsureSuccess();
        (await tools.PodmanAsync("manifest", "add", "--arch", "amd64", "--os", "linux", list, "containers-storage:" + TestImages.BusyboxLocalName)).EnsureSuccess();
        (await tools.PodmanAsync("manifest", "add", "--arch", "arm64", "--os", "linux", list, multi.SkopeoReference)).EnsureSuccess();
        var remote = $"{Host}/clients/multiarch:1";
        (await tools.PodmanAsync("manifest", "push", "--all", "--tls-verify=false", list, "docker://" + remote)).EnsureSuccess();

        var raw = (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "docker://" + remote)).EnsureSuccess().StandardOutput;
        using var index = JsonDocument.Parse(raw);
        var manifests = index.RootElement.GetProperty("manifests").EnumerateArray().ToList();
        Assert.Equal(2, manifests.Count);
        Assert.Equal(["amd64", "arm64"], manifests.Select(m => m.GetProperty("platform").GetProperty("architecture").GetString()!).Order().ToArray());

        var indexDigest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.StartsWith("sha256:", indexDigest, StringComparison.Ordinal);
        var arm = manifests.Single(m => m.GetProperty("platform").GetProperty("architecture").GetString() == "arm64").GetProperty("digest").GetString();
        Assert.Equal(multi.Manifest.Digest, arm);

        (await tools.PodmanAsync("pull", "--tls-verify=false", "--arch", "arm64", $"{Host}/clients/multiarch@{indexDigest}")).EnsureSuccess();
    }

    [Fact]
    public async Task Buildah_pushes()
    {
        await TestImages.BusyboxArchiveAsync();
        var remote = $"docker://{Host}/clients/buildah-busybox:1";
        (await tools.BuildahAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, remote)).EnsureSuccess();
        var digest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);
        Assert.Contains("1", await ListTagsAsync("clients/buildah-busybox"));
    }

    private async Task<string[]> ListTagsAsync(string repository)
    {
        var result = (await tools.SkopeoAsync("list-tags", "--tls-verify=false", $"docker://{Host}/{repository}")).EnsureSuccess();
        using var doc = JsonDocument.Parse(result.StandardOutput);
        return doc.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    internal static string ReadLayoutManifestDigest(string layoutDirectory)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(layoutDirectory, "index.json")));
        return index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
    }
}

[CollectionDefinition(nameof(ClientCollection))]
public sealed class ClientCollection : ICollectionFixture<ClientFixture>;

/// <summary>One server for the client tests, on a throwaway data directory.</summary>
public sealed class ClientFixture : IAsyncLifetime
{
    private WharfTestServer? server;

    public WharfTestServer Server => server ?? throw new InvalidOperationException("not started");

    /// <summary>
    /// The registry under test. <c>WHARF_TEST_REGISTRY=host:port</c> points the same tests at another
    /// registry (e.g. CNCF Distribution) to compare behaviour; by default it is Wharf.
    /// </summary>
    public string Host => Environment.GetEnvironmentVariable("WHARF_TEST_REGISTRY") ?? Server.HostAndPort;

    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "wharf-client-work-" + Guid.NewGuid().ToString("N"));

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(WorkDirectory);
        if (Environment.GetEnvironmentVariable("WHARF_TEST_REGISTRY") is null)
        {
            server = await WharfTestServer.StartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        Directory.Delete(WorkDirectory, recursive: true);
    }
}
