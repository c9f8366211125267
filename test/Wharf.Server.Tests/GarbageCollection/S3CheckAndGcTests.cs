using Amazon.S3.Model;
using Wharf.Core.Encryption;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.GarbageCollection;

/// <summary>
/// <c>wharf check</c> and <c>wharf gc</c> on a server whose blobs are in an S3 bucket (a real RGW): the
/// check verifies sizes, and digests with <c>--deep</c>, reading the objects back; GC removes an
/// unreferenced blob's object from the bucket and keeps the referenced ones.
/// </summary>
public sealed class S3CheckAndGcTests
{
    [Fact]
    public async Task Check_and_gc_work_on_the_bucket_and_a_deep_check_finds_an_object_overwritten_behind_wharfs_back()
    {
        var rgw = await RgwServer.GetAsync();
        await using var server = await WharfTestServer.StartOnS3Async(new Dictionary<string, string?> { ["Gc:Enabled"] = "false" }, rgw: rgw);
        using var client = server.CreateClient();
        var manifest = await Oci.PushImageAsync(client, "s3/check", "v1", layers: 2);
        var layer = S3RedirectTests.FirstLayer(manifest);
        var orphan = Oci.RandomBytes(3000);
        var orphanDigest = await Oci.PushBlobAsync(client, "s3/check", orphan);

        // Blobs are sealed at rest: each is the object of its sealed copy's address.
        var orphanAddress = await AddressOfAsync(server, orphanDigest);
        var layerAddress = await AddressOfAsync(server, layer);
        Assert.NotEmpty(await KeysOfAsync(rgw, server.S3Bucket!, orphanAddress));

        var healthy = await WharfAsync(server, [], "check");
        Assert.Equal(0, healthy.ExitCode);
        Assert.Contains("checked 3 referenced blobs: no problems", healthy.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, (await WharfAsync(server, [], "check", "--deep")).ExitCode);

        // GC with a short grace window: the blob no manifest references leaves the bucket, the rest stay.
        await Task.Delay(TimeSpan.FromSeconds(2), Oci.Ct);
        var gc = await WharfAsync(server, new Dictionary<string, string> { ["WHARF__Gc__GraceWindow"] = "00:00:01" }, "gc");
        gc.EnsureSuccess();
        Assert.Contains("1 blobs (3000 bytes)", gc.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(await KeysOfAsync(rgw, server.S3Bucket!, orphanAddress));
        Assert.NotEmpty(await KeysOfAsync(rgw, server.S3Bucket!, layerAddress));
        using (var kept = await client.GetAsync(new Uri($"/v2/s3/check/blobs/{layer}", UriKind.Relative), Oci.Ct))
        {
            Assert.Equal(layer, Oci.Sha256(await kept.Content.ReadAsByteArrayAsync(Oci.Ct)));
        }

        // Other bytes of the same size written straight into the layer's object: only a deep check can tell.
        var key = Assert.Single(await KeysOfAsync(rgw, server.S3Bucket!, layerAddress));
        using (var s3 = rgw.CreateClient())
        {
            var size = (await s3.GetObjectMetadataAsync(server.S3Bucket, key, Oci.Ct)).ContentLength;
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = server.S3Bucket, Key = key, InputStream = new MemoryStream(Oci.RandomBytes((int)size)) }, Oci.Ct);
        }

        Assert.Equal(0, (await WharfAsync(server, [], "check")).ExitCode);
        var deep = await WharfAsync(server, [], "check", "--deep");
        Assert.Equal(1, deep.ExitCode);
        Assert.Contains($"{layer}: the sealed copy under aes256 cannot be read", deep.StandardError, StringComparison.Ordinal);
        Assert.Contains("checked 3 referenced blobs: 1 problems", deep.StandardOutput, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> WharfAsync(WharfTestServer server, Dictionary<string, string> environment, params string[] command) =>
        WharfCommand.RunAsync([.. command, .. server.StoreArguments], TimeSpan.FromMinutes(2), environment);

    /// <summary>The bucket's keys that name <paramref name="digest"/> (the store's layout is its own).</summary>
    private static async Task<List<string>> KeysOfAsync(RgwServer rgw, string bucket, string digest)
    {
        using var s3 = rgw.CreateClient();
        var hex = digest["sha256:".Length..];
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token }, Oci.Ct);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key).Where(k => k.Contains(hex, StringComparison.Ordinal)));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>The blob store name of the master key's sealed copy of <paramref name="digest"/>.</summary>
    private static async Task<string> AddressOfAsync(WharfTestServer server, string digest) =>
        (await server.GetService<IBlobVault>().FindSealedAsync(BlobScope.Master, Digest.Parse(digest), Oci.Ct))?.Address.ToString()
            ?? throw new InvalidOperationException($"{digest} has no sealed copy");
}
