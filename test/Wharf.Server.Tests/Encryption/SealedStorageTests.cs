using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Encryption;

/// <summary>
/// Issue 21, point 1: blobs pushed by real clients are sealed at rest on both blob stores. The raw files of the
/// filesystem store and the raw objects on Ceph RGW are scanned for known plaintext (a layer's marker, the config's
/// marker): nothing is found, while pulls and ranged reads give back the exact bytes. One server per store, shared.
/// </summary>
[Collection(nameof(SealedStorageCollection))]
public sealed class SealedStorageTests(SealedStorageFixture fixture)
{
    private const int Segment = SealedFormat.SegmentSize;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("fs")]
    [InlineData("s3")]
    public async Task Skopeo_round_trips_an_image_whose_layer_and_config_are_found_nowhere_in_raw_storage(string store)
    {
        var server = fixture.Server(store);
        var marker = "WHARF-PLAINTEXT-MARKER-" + Guid.NewGuid().ToString("N");
        var configMarker = "WHARF-CONFIG-MARKER-" + Guid.NewGuid().ToString("N");
        var image = MarkedImage.Write(Path.Combine(fixture.WorkDirectory, "marked-" + Guid.NewGuid().ToString("N")), marker, configMarker);
        var target = $"docker://{server.HostAndPort}/sealed/{store}-skopeo:v1";
        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", "--preserve-digests", $"oci:{image.Directory}:v1", target)).EnsureSuccess();

        var outDir = Path.Combine(fixture.WorkDirectory, "pulled-" + Guid.NewGuid().ToString("N"));
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", target, $"oci:{outDir}:v1")).EnsureSuccess();
        foreach (var (digest, bytes) in new[] { (image.LayerDigest, image.Layer), (image.ConfigDigest, image.Config) })
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(outDir, "blobs", "sha256", digest["sha256:".Length..]), Ct));
        }

        // The layer holds its marker as plain bytes (stored, uncompressed gzip blocks), and so does the config.
        Assert.True(image.Layer.AsSpan().IndexOf(Encoding.ASCII.GetBytes(marker)) >= 0);
        await AssertNowhereInRawStorageAsync(store, server, [marker, configMarker, image.LayerDigest["sha256:".Length..]]);
    }

    [Theory]
    [InlineData("fs")]
    [InlineData("s3")]
    public async Task Monolithic_and_chunked_pushes_read_back_byte_identical_over_ranges_at_segment_and_chunk_boundaries(string store)
    {
        var server = fixture.Server(store);
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var marker = Encoding.ASCII.GetBytes("RANGED-MARKER-" + Guid.NewGuid().ToString("N"));
        var content = RandomNumberGenerator.GetBytes((5 * Segment) + 777);
        for (var at = 0; at + marker.Length < content.Length; at += 50_000)
        {
            marker.CopyTo(content, at);
        }

        var chunked = RandomNumberGenerator.GetBytes((4 * Segment) + 5);
        marker.CopyTo(chunked, 0);
        var repository = $"sealed/{store}-ranges";
        await pusher.PushBlobMonolithicAsync(repository, content, Ct);

        // Chunks of 100000 bytes: every chunk is a run under its own key; ranges cross runs and segments.
        await pusher.PushBlobChunkedAsync(repository, chunked, 100_000, Ct);

        foreach (var blob in new[] { content, chunked })
        {
            var digest = OciPusher.Sha256(blob);
            var whole = await client.GetByteArrayAsync(new Uri($"/v2/{repository}/blobs/{digest}", UriKind.Relative), Ct);
            Assert.Equal(blob, whole);
            var points = new SortedSet<long> { 0, 1, blob.Length - 1, blob.Length - 2 };
            foreach (var boundary in new long[] { Segment, 2 * Segment, 100_000, 200_000, 3 * Segment })
            {
                points.UnionWith([boundary - 1, boundary, boundary + 1]);
            }

            var list = points.Where(p => p >= 0 && p < blob.Length).ToList();
            foreach (var (from, to) in list.SelectMany(f => list.Where(t => t >= f).Select(t => (f, t))).Where((_, i) => i % 3 == 0)
                .Append((Segment + 10, Segment + 20)) // inside one segment
                .Append((5, blob.Length - 5))) // across many
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v2/{repository}/blobs/{digest}", UriKind.Relative));
                request.Headers.Range = new RangeHeaderValue(from, to);
                using var response = await client.SendAsync(request, Ct);
                Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
                Assert.Equal($"bytes {from}-{to}/{blob.Length}", response.Content.Headers.ContentRange!.ToString());
                var body = await response.Content.ReadAsByteArrayAsync(Ct);
                Assert.True(blob.AsSpan((int)from, (int)(to - from + 1)).SequenceEqual(body), $"range {from}-{to}");
            }

            // HEAD answers from the metadata, with the plaintext's size.
            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri($"/v2/{repository}/blobs/{digest}", UriKind.Relative)), Ct);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(blob.Length, head.Content.Headers.ContentLength);
        }

        await AssertNowhereInRawStorageAsync(store, server, [Encoding.ASCII.GetString(marker)]);
    }

    [Theory]
    [InlineData("fs")]
    [InlineData("s3")]
    public async Task The_same_blob_pushed_to_two_repositories_under_the_master_key_is_stored_once(string store)
    {
        var server = fixture.Server(store);
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var blob = RandomNumberGenerator.GetBytes(3000);
        var digest = OciPusher.Sha256(blob);
        await pusher.PushBlobMonolithicAsync($"sealed/{store}-dedup-a", blob, Ct);
        await pusher.PushBlobChunkedAsync($"sealed/{store}-dedup-b", blob, 1000, Ct);

        var copies = await server.GetService<IMetadataStore>().SealedCopies.ListAsync(Digest.Parse(digest), Ct);
        var copy = Assert.Single(copies);
        Assert.Equal(BlobScope.Master.Id, copy.ScopeId);
        Assert.Equal([0L], copy.Runs); // the first upload's copy; the second was discarded
        var objects = await RawObjectsAsync(store, server);
        Assert.Single(objects, o => o.Name.Contains(copy.Address.Hex, StringComparison.Ordinal));
        Assert.DoesNotContain(objects, o => o.Name.Contains(digest["sha256:".Length..], StringComparison.Ordinal));
        foreach (var repository in new[] { "a", "b" })
        {
            Assert.Equal(blob, await client.GetByteArrayAsync(new Uri($"/v2/sealed/{store}-dedup-{repository}/blobs/{digest}", UriKind.Relative), Ct));
        }
    }

    [Theory]
    [InlineData("fs")]
    [InlineData("s3")]
    public async Task An_upload_in_progress_is_sealed_in_its_staging_area_too(string store)
    {
        var server = fixture.Server(store);
        using var client = server.CreateClient();
        var marker = "STAGED-MARKER-" + Guid.NewGuid().ToString("N");
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(marker + "\n", 2000)));
        using var start = await client.PostAsync(new Uri($"/v2/sealed/{store}-staged/blobs/uploads/", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!;
        using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(chunk) };
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var patched = await client.SendAsync(patch, Ct);
        Assert.Equal(HttpStatusCode.Accepted, patched.StatusCode);

        var objects = await RawObjectsAsync(store, server);
        Assert.Contains(objects, o => o.Bytes.Length == SealedFormat.SealedLength(chunk.Length)); // the staged run
        await AssertNowhereInRawStorageAsync(store, server, [marker]);
        using var cancelled = await client.DeleteAsync(patched.Headers.Location!, Ct);
        Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
    }

    [Fact]
    public async Task A_sealed_blob_on_S3_is_streamed_never_redirected_to_its_ciphertext()
    {
        // The S3 server has Storage:S3:Redirect on: plaintext blobs would get a presigned URL, sealed ones must not.
        var server = fixture.Server("s3");
        using var client = server.CreateClient();
        var blob = RandomNumberGenerator.GetBytes(1234);
        await new OciPusher(client).PushBlobMonolithicAsync("sealed/s3-redirect", blob, Ct);
        using var response = await client.GetAsync(new Uri($"/v2/sealed/s3-redirect/blobs/{OciPusher.Sha256(blob)}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Altered_bytes_in_the_blob_store_fail_the_pull_rather_than_serve_wrong_bytes()
    {
        var server = fixture.Server("fs");
        using var client = server.CreateClient();
        var blob = RandomNumberGenerator.GetBytes((2 * Segment) + 10);
        var digest = OciPusher.Sha256(blob);
        await new OciPusher(client).PushBlobMonolithicAsync("sealed/fs-tampered", blob, Ct);
        var copy = await server.GetService<IMetadataStore>().SealedCopies.GetAsync(Digest.Parse(digest), BlobScope.Master.Id, Ct);
        var path = Path.Combine(server.DataDirectory, "blobs", "blobs", "sha256", copy!.Address.Hex[..2], copy.Address.Hex);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = SealedFormat.HeaderSize + Segment + 16 + 100; // inside the second segment
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x40));
        }

        // The first segment is still served (it is authentic); the second is not: the body stops short.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v2/sealed/fs-tampered/blobs/{digest}", UriKind.Relative));
        request.Headers.Range = new RangeHeaderValue(Segment + 50, Segment + 60);
        var failed = false;
        try
        {
            using var response = await client.SendAsync(request, Ct);
            var body = await response.Content.ReadAsByteArrayAsync(Ct);
            failed = response.StatusCode != HttpStatusCode.PartialContent || !blob.AsSpan(Segment + 50, 11).SequenceEqual(body);
            Assert.False(response.StatusCode == HttpStatusCode.PartialContent && body.Length == 11, "a tampered segment was served");
        }
        catch (HttpRequestException)
        {
            failed = true;
        }

        Assert.True(failed);
        using var first = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v2/sealed/fs-tampered/blobs/{digest}", UriKind.Relative));
        first.Headers.Range = new RangeHeaderValue(0, 99);
        using var ok = await client.SendAsync(first, Ct);
        Assert.Equal(blob[..100], await ok.Content.ReadAsByteArrayAsync(Ct));
    }

    private async Task AssertNowhereInRawStorageAsync(string store, WharfTestServer server, IReadOnlyList<string> needles)
    {
        var objects = await RawObjectsAsync(store, server);
        Assert.NotEmpty(objects);
        foreach (var (name, bytes) in objects)
        {
            foreach (var needle in needles)
            {
                Assert.DoesNotContain(needle, name, StringComparison.Ordinal);
                Assert.True(bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(needle)) < 0, $"{needle} found in raw {store} object {name}");
            }
        }
    }

    /// <summary>Every file of the filesystem store, or every object in the S3 bucket, as raw bytes.</summary>
    private static async Task<List<(string Name, byte[] Bytes)>> RawObjectsAsync(string store, WharfTestServer server)
    {
        var objects = new List<(string, byte[])>();
        if (store == "fs")
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "blobs"), "*", SearchOption.AllDirectories))
            {
                objects.Add((file, await File.ReadAllBytesAsync(file, Ct)));
            }

            return objects;
        }

        var rgw = await RgwServer.GetAsync();
        using var s3 = rgw.CreateClient();
        var request = new ListObjectsV2Request { BucketName = server.S3Bucket };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(request, Ct);
            foreach (var entry in page.S3Objects ?? [])
            {
                using var get = await s3.GetObjectAsync(server.S3Bucket, entry.Key, Ct);
                using var buffer = new MemoryStream();
                await get.ResponseStream.CopyToAsync(buffer, Ct);
                objects.Add((entry.Key, buffer.ToArray()));
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return objects;
    }

    /// <summary>An OCI layout of one image: a layer of stored (uncompressed) gzip blocks holding a marker, and a config holding another.</summary>
    private sealed record MarkedImage(string Directory, byte[] Layer, string LayerDigest, byte[] Config, string ConfigDigest)
    {
        public static MarkedImage Write(string directory, string marker, string configMarker)
        {
            var content = new StringBuilder();
            while (content.Length < 3 * Segment)
            {
                content.Append(marker).Append(' ').Append(Guid.NewGuid().ToString("N")).Append('\n');
            }

            var tar = new MemoryStream();
            using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
            {
                var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "secret.txt")
                {
                    DataStream = new MemoryStream(Encoding.ASCII.GetBytes(content.ToString())),
                };
                writer.WriteEntry(entry);
            }

            var gz = new MemoryStream();
            using (var gzip = new GZipStream(gz, CompressionLevel.NoCompression, leaveOpen: true))
            {
                gzip.Write(tar.ToArray());
            }

            var layer = gz.ToArray();
            var diffId = OciPusher.Sha256(tar.ToArray());
            var config = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
            {
                architecture = "amd64",
                os = "linux",
                config = new { Labels = new Dictionary<string, string> { ["secret"] = configMarker } },
                rootfs = new { type = "layers", diff_ids = new[] { diffId } },
            }));
            var manifest = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
            {
                schemaVersion = 2,
                mediaType = "application/vnd.oci.image.manifest.v1+json",
                config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = OciPusher.Sha256(config), size = config.Length },
                layers = new[] { new { mediaType = OciLayout.LayerTarGzip, digest = OciPusher.Sha256(layer), size = layer.Length } },
            }));
            var blobs = System.IO.Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256")).FullName;
            foreach (var bytes in new[] { layer, config, manifest })
            {
                File.WriteAllBytes(Path.Combine(blobs, OciPusher.Sha256(bytes)["sha256:".Length..]), bytes);
            }

            File.WriteAllText(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
            File.WriteAllText(Path.Combine(directory, "index.json"), JsonSerializer.Serialize(new
            {
                schemaVersion = 2,
                manifests = new[]
                {
                    new
                    {
                        mediaType = "application/vnd.oci.image.manifest.v1+json",
                        digest = OciPusher.Sha256(manifest),
                        size = manifest.Length,
                        annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = "v1" },
                    },
                },
            }));
            return new MarkedImage(directory, layer, OciPusher.Sha256(layer), config, OciPusher.Sha256(config));
        }
    }
}

[CollectionDefinition(nameof(SealedStorageCollection))]
public sealed class SealedStorageCollection : ICollectionFixture<SealedStorageFixture>;

/// <summary>Two servers with sealing on (the default): one on the filesystem store, one on Ceph RGW with redirects on.</summary>
public sealed class SealedStorageFixture : IAsyncLifetime
{
    private WharfTestServer? fileSystem;
    private WharfTestServer? s3;

    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "wharf-sealed-" + Guid.NewGuid().ToString("N"));

    public WharfTestServer Server(string store) => (store == "fs" ? fileSystem : s3) ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(WorkDirectory);
        var starting = WharfTestServer.StartOnS3Async(S3RedirectTests.Redirecting(TimeSpan.FromMinutes(5)));
        fileSystem = await WharfTestServer.StartAsync();
        s3 = await starting;
    }

    public async ValueTask DisposeAsync()
    {
        if (fileSystem is not null)
        {
            await fileSystem.DisposeAsync();
        }

        if (s3 is not null)
        {
            await s3.DisposeAsync();
        }

        Directory.Delete(WorkDirectory, recursive: true);
    }
}
