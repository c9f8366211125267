using System.Security.Cryptography;
using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Storage;
using Wharf.Core.Uploads;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// <see cref="UpstreamBlobFetcher"/> of a real Wharf server (Kestrel, SQLite, the filesystem or RGW's S3)
/// against a real HTTP upstream (<see cref="BlobUpstream"/>): one upstream fetch however many readers,
/// bytes streamed while they are stored, and failures that store nothing.
/// </summary>
public sealed class UpstreamBlobFetcherTests
{
    private const int Mi = 1024 * 1024;
    private static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), "us-east-1");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Twenty_concurrent_readers_of_an_uncached_200_MiB_blob_share_one_upstream_fetch_and_each_gets_its_exact_bytes(bool s3)
    {
        await using var server = s3 ? await WharfTestServer.StartOnS3Async() : await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        // Held at 1 MiB until every reader has its stream: all twenty join the one fetch in flight.
        var digest = upstream.Add(200L * Mi, seed: 1, new BlobBehaviour { PauseAt = Mi });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/library/big");

        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct)));
        Assert.All(reads, read => Assert.Equal((200L * Mi, 0L, 200L * Mi, false), (read.Size, read.Offset, read.Length, read.IsPartial)));
        upstream.Behaviour(digest).Release.TrySetResult();

        var digests = await Task.WhenAll(reads.Select(HashAsync));
        Assert.All(digests, actual => Assert.Equal((digest, 200L * Mi), actual));
        Assert.Equal(1, upstream.Requests(digest));
        Assert.Equal(200L * Mi, upstream.BytesSent(digest));
        await AssertStoredAndLinkedAsync(server, repository, digest, 200L * Mi);

        // Stored: the next reader, of this repository or another, never reaches the upstream.
        var other = await RepositoryAsync(server, "hub/library/other");
        await using (var again = await fetcher.OpenAsync(other, digest, null, NoUpstream, Ct))
        {
            Assert.Equal((digest, 200L * Mi), await HashAsync(again));
        }

        Assert.Equal(1, upstream.Requests(digest));
        await AssertStoredAndLinkedAsync(server, other, digest, 200L * Mi);
    }

    [Fact]
    public async Task A_reader_joining_late_reads_the_staged_segments_and_the_rest_as_they_land_with_identical_bytes()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        // Paused past one 16 MiB segment: the late reader's first bytes can only come from the staging area.
        var digest = upstream.Add(30L * Mi, seed: 2, new BlobBehaviour { PauseAt = 20L * Mi });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/late");

        var first = await fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct);
        var firstHash = HashAsync(first);
        await upstream.Behaviour(digest).Paused.Task.WaitAsync(Ct);

        await using var late = await fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var head = new byte[16 * Mi];
        await late.Content.ReadExactlyAsync(head, Ct);
        Assert.Equal(Generated(0, 16 * Mi, seed: 2), head);
        hash.AppendData(head);
        Assert.Equal(1, fetcher.InFlight);

        upstream.Behaviour(digest).Release.TrySetResult();
        var sink = new HashingWriteStream(hash);
        await late.Content.CopyToAsync(sink, Ct);
        Assert.Equal(digest, Digest.FromHash(DigestAlgorithm.Sha256, hash.GetHashAndReset()));
        Assert.Equal(30L * Mi, head.Length + sink.BytesWritten);
        Assert.Equal((digest, 30L * Mi), await firstHash);
        Assert.Equal(1, upstream.Requests(digest));
        await first.DisposeAsync();
    }

    [Fact]
    public async Task The_first_reader_going_away_mid_way_does_not_stop_the_fetch_and_the_blob_ends_up_stored_and_linked()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(20L * Mi, seed: 3, new BlobBehaviour { PauseAt = 10L * Mi });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/gone");

        using (var cancelled = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var read = await fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), cancelled.Token);
            var some = new byte[Mi];
            await read.Content.ReadExactlyAsync(some, cancelled.Token);
            await upstream.Behaviour(digest).Paused.Task.WaitAsync(Ct);
            // The client disconnects: its request is cancelled and its stream disposed.
            await cancelled.CancelAsync();
            await read.DisposeAsync();
        }

        upstream.Behaviour(digest).Release.TrySetResult();
        // Joins the fetch still running (or finds the blob stored): never a second upstream request.
        await fetcher.EnsureAsync(repository, digest, NoUpstream, Ct);
        Assert.Equal(1, upstream.Requests(digest));
        Assert.Equal(20L * Mi, upstream.BytesSent(digest));
        await AssertStoredAndLinkedAsync(server, repository, digest, 20L * Mi);
    }

    [Fact]
    public async Task An_upstream_failing_mid_stream_fails_every_reader_stores_nothing_and_the_next_request_fetches_again()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        // Broken after one segment is staged and while the next is being written.
        var behaviour = new BlobBehaviour { FailAt = 20L * Mi };
        var digest = upstream.Add(30L * Mi, seed: 4, behaviour);
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/broken");

        var reads = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct)));
        foreach (var read in reads)
        {
            await Assert.ThrowsAnyAsync<IOException>(() => HashAsync(read));
            await read.DisposeAsync();
        }

        await AssertNothingStoredAsync(server, fetcher, repository, digest);

        behaviour.FailAt = null;
        await using var retry = await fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct);
        Assert.Equal((digest, 30L * Mi), await HashAsync(retry));
        Assert.Equal(2, upstream.Requests(digest));
        await AssertStoredAndLinkedAsync(server, repository, digest, 30L * Mi);
    }

    [Fact]
    public async Task Bytes_that_do_not_match_the_digest_are_never_committed_and_no_reader_gets_a_whole_body()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(10L * Mi, seed: 5, new BlobBehaviour { WrongBytes = true });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/wrong");

        var reads = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct)));
        foreach (var read in reads)
        {
            var received = 0L;
            var buffer = new byte[64 * 1024];
            var failure = await Record.ExceptionAsync(async () =>
            {
                int n;
                while ((n = await read.Content.ReadAsync(buffer, Ct)) > 0)
                {
                    received += n;
                }
            });
            Assert.IsType<IOException>(failure);
            Assert.Contains("do not match", failure.Message, StringComparison.Ordinal);
            Assert.True(received < 10L * Mi, $"a reader received all {received} bytes of a blob that failed verification");
            await read.DisposeAsync();
        }

        await AssertNothingStoredAsync(server, fetcher, repository, digest);
        var ensure = await Assert.ThrowsAsync<UpstreamException>(() => fetcher.EnsureAsync(repository, digest, upstream.Opener(digest), Ct));
        Assert.Equal(UpstreamFailure.Unavailable, ensure.Failure);
        await AssertNothingStoredAsync(server, fetcher, repository, digest);
    }

    [Fact]
    public async Task A_ranged_read_of_an_uncached_blob_waits_for_it_to_be_stored_and_serves_the_range()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(10L * Mi, seed: 6);
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/ranged");

        await using var read = await fetcher.OpenAsync(repository, digest, new ByteRange(5L * Mi, (5L * Mi) + 99), upstream.Opener(digest), Ct);
        Assert.Equal((10L * Mi, 5L * Mi, 100L, true), (read.Size, read.Offset, read.Length, read.IsPartial));
        var bytes = new byte[100];
        await read.Content.ReadExactlyAsync(bytes, Ct);
        Assert.Equal(0, await read.Content.ReadAsync(new byte[1], Ct));
        Assert.Equal(Generated(5L * Mi, 100, seed: 6), bytes);
        Assert.Equal(1, upstream.Requests(digest));
        await AssertStoredAndLinkedAsync(server, repository, digest, 10L * Mi);
    }

    [Fact]
    public async Task EnsureAsync_joins_the_fetch_a_reader_started_and_links_the_blob_into_both_repositories()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(12L * Mi, seed: 7, new BlobBehaviour { PauseAt = 9L * Mi });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var reading = await RepositoryAsync(server, "hub/app");
        var importing = await RepositoryAsync(server, "hub/base");

        await using var read = await fetcher.OpenAsync(reading, digest, null, upstream.Opener(digest), Ct);
        var hashing = HashAsync(read);
        await upstream.Behaviour(digest).Paused.Task.WaitAsync(Ct);
        var ensuring = fetcher.EnsureAsync(importing, digest, NoUpstream, Ct);
        Assert.False(ensuring.IsCompleted);

        upstream.Behaviour(digest).Release.TrySetResult();
        await ensuring;
        Assert.Equal((digest, 12L * Mi), await hashing);
        Assert.Equal(1, upstream.Requests(digest));
        await AssertStoredAndLinkedAsync(server, reading, digest, 12L * Mi);
        await AssertStoredAndLinkedAsync(server, importing, digest, 12L * Mi);
    }

    [Fact]
    public async Task An_upstream_refusal_reaches_the_caller_before_any_byte_and_leaves_nothing_behind()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/missing");
        var digest = BlobUpstream.DigestOf(10, seed: 8); // never registered: the upstream answers 404

        var refused = await Assert.ThrowsAsync<UpstreamException>(() => fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct));
        Assert.Equal(UpstreamFailure.NotFound, refused.Failure);
        await AssertNothingStoredAsync(server, fetcher, repository, digest);
    }

    [Fact]
    public async Task An_upstream_body_longer_than_its_declared_length_is_refused_and_nothing_is_stored()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(20L * Mi, seed: 9);
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/long");
        // The upstream declares 17 MiB and sends 20: the fetch stops at the declared bound.
        var lying = upstream.Opener(digest);
        Func<CancellationToken, Task<UpstreamBlob>> opener = async ct => await lying(ct) with { Length = 17L * Mi };

        await using var read = await fetcher.OpenAsync(repository, digest, null, opener, Ct);
        Assert.Equal(17L * Mi, read.Length);
        var failure = await Assert.ThrowsAnyAsync<IOException>(() => HashAsync(read));
        Assert.Contains("more than the", failure.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(server, fetcher, repository, digest);
    }

    [Fact]
    public async Task An_upstream_that_declares_no_length_is_stored_whole_before_it_is_served()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(20L * Mi, seed: 10, new BlobBehaviour { Chunked = true });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/chunked");

        var reads = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct)));
        await AssertStoredAndLinkedAsync(server, repository, digest, 20L * Mi);
        foreach (var read in reads)
        {
            Assert.Equal((digest, 20L * Mi), await HashAsync(read));
            await read.DisposeAsync();
        }

        Assert.Equal(1, upstream.Requests(digest));
    }

    [Fact]
    public async Task Shutting_the_fetcher_down_ends_its_fetches_and_their_readers_and_stores_nothing()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var upstream = await BlobUpstream.StartAsync();
        var digest = upstream.Add(30L * Mi, seed: 11, new BlobBehaviour { PauseAt = 20L * Mi });
        var fetcher = server.GetService<UpstreamBlobFetcher>();
        var repository = await RepositoryAsync(server, "hub/shutdown");

        await using var read = await fetcher.OpenAsync(repository, digest, null, upstream.Opener(digest), Ct);
        await upstream.Behaviour(digest).Paused.Task.WaitAsync(Ct);
        fetcher.Dispose(); // what the host's shutdown does to the singleton

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => HashAsync(read));
        Assert.Contains("shutting down", failure.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(server, fetcher, repository, digest);
    }

    private static Task<UpstreamBlob> NoUpstream(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the upstream was asked a second time");

    private static async Task<Repository> RepositoryAsync(WharfTestServer server, string name) =>
        await server.GetService<IMetadataStore>().Repositories.GetOrCreateAsync(new RepositoryKey(Registry, RepositoryName.Parse(name)), DateTimeOffset.UtcNow, Ct);

    private static async Task<(Digest Digest, long Length)> HashAsync(BlobRead read)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var sink = new HashingWriteStream(hash);
        await read.Content.CopyToAsync(sink, Ct);
        return (Digest.FromHash(DigestAlgorithm.Sha256, hash.GetHashAndReset()), sink.BytesWritten);
    }

    private static byte[] Generated(long start, int length, ulong seed)
    {
        var bytes = new byte[length];
        new GeneratedStream(length, seed, start).ReadExactly(bytes);
        return bytes;
    }

    private static async Task AssertStoredAndLinkedAsync(WharfTestServer server, Repository repository, Digest digest, long size)
    {
        // Readers have their last byte once the digest is verified, maybe before the commit: wait for the fetch.
        await server.GetService<UpstreamBlobFetcher>().EnsureAsync(repository, digest, NoUpstream, Ct);
        var linked = await server.GetService<IMetadataStore>().Blobs.GetLinkedBlobAsync(repository.Id, digest, Ct);
        Assert.NotNull(linked);
        Assert.Equal(size, linked.Size);
        // Stored as the repository's sealed copy.
        Assert.Equal(size, (await server.GetService<IBlobVault>().FindSealedAsync(BlobScope.Of(repository.Settings), digest, Ct))?.Size);
        Assert.Null(await server.GetService<IBlobStore>().StatAsync(digest, Ct)); // nothing at the plaintext's name
        await AssertNoUploadLeftAsync(server);
    }

    private static async Task AssertNothingStoredAsync(WharfTestServer server, UpstreamBlobFetcher fetcher, Repository repository, Digest digest)
    {
        // The fetch leaves the table right after its readers were told.
        for (var i = 0; i < 100 && fetcher.InFlight > 0; i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal(0, fetcher.InFlight);
        Assert.Null(await server.GetService<IMetadataStore>().Blobs.GetLinkedBlobAsync(repository.Id, digest, Ct));
        Assert.Null(await server.GetService<IBlobVault>().StatAsync(BlobScope.Of(repository.Settings), digest, Ct));
        await AssertNoUploadLeftAsync(server);
    }

    // Neither a session row nor a staging area: the import ended either way.
    private static async Task AssertNoUploadLeftAsync(WharfTestServer server)
    {
        var staged = new List<string>();
        await foreach (var id in server.GetService<IBlobStore>().ListUploadsAsync(Ct))
        {
            staged.Add(id);
        }

        Assert.Empty(staged);
        Assert.Empty(await server.GetService<IMetadataStore>().Uploads.ListExpiredAsync(DateTimeOffset.UtcNow.AddYears(100), 10, Ct));
    }
}
