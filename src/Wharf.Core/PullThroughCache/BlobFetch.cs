using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// One upstream blob being fetched and stored on this node (<see cref="UpstreamBlobFetcher"/>): what is
/// staged so far (a chain of segments), the segment being filled (in memory, the only buffer of the
/// fetch), and how it ended. Readers ask it where their next bytes are (<see cref="Next"/>); the fetch
/// task tells it what landed. Every field is guarded by one lock, held only to copy a few pooled-buffer
/// sized reads or to swap state, never across I/O.
/// </summary>
internal sealed class BlobFetch(Digest digest, Repository repository)
{
    private readonly Lock gate = new();
    private readonly TaskCompletionSource<long?> opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Repository> joined = [];
    private TaskCompletionSource? progress;
    private string? uploadId;
    private IReadOnlyList<UploadChunk> chain = [];
    private byte[]? segment;
    private long segmentStart;
    private int filled;
    private bool closed;
    private bool verified;
    private bool committed;
    private Exception? failure;

    public Digest Digest { get; } = digest;

    /// <summary>The repository whose request started the fetch: the upload session is its.</summary>
    public Repository Repository { get; } = repository;

    /// <summary>The length the upstream declared (null when it declared none), once it answered; faults as opening it failed.</summary>
    public Task<long?> Opened => opened.Task;

    /// <summary>Completes once the blob is committed and linked to every joined repository; faults as the fetch failed.</summary>
    public Task Completed => completed.Task;

    /// <summary>Completes (never faults) when the fetch has ended either way and left the fetcher's table.</summary>
    public Task Finished => finished.Task;

    /// <summary>
    /// Adds a repository the blob must be linked to when it is committed. False once the fetch no longer
    /// takes any (committing or failed): wait for <see cref="Finished"/> and look again.
    /// </summary>
    public bool TryJoin(Repository other)
    {
        lock (gate)
        {
            if (closed || failure is not null)
            {
                return false;
            }

            if (other.Id != Repository.Id && !joined.Exists(r => r.Id == other.Id))
            {
                joined.Add(other);
            }

            return true;
        }
    }

    public void SetOpened(long? length) => opened.TrySetResult(length);

    /// <summary>The fetch staged under <paramref name="id"/> and fills <paramref name="buffer"/> segment by segment.</summary>
    public void Begin(string id, byte[] buffer)
    {
        lock (gate)
        {
            uploadId = id;
            segment = buffer;
        }
    }

    /// <summary>The current segment now holds <paramref name="count"/> bytes.</summary>
    public void Filled(int count)
    {
        lock (gate)
        {
            filled = count;
            Signal();
        }
    }

    /// <summary>The current segment is staged: <paramref name="chunks"/> now end at <paramref name="end"/>, where the next segment starts.</summary>
    public void Staged(IReadOnlyList<UploadChunk> chunks, long end)
    {
        lock (gate)
        {
            chain = chunks;
            segmentStart = end;
            filled = 0;
            Signal();
        }
    }

    /// <summary>
    /// The staged bytes match the digest: readers may have the last byte now, without waiting for the commit
    /// (a commit that fails after this ends them with an error all the same, but their bytes were right).
    /// </summary>
    public void Verify()
    {
        lock (gate)
        {
            verified = true;
            Signal();
        }
    }

    /// <summary>The blob is committed: returns the repositories that joined, which no longer change.</summary>
    public IReadOnlyList<Repository> Close()
    {
        lock (gate)
        {
            closed = true;
            return [.. joined];
        }
    }

    /// <summary>Committed and linked: readers go to the blob; returns the segment buffer, which no reader touches any more.</summary>
    public byte[]? Commit()
    {
        lock (gate)
        {
            committed = true;
            Signal();
            return DetachSegment();
        }
    }

    /// <summary>Failed: every reader throws from now on; returns the segment buffer, which no reader touches any more.</summary>
    public byte[]? Fail(Exception exception)
    {
        lock (gate)
        {
            failure = exception;
            Signal();
            opened.TrySetException(exception);
            _ = opened.Task.Exception;
            return DetachSegment();
        }
    }

    /// <summary>Ends the fetch for those who wait on it (after it left the fetcher's table).</summary>
    public void Finish()
    {
        lock (gate)
        {
            if (failure is not null)
            {
                completed.TrySetException(failure);
                _ = completed.Task.Exception; // observed: nobody may be waiting
            }
            else
            {
                completed.TrySetResult();
            }
        }

        finished.TrySetResult();
    }

    /// <summary>
    /// Where a reader at <paramref name="position"/> of a blob of <paramref name="length"/> bytes finds its next
    /// bytes: copied now into <paramref name="destination"/> from the segment in memory, in the staged chain, in
    /// the committed blob, or not yet (wait for the task). The last byte is only served once the digest is
    /// verified, so that a reader never sees the whole of a blob that does not match it. Throws
    /// <see cref="IOException"/> when the fetch failed.
    /// </summary>
    public ReadStep Next(long position, Span<byte> destination, long length)
    {
        lock (gate)
        {
            var limit = verified ? length : length - 1;
            if (failure is not null)
            {
                throw new IOException($"the upstream fetch of {Digest} failed: {failure.Message}", failure);
            }

            if (committed)
            {
                return ReadStep.FromBlob;
            }

            if (position < limit)
            {
                if (position < segmentStart)
                {
                    return new ReadStep(0, uploadId, chain, Math.Min(segmentStart, limit), null);
                }

                var available = Math.Min(segmentStart + filled, limit) - position;
                if (available > 0)
                {
                    var count = (int)Math.Min(available, destination.Length);
                    segment.AsSpan((int)(position - segmentStart), count).CopyTo(destination);
                    return new ReadStep(count, null, null, 0, null);
                }
            }

            progress ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ReadStep(0, null, null, 0, progress.Task);
        }
    }

    private void Signal()
    {
        progress?.TrySetResult();
        progress = null;
    }

    private byte[]? DetachSegment()
    {
        var buffer = segment;
        segment = null;
        return buffer;
    }
}

/// <summary>
/// A reader's next step (<see cref="BlobFetch.Next"/>): <see cref="Copied"/> bytes were copied; or read the
/// staged <see cref="Chain"/> of <see cref="UploadId"/> up to <see cref="StagedEnd"/>; or wait for
/// <see cref="Wait"/>; or (none of these) read the committed blob.
/// </summary>
internal readonly record struct ReadStep(int Copied, string? UploadId, IReadOnlyList<UploadChunk>? Chain, long StagedEnd, Task? Wait)
{
    public static ReadStep FromBlob => default;
}
