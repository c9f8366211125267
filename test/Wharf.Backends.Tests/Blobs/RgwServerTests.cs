using System.Net.Sockets;
using System.Text;
using Amazon.S3.Model;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>The S3 server fixture itself: the RGW the S3 store's tests and the fault tests run on.</summary>
public sealed class RgwServerTests
{
    [Fact]
    public async Task Created_bucket_is_empty_and_an_object_round_trips_through_AWSSDK()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await RgwServer.GetAsync();
        var bucket = await server.CreateBucketAsync("fixture", ct);
        using var client = server.CreateClient();

        Assert.Empty((await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, ct)).S3Objects ?? []);
        var body = RandomBytes(3 * 1024 * 1024 + 17);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "a/b", InputStream = new MemoryStream(body) }, ct);

        Assert.Equal(body, await GetAsync(client, bucket, "a/b", ct));
    }

    [Fact]
    public async Task Buckets_of_two_callers_are_distinct_and_options_point_at_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await RgwServer.GetAsync();
        var first = await server.CreateBucketAsync("Same Prefix!", ct);
        var second = await server.CreateBucketAsync("Same Prefix!", ct);

        Assert.NotEqual(first, second);
        Assert.Matches("^[a-z0-9][a-z0-9-]{2,62}$", first);
        var options = server.OptionsFor(second, "tenant");
        Assert.Equal(second, options.Bucket);
        Assert.Equal("tenant", options.Prefix);
        Assert.True(options.ForcePathStyle);
        Assert.Equal(server.Endpoint, new Uri(options.Endpoint!));
        Assert.Equal((server.AccessKey, server.SecretKey, "us-east-1"), (options.AccessKeyId, options.SecretAccessKey, options.Region));
    }

    [Fact]
    public async Task Stopped_gateway_refuses_connections_and_restarted_gateway_still_has_the_object()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RgwServer.StartDedicatedAsync(ct);
        var bucket = await server.CreateBucketAsync(cancellationToken: ct);
        using var client = server.CreateClient();
        var body = Encoding.UTF8.GetBytes("kept while the gateway is down");
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "kept", InputStream = new MemoryStream(body) }, ct);

        await server.StopGatewayAsync(ct);
        try
        {
            using var socket = new TcpClient();
            var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(server.Endpoint.Host, server.Endpoint.Port, ct).AsTask());
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            await Assert.ThrowsAnyAsync<Exception>(() => client.GetObjectMetadataAsync(bucket, "kept", ct));
        }
        finally
        {
            await server.StartGatewayAsync(ct);
        }

        Assert.Equal(body, await GetAsync(client, bucket, "kept", ct));
    }

    private static async Task<byte[]> GetAsync(Amazon.S3.IAmazonS3 client, string bucket, string key, CancellationToken ct)
    {
        using var response = await client.GetObjectAsync(bucket, key, ct);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy, ct);
        return copy.ToArray();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
