using System.Net;
using System.Text.Json;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.DataPlane;

/// <summary>
/// Blob downloads on the S3 store: with <c>Storage:S3:Redirect</c>, a <c>307</c> to a presigned URL of
/// the object (as ECR sends layer downloads to S3) that real clients follow; without it, streamed
/// through Wharf with ranges.
/// </summary>
public sealed class S3RedirectTests
{
    private static readonly TimeSpan ShortLifetime = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Blob_GET_redirects_to_a_presigned_URL_that_serves_the_exact_bytes_until_it_expires()
    {
        var rgw = await RgwServer.GetAsync();
        await using var server = await WharfTestServer.StartOnS3Async(Plaintext(Redirecting(ShortLifetime)), rgw: rgw);
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "s3/redirect", "v1", layers: 1);
        var layer = FirstLayer(manifest);

        using var response = await client.GetAsync(new Uri($"/v2/s3/redirect/blobs/{layer}", UriKind.Relative), Oci.Ct);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(rgw.Endpoint.Authority, location.Authority);
        Assert.Contains("X-Amz-Signature=", location.Query, StringComparison.Ordinal);
        // The SDK counts the lifetime from its own "now" and rounds it: a second either way.
        var seconds = (int)ShortLifetime.TotalSeconds;
        Assert.Matches($"X-Amz-Expires=({seconds - 1}|{seconds}|{seconds + 1})(&|$)", location.Query);
        Assert.Equal(layer, Oci.Header(response, "Docker-Content-Digest"));

        // The URL alone, from a client with no credentials, gives the blob's bytes, and ranges of them.
        using var anonymous = new HttpClient();
        var bytes = await anonymous.GetByteArrayAsync(location, Oci.Ct);
        Assert.Equal(layer, Oci.Sha256(bytes));
        using (var ranged = new HttpRequestMessage(HttpMethod.Get, location))
        {
            ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
            using var partial = await anonymous.SendAsync(ranged, Oci.Ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(bytes[10..20], await partial.Content.ReadAsByteArrayAsync(Oci.Ct));
        }

        // HEAD is still answered by Wharf; a blob the repository does not hold is refused before any URL.
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri($"/v2/s3/redirect/blobs/{layer}", UriKind.Relative)), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        }

        await Oci.AssertErrorAsync(await client.GetAsync(new Uri($"/v2/s3/other/blobs/{layer}", UriKind.Relative), Oci.Ct), HttpStatusCode.NotFound, "NAME_UNKNOWN");

        // GetDownloadUrlForLayer hands out a presigned URL of the bucket too.
        var (status, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"s3/redirect\",\"layerDigest\":\"{layer}\"}}");
        Assert.Equal(200, status);
        var downloadUrl = new Uri(body.RootElement.GetProperty("downloadUrl").GetString()!);
        Assert.Equal(rgw.Endpoint.Authority, downloadUrl.Authority);
        Assert.Equal(bytes, await anonymous.GetByteArrayAsync(downloadUrl, Oci.Ct));

        // S3 checks the lifetime itself, on its own clock.
        await Task.Delay(ShortLifetime + TimeSpan.FromSeconds(3), Oci.Ct);
        using var expired = await anonymous.GetAsync(location, Oci.Ct);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
    }

    [Fact]
    public async Task Without_redirect_blob_GET_streams_from_the_bucket_with_ranges()
    {
        await using var server = await WharfTestServer.StartOnS3Async();
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "s3/stream", "v1", layers: 1);
        var layer = FirstLayer(manifest);

        using var whole = await client.GetAsync(new Uri($"/v2/s3/stream/blobs/{layer}", UriKind.Relative), Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        var bytes = await whole.Content.ReadAsByteArrayAsync(Oci.Ct);
        Assert.Equal(layer, Oci.Sha256(bytes));

        using var ranged = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v2/s3/stream/blobs/{layer}", UriKind.Relative));
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(5, 14);
        using var partial = await client.SendAsync(ranged, Oci.Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[5..15], await partial.Content.ReadAsByteArrayAsync(Oci.Ct));

        var (_, body, _) = await EcrHttp.CallAsync(client, "GetDownloadUrlForLayer", $"{{\"repositoryName\":\"s3/stream\",\"layerDigest\":\"{layer}\"}}");
        Assert.Equal(server.BaseAddress.Authority, new Uri(body.RootElement.GetProperty("downloadUrl").GetString()!).Authority);
    }

    [Fact]
    public async Task Skopeo_and_podman_pull_through_the_redirect()
    {
        await using var server = await WharfTestServer.StartOnS3Async(Plaintext(Redirecting(TimeSpan.FromMinutes(15))));
        var tools = ContainerTools.Instance;

        // An image of its own, so that podman has none of its layers already.
        var source = await OciLayout.WriteImageAsync(
            Path.Combine(Path.GetTempPath(), "wharf-s3-redirect-" + Guid.NewGuid().ToString("N")), "v1", [(1 << 20) + 3, 70_000], (ulong)Random.Shared.NextInt64(), Oci.Ct);
        var remote = $"{server.HostAndPort}/s3/pulled:v1";
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", source.SkopeoReference, "docker://" + remote)).EnsureSuccess();

        // Skopeo: every blob follows the 307 to the bucket and arrives intact.
        var outDir = Path.Combine(Path.GetTempPath(), "wharf-s3-redirect-out-" + Guid.NewGuid().ToString("N"));
        try
        {
            (await tools.SkopeoAsync("copy", "--src-tls-verify=false", "docker://" + remote, $"oci:{outDir}:v1")).EnsureSuccess();
            foreach (var blob in source.Layers.Append(source.Config))
            {
                var path = Path.Combine(outDir, "blobs", "sha256", blob.Digest["sha256:".Length..]);
                Assert.True(File.Exists(path), $"the pulled layout lacks {blob.Digest}");
                Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(path, Oci.Ct));
            }

            // Podman: a pull of layers it has never seen, verified as it unpacks them.
            (await tools.PodmanAsync("pull", "--tls-verify=false", remote)).EnsureSuccess();
            var digest = (await tools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim();
            Assert.Equal(source.Manifest.Digest, digest);
            (await tools.PodmanAsync("rmi", remote)).EnsureSuccess();
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
            Directory.Delete(source.Directory, recursive: true);
        }
    }

    [Fact]
    public async Task Containerd_fetches_an_image_through_the_redirect()
    {
        await using var server = await WharfTestServer.StartOnS3Async(Plaintext(Redirecting(TimeSpan.FromMinutes(15))));
        var source = await OciLayout.WriteImageAsync(
            Path.Combine(Path.GetTempPath(), "wharf-s3-ctr-" + Guid.NewGuid().ToString("N")), "v1", [(1 << 20) + 5, 40_000], (ulong)Random.Shared.NextInt64(), Oci.Ct);
        var remote = $"{server.HostAndPort}/s3/containerd:v1";
        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", source.SkopeoReference, "docker://" + remote)).EnsureSuccess();

        await using var containerd = await ContainerdDaemon.StartAsync(Oci.Ct);
        try
        {
            // --http-dump shows each exchange: the blob GETs answered 307 and were followed to the bucket.
            var fetch = (await containerd.CtrAsync("content", "fetch", "--plain-http", "--http-dump", remote)).EnsureSuccess();
            Assert.Contains("307 Temporary Redirect", fetch.StandardOutput + fetch.StandardError, StringComparison.Ordinal);

            // containerd checks every blob against its digest as it ingests it.
            var content = (await containerd.CtrAsync("content", "ls", "-q")).EnsureSuccess().StandardOutput;
            foreach (var blob in source.Layers.Append(source.Config).Append(source.Manifest))
            {
                Assert.Contains(blob.Digest, content, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(source.Directory, recursive: true);
        }
    }

    internal static Dictionary<string, string?> Redirecting(TimeSpan lifetime) => new()
    {
        ["Storage:S3:Redirect"] = "true",
        ["Storage:S3:RedirectLifetime"] = lifetime.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Sealing off: a presigned URL is only ever handed out for plaintext blobs (sealed ones are streamed, see SealedStorageTests).</summary>
    internal static Dictionary<string, string?> Plaintext(Dictionary<string, string?> settings)
    {
        settings["Encryption:Enabled"] = "false";
        return settings;
    }

    internal static string FirstLayer(byte[] manifest)
    {
        using var parsed = JsonDocument.Parse(manifest);
        return parsed.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;
    }
}
