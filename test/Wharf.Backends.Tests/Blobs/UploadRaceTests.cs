using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Core.Storage;
using Wharf.Core.Uploads;
using Wharf.Metadata.Sqlite;
using Wharf.Storage.FileSystem;
using Wharf.Storage.S3;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>
/// Two PATCHes of one upload at one offset at the same time (a buggy or hostile client). On two nodes
/// over S3 both chunks are stored; the offset advance that wins records its own chunk, so the commit
/// takes exactly the bytes the winner's running hash saw: a committed blob always hashes to its
/// digest. On one node over the filesystem the upload's lock serialises the two requests.
/// </summary>
[Collection(nameof(BlobStoreCollection))]
public sealed class UploadRaceTests : IAsyncDisposable
{
    private static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), "us-east-1");
    private static readonly RepositoryKey Repo = new(Registry, RepositoryName.Parse("race/app"));
    private static readonly Caller Caller = Caller.Root(Registry.Account);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wharf-race-" + Guid.NewGuid().ToString("N"));
    private readonly string _prefix = "race-" + Guid.NewGuid().ToString("N");
    private readonly List<S3BlobStore> _s3 = [];
    private SqliteMetadataStore? _metadata;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (_s3.Count > 0)
        {
            await S3TestBucket.EmptyPrefixAsync(_s3[0].Client, _s3[0].Bucket, _prefix + "/");
        }

        foreach (var store in _s3)
        {
            store.Dispose();
        }

        if (_metadata is not null)
        {
            await _metadata.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Same_offset_patches_on_two_nodes_over_S3_commit_exactly_the_winners_bytes()
    {
        var node1 = await NodeAsync(await S3StoreAsync());
        var node2 = await NodeAsync(await S3StoreAsync());
        var head = Bytes(1000, seed: 1);
        var winnerBytes = Bytes(40_000, seed: 2);
        var loserBytes = Bytes(40_000, seed: 3);
        var upload = await node1.StartAsync(Caller, Repo, Ct);
        await node1.AppendAsync(Caller, Repo, upload.Id, new MemoryStream(head), head.Length, 0, null, Ct);

        await RaceAsync(node1, node2, upload.Id, head.Length, winnerBytes, loserBytes);

        // The loser's bytes under the winner's digest would be a poisoned blob: the commit takes the
        // recorded chunk, so the blob's bytes hash to its digest.
        var expected = head.Concat(winnerBytes).ToArray();
        var digest = Digest.Sha256Of(expected);
        Assert.Equal(digest, await node1.CompleteAsync(Caller, Repo, upload.Id, digest, null, null, Ct));
        Assert.Equal(expected, await ReadBlobAsync(_s3[1], digest));
    }

    [Fact]
    public async Task Same_offset_patches_on_two_nodes_over_S3_let_another_node_rebuild_the_winners_hash()
    {
        var node1 = await NodeAsync(await S3StoreAsync());
        var node2 = await NodeAsync(await S3StoreAsync());
        var winnerBytes = Bytes(30_000, seed: 4);
        var loserBytes = Bytes(50_000, seed: 5);
        var upload = await node1.StartAsync(Caller, Repo, Ct);
        await RaceAsync(node1, node2, upload.Id, 0, winnerBytes, loserBytes);

        // The loser's node rebuilds the hash from the recorded chunk: the loser's own digest is refused
        // and the winner's commits.
        var refused = await Assert.ThrowsAsync<WharfException>(
            () => node2.CompleteAsync(Caller, Repo, upload.Id, Digest.Sha256Of(loserBytes), null, null, Ct));
        Assert.Equal(WharfErrorCode.DigestInvalid, refused.Code);
        var digest = Digest.Sha256Of(winnerBytes);
        await node2.CompleteAsync(Caller, Repo, upload.Id, digest, null, null, Ct);
        Assert.Equal(winnerBytes, await ReadBlobAsync(_s3[0], digest));
        Assert.Null(await _s3[0].StatAsync(Digest.Sha256Of(loserBytes), Ct));
    }

    [Fact]
    public async Task Same_offset_patches_on_one_node_over_the_filesystem_are_serialised_by_the_upload_lock()
    {
        var node = await NodeAsync(new FileSystemBlobStore(Path.Combine(_directory, "blobs")));
        var first = Bytes(20_000, seed: 6);
        var second = Bytes(20_000, seed: 7);
        var upload = await node.StartAsync(Caller, Repo, Ct);
        var firstBody = new GatedStream(first);
        var secondBody = new GatedStream(second);

        var one = node.AppendAsync(Caller, Repo, upload.Id, firstBody, first.Length, 0, null, Ct);
        await firstBody.Started.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var two = node.AppendAsync(Caller, Repo, upload.Id, secondBody, second.Length, 0, null, Ct);
        secondBody.Release();
        // The second request waits for the upload's lock and never touches the staged file meanwhile.
        await Task.Delay(200, Ct);
        Assert.False(secondBody.Started.IsCompleted);
        firstBody.Release();
        Assert.Equal(first.Length, (await one).Offset);
        var refused = await Assert.ThrowsAsync<WharfException>(() => two);
        Assert.Equal(WharfErrorCode.UploadRangeInvalid, refused.Code);
        Assert.False(secondBody.Started.IsCompleted);

        var digest = Digest.Sha256Of(first);
        await node.CompleteAsync(Caller, Repo, upload.Id, digest, null, null, Ct);
        var blobs = new FileSystemBlobStore(Path.Combine(_directory, "blobs"));
        Assert.Equal(first, await ReadBlobAsync(blobs, digest));
    }

    [Fact]
    public async Task Patch_beyond_the_chunk_limit_is_refused_with_BLOB_UPLOAD_INVALID_and_the_upload_stays_committable()
    {
        var blobs = new FileSystemBlobStore(Path.Combine(_directory, "blobs"));
        var node = await NodeAsync(blobs);
        var content = Bytes(UploadChunk.MaxPerUpload, seed: 8);
        var upload = await node.StartAsync(Caller, Repo, Ct);
        // The staged bytes and session of an upload that has reached the limit, one byte per chunk.
        var staged = await blobs.WriteUploadChunkAsync(upload.Id, 0, new MemoryStream(content), null, Ct);
        var session = (await _metadata!.Uploads.GetAsync(upload.Id, Ct))!;
        await _metadata.Uploads.DeleteAsync(upload.Id, Ct);
        await _metadata.Uploads.CreateAsync(
            session with { Offset = content.Length, Chunks = [.. Enumerable.Range(0, UploadChunk.MaxPerUpload).Select(i => new UploadChunk(i, i + 1, staged.WriteId).Name)] },
            Ct);

        var refused = await Assert.ThrowsAsync<WharfException>(
            () => node.AppendAsync(Caller, Repo, upload.Id, new MemoryStream([1]), 1, content.Length, null, Ct));

        Assert.Equal(WharfErrorCode.BlobUploadInvalid, refused.Code);
        Assert.Contains("10000 chunks", refused.Message, StringComparison.Ordinal);
        Assert.Equal(content.Length, (await node.GetStatusAsync(Caller, Repo, upload.Id, Ct)).Offset);
        var digest = Digest.Sha256Of(content);
        await node.CompleteAsync(Caller, Repo, upload.Id, digest, null, null, Ct);
        Assert.Equal(content, await ReadBlobAsync(blobs, digest));
    }

    /// <summary>
    /// Two PATCHes at <paramref name="rangeStart"/>, mid-write together; then the winner's body ends and
    /// it advances first, and the loser's write ends last (it used to replace the winner's chunk at the
    /// same key) and its advance is refused.
    /// </summary>
    private static async Task RaceAsync(UploadService winnerNode, UploadService loserNode, string uploadId, long rangeStart, byte[] winnerBytes, byte[] loserBytes)
    {
        var winnerBody = new GatedStream(winnerBytes);
        var loserBody = new GatedStream(loserBytes);
        var winner = winnerNode.AppendAsync(Caller, Repo, uploadId, winnerBody, winnerBytes.Length, rangeStart, null, Ct);
        var loser = loserNode.AppendAsync(Caller, Repo, uploadId, loserBody, loserBytes.Length, rangeStart, null, Ct);
        await Task.WhenAll(winnerBody.Started, loserBody.Started).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        winnerBody.Release();
        Assert.Equal(rangeStart + winnerBytes.Length, (await winner).Offset);
        loserBody.Release();
        var lost = await Assert.ThrowsAsync<WharfException>(() => loser);
        Assert.Equal(WharfErrorCode.BlobUploadUnknown, lost.Code);
    }

    private async Task<S3BlobStore> S3StoreAsync()
    {
        var store = new S3BlobStore(await S3TestBucket.OptionsAsync(_prefix));
        _s3.Add(store);
        return store;
    }

    /// <summary>An upload service ("a node") over the shared metadata and <paramref name="blobs"/>.</summary>
    private async Task<UploadService> NodeAsync(IBlobStore blobs)
    {
        if (_metadata is null)
        {
            Directory.CreateDirectory(_directory);
            _metadata = new SqliteMetadataStore(Path.Combine(_directory, "wharf.db"));
            await _metadata.MigrateAsync(Ct);
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var settings = new DataPlaneSettings(CreateOnPush: true, UploadExpiry: TimeSpan.FromHours(24));
        return new UploadService(_metadata, new Wharf.Core.Encryption.PlaintextBlobVault(blobs), new RepositoryResolver(_metadata, new OpenAccessAuthorizer(), settings, time), settings, time);
    }

    private static async Task<byte[]> ReadBlobAsync(IBlobStore store, Digest digest)
    {
        await using var stream = await store.OpenReadAsync(digest, 0, null, Ct);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        Assert.Equal(digest, Digest.Sha256Of(copy.ToArray()));
        return copy.ToArray();
    }

    private static byte[] Bytes(int length, ulong seed)
    {
        var bytes = new byte[length];
        new GeneratedStream(length, seed).ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A request body that says when it is first read and ends only once released.</summary>
    private sealed class GatedStream(byte[] content) : Stream
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public Task Started => _started.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Release() => _released.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _started.TrySetResult();
            if (_position == content.Length)
            {
                await _released.Task.WaitAsync(cancellationToken);
                return 0;
            }

            var count = Math.Min(buffer.Length, content.Length - _position);
            content.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
