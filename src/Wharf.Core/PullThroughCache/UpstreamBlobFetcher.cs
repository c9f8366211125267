using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wharf.Core.Encryption;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Core.Uploads;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// The blob half of pulling through the cache: a blob the repository lacks is read from the upstream once
/// per node however many clients ask (single flight per digest), and streamed to each of them WHILE it is
/// stored. The fetch is a task of its own: a client that goes away does not stop it (the others and the
/// cache still want the bytes); the upstream read's own timeouts bound it and the host's shutdown cancels it.
/// It stages the bytes as an ordinary upload (<see cref="UploadService.StartImportAsync"/>) in segments, then
/// verifies the digest and the declared length and commits and links the blob; a failure or a mismatch
/// commits nothing, aborts the staging, ends every reader with an error, and the next request fetches
/// again. Memory: one segment buffer per fetch; readers that fall behind read staged segments back from the
/// store, so a slow client slows only itself. Two nodes may fetch one blob at once: both commit the same
/// content-addressed bytes.
/// </summary>
public sealed partial class UpstreamBlobFetcher(
    IMetadataStore store,
    IBlobVault vault,
    UploadService uploads,
    BlobService blobService,
    TimeProvider time,
    ILogger<UpstreamBlobFetcher> logger) : IDisposable
{
    /// <summary>
    /// The size of a staged segment (the one buffer of a fetch): above the S3 store's 8 MiB, so that it
    /// streams a segment to the bucket as the upstream sends it rather than buffering it once more.
    /// </summary>
    internal const int DefaultSegmentSize = 16 * 1024 * 1024;

    // One fetch per key and digest: a blob is sealed under the key of the repository whose pull started the fetch, so
    // only repositories under that same key may join it (those under another key fetch their own copy).
    private readonly ConcurrentDictionary<(BlobScope Scope, Digest Digest), BlobFetch> fetches = new();
    private readonly CancellationTokenSource stopping = new();

    /// <summary>The size of a staged segment (tests make it small to have many).</summary>
    internal int SegmentSize { get; init; } = DefaultSegmentSize;

    /// <summary>How many fetches run on this node now (for tests).</summary>
    internal int InFlight => fetches.Count;

    /// <summary>
    /// Opens the blob for <paramref name="repository"/> (whose caller is already authorised to pull through
    /// the cache): from the store when it is linked there (or stored for another repository: it is linked
    /// then), else from the fetch of it this node runs, started with <paramref name="openUpstream"/> when
    /// there is none. The whole blob streams as it arrives; a <paramref name="range"/> (or an upstream that
    /// declares no length) waits for the blob to be stored. Throws what <paramref name="openUpstream"/>
    /// throws (an <see cref="UpstreamException"/>) when the upstream refuses; a failure after the upstream
    /// answered ends the stream with an <see cref="IOException"/>. 416 as <see cref="BlobService.OpenAsync"/>.
    /// </summary>
    public async Task<BlobRead> OpenAsync(
        Repository repository,
        Digest digest,
        ByteRange? range,
        Func<CancellationToken, Task<UpstreamBlob>> openUpstream,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryOpenStoredAsync(repository, digest, range, cancellationToken) is { } stored)
            {
                return stored;
            }

            if (await JoinAsync(repository, digest, openUpstream, cancellationToken) is not { } fetch)
            {
                continue;
            }

            var length = await fetch.Opened.WaitAsync(cancellationToken);
            if (range is null && length is { } declared)
            {
                return new BlobRead(digest, declared, 0, declared, false, new BlobFetchReader(fetch, vault, declared));
            }

            await fetch.Completed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Makes sure the blob ends up stored and linked to <paramref name="repository"/> (joining this node's
    /// fetch of it, or starting one), for blobs no client asked for yet. Throws as the fetch failed.
    /// </summary>
    public async Task EnsureAsync(
        Repository repository,
        Digest digest,
        Func<CancellationToken, Task<UpstreamBlob>> openUpstream,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await store.Blobs.GetLinkedBlobAsync(repository.Id, digest, cancellationToken) is not null
                || await TryLinkStoredAsync(repository, digest, cancellationToken))
            {
                return;
            }

            if (await JoinAsync(repository, digest, openUpstream, cancellationToken) is { } fetch)
            {
                await fetch.Completed.WaitAsync(cancellationToken);
                return;
            }
        }
    }

    /// <summary>Cancels every fetch (host shutdown): their readers fail and their staging is aborted.</summary>
    public void Dispose() => stopping.Cancel();

    private async Task<BlobRead?> TryOpenStoredAsync(Repository repository, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        if (await blobService.TryOpenLinkedAsync(repository, digest, range, cancellationToken) is { } linked)
        {
            return linked;
        }

        return !fetches.ContainsKey((BlobScope.Of(repository.Settings), digest)) && await TryLinkStoredAsync(repository, digest, cancellationToken)
            ? await blobService.TryOpenLinkedAsync(repository, digest, range, cancellationToken)
            : null;
    }

    // Content addressing: bytes stored for another repository under the same key are these very bytes.
    private async Task<bool> TryLinkStoredAsync(Repository repository, Digest digest, CancellationToken cancellationToken) =>
        await store.Blobs.GetBlobAsync(digest, cancellationToken) is not null
        && await vault.StatAsync(BlobScope.Of(repository.Settings), digest, cancellationToken) is not null
        && await store.Blobs.LinkBlobAsync(repository.Id, digest, time.GetUtcNow(), cancellationToken);

    /// <summary>This node's fetch of the digest, started when there is none, with the repository joined; null when the fetch was ending (look again).</summary>
    private async Task<BlobFetch?> JoinAsync(Repository repository, Digest digest, Func<CancellationToken, Task<UpstreamBlob>> openUpstream, CancellationToken cancellationToken)
    {
        var started = new BlobFetch(digest, repository);
        var fetch = fetches.GetOrAdd((BlobScope.Of(repository.Settings), digest), started);
        if (ReferenceEquals(fetch, started))
        {
            _ = Task.Run(() => RunAsync(started, openUpstream), CancellationToken.None);
        }

        if (fetch.TryJoin(repository))
        {
            return fetch;
        }

        // Ending: once it has left the table, the store (or a new fetch) answers.
        await fetch.Finished.WaitAsync(cancellationToken);
        return null;
    }

    private async Task RunAsync(BlobFetch fetch, Func<CancellationToken, Task<UpstreamBlob>> openUpstream)
    {
        byte[]? buffer = null;
        try
        {
            var cancellationToken = stopping.Token;
            await using var upstream = await openUpstream(cancellationToken);
            fetch.SetOpened(upstream.Length);
            await using var import = await uploads.StartImportAsync(fetch.Repository, cancellationToken);
            buffer = ArrayPool<byte>.Shared.Rent(SegmentSize);
            fetch.Begin(import.UploadId, buffer);
            var total = await StageAsync(fetch, upstream, import, buffer, cancellationToken);

            await import.CommitAsync(fetch.Digest, fetch.Verify, cancellationToken);
            foreach (var other in fetch.Close())
            {
                if (!await store.Blobs.LinkBlobAsync(other.Id, fetch.Digest, time.GetUtcNow(), cancellationToken))
                {
                    throw new WharfException(WharfErrorCode.Unavailable, $"blob {fetch.Digest} was being garbage-collected; pull again");
                }
            }

            buffer = fetch.Commit();
            LogFetched(logger, fetch.Digest, total);
        }
        catch (Exception e)
        {
            var failure = Describe(fetch.Digest, e);
            buffer = fetch.Fail(failure);
            LogFetchFailed(logger, fetch.Digest, failure.Message);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            fetches.TryRemove(new KeyValuePair<(BlobScope, Digest), BlobFetch>((BlobScope.Of(fetch.Repository.Settings), fetch.Digest), fetch));
            fetch.Finish();
        }
    }

    // What readers and waiters see: the upstream's own refusal, the registry's (a blob being collected), or
    // else an unavailable upstream: a broken connection, bytes that do not match the digest, a shutdown.
    private Exception Describe(Digest digest, Exception e) => e switch
    {
        UpstreamException => e,
        WharfException { Code: WharfErrorCode.DigestInvalid } =>
            new UpstreamException(UpstreamFailure.Unavailable, $"the upstream sent bytes that do not match blob {digest}; nothing was stored", e),
        WharfException => e,
        OperationCanceledException when stopping.IsCancellationRequested =>
            new UpstreamException(UpstreamFailure.Unavailable, $"the fetch of blob {digest} stopped: the server is shutting down", e),
        _ => new UpstreamException(UpstreamFailure.Unavailable, $"reading blob {digest} from the upstream failed: {e.Message}", e),
    };

    // Stages the upstream's bytes segment by segment. Each segment's bytes pass through the segment buffer,
    // where readers see each read land, on their way to the store: with a declared length the store takes
    // them as they arrive (the upstream never waits for a write to finish); without one, a segment is read
    // whole before it is written.
    private async Task<long> StageAsync(BlobFetch fetch, UpstreamBlob upstream, BlobImport import, byte[] buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var remaining = upstream.Length - import.Offset;
            if (remaining == 0)
            {
                if (await upstream.Content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken) > 0)
                {
                    throw new UpstreamException(UpstreamFailure.Unavailable, $"the upstream sent more than the {upstream.Length} bytes it declared for blob {fetch.Digest}");
                }

                return import.Offset;
            }

            var segment = new SegmentTee(upstream.Content, buffer, (int)Math.Min(SegmentSize, remaining ?? SegmentSize), fetch);
            if (remaining is null)
            {
                await segment.FillAsync(cancellationToken);
                if (segment.Filled > 0)
                {
                    await import.AppendAsync(new MemoryStream(buffer, 0, segment.Filled, writable: false), segment.Filled, cancellationToken);
                }
            }
            else
            {
                await import.AppendAsync(segment, segment.SegmentLength, cancellationToken);
            }

            fetch.Staged(import.Chunks, import.Offset);
            if (remaining is null && segment.Filled < SegmentSize)
            {
                return import.Offset;
            }
        }
    }

    /// <summary>
    /// One segment of the upstream's bytes: read into the segment buffer (and announced to readers) and handed
    /// on to whoever reads this stream, the store. Ends after <see cref="SegmentLength"/> bytes; an upstream that ends
    /// sooner than that fails it when a length was declared.
    /// </summary>
    private sealed class SegmentTee(Stream upstream, byte[] buffer, int length, BlobFetch fetch) : ReadOnlyStream
    {
        public int SegmentLength { get; } = length;

        public int Filled { get; private set; }

        public override int Read(Span<byte> destination) =>
            throw new NotSupportedException("Upstream bytes are read asynchronously.");

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            var want = Math.Min(destination.Length, SegmentLength - Filled);
            if (want == 0)
            {
                return 0;
            }

            var read = await upstream.ReadAsync(buffer.AsMemory(Filled, want), cancellationToken);
            if (read == 0)
            {
                throw new IOException($"the upstream's body ended {SegmentLength - Filled} bytes short of its declared length");
            }

            buffer.AsMemory(Filled, read).CopyTo(destination);
            Filled += read;
            fetch.Filled(Filled);
            return read;
        }

        /// <summary>Reads until the segment is full or the upstream ends (no declared length to hold it to).</summary>
        public async Task FillAsync(CancellationToken cancellationToken)
        {
            int read;
            while (Filled < SegmentLength && (read = await upstream.ReadAsync(buffer.AsMemory(Filled, SegmentLength - Filled), cancellationToken)) > 0)
            {
                Filled += read;
                fetch.Filled(Filled);
            }
        }
    }

    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Fetched blob {Digest} ({Bytes} bytes) from the upstream and stored it")]
    private static partial void LogFetched(ILogger logger, Digest digest, long bytes);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Fetching blob {Digest} from the upstream failed; nothing was stored: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, Digest digest, string reason);
}
