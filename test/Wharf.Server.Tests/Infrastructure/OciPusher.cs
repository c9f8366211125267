using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>A minimal OCI push/pull client over raw HTTP, for tests that need many small pushes.</summary>
public sealed class OciPusher(HttpClient client)
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Monolithic upload: <c>POST ?digest=</c> with the body.</summary>
    public async Task PushBlobMonolithicAsync(string repository, byte[] content, CancellationToken cancellationToken = default)
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await client.PostAsync($"/v2/{repository}/blobs/uploads/?digest={Sha256(content)}", body, cancellationToken);
        Expect(response, HttpStatusCode.Created);
    }

    /// <summary>Chunked upload: <c>POST</c>, <c>PATCH</c> per chunk with <c>Content-Range</c>, final <c>PUT ?digest=</c>.</summary>
    public async Task PushBlobChunkedAsync(string repository, byte[] content, int chunkSize, CancellationToken cancellationToken = default)
    {
        using var start = await client.PostAsync($"/v2/{repository}/blobs/uploads/", null, cancellationToken);
        Expect(start, HttpStatusCode.Accepted);
        var location = start.Headers.Location!.ToString();
        for (var offset = 0; offset < content.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, content.Length - offset);
            using var chunk = new ByteArrayContent(content, offset, length);
            chunk.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = chunk };
            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
            using var patched = await client.SendAsync(request, cancellationToken);
            Expect(patched, HttpStatusCode.Accepted);
            location = patched.Headers.Location!.ToString();
        }

        var separator = location.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        using var put = new HttpRequestMessage(HttpMethod.Put, $"{location}{separator}digest={Sha256(content)}");
        using var done = await client.SendAsync(put, cancellationToken);
        Expect(done, HttpStatusCode.Created);
    }

    /// <summary>Pushes an OCI manifest for the given config and layers; returns its bytes.</summary>
    public async Task<byte[]> PushManifestAsync(string repository, string reference, byte[] config, IEnumerable<byte[]> layers, CancellationToken cancellationToken = default)
    {
        var layerJson = string.Join(',', layers.Select(l => $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Sha256(l)}}","size":{{l.Length}}}"""));
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha256(config)}}","size":{{config.Length}}},"layers":[{{layerJson}}]}""");
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(OciManifest);
        using var response = await client.PutAsync($"/v2/{repository}/manifests/{reference}", body, cancellationToken);
        Expect(response, HttpStatusCode.Created);
        return manifest;
    }

    public async Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(OciManifest);
        using var response = await client.SendAsync(request, cancellationToken);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsByteArrayAsync(cancellationToken) : null;
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} → {(int)response.StatusCode}, expected {(int)status}", null, response.StatusCode);
        }
    }
}
