using System.Net;
using System.Net.Http.Headers;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.DataPlane;

public sealed class UploadTests : ServerTest
{
    private static async Task<string> StartAsync(HttpClient http, string name)
    {
        using var response = await http.PostAsync($"/v2/{name}/blobs/uploads/", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        var id = Oci.Header(response, "Docker-Upload-UUID")!;
        Assert.Equal($"/v2/{name}/blobs/uploads/{id}", location);
        Assert.Equal("0-0", Oci.Header(response, "Range"));
        return location;
    }

    private static HttpRequestMessage Patch(string location, byte[] chunk, long? start)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(chunk) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (start is { } s)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{s}-{s + chunk.Length - 1}");
        }

        return request;
    }

    [Fact]
    public async Task Chunked_upload_with_content_range_commits_the_blob()
    {
        var content = Oci.RandomBytes(3000);
        var location = await StartAsync(Client, "chunks");

        using (var first = await Client.SendAsync(Patch(location, content[..1000], 0), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal("0-999", Oci.Header(first, "Range"));
            Assert.Equal(location, first.Headers.Location!.ToString());
            Assert.NotNull(Oci.Header(first, "Docker-Upload-UUID"));
        }

        using (var second = await Client.SendAsync(Patch(location, content[1000..2000], 1000), Oci.Ct))
        {
            Assert.Equal("0-1999", Oci.Header(second, "Range"));
        }

        using (var status = await Client.GetAsync(location, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
            Assert.Equal("0-1999", Oci.Header(status, "Range"));
        }

        var digest = Oci.Sha256(content);
        using var put = await Client.PutAsync($"{location}?digest={digest}", new ByteArrayContent(content[2000..]), Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"/v2/chunks/blobs/{digest}", put.Headers.Location!.ToString());
        Assert.Equal(digest, Oci.Header(put, "Docker-Content-Digest"));

        using var get = await Client.GetAsync($"/v2/chunks/blobs/{digest}", Oci.Ct);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync(Oci.Ct));

        using var afterCommit = await Client.GetAsync(location, Oci.Ct);
        await Oci.AssertErrorAsync(afterCommit, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Streamed_patch_without_content_range_then_put_without_body()
    {
        var content = Oci.RandomBytes(70_000);
        var location = await StartAsync(Client, "streamed");
        using var request = new HttpRequestMessage(HttpMethod.Patch, location)
        {
            Content = new StreamContent(new MemoryStream(content)),
        };
        request.Headers.TransferEncodingChunked = true;
        using (var patch = await Client.SendAsync(request, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            Assert.Equal("0-69999", Oci.Header(patch, "Range"));
        }

        var digest = Oci.Sha256(content);
        using var put = await Client.PutAsync($"{location}?digest={digest}", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/streamed/blobs/{digest}"), Oci.Ct);
        Assert.Equal(70_000, head.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Out_of_order_chunk_is_416_with_the_current_range()
    {
        var location = await StartAsync(Client, "order");
        using (await Client.SendAsync(Patch(location, new byte[10], 0), Oci.Ct))
        {
        }

        using var response = await Client.SendAsync(Patch(location, new byte[10], 20), Oci.Ct);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("0-9", Oci.Header(response, "Range"));
        Assert.Equal(location, response.Headers.Location!.ToString());

        using var status = await Client.GetAsync(location, Oci.Ct);
        Assert.Equal("0-9", Oci.Header(status, "Range"));
    }

    [Fact]
    public async Task Digest_mismatch_is_digest_invalid_and_commits_nothing()
    {
        var content = Oci.RandomBytes(500);
        var wrong = Oci.Sha256(Oci.RandomBytes(500));
        using var monolithic = await Client.PostAsync($"/v2/mismatch/blobs/uploads/?digest={wrong}", new ByteArrayContent(content), Oci.Ct);
        await Oci.AssertErrorAsync(monolithic, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        var location = await StartAsync(Client, "mismatch");
        using var put = await Client.PutAsync($"{location}?digest={wrong}", new ByteArrayContent(content), Oci.Ct);
        await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        foreach (var digest in new[] { wrong, Oci.Sha256(content) })
        {
            using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/mismatch/blobs/{digest}"), Oci.Ct);
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }
    }

    [Fact]
    public async Task Sha512_digests_are_accepted_for_monolithic_and_chunked_uploads()
    {
        var content = Oci.RandomBytes(4096);
        var digest = Oci.Sha512(content);
        using var monolithic = await Client.PostAsync($"/v2/sha512/blobs/uploads/?digest={digest}", new ByteArrayContent(content), Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, monolithic.StatusCode);

        var other = Oci.RandomBytes(2048);
        var location = await StartAsync(Client, "sha512");
        using (await Client.SendAsync(Patch(location, other, 0), Oci.Ct))
        {
        }

        var otherDigest = Oci.Sha512(other);
        using var put = await Client.PutAsync($"{location}?digest={otherDigest}", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        using var get = await Client.GetAsync($"/v2/sha512/blobs/{otherDigest}", Oci.Ct);
        Assert.Equal(other, await get.Content.ReadAsByteArrayAsync(Oci.Ct));
        Assert.Equal(otherDigest, Oci.Header(get, "Docker-Content-Digest"));
    }

    [Fact]
    public async Task Delete_upload_is_204_and_the_session_is_gone()
    {
        var location = await StartAsync(Client, "cancel");
        using var delete = await Client.DeleteAsync(location, Oci.Ct);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var status = await Client.GetAsync(location, Oci.Ct);
        await Oci.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var again = await Client.DeleteAsync(location, Oci.Ct);
        await Oci.AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Upload_of_one_repository_is_unknown_from_another()
    {
        var location = await StartAsync(Client, "first");
        await Oci.PushBlobAsync(Client, "second", [1]);
        using var status = await Client.GetAsync(location.Replace("/first/", "/second/", StringComparison.Ordinal), Oci.Ct);
        await Oci.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Put_without_digest_is_digest_invalid()
    {
        var location = await StartAsync(Client, "nodigest");
        using var put = await Client.PutAsync(location, null, Oci.Ct);
        await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Body_shorter_than_content_length_is_rejected_and_nothing_is_staged()
    {
        var location = await StartAsync(Client, "short");
        var statusLine = await Server.SendTruncatedAsync("PATCH", location, 100, new byte[40]);

        // The Client closed its side, so Kestrel may drop the connection instead of answering; if it answers, it is a 400.
        Assert.True(statusLine is null || statusLine.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), statusLine);

        using var status = await Client.GetAsync(location, Oci.Ct);
        Assert.Equal("0-0", Oci.Header(status, "Range"));
        var digest = Oci.Sha256(new byte[40]);
        using var put = await Client.PutAsync($"{location}?digest={digest}", null, Oci.Ct);
        await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    // Sizes that cross the 64 KiB sealed segments, the 64 KiB receive blocks and the store's 1 MiB writes at odd
    // offsets, on the default (sealed) server: what each read hands on is whole segments or the copying path's rest.
    [Fact]
    public async Task Multi_MiB_monolithic_and_chunked_pushes_read_back_byte_identical()
    {
        var content = Oci.RandomBytes((5 * 1024 * 1024) + 7);
        var digest = Oci.Sha256(content);
        var location = await StartAsync(Client, "big/mono");
        using (var put = await Client.PutAsync($"{location}?digest={digest}", new ByteArrayContent(content), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(content, await Client.GetByteArrayAsync($"/v2/big/mono/blobs/{digest}", Oci.Ct));

        var chunked = Oci.RandomBytes((5 * 1024 * 1024) + 7);
        var chunkedDigest = Oci.Sha256(chunked);
        location = await StartAsync(Client, "big/chunked");
        const int chunk = (1024 * 1024) + 3;
        for (var offset = 0; offset < chunked.Length; offset += chunk)
        {
            using var patch = await Client.SendAsync(Patch(location, chunked[offset..Math.Min(offset + chunk, chunked.Length)], offset), Oci.Ct);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            location = patch.Headers.Location!.ToString();
        }

        using (var put = await Client.PutAsync($"{location}?digest={chunkedDigest}", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(chunked, await Client.GetByteArrayAsync($"/v2/big/chunked/blobs/{chunkedDigest}", Oci.Ct));
    }

    [Fact]
    public async Task A_body_that_breaks_off_after_several_MiB_stages_nothing_and_the_upload_goes_on()
    {
        var location = await StartAsync(Client, "broken");
        var id = location[(location.LastIndexOf('/') + 1)..];
        var statusLine = await Server.SendTruncatedAsync("PATCH", location, 8 * 1024 * 1024, Oci.RandomBytes((5 * 1024 * 1024) + 17));
        Assert.True(statusLine is null || statusLine.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), statusLine);

        using (var status = await Client.GetAsync(location, Oci.Ct))
        {
            Assert.Equal("0-0", Oci.Header(status, "Range"));
        }

        // The server may still be ending the broken request when the client has given up on it: its staged bytes are
        // cut off once it has.
        var staged = Assert.Single(Directory.GetFiles(Server.DataDirectory, id, SearchOption.AllDirectories));
        for (var waited = 0; new FileInfo(staged).Length != 0 && waited < 100; waited++)
        {
            await Task.Delay(100, Oci.Ct);
        }

        Assert.Equal(0, new FileInfo(staged).Length);

        var content = Oci.RandomBytes((2 * 1024 * 1024) + 5);
        using (var patch = await Client.SendAsync(Patch(location, content, 0), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        var digest = Oci.Sha256(content);
        using (var put = await Client.PutAsync($"{location}?digest={digest}", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(content, await Client.GetByteArrayAsync($"/v2/broken/blobs/{digest}", Oci.Ct));
    }

    [Fact]
    public async Task Completing_an_upload_whose_staged_bytes_are_gone_is_blob_upload_unknown_not_a_fault()
    {
        var location = await StartAsync(Client, "gone");
        var content = new byte[] { 1, 2, 3, 4 };
        using (var patch = await Client.SendAsync(Patch(location, content, 0), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        // The staged bytes vanish behind the session (collected, or lost with a disk) while its row stays.
        var id = location[(location.LastIndexOf('/') + 1)..];
        foreach (var staged in Directory.GetFiles(Server.DataDirectory, id, SearchOption.AllDirectories))
        {
            File.Delete(staged);
        }

        using var put = await Client.PutAsync($"{location}?digest={Oci.Sha256(content)}", null, Oci.Ct);
        await Oci.AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Content_range_length_differing_from_the_body_is_size_invalid()
    {
        var location = await StartAsync(Client, "rangesize");
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(new byte[10]) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", "0-19");
        request.Content.Headers.ContentLength = null;
        request.Headers.TransferEncodingChunked = true;
        using var response = await Client.SendAsync(request, Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "SIZE_INVALID");
        using var status = await Client.GetAsync(location, Oci.Ct);
        Assert.Equal("0-0", Oci.Header(status, "Range"));
    }

    [Theory]
    [InlineData("0-19")]
    [InlineData("0-4")]
    [InlineData("bytes 0-10/11")]
    public async Task Content_range_disagreeing_with_content_length_is_size_invalid_and_stages_nothing(string contentRange)
    {
        var location = await StartAsync(Client, "rangelength");
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(new byte[10]) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        Assert.Equal(10, request.Content.Headers.ContentLength);

        using var response = await Client.SendAsync(request, Oci.Ct);

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "SIZE_INVALID");
        using (var status = await Client.GetAsync(location, Oci.Ct))
        {
            Assert.Equal("0-0", Oci.Header(status, "Range"));
        }

        // The upload goes on with a chunk whose headers agree.
        using var agreeing = await Client.SendAsync(Patch(location, new byte[10], 0), Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, agreeing.StatusCode);
        Assert.Equal("0-9", Oci.Header(agreeing, "Range"));
    }

    [Fact]
    public async Task Upload_resumes_after_a_restart_with_the_hash_rebuilt_from_staged_bytes()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-test-" + Guid.NewGuid().ToString("N"));
        var content = Oci.RandomBytes(200_000);
        string location;
        var first = await WharfTestServer.StartAsync(dataDirectory: dataDirectory);
        using (var http = first.CreateClient())
        {
            location = await StartAsync(http, "resume");
            using var patch = await http.SendAsync(Patch(location, content[..150_000], 0), Oci.Ct);
            Assert.Equal("0-149999", Oci.Header(patch, "Range"));
        }

        // Stop the first Server without deleting its data directory (the wrapper's dispose would).
        await first.App.StopAsync(Oci.Ct);
        await first.App.DisposeAsync();
        await using var second = await WharfTestServer.StartAsync(dataDirectory: dataDirectory);
        using var client2 = second.CreateClient();
        using (var status = await client2.GetAsync(location, Oci.Ct))
        {
            Assert.Equal("0-149999", Oci.Header(status, "Range"));
        }

        using (var patch = await client2.SendAsync(Patch(location, content[150_000..], 150_000), Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        var digest = Oci.Sha256(content);
        using var put = await client2.PutAsync($"{location}?digest={digest}", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var get = await client2.GetAsync($"/v2/resume/blobs/{digest}", Oci.Ct);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync(Oci.Ct));
    }

    [Fact]
    public async Task Push_to_a_missing_repository_is_name_unknown_when_create_on_push_is_off()
    {
        await using var strict = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Registry:CreateOnPush"] = "false" });
        using var http = strict.CreateClient();
        using var post = await http.PostAsync("/v2/not/created/blobs/uploads/", null, Oci.Ct);
        await Oci.AssertErrorAsync(post, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        var (_, error) = await Oci.ErrorAsync(post);
        Assert.Equal("The repository with name 'not/created' does not exist in the registry with id '123456789012'", error.GetProperty("message").GetString());

        using var manifest = await Oci.PutManifestAsync(http, "not/created", "v1", Oci.Manifest([1], []));
        await Oci.AssertErrorAsync(manifest, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }
}
