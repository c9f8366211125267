using System.Net;
using System.Net.Http.Headers;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.DataPlane;

public sealed class BlobTests : ServerTest
{
    [Fact]
    public async Task Base_endpoint_answers_with_api_version_header()
    {
        using var response = await Client.GetAsync("/v2/", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", Oci.Header(response, "Docker-Distribution-API-Version"));
    }

    [Fact]
    public async Task Monolithic_push_then_get_and_head_return_the_bytes_and_headers()
    {
        var content = Oci.RandomBytes(5000);
        var digest = await Oci.PushBlobAsync(Client, "team/app", content);

        using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/blobs/{digest}"), Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(5000, head.Content.Headers.ContentLength);
        Assert.Equal(digest, Oci.Header(head, "Docker-Content-Digest"));
        Assert.Equal($"\"{digest}\"", head.Headers.ETag!.ToString());
        Assert.Equal("bytes", Oci.Header(head, "Accept-Ranges"));

        using var get = await Client.GetAsync($"/v2/team/app/blobs/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync(Oci.Ct));
        Assert.Equal(digest, Oci.Header(get, "Docker-Content-Digest"));
    }

    [Fact]
    public async Task Unknown_blob_is_blob_unknown()
    {
        await Oci.PushBlobAsync(Client, "team/app", [1, 2, 3]);
        using var response = await Client.GetAsync($"/v2/team/app/blobs/{Oci.Sha256([9])}", Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Range_request_returns_206_with_content_range()
    {
        var content = Oci.RandomBytes(1000);
        var digest = await Oci.PushBlobAsync(Client, "ranges", content);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/ranges/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(100, 199);
        using var response = await Client.SendAsync(request, Oci.Ct);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 100-199/1000", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(content[100..200], await response.Content.ReadAsByteArrayAsync(Oci.Ct));

        using var suffix = new HttpRequestMessage(HttpMethod.Get, $"/v2/ranges/blobs/{digest}");
        suffix.Headers.Range = new RangeHeaderValue(null, 10);
        using var suffixResponse = await Client.SendAsync(suffix, Oci.Ct);
        Assert.Equal(HttpStatusCode.PartialContent, suffixResponse.StatusCode);
        Assert.Equal(content[990..], await suffixResponse.Content.ReadAsByteArrayAsync(Oci.Ct));

        using var open = new HttpRequestMessage(HttpMethod.Get, $"/v2/ranges/blobs/{digest}");
        open.Headers.Range = new RangeHeaderValue(900, null);
        using var openResponse = await Client.SendAsync(open, Oci.Ct);
        Assert.Equal(content[900..], await openResponse.Content.ReadAsByteArrayAsync(Oci.Ct));
    }

    [Fact]
    public async Task Ranged_get_sees_a_delete_made_after_an_earlier_get()
    {
        // A GET reads the repository and the blob's link through the metadata store's read cache (as HEAD): a GET
        // that filled it, then a delete, and the next GET of the same range must not be served from it.
        var content = Oci.RandomBytes(300_001);
        var digest = await Oci.PushBlobAsync(Client, "cached/ranges", content);
        foreach (var (from, to) in new[] { (1L, 262_145L), (12_345L, 299_999L), (299_999L, 300_000L) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/cached/ranges/blobs/{digest}");
            request.Headers.Range = new RangeHeaderValue(from, to);
            using var response = await Client.SendAsync(request, Oci.Ct);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes {from}-{to}/300001", response.Content.Headers.ContentRange!.ToString());
            Assert.Equal(content[(int)from..(int)(to + 1)], await response.Content.ReadAsByteArrayAsync(Oci.Ct));
        }

        using var delete = await Client.DeleteAsync($"/v2/cached/ranges/blobs/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using var again = new HttpRequestMessage(HttpMethod.Get, $"/v2/cached/ranges/blobs/{digest}");
        again.Headers.Range = new RangeHeaderValue(1, 262_145);
        using var gone = await Client.SendAsync(again, Oci.Ct);
        await Oci.AssertErrorAsync(gone, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Unsatisfiable_range_is_416_with_size()
    {
        var digest = await Oci.PushBlobAsync(Client, "ranges", Oci.RandomBytes(100));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/ranges/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(100, 200);
        using var response = await Client.SendAsync(request, Oci.Ct);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */100", response.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task Blob_delete_removes_only_this_repositorys_link()
    {
        var content = Oci.RandomBytes(300);
        var digest = await Oci.PushBlobAsync(Client, "one/repo", content);
        await Oci.PushBlobAsync(Client, "two/repo", content);

        using var delete = await Client.DeleteAsync($"/v2/one/repo/blobs/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using var gone = await Client.GetAsync($"/v2/one/repo/blobs/{digest}", Oci.Ct);
        await Oci.AssertErrorAsync(gone, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var still = await Client.GetAsync($"/v2/two/repo/blobs/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        using var again = await Client.DeleteAsync($"/v2/one/repo/blobs/{digest}", Oci.Ct);
        await Oci.AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Blob_is_never_readable_from_a_repository_that_did_not_upload_or_reference_it()
    {
        var digest = await Oci.PushBlobAsync(Client, "owner", Oci.RandomBytes(64));
        await Oci.PushBlobAsync(Client, "other", [1, 2]);

        using var get = await Client.GetAsync($"/v2/other/blobs/{digest}", Oci.Ct);
        await Oci.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/other/blobs/{digest}"), Oci.Ct);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Mount_from_a_repository_whose_manifest_references_the_blob_is_201()
    {
        var manifest = await Oci.PushImageAsync(Client, "source/repo", "v1", layers: 1);
        var layerDigest = System.Text.Json.JsonDocument.Parse(manifest).RootElement.GetProperty("layers")[0].GetProperty("digest").GetString();

        using var mount = await Client.PostAsync($"/v2/target/repo/blobs/uploads/?mount={layerDigest}&from=source/repo", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal($"/v2/target/repo/blobs/{layerDigest}", mount.Headers.Location!.ToString());
        Assert.Equal(layerDigest, Oci.Header(mount, "Docker-Content-Digest"));

        using var get = await Client.GetAsync($"/v2/target/repo/blobs/{layerDigest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Fact]
    public async Task Mount_of_a_blob_readable_in_the_source_that_no_manifest_references_yet_is_201()
    {
        var content = Oci.RandomBytes(77);
        var digest = await Oci.PushBlobAsync(Client, "source/repo", content);
        using (var readable = await Client.GetAsync($"/v2/source/repo/blobs/{digest}", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, readable.StatusCode);
        }

        using var mount = await Client.PostAsync($"/v2/target/repo/blobs/uploads/?mount={digest}&from=source/repo", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal($"/v2/target/repo/blobs/{digest}", mount.Headers.Location!.ToString());

        using var get = await Client.GetAsync($"/v2/target/repo/blobs/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync(Oci.Ct));
    }

    [Fact]
    public async Task Mount_of_a_blob_not_readable_in_the_source_falls_back_to_an_upload_and_grants_no_access()
    {
        // The blob exists in the registry, but only in a repository the mount does not name.
        var digest = await Oci.PushBlobAsync(Client, "elsewhere/repo", Oci.RandomBytes(77));
        await Oci.PushImageAsync(Client, "source/repo", "v1", layers: 1);

        using var mount = await Client.PostAsync($"/v2/thief/blobs/uploads/?mount={digest}&from=source/repo", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        Assert.StartsWith("/v2/thief/blobs/uploads/", mount.Headers.Location!.ToString());
        Assert.NotNull(Oci.Header(mount, "Docker-Upload-UUID"));

        using var get = await Client.GetAsync($"/v2/thief/blobs/{digest}", Oci.Ct);
        await Oci.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");

        // Deleted from the source (its link removed): no longer readable there, so no longer mountable.
        using (var delete = await Client.DeleteAsync($"/v2/elsewhere/repo/blobs/{digest}", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        using var unlinked = await Client.PostAsync($"/v2/thief/blobs/uploads/?mount={digest}&from=elsewhere/repo", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, unlinked.StatusCode);

        using var missingSource = await Client.PostAsync($"/v2/thief/blobs/uploads/?mount={digest}&from=no/such", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, missingSource.StatusCode);
    }

    [Theory]
    [InlineData("/v2/team/app/blobs/sha256:abc", "DIGEST_INVALID")]
    [InlineData("/v2/team/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", "DIGEST_INVALID")]
    [InlineData("/v2/Team/App/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "NAME_INVALID")]
    [InlineData("/v2/a/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "NAME_INVALID")]
    public async Task Bad_input_is_400_not_500(string path, string code)
    {
        using var response = await Client.GetAsync(path, Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task Unknown_route_is_404_and_wrong_method_405_both_with_oci_body()
    {
        using var unknown = await Client.GetAsync("/v2/team/app/nothing/here", Oci.Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        await Oci.ErrorAsync(unknown);

        using var wrong = await Client.PostAsync($"/v2/team/app/blobs/{Oci.Sha256([1])}", null, Oci.Ct);
        await Oci.AssertErrorAsync(wrong, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }

    [Fact]
    public async Task Blob_of_a_missing_repository_is_name_unknown()
    {
        using var response = await Client.GetAsync($"/v2/no/such/blobs/{Oci.Sha256([1])}", Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }
}
