using System.Buffers;
using System.Collections.Concurrent;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>
/// The one contract every <see cref="IBlobStore"/> backend passes (distribution
/// <c>driver/testsuites</c>). A backend departs from it only by overriding one test with a written reason.
/// Backends put their test class in <see cref="BlobStoreCollection"/>: the streaming test measures
/// process-wide allocations, which other tests running in parallel would blur.
/// </summary>
public abstract class BlobStoreContract
{
    protected const int Ki = 1024;
    protected const int Mi = 1024 * 1024;

    /// <summary>
    /// A store over a fresh, empty place (directory, bucket prefix); the test class cleans it up.
    /// Every call within one test returns a store over the same place: a second call is another node.
    /// </summary>
    protected abstract Task<IBlobStore> CreateStoreAsync();

    /// <summary>Managed bytes a 64 MiB push and pull may allocate in all: far below the blob, so it streamed.</summary>
    protected virtual long StreamingAllocationBudget => 8 * Mi;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commit_makes_bytes_visible_and_removes_staging()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(100 * Ki, seed: 1);
        var digest = Digest.Sha256Of(content);
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        Assert.Equal(content.Length, await AppendAsync(store, uploadId, content));

        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);

        var stat = await store.StatAsync(digest, Ct);
        Assert.NotNull(stat);
        Assert.Equal(digest, stat.Digest);
        Assert.Equal(content.Length, stat.Size);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
        Assert.False(await store.UploadExistsAsync(uploadId, Ct));
        Assert.DoesNotContain(uploadId, await ListUploadsAsync(store));
    }

    [Fact]
    public async Task Staged_bytes_are_invisible_before_commit()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(10 * Ki, seed: 2);
        var digest = Digest.Sha256Of(content);
        var uploadId = await StageAsync(store, content);

        Assert.Null(await store.StatAsync(digest, Ct));
        Assert.Null(await store.OpenReadAsync(digest, 0, null, Ct));
        Assert.Empty(await ListAsync(store));
        Assert.True(await store.UploadExistsAsync(uploadId, Ct));
    }

    [Fact]
    public async Task New_upload_is_empty_and_listed()
    {
        var store = await CreateStoreAsync();
        var uploadId = NewUploadId();

        await store.CreateUploadAsync(uploadId, Ct);

        Assert.True(await store.UploadExistsAsync(uploadId, Ct));
        Assert.Empty(await ReadUploadAsync(store, uploadId));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenUploadReadAsync(uploadId, [new UploadChunk(0, 1, "never-written")], Ct));
        Assert.Contains(uploadId, await ListUploadsAsync(store));
    }

    [Fact]
    public async Task Create_upload_again_keeps_staged_bytes()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(3 * Ki, seed: 3);
        var uploadId = await StageAsync(store, content);

        await store.CreateUploadAsync(uploadId, Ct);

        Assert.True(await store.UploadExistsAsync(uploadId, Ct));
        Assert.Equal(content, await ReadUploadAsync(store, uploadId));
    }

    [Fact]
    public async Task Chunks_written_at_the_end_of_the_previous_one_concatenate()
    {
        var store = await CreateStoreAsync();
        var first = Bytes(70 * Ki, seed: 4);
        var second = Bytes(1 * Mi + 13, seed: 5);
        var third = Bytes(1, seed: 6);
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);

        Assert.Equal(first.Length, await AppendAsync(store, uploadId, first));
        Assert.Equal(first.Length + second.Length, await AppendAsync(store, uploadId, second));
        Assert.Equal(first.Length + second.Length + third.Length, await AppendAsync(store, uploadId, third));

        var whole = first.Concat(second).Concat(third).ToArray();
        var digest = Digest.Sha256Of(whole);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);
        Assert.Equal(whole, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task Empty_chunk_changes_nothing()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(5 * Ki, seed: 7);
        var uploadId = await StageAsync(store, content);

        var empty = await store.WriteUploadChunkAsync(uploadId, content.Length, new MemoryStream(), null, Ct);
        Assert.Equal(content.Length, empty.Offset);
        Assert.Equal(content.Length, empty.End);

        Assert.Equal(content, await ReadUploadAsync(store, uploadId));
        var digest = Digest.Sha256Of(content);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task Chunk_written_again_at_its_offset_is_read_instead_of_what_a_failed_request_left()
    {
        var store = await CreateStoreAsync();
        var first = Bytes(40 * Ki, seed: 8);
        var uploadId = await StageAsync(store, first);
        // A request that stored its chunk but whose offset was never recorded (it failed after the write).
        Assert.Equal(first.Length + (60 * Ki), (await store.WriteUploadChunkAsync(uploadId, first.Length, new MemoryStream(Bytes(60 * Ki, seed: 80)), null, Ct)).End);
        var retry = Bytes(10 * Ki, seed: 9);

        Assert.Equal(first.Length + retry.Length, await AppendAsync(store, uploadId, retry));

        var expected = first.Concat(retry).ToArray();
        Assert.Equal(expected, await ReadUploadAsync(store, uploadId));
        var digest = Digest.Sha256Of(expected);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);
        Assert.Equal(expected, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task Chunk_written_at_zero_restarts_the_upload()
    {
        var store = await CreateStoreAsync();
        var uploadId = await StageAsync(store, Bytes(50 * Ki, seed: 10));
        var content = Bytes(20, seed: 11);
        Recorded[uploadId].Clear();

        Assert.Equal(content.Length, await AppendAsync(store, uploadId, content));

        Assert.Equal(content, await ReadUploadAsync(store, uploadId));
        var digest = Digest.Sha256Of(content);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task Chunk_beyond_the_staged_bytes_is_refused_or_never_reached()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(1 * Ki, seed: 12);
        var uploadId = await StageAsync(store, content);
        var gap = content.Length + 1;

        try
        {
            var stray = await store.WriteUploadChunkAsync(uploadId, gap, new MemoryStream(Bytes(10, seed: 13)), null, Ct);
            // Stored unchecked: no chain from 0 can include it, so nothing can read or commit it.
            IReadOnlyList<UploadChunk> gapped = [.. RecordedChunks(uploadId), stray];
            await Assert.ThrowsAsync<ArgumentException>(() => store.OpenUploadReadAsync(uploadId, gapped, Ct));
            await Assert.ThrowsAsync<ArgumentException>(() => store.CommitUploadAsync(uploadId, gapped, Digest.Sha256Of([1]), Ct));
        }
        catch (ArgumentOutOfRangeException)
        {
            // Refused up front.
        }

        Assert.Equal(content, await ReadUploadAsync(store, uploadId));
        Assert.Empty(await ListAsync(store));
    }

    [Theory]
    [InlineData(new[] { 1, 1, 1 })]
    [InlineData(new[] { 1, 6 * Mi, 1, 3 * Mi, 1 })]
    [InlineData(new[] { 5 * Mi, 5 * Mi })]
    [InlineData(new[] { 3 * Mi, (9 * Mi) + 5, 2 * Mi, 1 })]
    [InlineData(new[] { 4 * Mi, 100, 4 * Mi, 7 })]
    public async Task Chunks_of_any_size_commit_to_one_blob(int[] sizes)
    {
        var store = await CreateStoreAsync();
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        var chunks = sizes.Select((size, i) => Bytes(size, seed: 400 + (ulong)i)).ToList();
        long offset = 0;
        foreach (var chunk in chunks)
        {
            offset = await AppendAsync(store, uploadId, chunk);
        }

        var whole = chunks.SelectMany(c => c).ToArray();
        Assert.Equal(whole.Length, offset);
        Assert.Equal(whole, await ReadUploadAsync(store, uploadId));
        var digest = Digest.Sha256Of(whole);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);

        Assert.Equal(whole.Length, (await store.StatAsync(digest, Ct))?.Size);
        Assert.Equal(whole, await ReadBlobAsync(store, digest, 0, null));
        Assert.False(await store.UploadExistsAsync(uploadId, Ct));
        Assert.Empty(await ListUploadsAsync(store));
    }

    [Fact]
    public async Task Chunks_written_through_other_instances_continue_one_upload()
    {
        var nodes = new[] { await CreateStoreAsync(), await CreateStoreAsync(), await CreateStoreAsync() };
        var uploadId = NewUploadId();
        await nodes[0].CreateUploadAsync(uploadId, Ct);
        var chunks = Enumerable.Range(0, 6).Select(i => Bytes((i * 7 * Ki) + 1, seed: 500 + (ulong)i)).ToList();
        long offset = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var node = nodes[i % nodes.Length];
            Assert.Equal(offset + chunks[i].Length, await AppendAsync(node, uploadId, chunks[i]));
            offset += chunks[i].Length;
            // The next node rebuilds the running hash from what the others stored.
            Assert.Equal(chunks.Take(i + 1).SelectMany(c => c), await ReadUploadAsync(nodes[(i + 1) % nodes.Length], uploadId));
        }

        var whole = chunks.SelectMany(c => c).ToArray();
        var digest = Digest.Sha256Of(whole);
        await nodes[2].CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);

        Assert.Equal(whole, await ReadBlobAsync(nodes[1], digest, 0, null));
        Assert.False(await nodes[0].UploadExistsAsync(uploadId, Ct));
    }

    [Fact]
    public virtual async Task Two_writes_at_one_offset_through_two_instances_keep_both_and_the_recorded_one_commits()
    {
        var nodes = new[] { await CreateStoreAsync(), await CreateStoreAsync() };
        var head = Bytes(3 * Ki, seed: 20);
        var uploadId = await StageAsync(nodes[0], head);
        var won = Bytes(50 * Ki, seed: 21);
        var lost = Bytes(70 * Ki, seed: 22);

        // Two requests at one offset on two nodes: the first one's advance wins, yet the loser's write
        // finishes last. Neither replaces the other, and only the recorded chunk is ever read.
        var winner = await nodes[0].WriteUploadChunkAsync(uploadId, head.Length, new MemoryStream(won), null, Ct);
        var loser = await nodes[1].WriteUploadChunkAsync(uploadId, head.Length, new MemoryStream(lost), null, Ct);
        Assert.NotEqual(winner.WriteId, loser.WriteId);
        Assert.Equal(head.Length + won.Length, winner.End);
        Recorded[uploadId].Add(winner);

        var expected = head.Concat(won).ToArray();
        Assert.Equal(expected, await ReadUploadAsync(nodes[1], uploadId));
        var digest = Digest.Sha256Of(expected);
        await nodes[1].CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);

        Assert.Equal(expected, await ReadBlobAsync(nodes[0], digest, 0, null));
        Assert.False(await nodes[0].UploadExistsAsync(uploadId, Ct));
        Assert.Empty(await ListUploadsAsync(nodes[0]));
    }

    [Fact]
    public async Task Missing_upload_throws_KeyNotFound_or_reads_as_absent()
    {
        var store = await CreateStoreAsync();
        var uploadId = NewUploadId();
        var digest = Digest.Sha256Of([1, 2, 3]);

        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.WriteUploadChunkAsync(uploadId, 0, new MemoryStream([1, 2, 3]), null, Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.OpenUploadReadAsync(uploadId, [], Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.CommitUploadAsync(uploadId, [new UploadChunk(0, 3, "never-written")], digest, Ct));
        Assert.False(await store.UploadExistsAsync(uploadId, Ct));
        Assert.False(await store.AbortUploadAsync(uploadId, Ct));
        Assert.Null(await store.StatAsync(digest, Ct));
    }

    [Fact]
    public async Task Cancelled_append_can_be_retried_from_the_recorded_offset()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(300 * Ki, seed: 14);
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);

        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stalled.CancelAfter(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.WriteUploadChunkAsync(uploadId, 0, new StallingStream(content[..(100 * Ki)]), null, stalled.Token));

        Assert.Equal(content.Length, await AppendAsync(store, uploadId, content));
        var digest = Digest.Sha256Of(content);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task Open_upload_read_returns_exactly_the_chunks_given()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(100 * Ki, seed: 15);
        var uploadId = await StageAsync(store, content[..(60 * Ki)]);
        await AppendAsync(store, uploadId, content[(60 * Ki)..]);
        var chunks = RecordedChunks(uploadId);

        Assert.Equal(content[..(60 * Ki)], await ReadAllAsync(await store.OpenUploadReadAsync(uploadId, chunks.Take(1).ToList(), Ct)));
        Assert.Equal(content, await ReadUploadAsync(store, uploadId));
        Assert.Empty(await ReadAllAsync(await store.OpenUploadReadAsync(uploadId, [], Ct)));
        IReadOnlyList<UploadChunk> longer = [chunks[0], chunks[1] with { End = chunks[1].End + 1 }];
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenUploadReadAsync(uploadId, longer, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenUploadReadAsync(uploadId, chunks.Skip(1).ToList(), Ct));
    }

    [Fact]
    public async Task Open_upload_read_from_an_offset_returns_the_rest_of_the_chain_from_there()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(100 * Ki, seed: 17);
        var uploadId = await StageAsync(store, content[..(30 * Ki)]);
        await AppendAsync(store, uploadId, content[(30 * Ki)..(70 * Ki)]);
        await AppendAsync(store, uploadId, content[(70 * Ki)..]);
        var chunks = RecordedChunks(uploadId);

        // At a chunk's start, inside one, at its last byte, and at the chain's end.
        foreach (var offset in new[] { 0, 30 * Ki, 45 * Ki, (70 * Ki) - 1, 99 * Ki, 100 * Ki })
        {
            Assert.Equal(content[offset..], await ReadAllAsync(await store.OpenUploadReadAsync(uploadId, chunks, offset, Ct)));
        }

        // A shorter chain ends where it ends, whatever is staged after it.
        Assert.Equal(content[(40 * Ki)..(70 * Ki)], await ReadAllAsync(await store.OpenUploadReadAsync(uploadId, chunks.Take(2).ToList(), 40 * Ki, Ct)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenUploadReadAsync(uploadId, chunks, (100 * Ki) + 1, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenUploadReadAsync(uploadId, chunks, -1, Ct));
    }

    [Fact]
    public async Task Commit_takes_the_recorded_chunks_and_ignores_later_ones()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(60 * Ki, seed: 16);
        var uploadId = await StageAsync(store, content);
        // Stored by a request whose offset was never recorded.
        await store.WriteUploadChunkAsync(uploadId, content.Length, new MemoryStream(Bytes(40 * Ki, seed: 160)), null, Ct);
        var digest = Digest.Sha256Of(content);

        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);

        Assert.Equal(content.Length, (await store.StatAsync(digest, Ct))?.Size);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
        Assert.False(await store.UploadExistsAsync(uploadId, Ct));
        Assert.Empty(await ListUploadsAsync(store));
    }

    [Fact]
    public async Task Commit_beyond_the_staged_size_throws_and_commits_nothing()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(1 * Ki, seed: 17);
        var uploadId = await StageAsync(store, content);
        var digest = Digest.Sha256Of(content);
        IReadOnlyList<UploadChunk> longer = [RecordedChunks(uploadId)[0] with { End = content.Length + 1 }];

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.CommitUploadAsync(uploadId, longer, digest, Ct));

        Assert.Null(await store.StatAsync(digest, Ct));
        Assert.Equal(content, await ReadUploadAsync(store, uploadId));
    }

    [Fact]
    public async Task Empty_blob_commits_and_reads_back_empty()
    {
        var store = await CreateStoreAsync();
        var digest = Digest.Sha256Of([]);
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);

        await store.CommitUploadAsync(uploadId, [], digest, Ct);

        Assert.Equal(0, (await store.StatAsync(digest, Ct))?.Size);
        Assert.Empty(await ReadBlobAsync(store, digest, 0, null));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1000, 2000)]
    [InlineData(5000, null)]
    [InlineData(0, null)]
    [InlineData(4000, 0)]
    [InlineData(9000, 5000)] // runs past the end: clamped to what is there
    [InlineData(10240, null)] // exactly at the end
    [InlineData(10240, 10)]
    public async Task Ranged_read_returns_exactly_the_range(int offset, int? length)
    {
        var store = await CreateStoreAsync();
        var content = Bytes(10 * Ki, seed: 18);
        var digest = await PutAsync(store, content);

        var end = length is { } l ? Math.Min(offset + l, content.Length) : content.Length;
        Assert.Equal(content[offset..end], await ReadBlobAsync(store, digest, offset, length));
    }

    [Fact]
    public async Task Ranged_read_starting_beyond_the_end_throws()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(1 * Ki, seed: 19);
        var digest = await PutAsync(store, content);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenReadAsync(digest, content.Length + 1, null, Ct));
    }

    [Fact]
    public async Task Read_stream_reports_no_seeking_and_reads_in_small_steps()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(64 * Ki, seed: 20);
        var digest = await PutAsync(store, content);

        await using var stream = await store.OpenReadAsync(digest, 100, 1000, Ct);
        Assert.NotNull(stream);
        Assert.True(stream.CanRead);
        Assert.False(stream.CanSeek);
        var read = new List<byte>();
        var buffer = new byte[7];
        int n;
        while ((n = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            read.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        Assert.Equal(content[100..1100], read.ToArray());
    }

    [Fact]
    public async Task Absent_blob_stats_reads_and_deletes_as_absent()
    {
        var store = await CreateStoreAsync();
        var digest = Digest.Sha256Of("absent"u8);

        Assert.Null(await store.StatAsync(digest, Ct));
        Assert.Null(await store.OpenReadAsync(digest, 0, null, Ct));
        Assert.Null(await store.OpenReadAsync(digest, 10, 10, Ct));
        Assert.False(await store.DeleteAsync(digest, Ct));
    }

    [Fact]
    public async Task Delete_removes_a_committed_blob()
    {
        var store = await CreateStoreAsync();
        var kept = await PutAsync(store, Bytes(2 * Ki, seed: 21));
        var deleted = await PutAsync(store, Bytes(2 * Ki, seed: 22));

        Assert.True(await store.DeleteAsync(deleted, Ct));

        Assert.Null(await store.StatAsync(deleted, Ct));
        Assert.Null(await store.OpenReadAsync(deleted, 0, null, Ct));
        Assert.False(await store.DeleteAsync(deleted, Ct));
        Assert.NotNull(await store.StatAsync(kept, Ct));
        Assert.Equal([kept], (await ListAsync(store)).Select(s => s.Digest));
    }

    [Fact]
    public async Task Blob_can_be_committed_again_after_delete()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(2 * Ki, seed: 23);
        var digest = await PutAsync(store, content);
        Assert.True(await store.DeleteAsync(digest, Ct));

        Assert.Equal(digest, await PutAsync(store, content));

        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task Committing_the_same_digest_twice_keeps_one_blob_and_drops_both_stagings()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(30 * Ki, seed: 24);
        var digest = Digest.Sha256Of(content);
        var first = await StageAsync(store, content);
        var second = await StageAsync(store, content);

        await store.CommitUploadAsync(first, RecordedChunks(first), digest, Ct);
        await store.CommitUploadAsync(second, RecordedChunks(second), digest, Ct);

        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
        Assert.Single(await ListAsync(store));
        Assert.False(await store.UploadExistsAsync(first, Ct));
        Assert.False(await store.UploadExistsAsync(second, Ct));
        Assert.Empty(await ListUploadsAsync(store));
    }

    [Fact]
    public async Task Concurrent_commits_of_one_digest_all_succeed_and_readers_never_see_partial_bytes()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(2 * Mi + 17, seed: 25);
        var digest = Digest.Sha256Of(content);
        var uploads = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            uploads.Add(await StageAsync(store, content));
        }

        using var committed = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            var fullReads = 0;
            while (!committed.IsCancellationRequested)
            {
                if (await store.StatAsync(digest, Ct) is { } stat)
                {
                    Assert.Equal(content.Length, stat.Size);
                }

                await using var stream = await store.OpenReadAsync(digest, 0, null, Ct);
                if (stream is null)
                {
                    await Task.Yield();
                    continue;
                }

                var read = await ReadAllAsync(stream);
                Assert.True(content.AsSpan().SequenceEqual(read), $"a reader saw {read.Length} bytes that are not the blob");
                fullReads++;
            }

            return fullReads;
        }, Ct);

        using var start = new SemaphoreSlim(0);
        var commits = uploads
            .Select(id => Task.Run(async () =>
            {
                await start.WaitAsync(Ct);
                await store.CommitUploadAsync(id, RecordedChunks(id), digest, Ct);
            }, Ct))
            .ToList();
        start.Release(uploads.Count);
        await Task.WhenAll(commits);
        await committed.CancelAsync();
        await reader;

        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
        Assert.Single(await ListAsync(store));
        Assert.Empty(await ListUploadsAsync(store));
    }

    [Fact]
    public async Task Abort_removes_the_staging_area()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(4 * Ki, seed: 26);
        var uploadId = await StageAsync(store, content);
        var other = await StageAsync(store, content);

        Assert.True(await store.AbortUploadAsync(uploadId, Ct));

        Assert.False(await store.UploadExistsAsync(uploadId, Ct));
        Assert.Equal([other], await ListUploadsAsync(store));
        Assert.False(await store.AbortUploadAsync(uploadId, Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.WriteUploadChunkAsync(uploadId, 0, new MemoryStream(content), null, Ct));
        Assert.Null(await store.StatAsync(Digest.Sha256Of(content), Ct));
    }

    [Fact]
    public async Task List_enumerates_every_committed_blob_with_its_size()
    {
        var store = await CreateStoreAsync();
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        var expected = new Dictionary<Digest, long>();
        for (var i = 0; i < 5; i++)
        {
            var content = Bytes((i * 3 * Ki) + 1, seed: 100 + (ulong)i);
            expected[await PutAsync(store, content)] = content.Length;
        }

        var large = Bytes(7 * Ki, seed: 200);
        expected[await PutAsync(store, large, DigestAlgorithm.Sha512)] = large.Length;
        await StageAsync(store, Bytes(Ki, seed: 201));

        var listed = await ListAsync(store);

        Assert.Equal(expected.Count, listed.Count);
        Assert.Equal(expected, listed.ToDictionary(s => s.Digest, s => s.Size));
        Assert.All(listed, s => Assert.InRange(s.ModifiedAt, before, DateTimeOffset.UtcNow.AddMinutes(5)));
    }

    [Fact]
    public async Task List_of_an_empty_store_is_empty()
    {
        var store = await CreateStoreAsync();

        Assert.Empty(await ListAsync(store));
        Assert.Empty(await ListUploadsAsync(store));
    }

    [Fact]
    public async Task List_uploads_enumerates_every_staging_area()
    {
        var store = await CreateStoreAsync();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await StageAsync(store, Bytes(i * 100, seed: 300 + (ulong)i)));
        }

        var committed = Bytes(10, seed: 310);
        var done = await StageAsync(store, committed);
        await store.CommitUploadAsync(done, RecordedChunks(done), Digest.Sha256Of(committed), Ct);

        Assert.Equal(ids.Order(), (await ListUploadsAsync(store)).Order());
    }

    [Fact]
    public async Task Sha512_blob_round_trips_beside_its_sha256_twin()
    {
        var store = await CreateStoreAsync();
        var content = Bytes(50 * Ki, seed: 27);

        var sha512 = await PutAsync(store, content, DigestAlgorithm.Sha512);
        Assert.Null(await store.StatAsync(Digest.Sha256Of(content), Ct));
        var sha256 = await PutAsync(store, content);

        Assert.Equal(DigestAlgorithm.Sha512, sha512.Algorithm);
        Assert.Equal(content.Length, (await store.StatAsync(sha512, Ct))?.Size);
        Assert.Equal(content, await ReadBlobAsync(store, sha512, 0, null));
        Assert.Equal(content[10..20], await ReadBlobAsync(store, sha512, 10, 10));
        Assert.True(await store.DeleteAsync(sha512, Ct));
        Assert.NotNull(await store.StatAsync(sha256, Ct));
    }

    [Fact]
    public async Task Declared_length_chunks_commit_and_a_body_of_another_length_leaves_no_chunk()
    {
        var store = await CreateStoreAsync();
        // More than one 8 MiB part (S3 streams it as one PUT) and a small one (S3 buffers it).
        var large = Bytes(9 * Mi, seed: 170);
        var small = Bytes(100, seed: 171);
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        foreach (var (bytes, declared) in new[] { (large, large.Length + 1L), (large, large.Length - 1L), (small, 101L), (small, 99L) })
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => store.WriteUploadChunkAsync(uploadId, 0, new MemoryStream(bytes), declared, Ct));
        }

        await AssertNoChunkStagedAsync(store, uploadId);
        var head = await store.WriteUploadChunkAsync(uploadId, 0, new MemoryStream(large), large.Length, Ct);
        var tail = await store.WriteUploadChunkAsync(uploadId, head.End, new MemoryStream(small), small.Length, Ct);
        Assert.Equal(large.Length + small.Length, tail.End);
        var content = large.Concat(small).ToArray();
        var digest = Digest.Sha256Of(content);
        await store.CommitUploadAsync(uploadId, [head, tail], digest, Ct);
        Assert.Equal(content, await ReadBlobAsync(store, digest, 0, null));
    }

    [Fact]
    public async Task A_body_that_fails_mid_chunk_is_rethrown_as_it_failed_and_leaves_no_chunk()
    {
        var store = await CreateStoreAsync();
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        foreach (long? declared in new long?[] { 12 * Mi, null })
        {
            var error = await Assert.ThrowsAsync<IOException>(
                () => store.WriteUploadChunkAsync(uploadId, 0, new FailingStream(Bytes(10 * Mi, seed: 172)), declared, Ct));
            Assert.Equal(FailingStream.Message, error.Message);
        }

        await AssertNoChunkStagedAsync(store, uploadId);
    }

    /// <summary>Asserts that no chunk of the upload is staged (a store's own view of its staging area).</summary>
    protected abstract Task AssertNoChunkStagedAsync(IBlobStore store, string uploadId);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Large_blob_streams_through_with_small_managed_allocation(bool declaredLength)
    {
        const long size = 64L * Mi;
        const ulong seed = 42;
        var store = await CreateStoreAsync();
        var digest = await HashAsync(new GeneratedStream(size, seed), DigestAlgorithm.Sha256);
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        // Warm the paths once so one-time costs (JIT, pools, first handles, part buffers) are not
        // counted: the same shape of write as measured below, generated rather than held.
        var warmId = NewUploadId();
        await store.CreateUploadAsync(warmId, Ct);
        long? declared = declaredLength ? size / 2 : null;
        Assert.Equal(size / 2, (await store.WriteUploadChunkAsync(warmId, 0, new GeneratedStream(size / 2, seed: 43), declared, Ct)).End);
        await store.AbortUploadAsync(warmId, Ct);
        await PutAsync(store, Bytes(2 * Mi, seed: 43));

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var head = await store.WriteUploadChunkAsync(uploadId, 0, new GeneratedStream(size / 2, seed), declared, Ct);
        Assert.Equal(size / 2, head.End);
        var tail = await store.WriteUploadChunkAsync(uploadId, size / 2, new GeneratedStream(size / 2, seed, start: size / 2), declared, Ct);
        Assert.Equal(size, tail.End);
        await store.CommitUploadAsync(uploadId, [head, tail], digest, Ct);
        Digest readBack;
        long readBytes;
        await using (var stream = await store.OpenReadAsync(digest, 0, null, Ct))
        {
            Assert.NotNull(stream);
            using var hash = digest.CreateHash();
            var sink = new HashingWriteStream(hash);
            await stream.CopyToAsync(sink, Ct);
            readBack = Digest.FromHash(DigestAlgorithm.Sha256, hash.GetHashAndReset());
            readBytes = sink.BytesWritten;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(size, readBytes);
        Assert.Equal(digest, readBack);
        Assert.True(
            allocated < StreamingAllocationBudget,
            $"pushing and pulling {size} bytes allocated {allocated} managed bytes (budget {StreamingAllocationBudget})");
    }

    protected static string NewUploadId() => Guid.NewGuid().ToString("N");

    protected static byte[] Bytes(int length, ulong seed)
    {
        var bytes = new byte[length];
        new GeneratedStream(length, seed).ReadExactly(bytes);
        return bytes;
    }

    protected static async Task<string> StageAsync(IBlobStore store, byte[] content)
    {
        var uploadId = NewUploadId();
        await store.CreateUploadAsync(uploadId, Ct);
        Assert.Equal(content.Length, await AppendAsync(store, uploadId, content));
        return uploadId;
    }

    /// <summary>
    /// What the upload session records in the server: the chunks accepted so far, per upload id (ids
    /// are fresh GUIDs, so tests running at once never share an entry).
    /// </summary>
    protected static ConcurrentDictionary<string, List<UploadChunk>> Recorded { get; } = new(StringComparer.Ordinal);

    protected static IReadOnlyList<UploadChunk> RecordedChunks(string uploadId) =>
        Recorded.TryGetValue(uploadId, out var chunks) ? [.. chunks] : [];

    /// <summary>Writes <paramref name="bytes"/> where the recorded chunks end and records the chunk; returns the new end.</summary>
    protected static async Task<long> AppendAsync(IBlobStore store, string uploadId, byte[] bytes)
    {
        var chunks = Recorded.GetOrAdd(uploadId, _ => []);
        var chunk = await store.WriteUploadChunkAsync(uploadId, chunks.Count == 0 ? 0 : chunks[^1].End, new MemoryStream(bytes), null, Ct);
        if (chunk.Length > 0)
        {
            chunks.Add(chunk);
        }

        return chunk.End;
    }

    protected static async Task<Digest> PutAsync(IBlobStore store, byte[] content, DigestAlgorithm algorithm = DigestAlgorithm.Sha256)
    {
        var digest = Digest.Compute(algorithm, content);
        var uploadId = await StageAsync(store, content);
        await store.CommitUploadAsync(uploadId, RecordedChunks(uploadId), digest, Ct);
        return digest;
    }

    protected static async Task<byte[]> ReadBlobAsync(IBlobStore store, Digest digest, long offset, long? length)
    {
        await using var stream = await store.OpenReadAsync(digest, offset, length, Ct);
        Assert.NotNull(stream);
        return await ReadAllAsync(stream);
    }

    protected static async Task<byte[]> ReadUploadAsync(IBlobStore store, string uploadId)
    {
        await using var stream = await store.OpenUploadReadAsync(uploadId, RecordedChunks(uploadId), Ct);
        return await ReadAllAsync(stream);
    }

    protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, Ct);
        return buffer.ToArray();
    }

    protected static async Task<List<BlobStat>> ListAsync(IBlobStore store)
    {
        var list = new List<BlobStat>();
        await foreach (var stat in store.ListAsync(Ct))
        {
            list.Add(stat);
        }

        return list;
    }

    protected static async Task<List<string>> ListUploadsAsync(IBlobStore store)
    {
        var list = new List<string>();
        await foreach (var id in store.ListUploadsAsync(Ct))
        {
            list.Add(id);
        }

        return list;
    }

    private static async Task<Digest> HashAsync(Stream stream, DigestAlgorithm algorithm)
    {
        using var hash = Digest.Compute(algorithm, []).CreateHash();
        var buffer = ArrayPool<byte>.Shared.Rent(Mi);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, Ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Digest.FromHash(algorithm, hash.GetHashAndReset());
    }
}

/// <summary>Blob-store suites run alone: the streaming test counts every managed allocation in the process.</summary>
[CollectionDefinition(nameof(BlobStoreCollection), DisableParallelization = true)]
public sealed class BlobStoreCollection;
