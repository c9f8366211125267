using System.Net;
using System.Net.Http.Headers;
using Amazon.S3.Model;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.DataPlane;

/// <summary>
/// Upload bodies on the S3 store, in each shape it sends on: a PATCH whose length the client declared
/// is streamed to the bucket as one PUT; one of unknown length (Transfer-Encoding: chunked, as docker
/// sends it) goes as a multipart upload. A body that breaks off, or that is not the length declared,
/// leaves nothing in the bucket and the upload where it was.
/// </summary>
public sealed class S3UploadTests
{
    private const int Large = 12 * 1024 * 1024; // more than one 8 MiB part: the streamed shapes

    [Fact]
    public async Task Declared_and_unknown_length_PATCHes_and_a_monolithic_PUT_commit_byte_identical_blobs()
    {
        await using var server = await WharfTestServer.StartOnS3Async();
        using var client = server.CreateClient();
        var content = Bytes(2 * Large + 5, seed: 1);

        // One PATCH with Content-Length, one streamed with chunked transfer encoding, a small tail by PUT.
        var location = await StartAsync(client, "s3/shapes");
        location = await PatchAsync(client, location, new ByteArrayContent(content, 0, Large));
        var streamed = new StreamContent(new MemoryStream(content, Large, Large));
        location = await PatchAsync(client, location, streamed, chunked: true);
        var digest = Oci.Sha256(content);
        using (var put = await client.PutAsync($"{location}{(location.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={digest}", new ByteArrayContent(content, 2 * Large, 5), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(content, await client.GetByteArrayAsync($"/v2/s3/shapes/blobs/{digest}", Oci.Ct));

        // The whole blob in one monolithic POST-then-PUT.
        var single = Bytes(Large, seed: 2);
        var singleDigest = Oci.Sha256(single);
        var upload = await StartAsync(client, "s3/shapes");
        using (var put = await client.PutAsync($"{upload}?digest={singleDigest}", new ByteArrayContent(single), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(single, await client.GetByteArrayAsync($"/v2/s3/shapes/blobs/{singleDigest}", Oci.Ct));
        Assert.Empty(await StagedAsync(server));
    }

    [Fact]
    public async Task A_streamed_PATCH_that_breaks_off_before_its_declared_length_stages_nothing_and_the_upload_goes_on()
    {
        await using var server = await WharfTestServer.StartOnS3Async();
        using var client = server.CreateClient();
        var location = await StartAsync(client, "s3/short");
        var id = location[(location.LastIndexOf('/') + 1)..];

        var statusLine = await server.SendTruncatedAsync("PATCH", location, Large, Bytes(Large - (1024 * 1024), seed: 3));

        // The client broke its own request: Kestrel drops it or answers 400, never 5xx.
        Assert.True(statusLine is null || statusLine.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), statusLine);

        using (var status = await client.GetAsync(location, Oci.Ct))
        {
            Assert.Equal("0-0", Oci.Header(status, "Range"));
        }

        Assert.DoesNotContain(await StagedAsync(server), key => key.Contains($"/{id}/", StringComparison.Ordinal) && !key.EndsWith("/created", StringComparison.Ordinal));

        var content = Bytes(Large, seed: 4);
        location = await PatchAsync(client, location, new ByteArrayContent(content));
        var digest = Oci.Sha256(content);
        using var put = await client.PutAsync($"{location}{(location.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={digest}", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(content, await client.GetByteArrayAsync($"/v2/s3/short/blobs/{digest}", Oci.Ct));
    }

    [Theory]
    [InlineData(Large + 1)]
    [InlineData(Large - 1)]
    public async Task A_streamed_body_of_another_length_than_its_content_range_is_size_invalid_and_stages_nothing(int described)
    {
        await using var server = await WharfTestServer.StartOnS3Async();
        using var client = server.CreateClient();
        var location = await StartAsync(client, "s3/range");

        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new StreamContent(new MemoryStream(Bytes(Large, seed: 5))) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", $"0-{described - 1}");
        request.Content.Headers.ContentLength = null;
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request, Oci.Ct);

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "SIZE_INVALID");
        using (var status = await client.GetAsync(location, Oci.Ct))
        {
            Assert.Equal("0-0", Oci.Header(status, "Range"));
        }

        Assert.DoesNotContain(await StagedAsync(server), key => !key.EndsWith("/created", StringComparison.Ordinal));
        using var s3 = (await RgwServer.GetAsync()).CreateClient();
        Assert.Empty((await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = server.S3Bucket }, Oci.Ct)).MultipartUploads ?? []);
    }

    private static async Task<string> StartAsync(HttpClient client, string name)
    {
        using var response = await client.PostAsync($"/v2/{name}/blobs/uploads/", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static async Task<string> PatchAsync(HttpClient client, string location, HttpContent content, bool chunked = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (chunked)
        {
            request.Content.Headers.ContentLength = null;
            request.Headers.TransferEncodingChunked = true;
        }

        using var response = await client.SendAsync(request, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    /// <summary>Every key under an upload staging area of the server's bucket.</summary>
    private static async Task<List<string>> StagedAsync(WharfTestServer server)
    {
        using var s3 = (await RgwServer.GetAsync()).CreateClient();
        var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = server.S3Bucket }, Oci.Ct);
        return [.. (listed.S3Objects ?? []).Select(o => o.Key).Where(k => k.Contains("uploads/", StringComparison.Ordinal))];
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
