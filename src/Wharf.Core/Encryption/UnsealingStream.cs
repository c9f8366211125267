using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Wharf.Core.Storage;

namespace Wharf.Core.Encryption;

/// <summary>Where a sealed object's runs are: enough to read any plaintext range of it (<see cref="SealedFormat"/>).</summary>
/// <param name="Scope">The scope its data keys are wrapped under.</param>
/// <param name="UploadId">The upload that wrote it (bound into every segment).</param>
/// <param name="RunStarts">The plaintext offset of each run (the first is 0).</param>
/// <param name="Size">The plaintext's size.</param>
/// <param name="CacheName">A name for its runs' wrapped keys in <see cref="WrappedKeyCache"/>, or null not to cache them.</param>
internal sealed record SealedLayout(BlobScope Scope, string UploadId, IReadOnlyList<long> RunStarts, long Size, string? CacheName)
{
    private long[]? sealedStarts;

    /// <summary>The sealed offset of each run.</summary>
    public long[] SealedStarts => sealedStarts ??= SealedFormat.SealedRunStarts(RunStarts, Size);

    public long RunEnd(int run) => run + 1 < RunStarts.Count ? RunStarts[run + 1] : Size;

    /// <summary>The run holding plaintext <paramref name="offset"/> (less than <see cref="Size"/>).</summary>
    public int RunOf(long offset)
    {
        var run = 0;
        var low = 0;
        var high = RunStarts.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (RunStarts[middle] <= offset)
            {
                run = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return run;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> unless the runs start at 0 and increase within the size.</summary>
    public void Validate()
    {
        for (var i = 0; i < RunStarts.Count; i++)
        {
            if ((i == 0 ? RunStarts[0] != 0 : RunStarts[i] <= RunStarts[i - 1]) || RunStarts[i] >= Size)
            {
                throw new InvalidDataException("The sealed copy's runs do not form a chain from 0.");
            }
        }

        if (Size > 0 && RunStarts.Count == 0)
        {
            throw new InvalidDataException("The sealed copy has bytes but no runs.");
        }
    }
}

/// <summary>
/// The wrapped data keys of sealed runs seen lately (they are not secret), so a ranged read that starts inside a
/// run needs no second store read for its header. Bounded: cleared when full.
/// </summary>
internal sealed class WrappedKeyCache(int capacity = 4096)
{
    private readonly ConcurrentDictionary<(string Name, int Run), byte[]> keys = new();

    public byte[]? Get(string? name, int run) => name is not null && keys.TryGetValue((name, run), out var wrapped) ? wrapped : null;

    public void Put(string? name, int run, byte[] wrapped)
    {
        if (name is null)
        {
            return;
        }

        if (keys.Count >= capacity)
        {
            keys.Clear();
        }

        keys[(name, run)] = wrapped;
    }
}

/// <summary>
/// Reads plaintext bytes [offset, offset + length) of a sealed object: opens the store once, from the first
/// segment the range touches to the last, and decrypts segment by segment with pooled buffers (memory about two
/// segments, whatever the range). A run's header is read where the stream passes it; a range starting inside a run
/// takes the run's wrapped key from the cache or one small read of its header. Altered, reordered or missing bytes
/// fail the read with <see cref="CryptographicException"/>; no unauthenticated byte is ever returned.
/// <para>
/// A response takes the bytes through <see cref="WriteToAsync"/> instead: up to <see cref="BatchSegments"/> segments
/// per store read, each decrypted straight into the response's memory and flushed, the next batch read while the last
/// segment is sent.
/// </para>
/// </summary>
internal sealed class UnsealingStream : ReadOnlyStream, IBodyWriterSource
{
    /// <summary>
    /// Segments per store read in <see cref="WriteToAsync"/>: 192 KiB of plaintext, its buffer 256 KiB from the pool.
    /// Seven (a 512 KiB buffer) read 7-19 % faster alone but cost twice the memory per pull under 200 concurrent pulls
    /// (bench/RESULTS.md, "Sealed pulls into the response's memory").
    /// </summary>
    internal const int BatchSegments = 3;

    private readonly SealedLayout layout;
    private readonly IDataKeys keys;
    private readonly WrappedKeyCache cache;
    private readonly Func<long, long, CancellationToken, Task<Stream?>> open;
    private readonly long end;
    private Stream? inner;
    private byte[]? sealedBuffer = ArrayPool<byte>.Shared.Rent(SealedFormat.HeaderSize + SealedFormat.SealedSegmentSize);
    private byte[]? plain = ArrayPool<byte>.Shared.Rent(SealedFormat.SegmentSize);
    private AesGcm? aes;
    private byte[] aad = [];
    private int run;
    private long segment;
    private long position;
    private int plainStart;
    private int plainEnd;
    private bool headerInline;

    private UnsealingStream(SealedLayout layout, IDataKeys keys, WrappedKeyCache cache, Func<long, long, CancellationToken, Task<Stream?>> open, long offset, long length)
    {
        this.layout = layout;
        this.keys = keys;
        this.cache = cache;
        this.open = open;
        position = offset;
        end = offset + length;
    }

    /// <summary>
    /// Opens plaintext [<paramref name="offset"/>, +<paramref name="length"/>) of the sealed object <paramref name="open"/>
    /// reads (sealed offset, sealed length → the store's stream, or null when the object is gone); null when it is gone.
    /// </summary>
    public static async Task<Stream?> OpenAsync(
        SealedLayout layout,
        IDataKeys keys,
        WrappedKeyCache cache,
        Func<long, long, CancellationToken, Task<Stream?>> open,
        long offset,
        long length,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > layout.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "The range ends beyond the blob.");
        }

        if (length == 0)
        {
            return new MemoryStream([], writable: false);
        }

        var reader = new UnsealingStream(layout, keys, cache, open, offset, length);
        try
        {
            return await reader.StartAsync(cancellationToken) ? reader : null;
        }
        catch
        {
            await reader.DisposeAsync();
            throw;
        }
    }

    private async Task<bool> StartAsync(CancellationToken cancellationToken)
    {
        run = layout.RunOf(position);
        segment = (position - layout.RunStarts[run]) / SealedFormat.SegmentSize;
        var sealedStart = layout.SealedStarts[run] + SealedFormat.HeaderSize + (segment * SealedFormat.SealedSegmentSize);
        if (segment == 0)
        {
            sealedStart = layout.SealedStarts[run];
            headerInline = true;
        }
        else
        {
            var wrapped = cache.Get(layout.CacheName, run);
            if (wrapped is null)
            {
                await using var header = await open(layout.SealedStarts[run], SealedFormat.HeaderSize, cancellationToken);
                if (header is null)
                {
                    return false;
                }

                await ReadFullyAsync(header, sealedBuffer.AsMemory(0, SealedFormat.HeaderSize), cancellationToken);
                wrapped = SealedFormat.ReadHeader(sealedBuffer.AsSpan(0, SealedFormat.HeaderSize));
                cache.Put(layout.CacheName, run, wrapped);
            }

            await UseKeyAsync(wrapped, cancellationToken);
        }

        var lastRun = layout.RunOf(end - 1);
        var lastSegment = (end - 1 - layout.RunStarts[lastRun]) / SealedFormat.SegmentSize;
        var lastSegmentEnd = Math.Min(layout.RunStarts[lastRun] + ((lastSegment + 1) * SealedFormat.SegmentSize), layout.RunEnd(lastRun));
        var sealedEnd = layout.SealedStarts[lastRun] + SealedFormat.HeaderSize + (lastSegment * SealedFormat.SealedSegmentSize)
            + (lastSegmentEnd - layout.RunStarts[lastRun] - (lastSegment * SealedFormat.SegmentSize)) + SealedFormat.TagSize;
        inner = await open(sealedStart, sealedEnd - sealedStart, cancellationToken);
        if (inner is null)
        {
            return false;
        }

        // The first run's key is opened before any byte is returned, so a key that cannot be used (a disabled KMS
        // key, an altered header) fails the open, before a response has begun, not the middle of a body.
        if (headerInline)
        {
            await ReadHeaderInlineAsync(cancellationToken);
        }

        return true;
    }

    private async Task ReadHeaderInlineAsync(CancellationToken cancellationToken)
    {
        await ReadFullyAsync(inner!, sealedBuffer.AsMemory(0, SealedFormat.HeaderSize), cancellationToken);
        var wrapped = SealedFormat.ReadHeader(sealedBuffer.AsSpan(0, SealedFormat.HeaderSize));
        cache.Put(layout.CacheName, run, wrapped);
        await UseKeyAsync(wrapped, cancellationToken);
        headerInline = false;
    }

    private async Task UseKeyAsync(byte[] wrapped, CancellationToken cancellationToken)
    {
        aes?.Dispose();
        aes = null;
        using (var key = await keys.UnwrapAsync(layout.Scope, wrapped, SealedFormat.KeyContext(layout.UploadId), cancellationToken))
        {
            aes = new AesGcm(key.Key, SealedFormat.TagSize);
        }

        aad = SealedFormat.RunAad(layout.Scope.Id, layout.UploadId, layout.RunStarts[run]);
    }

    public override int Read(Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Fills as much of <paramref name="buffer"/> as whole segments allow (a pipe or response copy gets many segments
    /// per call); a segment served whole that fits is decrypted straight into the caller's buffer, with no copy.
    /// </summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var written = 0;
        while (written < buffer.Length)
        {
            if (plainStart < plainEnd)
            {
                var count = Math.Min(buffer.Length - written, plainEnd - plainStart);
                plain.AsSpan(plainStart, count).CopyTo(buffer.Span[written..]);
                plainStart += count;
                written += count;
                continue;
            }

            if (position >= end)
            {
                break;
            }

            var direct = await NextSegmentAsync(buffer[written..], written == 0, cancellationToken);
            if (direct < 0)
            {
                break;
            }

            written += direct;
        }

        return written;
    }

    /// <summary>
    /// Reads and opens the next segment: straight into <paramref name="destination"/> when the range takes it whole
    /// and it fits (returns its length), else into <see cref="plain"/> for the loop to copy from (returns 0) — unless
    /// <paramref name="mayBuffer"/> is false, when it reads nothing and returns -1 (the caller has bytes to return).
    /// </summary>
    private async ValueTask<int> NextSegmentAsync(Memory<byte> destination, bool mayBuffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(inner is null || sealedBuffer is null || plain is null, this);
        var (segmentStart, segmentLength, last) = CurrentSegment();
        var whole = position == segmentStart && segmentStart + segmentLength <= end && segmentLength <= destination.Length;
        if (!whole && !mayBuffer)
        {
            return -1;
        }

        if (headerInline)
        {
            await ReadHeaderInlineAsync(cancellationToken);
        }

        await ReadFullyAsync(inner, sealedBuffer.AsMemory(0, segmentLength + SealedFormat.TagSize), cancellationToken);
        SealedFormat.SetSegment(aad, segment, last);
        var sealedSegment = sealedBuffer.AsSpan(0, segmentLength + SealedFormat.TagSize);
        int served;
        if (whole)
        {
            SealedFormat.OpenSegment(aes!, segment, sealedSegment, aad, destination.Span);
            plainStart = plainEnd = 0;
            served = segmentLength;
            position = segmentStart + segmentLength;
        }
        else
        {
            SealedFormat.OpenSegment(aes!, segment, sealedSegment, aad, plain);

            // Only the requested part of the first and last segment is served.
            plainStart = (int)(position - segmentStart);
            plainEnd = (int)(Math.Min(end, segmentStart + segmentLength) - segmentStart);
            position = segmentStart + plainEnd;
            served = 0;
        }

        MovePastSegment(last);
        return served;
    }

    /// <summary>The current segment: where it starts in the blob's plaintext, its length, and whether it ends its run.</summary>
    private (long Start, int Length, bool Last) CurrentSegment()
    {
        var runEnd = layout.RunEnd(run);
        var start = layout.RunStarts[run] + (segment * SealedFormat.SegmentSize);
        var length = (int)Math.Min(SealedFormat.SegmentSize, runEnd - start);
        return (start, length, start + length == runEnd);
    }

    /// <summary>Moves past the current segment: to the run's next one, or to the next run (whose header is read first).</summary>
    private void MovePastSegment(bool last)
    {
        if (last)
        {
            run++;
            segment = 0;
            headerInline = true;
        }
        else
        {
            segment++;
        }
    }

    /// <summary>
    /// Writes the rest of the range into <paramref name="destination"/> in batches of whole segments: one store read
    /// per batch (stopping at a run's end, whose next header is read on its own), every segment authenticated as it is
    /// decrypted (a whole one straight into the destination's memory, the range's partial first and last ones through
    /// <see cref="plain"/>), then <paramref name="flush"/>ed. The next batch is read while the batch's last segment is flushed.
    /// </summary>
    public async Task<long> WriteToAsync(IBufferWriter<byte> destination, Func<int, CancellationToken, ValueTask<bool>> flush, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(flush);
        ObjectDisposedException.ThrowIf(inner is null || plain is null, this);
        long total = 0;
        if (plainStart < plainEnd)
        {
            // Bytes an earlier Read decrypted and did not return.
            var count = plainEnd - plainStart;
            plain.AsSpan(plainStart, count).CopyTo(destination.GetSpan(count));
            destination.Advance(count);
            plainStart = plainEnd;
            total += count;
            if (!await flush(count, cancellationToken))
            {
                return total;
            }
        }

        var batch = ArrayPool<byte>.Shared.Rent(BatchSegments * SealedFormat.SealedSegmentSize);
        Task<int>? reading = null;
        try
        {
            if (position < end)
            {
                reading = ReadBatchAsync(batch, cancellationToken);
            }

            while (reading is not null)
            {
                var segments = await reading;
                reading = null;
                var at = 0;
                for (var i = 0; i < segments; i++)
                {
                    var written = OpenBatchSegment(batch, ref at, destination);
                    if (i == segments - 1 && position < end)
                    {
                        // The batch buffer is free again: the next store read runs while this segment is sent.
                        reading = ReadBatchAsync(batch, cancellationToken);
                    }

                    // Each segment is flushed as it is decrypted: the socket sends it while the next one is decrypted.
                    total += written;
                    if (!await flush(written, cancellationToken))
                    {
                        return total;
                    }
                }
            }

            return total;
        }
        finally
        {
            if (reading is not null)
            {
                // A read still in flight writes into the batch buffer: it ends before the buffer goes back to the pool.
                try
                {
                    await reading;
                }
                catch (Exception)
                {
                    // The write already failed or stopped; what the read met is of no further use.
                }
            }

            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    /// <summary>Reads the next batch's sealed segments (and the run's header first, where a run starts) into <paramref name="batch"/>; returns how many.</summary>
    private async Task<int> ReadBatchAsync(byte[] batch, CancellationToken cancellationToken)
    {
        if (headerInline)
        {
            await ReadHeaderInlineAsync(cancellationToken);
        }

        var runStart = layout.RunStarts[run];
        var runEnd = layout.RunEnd(run);
        var segments = 0;
        var bytes = 0;
        while (segments < BatchSegments)
        {
            var segmentStart = runStart + ((segment + segments) * SealedFormat.SegmentSize);
            if (segmentStart >= end)
            {
                break;
            }

            var segmentLength = (int)Math.Min(SealedFormat.SegmentSize, runEnd - segmentStart);
            bytes += segmentLength + SealedFormat.TagSize;
            segments++;
            if (segmentStart + segmentLength == runEnd)
            {
                break;
            }
        }

        await ReadFullyAsync(inner!, batch.AsMemory(0, bytes), cancellationToken);
        return segments;
    }

    /// <summary>Authenticates and decrypts the next segment of <paramref name="batch"/> (at <paramref name="at"/>, moved past it) into <paramref name="destination"/>; returns the bytes written.</summary>
    private int OpenBatchSegment(byte[] batch, ref int at, IBufferWriter<byte> destination)
    {
        var (segmentStart, segmentLength, last) = CurrentSegment();
        SealedFormat.SetSegment(aad, segment, last);
        var sealedSegment = batch.AsSpan(at, segmentLength + SealedFormat.TagSize);
        at += sealedSegment.Length;
        int written;
        if (position == segmentStart && segmentStart + segmentLength <= end)
        {
            SealedFormat.OpenSegment(aes!, segment, sealedSegment, aad, destination.GetSpan(segmentLength));
            destination.Advance(segmentLength);
            written = segmentLength;
            position = segmentStart + segmentLength;
        }
        else
        {
            // The range's first or last segment: authenticated whole, only its part of the range served.
            SealedFormat.OpenSegment(aes!, segment, sealedSegment, aad, plain!);
            var from = (int)(position - segmentStart);
            var to = (int)(Math.Min(end, segmentStart + segmentLength) - segmentStart);
            plain.AsSpan(from, to - from).CopyTo(destination.GetSpan(to - from));
            destination.Advance(to - from);
            written = to - from;
            position = segmentStart + to;
        }

        MovePastSegment(last);
        return written;
    }

    private static async Task ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        if (read < buffer.Length)
        {
            throw new CryptographicException("The sealed blob ends before its recorded size.");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner?.Dispose();
            inner = null;
            aes?.Dispose();
            aes = null;
            if (plain is not null)
            {
                CryptographicOperations.ZeroMemory(plain);
                ArrayPool<byte>.Shared.Return(plain);
                plain = null;
            }

            if (sealedBuffer is not null)
            {
                ArrayPool<byte>.Shared.Return(sealedBuffer);
                sealedBuffer = null;
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (inner is not null)
        {
            await inner.DisposeAsync();
            inner = null;
        }

        await base.DisposeAsync();
    }
}
