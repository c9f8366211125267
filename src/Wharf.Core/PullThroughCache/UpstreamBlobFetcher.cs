using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
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
    IBlobStore blobs,
    UploadService uploads,
    BlobService blobService,
    TimeProvider time,
    ILogger<UpstreamBlobFetcher> logger) : IDisposable
{
    /// <summary>The size of a staged segment (the one buffer of a fetch).</summary>
    internal const int DefaultSegmentSize = 8 * 1024 * 1024;

    private readonly ConcurrentDictionary<Digest, BlobFetch> fetches = new();
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
                return new BlobRead(digest, declared, 0, declared, false, new BlobFetchReader(fetch, blobs, declared));
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
    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
    }

    private async Task<BlobRead?> TryOpenStoredAsync(Repository repository, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        if (await blobService.TryOpenLinkedAsync(repository, digest, range, cancellationToken) is { } linked)
        {
            return linked;
        }

        return !fetches.ContainsKey(digest) && await TryLinkStoredAsync(repository, digest, cancellationToken)
            ? await blobService.TryOpenLinkedAsync(repository, digest, range, cancellationToken)
            : null;
    }

    // Content addressing: bytes stored for another repository are these very bytes.
    private async Task<bool> TryLinkStoredAsync(Repository repository, Digest digest, CancellationToken cancellationToken) =>
        await store.Blobs.GetBlobAsync(digest, cancellationToken) is not null
        && await blobs.StatAsync(digest, cancellationToken) is not null
        && await store.Blobs.LinkBlobAsync(repository.Id, digest, time.GetUtcNow(), cancellationToken);

    /// <summary>This node's fetch of the digest, started when there is none, with the repository joined; null when the fetch was ending (look again).</summary>
    private async Task<BlobFetch?> JoinAsync(Repository repository, Digest digest, Func<CancellationToken, Task<UpstreamBlob>> openUpstream, CancellationToken cancellationToken)
    {
        var started = new BlobFetch(digest, repository);
        var fetch = fetches.GetOrAdd(digest, started);
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
            var total = await StageAsync(fetch.Digest, upstream, import, buffer, fetch, cancellationToken);
            if (upstream.Length is { } declared && total != declared)
            {
                throw new UpstreamException(UpstreamFailure.Unavailable, $"the upstream sent {total} bytes of blob {fetch.Digest}, not the {declared} it declared");
            }

            await import.CommitAsync(fetch.Digest, cancellationToken);
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

            fetches.TryRemove(new KeyValuePair<Digest, BlobFetch>(fetch.Digest, fetch));
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

    // Reads the upstream into the segment buffer (readers see each read land) and stages each full segment.
    private async Task<long> StageAsync(Digest digest, UpstreamBlob upstream, BlobImport import, byte[] buffer, BlobFetch fetch, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var filled = 0;
            while (filled < SegmentSize)
            {
                var read = await upstream.Content.ReadAsync(buffer.AsMemory(filled, SegmentSize - filled), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                total += read;
                if (total > upstream.Length)
                {
                    throw new UpstreamException(UpstreamFailure.Unavailable, $"the upstream sent more than the {upstream.Length} bytes it declared for blob {digest}");
                }

                fetch.Filled(filled);
            }

            if (filled > 0)
            {
                await import.AppendAsync(new MemoryStream(buffer, 0, filled, writable: false), filled, cancellationToken);
                fetch.Staged(import.Chunks, import.Offset);
            }

            if (filled < SegmentSize)
            {
                return total;
            }
        }
    }

    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Fetched blob {Digest} ({Bytes} bytes) from the upstream and stored it")]
    private static partial void LogFetched(ILogger logger, Digest digest, long bytes);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Fetching blob {Digest} from the upstream failed; nothing was stored: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, Digest digest, string reason);
}
