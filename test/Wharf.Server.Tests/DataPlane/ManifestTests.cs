using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.DataPlane;

public sealed class ManifestTests : ServerTest
{
    [Fact]
    public async Task Manifest_put_by_tag_is_served_byte_for_byte_by_tag_and_digest()
    {
        var manifest = await Oci.PushImageAsync(Client, "team/app", "v1");
        var digest = Oci.Sha256(manifest);

        foreach (var reference in new[] { "v1", digest })
        {
            using var get = await Client.GetAsync($"/v2/team/app/manifests/{reference}", Oci.Ct);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync(Oci.Ct));
            Assert.Equal(Oci.ManifestType, get.Content.Headers.ContentType!.MediaType);
            Assert.Equal(digest, Oci.Header(get, "Docker-Content-Digest"));
            Assert.Equal($"\"{digest}\"", get.Headers.ETag!.ToString());

            using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/manifests/{reference}"), Oci.Ct);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(manifest.Length, head.Content.Headers.ContentLength);
            Assert.Equal(digest, Oci.Header(head, "Docker-Content-Digest"));
        }
    }

    [Fact]
    public async Task Put_answers_201_with_location_and_digest()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "put", config);
        var manifest = Oci.Manifest(config, []);
        var digest = Oci.Sha256(manifest);
        using var response = await Oci.PutManifestAsync(Client, "put", digest, manifest);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/v2/put/manifests/{digest}", response.Headers.Location!.ToString());
        Assert.Equal(digest, Oci.Header(response, "Docker-Content-Digest"));
        Assert.Null(Oci.Header(response, "OCI-Subject"));
    }

    [Fact]
    public async Task Missing_layer_is_manifest_blob_unknown()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "missing", config);
        using var response = await Oci.PutManifestAsync(Client, "missing", "v1", Oci.Manifest(config, [Oci.RandomBytes(10)]));
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Layer_of_another_repository_is_manifest_blob_unknown()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        var layer = Oci.RandomBytes(100);
        await Oci.PushBlobAsync(Client, "mine", config);
        await Oci.PushBlobAsync(Client, "theirs", layer);
        using var response = await Oci.PutManifestAsync(Client, "mine", "v1", Oci.Manifest(config, [layer]));
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"schemaVersion\":1,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}")]
    public async Task Malformed_manifest_is_manifest_invalid(string body)
    {
        using var response = await Oci.PutManifestAsync(Client, "invalid", "v1", Encoding.UTF8.GetBytes(body));
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Media_type_differing_from_content_type_is_manifest_invalid()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "types", config);
        using var response = await Oci.PutManifestAsync(Client, "types", "v1", Oci.Manifest(config, []), "application/vnd.docker.distribution.manifest.v2+json");
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Digest_reference_not_matching_the_body_is_digest_invalid()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "digestref", config);
        using var response = await Oci.PutManifestAsync(Client, "digestref", Oci.Sha256([1, 2, 3]), Oci.Manifest(config, []));
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Manifest_over_4_MiB_is_413()
    {
        var body = new byte[(4 * 1024 * 1024) + 1];
        body.AsSpan().Fill((byte)' ');
        using var response = await Oci.PutManifestAsync(Client, "big", "v1", body);
        await Oci.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "MANIFEST_INVALID");

        using var chunked = new HttpRequestMessage(HttpMethod.Put, "/v2/big/manifests/v2") { Content = new StreamContent(new MemoryStream(body)) };
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Content.Headers.ContentType = new(Oci.ManifestType);
        using var chunkedResponse = await Client.SendAsync(chunked, Oci.Ct);
        await Oci.AssertErrorAsync(chunkedResponse, HttpStatusCode.RequestEntityTooLarge, "MANIFEST_INVALID");
    }

    [Theory]
    [InlineData("sha256:nothex", "MANIFEST_INVALID")]
    public async Task Bad_reference_is_400(string reference, string code)
    {
        using var response = await Client.GetAsync($"/v2/refs/manifests/{reference}", Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task Unknown_manifest_is_manifest_unknown()
    {
        await Oci.PushImageAsync(Client, "unknown", "v1", layers: 0);
        using var response = await Client.GetAsync("/v2/unknown/manifests/v2", Oci.Ct);
        await Oci.AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Delete_by_tag_removes_only_the_tag()
    {
        var manifest = await Oci.PushImageAsync(Client, "deltag", "v1", layers: 1);
        var digest = Oci.Sha256(manifest);
        using (var tag2 = await Oci.PutManifestAsync(Client, "deltag", "v2", manifest))
        {
            Assert.Equal(HttpStatusCode.Created, tag2.StatusCode);
        }

        using var delete = await Client.DeleteAsync("/v2/deltag/manifests/v1", Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using var v1 = await Client.GetAsync("/v2/deltag/manifests/v1", Oci.Ct);
        await Oci.AssertErrorAsync(v1, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var v2 = await Client.GetAsync("/v2/deltag/manifests/v2", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        using var byDigest = await Client.GetAsync($"/v2/deltag/manifests/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
    }

    [Fact]
    public async Task Delete_by_digest_removes_the_manifest_and_its_tags()
    {
        var manifest = await Oci.PushImageAsync(Client, "deldigest", "v1", layers: 1);
        var digest = Oci.Sha256(manifest);
        using var delete = await Client.DeleteAsync($"/v2/deldigest/manifests/{digest}", Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var byTag = await Client.GetAsync("/v2/deldigest/manifests/v1", Oci.Ct);
        await Oci.AssertErrorAsync(byTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var again = await Client.DeleteAsync($"/v2/deldigest/manifests/{digest}", Oci.Ct);
        await Oci.AssertErrorAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Index_requires_its_children_and_protects_them_from_deletion()
    {
        var child = await Oci.PushImageAsync(Client, "multi", "amd64", layers: 1);
        var stranger = Oci.Manifest(Encoding.UTF8.GetBytes("{\"x\":1}"), []);

        using var missing = await Oci.PutManifestAsync(Client, "multi", "bad", Oci.Index([child, stranger]), Oci.IndexType);
        await Oci.AssertErrorAsync(missing, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");

        var index = Oci.Index([child]);
        using (var put = await Oci.PutManifestAsync(Client, "multi", "latest", index, Oci.IndexType))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using var get = await Client.GetAsync("/v2/multi/manifests/latest", Oci.Ct);
        Assert.Equal(Oci.IndexType, get.Content.Headers.ContentType!.MediaType);
        Assert.Equal(index, await get.Content.ReadAsByteArrayAsync(Oci.Ct));

        using var deleteChild = await Client.DeleteAsync($"/v2/multi/manifests/{Oci.Sha256(child)}", Oci.Ct);
        Assert.Equal(HttpStatusCode.Conflict, deleteChild.StatusCode);
        await Oci.ErrorAsync(deleteChild);
    }

    [Fact]
    public async Task Docker_manifest_list_media_type_round_trips()
    {
        var config = Encoding.UTF8.GetBytes("{\"os\":\"linux\"}");
        await Oci.PushBlobAsync(Client, "docker", config);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json",
            ["config"] = Oci.Descriptor("application/vnd.docker.container.image.v1+json", config),
            ["layers"] = new JsonArray(),
        };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        using var put = await Oci.PutManifestAsync(Client, "docker", "v1", bytes, "application/vnd.docker.distribution.manifest.v2+json");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        var list = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.docker.distribution.manifest.list.v2+json",
            ["manifests"] = new JsonArray(Oci.Descriptor("application/vnd.docker.distribution.manifest.v2+json", bytes)),
        };
        var listBytes = Encoding.UTF8.GetBytes(list.ToJsonString());
        using var putList = await Oci.PutManifestAsync(Client, "docker", "multi", listBytes, "application/vnd.docker.distribution.manifest.list.v2+json");
        Assert.Equal(HttpStatusCode.Created, putList.StatusCode);
        using var get = await Client.GetAsync("/v2/docker/manifests/multi", Oci.Ct);
        Assert.Equal("application/vnd.docker.distribution.manifest.list.v2+json", get.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Referrers_list_artifacts_with_filter_and_subject_header()
    {
        var subject = await Oci.PushImageAsync(Client, "signed", "v1", layers: 1);
        var subjectDescriptor = Oci.Descriptor(Oci.ManifestType, subject);
        var empty = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "signed", empty);
        var sbom = Oci.RandomBytes(50);
        await Oci.PushBlobAsync(Client, "signed", sbom);

        var signature = Oci.Manifest(empty, [sbom], "application/vnd.oci.empty.v1+json", subjectDescriptor, "application/vnd.example.signature", new JsonObject { ["org.example"] = "yes" });
        var sbomManifest = Oci.Manifest(empty, [sbom], "application/vnd.example.sbom.config", subjectDescriptor);
        foreach (var artifact in new[] { signature, sbomManifest })
        {
            using var put = await Oci.PutManifestAsync(Client, "signed", Oci.Sha256(artifact), artifact);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(Oci.Sha256(subject), Oci.Header(put, "OCI-Subject"));
        }

        using var all = await Client.GetAsync($"/v2/signed/referrers/{Oci.Sha256(subject)}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal(Oci.IndexType, all.Content.Headers.ContentType!.MediaType);
        Assert.Null(Oci.Header(all, "OCI-Filters-Applied"));
        using var allJson = JsonDocument.Parse(await all.Content.ReadAsStringAsync(Oci.Ct));
        var entries = allJson.RootElement.GetProperty("manifests").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        var types = entries.Select(e => e.GetProperty("artifactType").GetString()!).Order().ToArray();
        Assert.Equal(["application/vnd.example.sbom.config", "application/vnd.example.signature"], types);
        var signed = entries.Single(e => e.GetProperty("digest").GetString() == Oci.Sha256(signature));
        Assert.Equal(signature.Length, signed.GetProperty("size").GetInt64());
        Assert.Equal("yes", signed.GetProperty("annotations").GetProperty("org.example").GetString());

        using var filtered = await Client.GetAsync($"/v2/signed/referrers/{Oci.Sha256(subject)}?artifactType=application/vnd.example.signature", Oci.Ct);
        Assert.Equal("artifactType", Oci.Header(filtered, "OCI-Filters-Applied"));
        using var filteredJson = JsonDocument.Parse(await filtered.Content.ReadAsStringAsync(Oci.Ct));
        Assert.Equal(Oci.Sha256(signature), filteredJson.RootElement.GetProperty("manifests").EnumerateArray().Single().GetProperty("digest").GetString());
    }

    [Fact]
    public async Task Referrer_pushed_before_its_subject_and_index_subjects_are_listed()
    {
        var empty = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "early", empty);
        var child = await Oci.PushImageAsync(Client, "early", "child", layers: 0);
        var index = Oci.Index([child]);
        var indexDescriptor = Oci.Descriptor(Oci.IndexType, index);

        // The referrer arrives first; its subject (an index) does not exist yet.
        var referrer = Oci.Manifest(empty, [], "application/vnd.oci.empty.v1+json", indexDescriptor, "application/vnd.example.attestation");
        using (var put = await Oci.PutManifestAsync(Client, "early", Oci.Sha256(referrer), referrer))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(Oci.Sha256(index), Oci.Header(put, "OCI-Subject"));
        }

        using (var before = await Client.GetAsync($"/v2/early/referrers/{Oci.Sha256(index)}", Oci.Ct))
        {
            using var json = JsonDocument.Parse(await before.Content.ReadAsStringAsync(Oci.Ct));
            Assert.Single(json.RootElement.GetProperty("manifests").EnumerateArray());
        }

        using (var putIndex = await Oci.PutManifestAsync(Client, "early", "latest", index, Oci.IndexType))
        {
            Assert.Equal(HttpStatusCode.Created, putIndex.StatusCode);
        }

        // An index can itself be a referrer of an index.
        var indexReferrer = Oci.Index([child], indexDescriptor, "application/vnd.example.bundle");
        using (var putReferrer = await Oci.PutManifestAsync(Client, "early", Oci.Sha256(indexReferrer), indexReferrer, Oci.IndexType))
        {
            Assert.Equal(HttpStatusCode.Created, putReferrer.StatusCode);
        }

        using var after = await Client.GetAsync($"/v2/early/referrers/{Oci.Sha256(index)}", Oci.Ct);
        using var afterJson = JsonDocument.Parse(await after.Content.ReadAsStringAsync(Oci.Ct));
        Assert.Equal(2, afterJson.RootElement.GetProperty("manifests").GetArrayLength());
    }

    [Fact]
    public async Task Referrers_of_an_unknown_subject_is_an_empty_index()
    {
        await Oci.PushBlobAsync(Client, "lonely", [1]);
        using var response = await Client.GetAsync($"/v2/lonely/referrers/{Oci.Sha256([7])}", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Oci.Ct));
        Assert.Equal(0, json.RootElement.GetProperty("manifests").GetArrayLength());
        Assert.Equal(2, json.RootElement.GetProperty("schemaVersion").GetInt32());
    }
}
