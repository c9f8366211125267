using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>
/// The S3 gateway taken away and brought back under a running server (an RGW of the test's own):
/// readiness reports the blob store apart from the metadata store and goes 503 with the reason, then
/// 200 again; requests that need the bucket meanwhile get the retryable error in their protocol's
/// shape, never a 500.
/// </summary>
public sealed class S3OutageTests
{
    [Fact]
    public async Task Readiness_and_requests_answer_unavailable_while_the_gateway_is_down_and_recover_when_it_returns()
    {
        await using var rgw = await RgwServer.StartDedicatedAsync(Oci.Ct);
        var logs = new CapturedLogs();
        await using var server = await WharfTestServer.StartOnS3Async(rgw: rgw, services: s => s.AddSingleton<ILoggerProvider>(logs));
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "s3/outage", "v1", layers: 1);
        var layer = S3RedirectTests.FirstLayer(manifest);
        var (_, initiated, _) = await EcrHttp.CallAsync(client, "InitiateLayerUpload", """{"repositoryName":"s3/outage"}""");
        var uploadId = initiated.RootElement.GetProperty("uploadId").GetString()!;

        using (var ready = await ReadyAsync(client))
        {
            Assert.Equal(HttpStatusCode.OK, ready.Status);
            Assert.Equal("ok", ready.Body.RootElement.GetProperty("blobs").GetProperty("status").GetString());
            Assert.Equal("s3", ready.Body.RootElement.GetProperty("blobs").GetProperty("backend").GetString());
        }

        await rgw.StopGatewayAsync(Oci.Ct);
        try
        {
            using (var down = await ReadyAsync(client))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
                var root = down.Body.RootElement;
                Assert.Equal("unreachable", root.GetProperty("blobs").GetProperty("status").GetString());
                Assert.Equal("ok", root.GetProperty("metadata").GetProperty("status").GetString());
                Assert.StartsWith("the s3 blob store ", root.GetProperty("reason").GetString(), StringComparison.Ordinal);
                Assert.DoesNotContain(rgw.SecretKey, down.Text, StringComparison.Ordinal);

                // Anyone may ask: the answer names neither the endpoint nor the bucket (the log does).
                Assert.DoesNotContain(rgw.Endpoint.Authority, down.Text, StringComparison.Ordinal);
                Assert.DoesNotContain(server.S3Bucket!, down.Text, StringComparison.Ordinal);
            }

            // /v2: a blob read and a chunk upload, each the OCI shape of a retryable error.
            using (var read = await client.GetAsync(new Uri($"/v2/s3/outage/blobs/{layer}", UriKind.Relative), Oci.Ct))
            {
                await Oci.AssertErrorAsync(read, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
            }

            using (var started = await client.PostAsync(new Uri("/v2/s3/outage/blobs/uploads/", UriKind.Relative), null, Oci.Ct))
            {
                if (started.StatusCode == HttpStatusCode.Accepted)
                {
                    using var patch = await client.PatchAsync(started.Headers.Location, Oci.Content(Oci.RandomBytes(1000), "application/octet-stream"), Oci.Ct);
                    await Oci.AssertErrorAsync(patch, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
                }
                else
                {
                    await Oci.AssertErrorAsync(started, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
                }
            }

            // The ECR API: a layer part, in AWS's JSON error shape.
            var part = Convert.ToBase64String(Oci.RandomBytes(1000));
            var uploaded = await EcrHttp.CallAsync(
                client, "UploadLayerPart", $$"""{"repositoryName":"s3/outage","uploadId":"{{uploadId}}","partFirstByte":0,"partLastByte":999,"layerPartBlob":"{{part}}"}""");
            Assert.Contains("blob store is unavailable", EcrHttp.AssertError(uploaded, "ServerException", 500), StringComparison.Ordinal);
        }
        finally
        {
            await rgw.StartGatewayAsync(Oci.Ct);
        }

        using (var back = await ReadyAsync(client))
        {
            Assert.Equal(HttpStatusCode.OK, back.Status);
        }

        using var again = await client.GetAsync(new Uri($"/v2/s3/outage/blobs/{layer}", UriKind.Relative), Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(layer, Oci.Sha256(await again.Content.ReadAsByteArrayAsync(Oci.Ct)));

        // The outage was logged as warnings with the reason, never as an unhandled error.
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error && e.Category.StartsWith("Wharf", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.EventId == Wharf.Server.Hosting.WharfEventId.BlobStoreUnavailable);
        Assert.Contains(logs.Entries, e => e.EventId == Wharf.Server.Hosting.WharfEventId.BlobStoreNotReady);
    }

    private static async Task<Readiness> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), Oci.Ct);
        var text = await response.Content.ReadAsStringAsync(Oci.Ct);
        return new Readiness(response.StatusCode, text, JsonDocument.Parse(text));
    }

    private sealed record Readiness(HttpStatusCode Status, string Text, JsonDocument Body) : IDisposable
    {
        public void Dispose() => Body.Dispose();
    }
}
