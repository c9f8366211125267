using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Amazon.S3.Model;
using Amazon.S3;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Metadata.Sqlite;
using Wharf.Storage.S3;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>
/// The blob-store contract and the S3 store's own behaviour against a real Ceph RADOS Gateway. Every
/// test works under a fresh key prefix of one bucket, so stores of one test share it (other nodes)
/// and tests never see each other's objects.
/// </summary>
[Collection(nameof(BlobStoreCollection))]
public sealed class S3BlobStoreTests : BlobStoreContract, IAsyncDisposable
{
    private readonly string _prefix = "t-" + Guid.NewGuid().ToString("N");
    private readonly List<S3BlobStore> _stores = [];

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var store = new S3BlobStore(await S3TestBucket.OptionsAsync(_prefix));
        _stores.Add(store);
        return store;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stores.Count > 0)
        {
            await S3TestBucket.EmptyPrefixAsync(_stores[0].Client, _stores[0].Bucket, _prefix + "/");
        }

        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    [Fact]
    public async Task A_commit_repeated_after_the_first_deleted_the_staging_finds_the_blob_committed()
    {
        // A balancer passes a PUT on to another node when the first died after its copy and the staging's
        // deletion: the second commit finds the blob and is done, and one of a blob never made is refused.
        var store = await CreateStoreAsync();
        var content = Bytes(100 * 1024, seed: 90);
        var uploadId = await StageAsync(store, content);
        var chunks = RecordedChunks(uploadId);
        var digest = Digest.Sha256Of(content);
        await store.CommitUploadAsync(uploadId, chunks, digest, Ct);
        Assert.False(await store.UploadExistsAsync(uploadId, Ct));

        await store.CommitUploadAsync(uploadId, chunks, digest, Ct);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.CommitUploadAsync(uploadId, chunks, Digest.Sha256Of([1, 2, 3]), Ct));
    }

    [Fact]
    public async Task Committed_blob_lives_at_its_content_address_under_the_prefix()
    {
        var store = await CreateS3StoreAsync();
        var content = Bytes(1000, seed: 1);

        var sha256 = await PutAsync(store, content);
        var sha512 = await PutAsync(store, content, DigestAlgorithm.Sha512);

        Assert.Equal(content, await GetObjectAsync(store, $"{_prefix}/blobs/sha256/{sha256.Hex[..2]}/{sha256.Hex}"));
        Assert.Equal(content, await GetObjectAsync(store, $"{_prefix}/blobs/sha512/{sha512.Hex[..2]}/{sha512.Hex}"));
        Assert.Empty(await ListKeysAsync(store, $"{_prefix}/uploads/"));
    }

    [Fact]
    public async Task Each_chunk_is_one_object_keyed_by_its_start_offset_and_write_id()
    {
        var store = await CreateS3StoreAsync();
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        var first = await store.WriteUploadChunkAsync(uploadId, 0, new MemoryStream(Bytes(10, seed: 2)), null, Ct);
        // Larger than one part: streamed as a multipart upload, still one object.
        var second = await store.WriteUploadChunkAsync(uploadId, first.End, new GeneratedStream(17 * 1024 * 1024, seed: 3), null, Ct);
        var third = await store.WriteUploadChunkAsync(uploadId, second.End, new MemoryStream(Bytes(1, seed: 4)), null, Ct);
        // A retry at the same offset is a new object beside the first.
        var retry = await store.WriteUploadChunkAsync(uploadId, second.End, new MemoryStream(Bytes(1, seed: 5)), null, Ct);

        var keys = await ListKeysAsync(store, $"{_prefix}/uploads/{uploadId}/");

        Assert.Equal(
            new[]
            {
                $"{_prefix}/uploads/{uploadId}/00000000000000000000.{first.WriteId}", $"{_prefix}/uploads/{uploadId}/00000000000000000010.{second.WriteId}",
                $"{_prefix}/uploads/{uploadId}/{10 + (17 * 1024 * 1024):D20}.{third.WriteId}", $"{_prefix}/uploads/{uploadId}/{10 + (17 * 1024 * 1024):D20}.{retry.WriteId}",
                $"{_prefix}/uploads/{uploadId}/created",
            }.Order(StringComparer.Ordinal),
            keys.Order(StringComparer.Ordinal));
        Assert.Empty((await store.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = _prefix + "/" }, Ct)).MultipartUploads ?? []);
    }

    [Fact]
    public async Task Abandoned_multipart_chunk_write_is_listed_and_aborted()
    {
        var store = await CreateS3StoreAsync();
        var uploadId = NewUploadId();
        // What a node killed in the middle of a large PATCH leaves: an open multipart upload, no object.
        var key = $"{_prefix}/uploads/{uploadId}/{0:D20}";
        var started = await store.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = key }, Ct);
        await store.Client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = store.Bucket,
            Key = key,
            UploadId = started.UploadId,
            PartNumber = 1,
            InputStream = new MemoryStream(Bytes(5 * 1024 * 1024, seed: 5)),
        }, Ct);

        Assert.Equal([uploadId], await ListUploadsAsync(store));
        Assert.True(await store.AbortUploadAsync(uploadId, Ct));

        Assert.Empty(await ListUploadsAsync(store));
        Assert.Empty(await OpenMultipartUploadsAsync(store));
        Assert.False(await store.AbortUploadAsync(uploadId, Ct));
    }

    [Fact]
    public async Task Abandoned_commit_at_the_blob_key_is_aborted_with_its_staging()
    {
        var store = await CreateS3StoreAsync();
        var content = Bytes(6 * 1024 * 1024, seed: 6);
        var digest = Digest.Sha256Of(content);
        var uploadId = await StageAsync(store, content);
        // What a node killed in the middle of a multi-chunk commit leaves: the staging area, its
        // commit marker and an open multipart upload at the blob key.
        var blobKey = $"{_prefix}/blobs/sha256/{digest.Hex[..2]}/{digest.Hex}";
        var started = await store.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = blobKey }, Ct);
        await store.Client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = store.Bucket,
            Key = $"{_prefix}/uploads/{uploadId}/commit",
            ContentBody = $"{blobKey}\n{started.UploadId}",
        }, Ct);

        Assert.Equal([uploadId], await ListUploadsAsync(store));
        Assert.True(await store.AbortUploadAsync(uploadId, Ct));

        Assert.Empty(await OpenMultipartUploadsAsync(store));
        Assert.Empty(await ListKeysAsync(store, _prefix + "/"));
        Assert.Null(await store.StatAsync(digest, Ct));
    }

    [Fact]
    public async Task Garbage_collection_removes_orphaned_chunks_and_abandoned_multipart_uploads_but_keeps_live_uploads()
    {
        var store = await CreateS3StoreAsync();
        var databasePath = Path.Combine(Path.GetTempPath(), $"wharf-s3gc-{Guid.NewGuid():N}.db");
        try
        {
            await using var metadata = new SqliteMetadataStore(databasePath);
            await metadata.MigrateAsync(Ct);
            var collector = new GarbageCollector(metadata, store, new Wharf.Core.Encryption.PlaintextBlobVault(store), new FakeTimeProvider(DateTimeOffset.UtcNow), TimeSpan.FromHours(1));
            // No session row owns these: an upload whose node died after a chunk, and one killed mid-way
            // through a large chunk (only an open multipart upload is left).
            var orphan = await StageAsync(store, Bytes(1000, seed: 9));
            var abandoned = NewUploadId();
            var key = $"{_prefix}/uploads/{abandoned}/{0:D20}";
            await store.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = key }, Ct);

            Assert.Equal(0, (await collector.RunOnceAsync(Ct)).StagingAreasRemoved);
            Assert.Equal(2, (await collector.RunOnceAsync(Ct)).StagingAreasRemoved);

            Assert.Empty(await ListUploadsAsync(store));
            Assert.Empty(await OpenMultipartUploadsAsync(store));
            Assert.Empty(await ListKeysAsync(store, $"{_prefix}/uploads/"));
            Assert.False(await store.UploadExistsAsync(orphan, Ct));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(databasePath);
        }
    }

    [Fact]
    public async Task Download_url_is_presigned_for_the_lifetime_and_serves_the_blob()
    {
        var store = await CreateS3StoreAsync();
        var content = Bytes(3000, seed: 7);
        var digest = await PutAsync(store, content);

        var url = await store.GetDownloadUrlAsync(digest, TimeSpan.FromMinutes(5), Ct);

        Assert.NotNull(url);
        var expires = Regex.Match(url.Query, "X-Amz-Expires=([0-9]+)");
        Assert.True(expires.Success, url.Query);
        // The SDK counts the lifetime from its own clock, a moment after the store asked: a second either way.
        Assert.InRange(int.Parse(expires.Groups[1].Value, CultureInfo.InvariantCulture), 299, 301);
        Assert.Contains("X-Amz-Signature=", url.Query, StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal(content, await http.GetByteArrayAsync(url, Ct));
        using var tampered = await http.GetAsync(new Uri(url.ToString().Replace(expires.Value, "X-Amz-Expires=3600", StringComparison.Ordinal)), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
    }

    [Fact]
    public async Task Check_passes_on_a_reachable_bucket()
    {
        var store = await CreateS3StoreAsync();

        await store.CheckAsync(Ct);
    }

    [Fact]
    public async Task Check_says_the_bucket_is_missing()
    {
        var options = await S3TestBucket.OptionsAsync(_prefix) with { Bucket = "missing-" + Guid.NewGuid().ToString("N")[..12] };
        using var store = new S3BlobStore(options);

        var error = await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.CheckAsync(Ct));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains(options.Bucket, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_says_the_credentials_were_refused_and_names_no_secret()
    {
        var options = await S3TestBucket.OptionsAsync(_prefix) with { SecretAccessKey = "wrong-secret-0123456789" };
        using var store = new S3BlobStore(options);

        var error = await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.CheckAsync(Ct));

        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(options.AccessKeyId!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_endpoint_makes_check_and_every_operation_unavailable()
    {
        var endpoint = $"http://127.0.0.1:{ClosedPort()}";
        var options = await S3TestBucket.OptionsAsync(_prefix) with { Endpoint = endpoint };
        using var store = new S3BlobStore(options);
        var digest = Digest.Sha256Of("x"u8);

        var error = await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.CheckAsync(Ct));
        Assert.Contains(endpoint, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.StatAsync(digest, Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.OpenReadAsync(digest, 0, null, Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.CreateUploadAsync(NewUploadId(), Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.WriteUploadChunkAsync(NewUploadId(), 0, new MemoryStream([1]), null, Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => ListUploadsAsync(store));
    }

    [Theory]
    [InlineData(503, "SlowDown")]
    [InlineData(500, "InternalError")]
    public async Task Server_errors_make_operations_unavailable_after_the_sdk_retries(int status, string code)
    {
        // A gateway that answers every request with the error, as an overloaded or failing S3 does.
        var port = ClosedPort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var requests = 0;
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return; // stopped
                }

                Interlocked.Increment(ref requests);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/xml";
                var body = System.Text.Encoding.UTF8.GetBytes($"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>try later</Message></Error>");
                if (context.Request.HttpMethod != "HEAD")
                {
                    await context.Response.OutputStream.WriteAsync(body);
                }

                context.Response.Close();
            }
        }, Ct);
        var options = await S3TestBucket.OptionsAsync(_prefix) with { Endpoint = $"http://127.0.0.1:{port}" };
        using var store = new S3BlobStore(options);
        var digest = Digest.Sha256Of("x"u8);

        var check = await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.CheckAsync(Ct));

        // The SDK backs off between its retries (longer for SlowDown): on a loaded machine the check's
        // own 5 s deadline can come first, which is the same verdict for readiness.
        Assert.True(
            check.Message.Contains(status.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                || check.Message.Contains("did not answer within", StringComparison.Ordinal),
            check.Message);
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.StatAsync(digest, Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.OpenReadAsync(digest, 0, null, Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.CreateUploadAsync(NewUploadId(), Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.DeleteAsync(digest, Ct));

        // The SDK retried before giving up: more requests than operations.
        Assert.True(Volatile.Read(ref requests) > 5, $"{requests} requests");
        listener.Stop();
        await serving;
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("../escaped")]
    [InlineData("a/b")]
    [InlineData("a.b")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 65
    public async Task Upload_ids_that_are_not_plain_names_are_rejected(string uploadId)
    {
        var store = await CreateS3StoreAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => store.CreateUploadAsync(uploadId, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteUploadChunkAsync(uploadId, 0, new MemoryStream([1]), null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AbortUploadAsync(uploadId, Ct));
        Assert.Empty(await ListKeysAsync(store, ""));
    }

    private async Task<S3BlobStore> CreateS3StoreAsync() => (S3BlobStore)await CreateStoreAsync();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    protected override async Task AssertNoChunkStagedAsync(IBlobStore store, string uploadId)
    {
        // Only the created marker: no chunk object, and no multipart upload a failed write left open.
        var s3 = (S3BlobStore)store;
        var staged = await ListKeysAsync(s3, $"{_prefix}/uploads/{uploadId}/");
        Assert.Equal([$"{_prefix}/uploads/{uploadId}/created"], staged);
        Assert.Empty(await OpenMultipartUploadsAsync(s3));
    }

    private static async Task<byte[]> GetObjectAsync(S3BlobStore store, string key)
    {
        using var response = await store.Client.GetObjectAsync(new GetObjectRequest { BucketName = store.Bucket, Key = key }, Ct);
        return await ReadAllAsync(response.ResponseStream);
    }

    private async Task<List<string>> ListKeysAsync(S3BlobStore store, string under)
    {
        var response = await store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = store.Bucket, Prefix = under.Length == 0 ? _prefix + "/" : under }, Ct);
        return [.. (response.S3Objects ?? []).Select(o => o.Key)];
    }

    private async Task<List<MultipartUpload>> OpenMultipartUploadsAsync(S3BlobStore store)
    {
        var response = await store.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = _prefix + "/" }, Ct);
        return response.MultipartUploads ?? [];
    }
}
