using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.DataPlane;

/// <summary>
/// What a manifest PUT refuses before storing anything, on /v2 (OCI errors) and through ECR's
/// <c>PutImage</c> (AWS errors): strings that are not Unicode, more references than the limits,
/// descriptor sizes that are not the real ones. Also the 404 for a reference that cannot name a manifest.
/// </summary>
public sealed class ManifestValidationTests : ServerTest
{
    private const string Marker = "@@BAD@@";

    /// <summary>Pushes a config and one layer to <paramref name="name"/>; returns a valid manifest for them as a JSON tree.</summary>
    private async Task<JsonObject> PushedManifestAsync(string name)
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":\"{Guid.NewGuid()}\"}}");
        var layer = Oci.RandomBytes(1000);
        await Oci.PushBlobAsync(Client, name, config);
        await Oci.PushBlobAsync(Client, name, layer);
        return JsonNode.Parse(Oci.Manifest(config, [layer]))!.AsObject();
    }

    /// <summary>The manifest's bytes with <see cref="Marker"/> replaced by raw invalid UTF-8 or by an escaped lone surrogate.</summary>
    private static byte[] Splice(JsonNode manifest, bool rawBytes)
    {
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var at = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Marker));
        Assert.True(at >= 0);
        byte[] bad = rawBytes ? [0xC3, 0x28, 0xFF] : Encoding.ASCII.GetBytes("\\ud800");
        return [.. bytes[..at], .. bad, .. bytes[(at + Marker.Length)..]];
    }

    private static void Place(JsonObject manifest, string where)
    {
        var layer = manifest["layers"]![0]!.AsObject();
        var config = manifest["config"]!.AsObject();
        switch (where)
        {
            case "mediaType":
                manifest["mediaType"] = Oci.ManifestType + Marker;
                break;
            case "config.mediaType":
                config["mediaType"] = config["mediaType"]!.GetValue<string>() + Marker;
                break;
            case "config.digest":
                config["digest"] = config["digest"]!.GetValue<string>() + Marker;
                break;
            case "layer.mediaType":
                layer["mediaType"] = layer["mediaType"]!.GetValue<string>() + Marker;
                break;
            case "layer.digest":
                layer["digest"] = Marker + layer["digest"]!.GetValue<string>();
                break;
            case "layer.urls":
                layer["urls"] = new JsonArray("https://example.com/" + Marker);
                break;
            case "layer.annotations":
                layer["annotations"] = new JsonObject { ["org.example"] = Marker };
                break;
            case "subject.digest":
                manifest["subject"] = new JsonObject { ["mediaType"] = Oci.ManifestType, ["digest"] = "sha256:" + Marker, ["size"] = 10 };
                break;
            case "annotations.value":
                manifest["annotations"] = new JsonObject { ["org.opencontainers.image.title"] = "title " + Marker };
                break;
            case "annotations.key":
                manifest["annotations"] = new JsonObject { ["org." + Marker] = "value" };
                break;
            case "artifactType":
                manifest["artifactType"] = "application/vnd.example" + Marker;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(where), where, null);
        }
    }

    [Theory]
    [InlineData("mediaType", true)]
    [InlineData("mediaType", false)]
    [InlineData("config.mediaType", true)]
    [InlineData("config.digest", false)]
    [InlineData("layer.mediaType", false)]
    [InlineData("layer.digest", true)]
    [InlineData("layer.digest", false)]
    [InlineData("layer.urls", true)]
    [InlineData("layer.annotations", false)]
    [InlineData("subject.digest", false)]
    [InlineData("annotations.value", true)]
    [InlineData("annotations.value", false)]
    [InlineData("annotations.key", true)]
    [InlineData("annotations.key", false)]
    [InlineData("artifactType", false)]
    public async Task String_that_is_not_unicode_anywhere_in_a_manifest_is_manifest_invalid(string where, bool rawBytes)
    {
        var manifest = await PushedManifestAsync("unicode/app");
        Place(manifest, where);

        using var response = await Oci.PutManifestAsync(Client, "unicode/app", "v1", Splice(manifest, rawBytes));

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        var (_, error) = await Oci.ErrorAsync(response);
        Assert.Contains("UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var get = await Client.GetAsync("/v2/unicode/app/manifests/v1", Oci.Ct);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task String_that_is_not_unicode_in_an_index_is_manifest_invalid(bool rawBytes)
    {
        var child = await Oci.PushImageAsync(Client, "unicode/index", "child", layers: 1);
        foreach (var place in new Action<JsonObject>[]
        {
            index => index["manifests"]![0]!["digest"] = Oci.Sha256(child) + Marker,
            index => index["manifests"]![0]!["platform"] = new JsonObject { ["architecture"] = Marker, ["os"] = "linux" },
            index => index["annotations"] = new JsonObject { ["org.example"] = Marker },
        })
        {
            var index = JsonNode.Parse(Oci.Index([child]))!.AsObject();
            place(index);
            using var response = await Oci.PutManifestAsync(Client, "unicode/index", "multi", Splice(index, rawBytes), Oci.IndexType);
            await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        }
    }

    [Fact]
    public async Task Put_image_of_a_manifest_with_a_lone_surrogate_is_invalid_parameter()
    {
        var manifest = await PushedManifestAsync("unicode/ecr");
        Place(manifest, "annotations.value");
        // The manifest text itself carries the escape; the request body escapes its backslash.
        var text = Encoding.ASCII.GetString(Splice(manifest, rawBytes: false));
        var body = new JsonObject { ["repositoryName"] = "unicode/ecr", ["imageManifest"] = text, ["imageTag"] = "v1" };

        var message = EcrHttp.AssertError(await EcrHttp.CallAsync(Client, "PutImage", body.ToJsonString()), "InvalidParameterException");

        Assert.StartsWith("Invalid parameter at 'ImageManifest' failed to satisfy constraint:", message, StringComparison.Ordinal);
        Assert.Contains("UTF-8", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Put_image_whose_request_carries_invalid_utf8_or_a_lone_surrogate_in_the_manifest_is_a_400_in_aws_shape(bool rawBytes)
    {
        var manifest = await PushedManifestAsync("unicode/body");
        Place(manifest, "annotations.value");
        // Here the request body itself is not Unicode text: the manifest string cannot even be read.
        var body = new JsonObject { ["repositoryName"] = "unicode/body", ["imageManifest"] = manifest.ToJsonString(), ["imageTag"] = "v1" };
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        var at = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Marker));
        byte[] bad = rawBytes ? [0xC3, 0x28, 0xFF] : Encoding.ASCII.GetBytes("\\ud800");
        using var request = EcrHttp.Request("PutImage", "{}");
        request.Content = new ByteArrayContent([.. bytes[..at], .. bad, .. bytes[(at + Marker.Length)..]]);
        request.Content.Headers.ContentType = new("application/x-amz-json-1.1");

        var result = await EcrHttp.SendAsync(Client, request);

        Assert.Equal(400, result.Status);
        Assert.Contains(result.Body.RootElement.GetProperty("__type").GetString(), new[] { "SerializationException", "InvalidParameterException" });
        var (status, got, _) = await EcrHttp.CallAsync(Client, "BatchGetImage", "{\"repositoryName\":\"unicode/body\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
        Assert.Equal(200, status);
        Assert.Equal(0, got.RootElement.GetProperty("images").GetArrayLength());
    }

    private static string FakeDigest(int i) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));

    private static byte[] ManifestWithLayers(string configDigest, int configSize, int layers) =>
        Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = Oci.ManifestType,
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = configDigest, ["size"] = configSize },
            ["layers"] = new JsonArray([.. Enumerable.Range(0, layers).Select(i => (JsonNode)new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip",
                ["digest"] = FakeDigest(i),
                ["size"] = 1000 + i,
            })]),
        }.ToJsonString());

    [Fact]
    public async Task Manifest_with_more_layers_than_the_limit_is_refused_naming_the_limit()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "limits/app", config);

        using var response = await Oci.PutManifestAsync(Client, "limits/app", "v1", ManifestWithLayers(Oci.Sha256(config), config.Length, 501));

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        var (_, error) = await Oci.ErrorAsync(response);
        Assert.Contains("Limit on number of layers per image exceeded", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("500", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        var ecr = new JsonObject { ["repositoryName"] = "limits/app", ["imageManifest"] = Encoding.UTF8.GetString(ManifestWithLayers(Oci.Sha256(config), config.Length, 501)) };
        var message = EcrHttp.AssertError(await EcrHttp.CallAsync(Client, "PutImage", ecr.ToJsonString()), "InvalidParameterException");
        Assert.Contains("Limit on number of layers per image exceeded", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_at_the_layer_limit_with_every_layer_missing_is_manifest_blob_unknown_naming_each()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        await Oci.PushBlobAsync(Client, "limits/at", config);

        using var response = await Oci.PutManifestAsync(Client, "limits/at", "v1", ManifestWithLayers(Oci.Sha256(config), config.Length, 500));

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        var (_, error) = await Oci.ErrorAsync(response);
        var named = error.GetProperty("detail").GetProperty("blobs").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        Assert.Equal(Enumerable.Range(0, 500).Select(FakeDigest).ToHashSet(), named);
    }

    [Fact]
    public async Task Index_with_more_manifests_than_the_limit_is_refused_and_at_the_limit_names_the_missing()
    {
        static byte[] IndexOf(int n) => Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = Oci.IndexType,
            ["manifests"] = new JsonArray([.. Enumerable.Range(0, n).Select(i => (JsonNode)new JsonObject
            {
                ["mediaType"] = Oci.ManifestType,
                ["digest"] = FakeDigest(i),
                ["size"] = 500,
            })]),
        }.ToJsonString());

        await Oci.PushImageAsync(Client, "limits/index", "child", layers: 0);
        using var over = await Oci.PutManifestAsync(Client, "limits/index", "multi", IndexOf(1001), Oci.IndexType);
        await Oci.AssertErrorAsync(over, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        var (_, error) = await Oci.ErrorAsync(over);
        Assert.Contains("the limit is 1000", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var at = await Oci.PutManifestAsync(Client, "limits/index", "multi", IndexOf(1000), Oci.IndexType);
        var (code, missing) = await Oci.ErrorAsync(at);
        Assert.Equal("MANIFEST_UNKNOWN", code);
        Assert.Equal(1000, missing.GetProperty("detail").GetProperty("manifests").GetArrayLength());
    }

    [Theory]
    [InlineData("config", 1)]
    [InlineData("config", -1)]
    [InlineData("layer", 1)]
    [InlineData("layer", -999)]
    public async Task Descriptor_size_other_than_the_blobs_is_manifest_invalid_and_nothing_is_stored(string which, int delta)
    {
        var manifest = await PushedManifestAsync("sizes/app");
        var descriptor = which == "config" ? manifest["config"]! : manifest["layers"]![0]!;
        var actual = descriptor["size"]!.GetValue<long>();
        descriptor["size"] = actual + delta;

        using var response = await Oci.PutManifestAsync(Client, "sizes/app", "v1", Encoding.UTF8.GetBytes(manifest.ToJsonString()));

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        var (_, error) = await Oci.ErrorAsync(response);
        Assert.Equal(descriptor["digest"]!.GetValue<string>(), error.GetProperty("detail").GetProperty("digest").GetString());
        Assert.Equal(actual, error.GetProperty("detail").GetProperty("actual").GetInt64());
        Assert.Equal(actual + delta, error.GetProperty("detail").GetProperty("declared").GetInt64());
        using var get = await Client.GetAsync("/v2/sizes/app/manifests/v1", Oci.Ct);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);

        descriptor["size"] = actual;
        using var fixedSizes = await Oci.PutManifestAsync(Client, "sizes/app", "v1", Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        Assert.Equal(HttpStatusCode.Created, fixedSizes.StatusCode);
    }

    [Fact]
    public async Task One_digest_declared_with_two_sizes_is_manifest_invalid()
    {
        var manifest = await PushedManifestAsync("sizes/twice");
        var layer = manifest["layers"]![0]!.DeepClone();
        layer["size"] = layer["size"]!.GetValue<long>() + 1;
        manifest["layers"]!.AsArray().Add(layer);

        using var response = await Oci.PutManifestAsync(Client, "sizes/twice", "v1", Encoding.UTF8.GetBytes(manifest.ToJsonString()));

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Index_entry_size_other_than_the_child_manifests_is_manifest_invalid()
    {
        var child = await Oci.PushImageAsync(Client, "sizes/index", "child", layers: 1);
        var index = JsonNode.Parse(Oci.Index([child]))!;
        index["manifests"]![0]!["size"] = child.Length + 1;

        using var response = await Oci.PutManifestAsync(Client, "sizes/index", "multi", Encoding.UTF8.GetBytes(index.ToJsonString()), Oci.IndexType);

        await Oci.AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        var (_, error) = await Oci.ErrorAsync(response);
        Assert.Equal(child.Length, error.GetProperty("detail").GetProperty("actual").GetInt64());
        using var good = await Oci.PutManifestAsync(Client, "sizes/index", "multi", Oci.Index([child]), Oci.IndexType);
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
    }

    [Fact]
    public async Task Put_image_with_a_wrong_layer_size_is_invalid_parameter()
    {
        var manifest = await PushedManifestAsync("sizes/ecr");
        manifest["layers"]![0]!["size"] = 1;
        var body = new JsonObject { ["repositoryName"] = "sizes/ecr", ["imageManifest"] = manifest.ToJsonString(), ["imageTag"] = "v1" };

        var message = EcrHttp.AssertError(await EcrHttp.CallAsync(Client, "PutImage", body.ToJsonString()), "InvalidParameterException");

        Assert.Contains("is 1000 bytes but the manifest's descriptor declares 1 bytes", message, StringComparison.Ordinal);
        var (status, got, _) = await EcrHttp.CallAsync(Client, "BatchGetImage", "{\"repositoryName\":\"sizes/ecr\",\"imageIds\":[{\"imageTag\":\"v1\"}]}");
        Assert.Equal(200, status);
        Assert.Equal(0, got.RootElement.GetProperty("images").GetArrayLength());
    }

    [Theory]
    [InlineData("-bad")]
    [InlineData(".dot")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task Get_head_and_delete_of_a_reference_that_is_no_valid_tag_are_manifest_unknown_and_put_is_tag_invalid(string reference)
    {
        var manifest = await Oci.PushImageAsync(Client, "refs/app", "v1", layers: 0);

        using var get = await Client.GetAsync($"/v2/refs/app/manifests/{reference}", Oci.Ct);
        await Oci.AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/refs/app/manifests/{reference}"), Oci.Ct);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        using var delete = await Client.DeleteAsync($"/v2/refs/app/manifests/{reference}", Oci.Ct);
        await Oci.AssertErrorAsync(delete, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var put = await Oci.PutManifestAsync(Client, "refs/app", reference, manifest);
        await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "TAG_INVALID");

        // The repository is still checked first.
        using var missingRepository = await Client.GetAsync($"/v2/refs/none/manifests/{reference}", Oci.Ct);
        await Oci.AssertErrorAsync(missingRepository, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }
}
