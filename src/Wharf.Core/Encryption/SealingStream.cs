using System.Buffers;
using System.Security.Cryptography;
using Wharf.Core.Storage;

namespace Wharf.Core.Encryption;

/// <summary>
/// Reads a plaintext source and yields it as one sealed run (<see cref="SealedFormat"/>): the header with a fresh
/// data key wrapped under the scope's key, then the sealed segments. Memory is two pooled buffers of about a segment;
/// the source is never buffered whole. An empty source yields nothing (and makes no key).
/// </summary>
internal sealed class SealingStream(Stream source, IDataKeys keys, BlobScope scope, string uploadId, long runStart) : ReadOnlyStream
{
    private readonly byte[] aad = SealedFormat.RunAad(scope.Id, uploadId, runStart);
    private byte[]? plain = ArrayPool<byte>.Shared.Rent(SealedFormat.SegmentSize + 1);
    private byte[]? output = ArrayPool<byte>.Shared.Rent(SealedFormat.HeaderSize + SealedFormat.SealedSegmentSize);
    private AesGcm? aes;
    private int carried;
    private int outputStart;
    private int outputEnd;
    private long segment;
    private bool done;

    /// <summary>How many plaintext bytes were sealed.</summary>
    public long PlaintextRead { get; private set; }

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

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
        {
            return 0;
        }

        if (outputStart == outputEnd && !done && buffer.Length >= (aes is null ? SealedFormat.HeaderSize : 0) + SealedFormat.SealedSegmentSize)
        {
            return await SealIntoAsync(buffer, cancellationToken);
        }

        while (outputStart == outputEnd)
        {
            if (done || !await FillAsync(cancellationToken))
            {
                return 0;
            }
        }

        var count = Math.Min(buffer.Length, outputEnd - outputStart);
        output.AsSpan(outputStart, count).CopyTo(buffer.Span);
        outputStart += count;
        return count;
    }

    /// <summary>
    /// Seals as many whole segments as <paramref name="buffer"/> holds straight into it, in place: each segment's
    /// plaintext is read into the slot its sealed form takes (the byte read past a segment lands where its tag
    /// goes), so the bytes are copied once, from the source, where <see cref="FillAsync"/> copies them twice more.
    /// </summary>
    private async ValueTask<int> SealIntoAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(plain is null, this);
        var first = aes is null;
        var position = first ? SealedFormat.HeaderSize : 0;
        while (!done && buffer.Length - position >= SealedFormat.SealedSegmentSize)
        {
            var slot = buffer.Slice(position, SealedFormat.SealedSegmentSize);
            var filled = carried;
            if (carried == 1)
            {
                slot.Span[0] = plain[0];
            }

            try
            {
                filled += await source.ReadAtLeastAsync(slot[filled..(SealedFormat.SegmentSize + 1)], SealedFormat.SegmentSize + 1 - filled, throwOnEndOfStream: false, cancellationToken);
                if (filled == 0)
                {
                    done = true;
                    break;
                }

                if (aes is null)
                {
                    using var key = await keys.GenerateAsync(scope, SealedFormat.KeyContext(uploadId), cancellationToken);
                    aes = new AesGcm(key.Key, SealedFormat.TagSize);
                    SealedFormat.WriteHeader(key.Wrapped, buffer.Span);
                }
            }
            catch
            {
                // Plaintext must not stay behind in the caller's (pooled) buffer.
                CryptographicOperations.ZeroMemory(slot.Span);
                throw;
            }

            var last = filled <= SealedFormat.SegmentSize;
            var length = last ? filled : SealedFormat.SegmentSize;
            if (last)
            {
                done = true;
                carried = 0;
            }
            else
            {
                plain[0] = slot.Span[SealedFormat.SegmentSize];
                carried = 1;
            }

            SealedFormat.SetSegment(aad, segment, last);
            SealedFormat.SealSegment(aes, segment, slot.Span[..length], aad, slot.Span[..(length + SealedFormat.TagSize)]);
            position += length + SealedFormat.TagSize;
            segment++;
            PlaintextRead += length;
        }

        // An empty source yields nothing, not a header.
        return aes is null ? 0 : position;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(plain is null || output is null, this);

        // One byte more than a segment tells whether this segment is the run's last without another read.
        var filled = carried;
        filled += await source.ReadAtLeastAsync(plain.AsMemory(filled, SealedFormat.SegmentSize + 1 - filled), SealedFormat.SegmentSize + 1 - filled, throwOnEndOfStream: false, cancellationToken);
        if (filled == 0)
        {
            done = true;
            return false;
        }

        var last = filled <= SealedFormat.SegmentSize;
        var length = last ? filled : SealedFormat.SegmentSize;
        outputStart = 0;
        outputEnd = 0;
        if (aes is null)
        {
            using var key = await keys.GenerateAsync(scope, SealedFormat.KeyContext(uploadId), cancellationToken);
            aes = new AesGcm(key.Key, SealedFormat.TagSize);
            SealedFormat.WriteHeader(key.Wrapped, output);
            outputEnd = SealedFormat.HeaderSize;
        }

        SealedFormat.SetSegment(aad, segment, last);
        SealedFormat.SealSegment(aes, segment, plain.AsSpan(0, length), aad, output.AsSpan(outputEnd, length + SealedFormat.TagSize));
        outputEnd += length + SealedFormat.TagSize;
        segment++;
        PlaintextRead += length;
        if (last)
        {
            done = true;
            carried = 0;
        }
        else
        {
            plain[0] = plain[SealedFormat.SegmentSize];
            carried = 1;
        }

        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            aes?.Dispose();
            aes = null;
            if (plain is not null)
            {
                CryptographicOperations.ZeroMemory(plain);
                ArrayPool<byte>.Shared.Return(plain);
                plain = null;
            }

            if (output is not null)
            {
                ArrayPool<byte>.Shared.Return(output);
                output = null;
            }
        }

        base.Dispose(disposing);
    }
}
