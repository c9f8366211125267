using System.Net;
using System.Text.Json;
using Wharf.Core.Images;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// One registry, two surfaces: what podman and skopeo do through /v2 the AWS CLI sees through the API,
/// and the reverse — on SQLite and on PostgreSQL.
/// </summary>
public sealed class CrossSurfaceTests
{
    private const string Region = "us-east-1";

    private readonly ContainerTools tools = ContainerTools.Instance;

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Podman_push_is_described_and_api_put_image_is_pulled(string backend)
    {
        await using var server = await StartAsync(backend);
        var repo = $"{server.HostAndPort}/cross/app";
        await TestImages.BusyboxArchiveAsync();
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{repo}:1")).EnsureSuccess();
        var raw = (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{repo}:1")).EnsureSuccess().StandardOutput.Trim();
        var digest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", $"docker://{repo}:1")).EnsureSuccess().StandardOutput.Trim();
        using var manifest = JsonDocument.Parse(raw);
        var expectedSize = manifest.RootElement.GetProperty("config").GetProperty("size").GetInt64()
            + manifest.RootElement.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("size").GetInt64());

        using var described = await CliJsonAsync(server, "ecr", "describe-images", "--repository-name", "cross/app");
        var detail = Assert.Single(described.RootElement.GetProperty("imageDetails").EnumerateArray());
        Assert.Equal(digest, detail.GetProperty("imageDigest").GetString());
        Assert.Equal(["1"], detail.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal(expectedSize, detail.GetProperty("imageSizeInBytes").GetInt64());
        Assert.Equal(manifest.RootElement.GetProperty("mediaType").GetString(), detail.GetProperty("imageManifestMediaType").GetString());
        Assert.Equal(manifest.RootElement.GetProperty("config").GetProperty("mediaType").GetString(), detail.GetProperty("artifactMediaType").GetString());

        // The same manifest put under a new tag through the API is pullable by that tag.
        var file = Path.Combine(server.DataDirectory, "manifest.json");
        await File.WriteAllTextAsync(file, raw, Oci.Ct);
        using var put = await CliJsonAsync(server, "ecr", "put-image", "--repository-name", "cross/app", "--image-tag", "from-api", "--image-manifest", "file://" + file);
        Assert.Equal(digest, put.RootElement.GetProperty("image").GetProperty("imageId").GetProperty("imageDigest").GetString());
        var viaV2 = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", $"docker://{repo}:from-api")).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(digest, viaV2);
        (await tools.PodmanAsync("pull", "--tls-verify=false", $"{repo}:from-api")).EnsureSuccess();

        // Deleting through the API removes it from /v2.
        using var client = server.CreateClient();
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "batch-delete-image", "--repository-name", "cross/app", "--image-ids", "imageTag=from-api")).EnsureSuccess();
        await Oci.AssertErrorAsync(await client.GetAsync("/v2/cross/app/manifests/from-api", Oci.Ct), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/cross/app/manifests/1", Oci.Ct)).StatusCode);
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "batch-delete-image", "--repository-name", "cross/app", "--image-ids", "imageDigest=" + digest)).EnsureSuccess();
        await Oci.AssertErrorAsync(await client.GetAsync($"/v2/cross/app/manifests/{digest}", Oci.Ct), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Layer_uploaded_through_the_api_mounts_in_v2_and_a_v2_blob_is_available_to_the_api()
    {
        await using var server = await StartAsync("sqlite");
        using var client = server.CreateClient();
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "create-repository", "--repository-name", "cross/source")).EnsureSuccess();

        // Config and layer through the layer-upload API, then the image through PutImage.
        var config = System.Text.Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var layer = Oci.RandomBytes(300_000);
        foreach (var blob in new[] { config, layer })
        {
            await UploadWithCliAsync(server, "cross/source", blob);
        }

        var manifestFile = Path.Combine(server.DataDirectory, "api-manifest.json");
        await File.WriteAllBytesAsync(manifestFile, Oci.Manifest(config, [layer]), Oci.Ct);
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "put-image", "--repository-name", "cross/source", "--image-tag", "api", "--image-manifest", "file://" + manifestFile)).EnsureSuccess();

        // /v2 mounts the API's layer into another repository (201), and serves it there.
        using var mount = await client.PostAsync($"/v2/cross/target/blobs/uploads/?mount={Oci.Sha256(layer)}&from=cross/source", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal(layer, await client.GetByteArrayAsync($"/v2/cross/target/blobs/{Oci.Sha256(layer)}", Oci.Ct));
        var pulled = await tools.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{server.HostAndPort}/cross/source:api", "oci:" + Path.Combine(server.DataDirectory, "out") + ":api");
        pulled.EnsureSuccess();

        // The reverse: a blob pushed through /v2 is AVAILABLE to the API with its size.
        var v2Blob = Oci.RandomBytes(4242);
        await Oci.PushBlobAsync(client, "cross/source", v2Blob);
        using var check = await CliJsonAsync(server, "ecr", "batch-check-layer-availability", "--repository-name", "cross/source", "--layer-digests", Oci.Sha256(v2Blob));
        var available = Assert.Single(check.RootElement.GetProperty("layers").EnumerateArray());
        Assert.Equal("AVAILABLE", available.GetProperty("layerAvailability").GetString());
        Assert.Equal(4242, available.GetProperty("layerSize").GetInt64());
    }

    [Fact]
    public async Task Pulls_set_last_recorded_pull_time_in_batches_not_per_pull()
    {
        await using var server = await StartAsync("sqlite", new() { ["Images:PullTimeFlushInterval"] = "01:00:00" });
        using var client = server.CreateClient();
        await Oci.PushImageAsync(client, "cross/pulled", "v1");
        var start = DateTimeOffset.UtcNow.AddSeconds(-5);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/cross/pulled/manifests/v1", Oci.Ct)).StatusCode);
        }

        // Noted in memory, not yet written: the pulls cost no database write.
        var recorder = server.GetService<PullRecorder>();
        Assert.Equal(1, recorder.PendingCount);
        using (var before = await CliJsonAsync(server, "ecr", "describe-images", "--repository-name", "cross/pulled"))
        {
            Assert.False(before.RootElement.GetProperty("imageDetails")[0].TryGetProperty("lastRecordedPullTime", out _));
        }

        Assert.Equal(1, await recorder.FlushAsync(Oci.Ct));
        using var after = await CliJsonAsync(server, "ecr", "describe-images", "--repository-name", "cross/pulled");
        var pulled = DateTimeOffset.FromUnixTimeMilliseconds((long)(after.RootElement.GetProperty("imageDetails")[0].GetProperty("lastRecordedPullTime").GetDouble() * 1000));
        Assert.InRange(pulled, start, DateTimeOffset.UtcNow.AddSeconds(5));

        // HEAD is not a pull; shutdown writes what is pending.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/cross/pulled/manifests/v1"), Oci.Ct)).StatusCode);
        Assert.Equal(0, recorder.PendingCount);
    }

    private static Task<WharfTestServer> StartAsync(string backend, Dictionary<string, string?>? settings = null) =>
        backend == "postgres" ? WharfTestServer.StartOnPostgresAsync(settings) : WharfTestServer.StartAsync(settings);

    private static async Task UploadWithCliAsync(WharfTestServer server, string repository, byte[] blob)
    {
        using var initiated = await CliJsonAsync(server, "ecr", "initiate-layer-upload", "--repository-name", repository);
        var uploadId = initiated.RootElement.GetProperty("uploadId").GetString()!;
        var file = Path.Combine(server.DataDirectory, "part-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(file, blob, Oci.Ct);
        (await AwsClients.CliAsync(server.BaseAddress, Region, "ecr", "upload-layer-part", "--repository-name", repository, "--upload-id", uploadId,
            "--part-first-byte", "0", "--part-last-byte", (blob.Length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--layer-part-blob", "fileb://" + file)).EnsureSuccess();
        using var completed = await CliJsonAsync(server, "ecr", "complete-layer-upload", "--repository-name", repository, "--upload-id", uploadId, "--layer-digests", Oci.Sha256(blob));
        Assert.Equal(Oci.Sha256(blob), completed.RootElement.GetProperty("layerDigest").GetString());
    }

    private static async Task<JsonDocument> CliJsonAsync(WharfTestServer server, params string[] args) =>
        JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, Region, args)).EnsureSuccess().StandardOutput);
}
