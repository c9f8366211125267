using System.Buffers;

namespace Wharf.Core.Storage;

/// <summary>
/// Copies a blob's body to a response with the next read overlapping the previous write. A response write returns
/// once its bytes are in the server's output pipe, then waits while the connection drains them; a plain
/// <see cref="Stream.CopyToAsync(Stream)"/> reads the next piece only after that wait, so the disk read (and, for a
/// sealed blob, the decryption) and the socket send take turns. Here the next piece is read, into a second pooled
/// buffer, while the previous one drains: the two run on two cores. Memory: two buffers per copy.
/// </summary>
public static class OverlappedCopy
{
    /// <summary>Bytes per piece: two sealed segments, or about two of a file's reads.</summary>
    public const int DefaultBufferSize = 128 * 1024;


    /// <summary>
    /// Copies <paramref name="source"/> to its end into <paramref name="destination"/>; <paramref name="sent"/> is told
    /// each piece's size once it is written (so a caller counting bytes counts what left, also when the client goes
    /// away part-way). Returns the bytes written.
    /// </summary>
    public static async Task<long> CopyAsync(Stream source, Stream destination, Action<int>? sent, CancellationToken cancellationToken)
    {
        var current = ArrayPool<byte>.Shared.Rent(DefaultBufferSize);
        var next = ArrayPool<byte>.Shared.Rent(DefaultBufferSize);
        long total = 0;
        try
        {
            var count = await source.ReadAsync(current.AsMemory(0, DefaultBufferSize), cancellationToken);
            while (count > 0)
            {
                var write = destination.WriteAsync(current.AsMemory(0, count), cancellationToken);
                int following;
                try
                {
                    following = await source.ReadAsync(next.AsMemory(0, DefaultBufferSize), cancellationToken);
                }
                finally
                {
                    // The write owns `current` until it completes, also when the read failed; what it wrote counts.
                    await write;
                    total += count;
                    sent?.Invoke(count);
                }

                (current, next) = (next, current);
                count = following;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }
}
