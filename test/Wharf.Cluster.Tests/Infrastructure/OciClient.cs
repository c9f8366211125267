using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Cluster.Tests.Infrastructure;

/// <summary>A blob or manifest as a client knows it: its digest and size.</summary>
internal sealed record Descriptor(string Digest, long Size);

/// <summary>A registry answer other than the one expected, with its body (the OCI error JSON, or a stack trace).</summary>
internal sealed class RegistryException(string message, HttpStatusCode status, string body) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    public string Body { get; } = body;
}

/// <summary>
/// A raw OCI Distribution client over HTTP with the cluster's Basic login. Every call names the
/// address it goes to (the balancer or one node), so one upload's requests can go to different nodes.
/// </summary>
internal sealed class OciClient(AuthenticationHeaderValue authorization) : IDisposable
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string Layer = "application/vnd.oci.image.layer.v1.tar";

    private readonly HttpClient client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(60) };

    public static string Sha256(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>An OCI image manifest for a config and layers, as bytes.</summary>
    public static byte[] Manifest(byte[] config, IEnumerable<byte[]> layers)
    {
        var layerJson = string.Join(',', layers.Select(l => $$"""{"mediaType":"{{Layer}}","digest":"{{Sha256(l)}}","size":{{l.Length}}}"""));
        return Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha256(config)}}","size":{{config.Length}}},"layers":[{{layerJson}}]}""");
    }

    /// <summary>Monolithic upload: <c>POST ?digest=</c> with the body.</summary>
    public async Task PushBlobAsync(Uri node, string repository, byte[] content, CancellationToken cancellationToken = default)
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = Request(HttpMethod.Post, node, $"v2/{repository}/blobs/uploads/?digest={Sha256(content)}", body);
        using var response = await client.SendAsync(request, cancellationToken);
        await ExpectAsync(response, HttpStatusCode.Created, cancellationToken);
    }

    /// <summary>
    /// Chunked upload whose requests go round <paramref name="nodes"/>: the <c>POST</c> to the first, each
    /// <c>PATCH</c> (with <c>Content-Range</c>) to the next, the closing <c>PUT ?digest=</c> to the one after.
    /// The relative <c>Location</c> each answer gives is resolved against the next node.
    /// </summary>
    public async Task PushBlobChunkedAsync(IReadOnlyList<Uri> nodes, string repository, byte[] content, int chunkSize, CancellationToken cancellationToken = default)
    {
        var turn = 0;
        Uri Next() => nodes[turn++ % nodes.Count];
        string location;
        using (var start = Request(HttpMethod.Post, Next(), $"v2/{repository}/blobs/uploads/"))
        using (var started = await client.SendAsync(start, cancellationToken))
        {
            await ExpectAsync(started, HttpStatusCode.Accepted, cancellationToken);
            location = Location(started);
        }

        for (var offset = 0; offset < content.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, content.Length - offset);
            using var chunk = new ByteArrayContent(content, offset, length);
            chunk.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            chunk.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
            using var request = Request(HttpMethod.Patch, Next(), location, chunk);
            using var patched = await client.SendAsync(request, cancellationToken);
            await ExpectAsync(patched, HttpStatusCode.Accepted, cancellationToken);
            location = Location(patched);
        }

        var separator = location.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        using var put = Request(HttpMethod.Put, Next(), $"{location}{separator}digest={Sha256(content)}");
        using var done = await client.SendAsync(put, cancellationToken);
        await ExpectAsync(done, HttpStatusCode.Created, cancellationToken);
    }

    /// <summary><c>HEAD</c> of a blob: whether a client would skip uploading it.</summary>
    public async Task<bool> BlobExistsAsync(Uri node, string repository, string digest, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Head, node, $"v2/{repository}/blobs/{digest}");
        using var response = await client.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound)
        {
            return response.StatusCode == HttpStatusCode.OK;
        }

        throw await FailureAsync(response, cancellationToken);
    }

    /// <summary>Puts a manifest under a tag; the push is acknowledged when this returns.</summary>
    public async Task PushManifestAsync(Uri node, string repository, string tag, byte[] manifest, CancellationToken cancellationToken = default)
    {
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(OciManifest);
        using var request = Request(HttpMethod.Put, node, $"v2/{repository}/manifests/{tag}", body);
        using var response = await client.SendAsync(request, cancellationToken);
        await ExpectAsync(response, HttpStatusCode.Created, cancellationToken);
    }

    public async Task DeleteManifestAsync(Uri node, string repository, string digest, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Delete, node, $"v2/{repository}/manifests/{digest}");
        using var response = await client.SendAsync(request, cancellationToken);
        await ExpectAsync(response, HttpStatusCode.Accepted, cancellationToken);
    }

    /// <summary>A manifest's bytes, or null when it is not found.</summary>
    public async Task<byte[]?> GetManifestAsync(Uri node, string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, node, $"v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd(OciManifest);
        using var response = await client.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await ExpectAsync(response, HttpStatusCode.OK, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>Downloads a blob, hashing it as it streams; null when it is not found.</summary>
    public async Task<Descriptor?> GetBlobAsync(Uri node, string repository, string digest, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, node, $"v2/{repository}/blobs/{digest}");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await ExpectAsync(response, HttpStatusCode.OK, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long size = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            size += read;
        }

        return new Descriptor("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    /// <summary>A plain GET (health, say): status and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri address, string path, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, address, path);
        using var response = await client.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public void Dispose() => client.Dispose();

    private HttpRequestMessage Request(HttpMethod method, Uri node, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, new Uri(node, path.TrimStart('/'))) { Content = content };
        request.Headers.Authorization = authorization;
        return request;
    }

    private static string Location(HttpResponseMessage response) =>
        response.Headers.Location?.OriginalString ?? throw new RegistryException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered without a Location", response.StatusCode, string.Empty);

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        if (response.StatusCode != expected)
        {
            throw await FailureAsync(response, cancellationToken);
        }
    }

    private static async Task<RegistryException> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new RegistryException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} → {(int)response.StatusCode}: {(body.Length > 600 ? body[..600] : body)}", response.StatusCode, body);
    }
}
