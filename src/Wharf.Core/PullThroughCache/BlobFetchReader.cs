using Wharf.Core.Encryption;
using Wharf.Core.Storage;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// One client's view of a blob being fetched (<see cref="BlobFetch"/>): the whole blob, from the segment
/// in memory while it keeps up with the upstream, from the staged segments when it falls behind (so a slow
/// client never holds the upstream), and from the committed blob at the end. Its last byte waits for the
/// digest to be verified (not for the commit): a blob that fails verification ends every reader with an
/// error, never with a complete body.
/// </summary>
internal sealed class BlobFetchReader(BlobFetch fetch, IBlobVault vault, long length) : ReadOnlyStream
{
    // The fetch stages and commits under the key of the repository that started it (the only one it is shared with).
    private readonly BlobScope scope = BlobScope.Of(fetch.Repository.Settings);
    private long position;
    private Stream? source;
    private long sourceEnd;
    private bool sourceIsBlob;

    public override int Read(Span<byte> buffer) =>
        throw new NotSupportedException("A blob being fetched is read asynchronously.");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || position == length)
        {
            return 0;
        }

        while (true)
        {
            if (source is not null)
            {
                var read = await ReadSourceAsync(buffer, cancellationToken);
                if (read > 0)
                {
                    position += read;
                    return read;
                }

                continue;
            }

            var step = fetch.Next(position, buffer.Span, length);
            if (step.Copied > 0)
            {
                position += step.Copied;
                return step.Copied;
            }

            if (step.Wait is { } wait)
            {
                await wait.WaitAsync(cancellationToken);
            }
            else if (step.Chain is { } chain)
            {
                await OpenStagedAsync(step.UploadId!, chain, step.StagedEnd, cancellationToken);
            }
            else
            {
                source = await vault.OpenReadAsync(scope, fetch.Digest, position, null, cancellationToken)
                    ?? throw new IOException($"blob {fetch.Digest} was committed but is gone from the blob store");
                sourceEnd = length;
                sourceIsBlob = true;
            }
        }
    }

    // 0 when the source is used up (or was lost while staged: the fetch's end decides what comes next).
    private async ValueTask<int> ReadSourceAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var want = (int)Math.Min(buffer.Length, sourceEnd - position);
        int read;
        try
        {
            read = want == 0 ? 0 : await source!.ReadAsync(buffer[..want], cancellationToken);
        }
        catch (Exception) when (!sourceIsBlob && !cancellationToken.IsCancellationRequested)
        {
            // The commit removes the staging area, possibly under this read (S3 deletes the chunks).
            await CloseSourceAsync();
            await fetch.Finished.WaitAsync(cancellationToken);
            return 0;
        }

        if (read == 0)
        {
            await CloseSourceAsync();
            if (sourceIsBlob && position < length)
            {
                throw new IOException($"blob {fetch.Digest} ended after {position} of {length} bytes");
            }
        }

        return read;
    }

    private async Task OpenStagedAsync(string uploadId, IReadOnlyList<UploadChunk> chain, long end, CancellationToken cancellationToken)
    {
        try
        {
            source = await vault.OpenUploadReadAsync(scope, uploadId, chain, position, cancellationToken);
            sourceEnd = end;
            sourceIsBlob = false;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Committed (or failed) between the step and the open: the fetch's end says which.
            await fetch.Finished.WaitAsync(cancellationToken);
        }
    }

    private async ValueTask CloseSourceAsync()
    {
        if (source is not null)
        {
            await source.DisposeAsync();
            source = null;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseSourceAsync();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            source?.Dispose();
            source = null;
        }

        base.Dispose(disposing);
    }
}
