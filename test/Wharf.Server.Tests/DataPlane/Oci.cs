using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Wharf.Server.Tests.DataPlane;

/// <summary>Small helpers to build OCI content and push it over raw HTTP.</summary>
internal static class Oci
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexType = "application/vnd.oci.image.index.v1+json";

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha512(byte[] bytes) => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(bytes));

    public static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    public static async Task<string> PushBlobAsync(HttpClient client, string name, byte[] content)
    {
        var digest = Sha256(content);
        using var response = await client.PostAsync($"/v2/{name}/blobs/uploads/?digest={digest}", new ByteArrayContent(content), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return digest;
    }

    public static JsonObject Descriptor(string mediaType, byte[] content) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = Sha256(content),
        ["size"] = content.Length,
    };

    public static byte[] Manifest(byte[] config, IEnumerable<byte[]> layers, string configType = "application/vnd.oci.image.config.v1+json", JsonObject? subject = null, string? artifactType = null, JsonObject? annotations = null)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["config"] = Descriptor(configType, config),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l)).ToArray()),
        };
        if (artifactType is not null)
        {
            manifest["artifactType"] = artifactType;
        }

        if (subject is not null)
        {
            manifest["subject"] = subject;
        }

        if (annotations is not null)
        {
            manifest["annotations"] = annotations;
        }

        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    public static byte[] Index(IEnumerable<byte[]> manifests, JsonObject? subject = null, string? artifactType = null)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexType,
            ["manifests"] = new JsonArray(manifests.Select(m => (JsonNode)Descriptor(ManifestType, m)).ToArray()),
        };
        if (subject is not null)
        {
            index["subject"] = subject;
        }

        if (artifactType is not null)
        {
            index["artifactType"] = artifactType;
        }

        return Encoding.UTF8.GetBytes(index.ToJsonString());
    }

    public static ByteArrayContent Content(byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    public static async Task<HttpResponseMessage> PutManifestAsync(HttpClient client, string name, string reference, byte[] manifest, string mediaType = ManifestType) =>
        await client.PutAsync($"/v2/{name}/manifests/{reference}", Content(manifest, mediaType), Ct);

    /// <summary>Pushes a config and layers, then the manifest under <paramref name="reference"/>; returns the manifest bytes.</summary>
    public static async Task<byte[]> PushImageAsync(HttpClient client, string name, string reference, int layers = 2)
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":\"{Guid.NewGuid()}\"}}");
        await PushBlobAsync(client, name, config);
        var layerBytes = new List<byte[]>();
        for (var i = 0; i < layers; i++)
        {
            var layer = RandomBytes(1000 + i);
            await PushBlobAsync(client, name, layer);
            layerBytes.Add(layer);
        }

        var manifest = Manifest(config, layerBytes);
        using var response = await PutManifestAsync(client, name, reference, manifest);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return manifest;
    }

    public static async Task<(string Code, JsonElement Error)> ErrorAsync(HttpResponseMessage response)
    {
        var json = await response.Content.ReadAsStringAsync(Ct);
        using var document = JsonDocument.Parse(json);
        var error = document.RootElement.GetProperty("errors")[0].Clone();
        return (error.GetProperty("code").GetString()!, error);
    }

    public static async Task AssertErrorAsync(HttpResponseMessage response, System.Net.HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
        var (actual, error) = await ErrorAsync(response);
        Assert.Equal(code, actual);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single()
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.Single()
        : null;
}
