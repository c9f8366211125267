using Wharf.Core.Storage;

namespace Wharf.Storage.S3;

/// <summary>One stretch of a staged chunk object: its first <paramref name="Count"/> bytes, read from <paramref name="Start"/> on.</summary>
internal sealed record ChunkSegment(string Key, long Count, long ObjectSize, long Start = 0)
{
    public bool IsWholeObject => Start == 0 && Count == ObjectSize;
}

/// <summary>
/// The chain of an upload's chunks read as one stream: each chunk is fetched with its own GET when
/// the previous one is used up, so only one response is open at a time.
/// </summary>
internal sealed class ChunkChainStream(IReadOnlyList<ChunkSegment> segments, Func<ChunkSegment, CancellationToken, Task<Stream>> open) : ReadOnlyStream
{
    private int _next;
    private Stream? _current;

    public override int Read(Span<byte> buffer) =>
        throw new NotSupportedException("Staged chunks are read asynchronously.");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_current is null)
            {
                if (_next == segments.Count)
                {
                    return 0;
                }

                _current = await open(segments[_next++], cancellationToken);
            }

            var read = await _current.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                return read;
            }

            await _current.DisposeAsync();
            _current = null;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_current is not null)
        {
            await _current.DisposeAsync();
            _current = null;
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }
}
