using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Server.ControlPlane;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary><c>GetDownloadUrlForLayer</c>: a URL on Wharf that serves one layer without credentials, until it expires.</summary>
public sealed class LayerDownloadTests
{
    [Fact]
    public async Task Download_url_serves_the_layer_with_ranges_and_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "dl/app", "v1", layers: 1);
        using var parsed = System.Text.Json.JsonDocument.Parse(manifest);
        var layer = parsed.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;

        var (status, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"dl/app\",\"layerDigest\":\"{layer}\"}}");
        Assert.Equal(200, status);
        var url = new Uri(body.RootElement.GetProperty("downloadUrl").GetString()!);
        Assert.Equal(server.BaseAddress.Authority, url.Authority);

        // A fresh client with no credentials of any kind.
        using var anonymous = new HttpClient();
        var bytes = await anonymous.GetByteArrayAsync(url, Oci.Ct);
        Assert.Equal(layer, Oci.Sha256(bytes));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
        using var partial = await anonymous.SendAsync(ranged, Oci.Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[10..20], await partial.Content.ReadAsByteArrayAsync(Oci.Ct));

        // Another digest in the same token, or any altered byte, is refused.
        var path = url.AbsolutePath;
        var tampered = new Uri(url, path[..^2] + (path.EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA"));
        await Oci.AssertErrorAsync(await anonymous.GetAsync(tampered, Oci.Ct), HttpStatusCode.Forbidden, "DENIED");

        time.Advance(LayerDownloads.Lifetime + TimeSpan.FromSeconds(1));
        using var expired = await anonymous.GetAsync(url, Oci.Ct);
        var (code, error) = await Oci.ErrorAsync(expired);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Equal("DENIED", code);
        Assert.Contains("expired", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_url_of_a_plaintext_layer_goes_out_with_sendfile_whole_and_in_ranges()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Encryption:Enabled"] = "false" });
        using var client = server.CreateClient();
        var blob = Oci.RandomBytes((3 * 1024 * 1024) + 17);
        var config = System.Text.Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        await Oci.PushBlobAsync(client, "dl/sendfile", config);
        var layer = await Oci.PushBlobAsync(client, "dl/sendfile", blob);
        using (var put = await Oci.PutManifestAsync(client, "dl/sendfile", "v1", Oci.Manifest(config, [blob])))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var (status, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"dl/sendfile\",\"layerDigest\":\"{layer}\"}}");
        Assert.Equal(200, status);
        var url = new Uri(body.RootElement.GetProperty("downloadUrl").GetString()!);
        var stats = server.GetService<Wharf.Server.Hosting.SendfileStats>();
        var (bodies, bytes) = (stats.Bodies, stats.Bytes);

        using var anonymous = new HttpClient();
        Assert.Equal(blob, await anonymous.GetByteArrayAsync(url, Oci.Ct));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 400_999);
        using var partial = await anonymous.SendAsync(ranged, Oci.Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(blob[1000..401_000], await partial.Content.ReadAsByteArrayAsync(Oci.Ct));

        Assert.Equal(bodies + 2, stats.Bodies);
        Assert.Equal(bytes + blob.Length + 400_000, stats.Bytes);
    }

    [Fact]
    public async Task Download_url_ends_when_the_image_is_deleted_though_the_bytes_wait_for_gc()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "dl/deleted", "v1", layers: 1);
        using var parsed = System.Text.Json.JsonDocument.Parse(manifest);
        var layer = parsed.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;
        var (_, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"dl/deleted\",\"layerDigest\":\"{layer}\"}}");
        var url = body.RootElement.GetProperty("downloadUrl").GetString()!;
        using var anonymous = new HttpClient();
        using (var before = await anonymous.GetAsync(url, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var (status, deleted, _) = await EcrHttp.CallAsync(client, "BatchDeleteImage", $"{{\"repositoryName\":\"dl/deleted\",\"imageIds\":[{{\"imageDigest\":\"{Oci.Sha256(manifest)}\"}}]}}");
        Assert.Equal(200, status);
        Assert.Equal(1, deleted.RootElement.GetProperty("imageIds").GetArrayLength());

        using (var after = await anonymous.GetAsync(url, Oci.Ct))
        {
            await Oci.AssertErrorAsync(after, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        }

        using (var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        // As GetDownloadUrlForLayer now refuses it: the layer is in the repository but no image references it.
        EcrHttp.AssertError(
            await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"dl/deleted\",\"layerDigest\":\"{layer}\"}}"),
            "LayerInaccessibleException");

        // Checked at download time: pushing the image again makes the same URL work until it expires.
        using (var again = await Oci.PutManifestAsync(client, "dl/deleted", "v1", manifest))
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        Assert.Equal(layer, Oci.Sha256(await anonymous.GetByteArrayAsync(url, Oci.Ct)));
    }

    [Fact]
    public async Task Download_url_stops_working_when_the_image_is_deleted_and_its_link_removed()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "dl/gone", "v1", layers: 1);
        using var parsed = System.Text.Json.JsonDocument.Parse(manifest);
        var layer = parsed.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;
        var (_, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"dl/gone\",\"layerDigest\":\"{layer}\"}}");
        var url = body.RootElement.GetProperty("downloadUrl").GetString()!;

        Assert.Equal(200, (await EcrHttp.CallAsync(client, "DeleteRepository", "{\"repositoryName\":\"dl/gone\",\"force\":true}")).Status);
        using var anonymous = new HttpClient();
        using var response = await anonymous.GetAsync(url, Oci.Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
