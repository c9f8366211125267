using System.Buffers;
using System.Security.Cryptography;
using Wharf.Core.Encryption;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Storage;

namespace Wharf.Core.Tests.Encryption;

/// <summary>The sealed format without I/O: runs sealed by <see cref="SealingStream"/>, ranges read back by <see cref="UnsealingStream"/>.</summary>
public sealed class SealedFormatTests
{
    private const int S = SealedFormat.SegmentSize;
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly DataKeys keys = new(new SecretBox(RandomNumberGenerator.GetBytes(32)));

    [Fact]
    public void Sealed_length_adds_a_header_and_a_tag_per_segment()
    {
        Assert.Equal(0, SealedFormat.SealedLength(0));
        Assert.Equal(SealedFormat.HeaderSize + 1 + 16, SealedFormat.SealedLength(1));
        Assert.Equal(SealedFormat.HeaderSize + S + 16, SealedFormat.SealedLength(S));
        Assert.Equal(SealedFormat.HeaderSize + S + 1 + 32, SealedFormat.SealedLength(S + 1));
    }

    [Fact]
    public async Task Every_range_at_segment_and_run_boundaries_reads_back_byte_identical()
    {
        int[] runs = [1, S - 1, S, S + 1, (3 * S) + 5];
        var (plaintext, blob, layout) = await SealAsync(runs);
        Assert.Equal(SealedFormat.SealedRunStarts(layout.RunStarts, layout.Size)[^1] + SealedFormat.SealedLength(runs[^1]), blob.Length);

        var points = new SortedSet<long> { 0, plaintext.Length };
        foreach (var start in layout.RunStarts)
        {
            for (long p = start; p < start + (4 * S) && p <= plaintext.Length; p += S)
            {
                points.UnionWith([p - 1, p, p + 1]);
            }
        }

        var list = points.Where(p => p >= 0 && p <= plaintext.Length).ToList();
        foreach (var from in list)
        {
            foreach (var to in list.Where(t => t >= from))
            {
                var read = await ReadAsync(blob, layout, from, to - from);
                Assert.True(plaintext.AsSpan((int)from, (int)(to - from)).SequenceEqual(read), $"range {from}-{to}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(S - 1)]
    [InlineData(S)]
    [InlineData(S + 1)]
    [InlineData((2 * S) + 17)]
    [InlineData(1 << 20)]
    public async Task Any_caller_buffer_reads_back_byte_identical(int bufferSize)
    {
        // Whole segments that fit are decrypted straight into the caller's buffer, several per read; the rest
        // goes through the reader's own buffer. Both, mixed, across runs.
        var (plaintext, blob, layout) = await SealAsync([S + 3, 3 * S, 5]);
        foreach (var (from, length) in new (long, long)[] { (0, plaintext.Length), (1, plaintext.Length - 2), (S + 3, 3 * S), (S - 1, (2 * S) + 9), (plaintext.Length - 6, 6) })
        {
            await using var stream = await UnsealingStream.OpenAsync(layout, keys, new WrappedKeyCache(), (o, l, _) => Task.FromResult<Stream?>(new MemoryStream(blob, (int)o, (int)l)), from, length, Ct);
            var buffer = new byte[bufferSize];
            var output = new MemoryStream();
            int read;
            while ((read = await stream!.ReadAsync(buffer, Ct)) > 0)
            {
                Assert.True(read <= bufferSize);
                output.Write(buffer, 0, read);
            }

            Assert.True(plaintext.AsSpan((int)from, (int)length).SequenceEqual(output.ToArray()), $"range {from}+{length}, buffer {bufferSize}");
        }
    }

    [Fact]
    public async Task A_tampered_segment_read_straight_into_the_callers_buffer_leaves_none_of_its_bytes_there()
    {
        var (plaintext, blob, layout) = await SealAsync([4 * S]);
        blob[SealedFormat.HeaderSize + (2 * (S + 16)) + 100] ^= 0x01;
        await using var stream = await UnsealingStream.OpenAsync(layout, keys, new WrappedKeyCache(), (o, l, _) => Task.FromResult<Stream?>(new MemoryStream(blob, (int)o, (int)l)), 0, layout.Size, Ct);
        var buffer = new byte[4 * S];
        await Assert.ThrowsAnyAsync<CryptographicException>(async () => await stream!.ReadExactlyAsync(buffer, Ct));

        // The third segment's bytes were never authenticated: what it would have decrypted to is not in the buffer.
        Assert.False(buffer.AsSpan(2 * S, S).SequenceEqual(plaintext.AsSpan(2 * S, S)));
        Assert.Equal(-1, buffer.AsSpan(2 * S, S).IndexOf(plaintext.AsSpan((2 * S) + 1000, 32)));
    }

    [Fact]
    public async Task A_range_inside_one_segment_opens_only_that_segment()
    {
        var (plaintext, blob, layout) = await SealAsync([5 * S]);
        var opened = new List<(long Offset, long Length)>();
        await using var stream = await UnsealingStream.OpenAsync(
            layout, keys, new WrappedKeyCache(), (o, l, _) => { opened.Add((o, l)); return Task.FromResult<Stream?>(new MemoryStream(blob, (int)o, (int)l)); }, (2 * S) + 10, 100, Ct);
        var read = new MemoryStream();
        await stream!.CopyToAsync(read, Ct);
        Assert.Equal(plaintext.AsSpan((2 * S) + 10, 100).ToArray(), read.ToArray());

        // The run's header (its key), then exactly the one sealed segment.
        Assert.Equal([(0, SealedFormat.HeaderSize), (SealedFormat.HeaderSize + (2L * (S + 16)), S + 16L)], opened);
    }

    [Fact]
    public async Task A_response_write_reads_a_batch_of_segments_per_store_read_and_stops_at_each_run_end()
    {
        var (plaintext, blob, layout) = await SealAsync([(20 * S) + 5, 3 * S]);
        var reads = new List<int>();
        var flushes = new List<int>();
        await using (var stream = await OpenAsync(blob, layout, 0, layout.Size, reads: reads))
        {
            var writer = new ArrayBufferWriter<byte>();
            var total = await ((IBodyWriterSource)stream).WriteToAsync(writer, (count, _) => { flushes.Add(count); return ValueTask.FromResult(true); }, Ct);
            Assert.Equal(plaintext.Length, total);
            Assert.True(plaintext.AsSpan().SequenceEqual(writer.WrittenSpan));
        }

        // Each run's header on its own, then at most three sealed segments per read, the run's short last one included;
        // every segment flushed as it is decrypted.
        const int B = UnsealingStream.BatchSegments;
        Assert.Equal(3, B);
        var expected = new List<int> { SealedFormat.HeaderSize };
        expected.AddRange(Enumerable.Repeat(B * (S + 16), 6));
        expected.AddRange([(2 * (S + 16)) + 5 + 16, SealedFormat.HeaderSize, 3 * (S + 16)]);
        Assert.Equal(expected, reads);
        Assert.Equal([.. Enumerable.Repeat(S, 20), 5, .. Enumerable.Repeat(S, 3)], flushes);
    }

    [Fact]
    public async Task A_tampered_segment_in_a_batch_fails_the_write_and_none_of_its_bytes_reach_the_writer()
    {
        var (plaintext, blob, layout) = await SealAsync([5 * S]);
        blob[SealedFormat.HeaderSize + (2 * (S + 16)) + 100] ^= 0x01;
        await using var stream = await OpenAsync(blob, layout, 0, layout.Size);
        var writer = new FixedWriter(new byte[6 * S]);
        var flushed = 0;
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ((IBodyWriterSource)stream).WriteToAsync(writer, (count, _) => { flushed += count; return ValueTask.FromResult(true); }, Ct));

        // The two authentic segments before it were written and flushed; the third's bytes are nowhere.
        Assert.Equal(2 * S, flushed);
        Assert.Equal(2 * S, writer.Written);
        Assert.True(plaintext.AsSpan(0, 2 * S).SequenceEqual(writer.Array.AsSpan(0, 2 * S)));
        Assert.Equal(-1, writer.Array.AsSpan().IndexOf(plaintext.AsSpan((2 * S) + 1000, 32)));
    }

    [Fact]
    public async Task A_response_write_after_a_read_continues_where_the_read_stopped_and_stops_when_told()
    {
        var (plaintext, blob, layout) = await SealAsync([30 * S]);
        await using (var stream = await OpenAsync(blob, layout, 3, layout.Size - 3))
        {
            var first = new byte[10];
            await stream.ReadExactlyAsync(first, Ct);
            Assert.True(plaintext.AsSpan(3, 10).SequenceEqual(first));
            var writer = new ArrayBufferWriter<byte>();
            var total = await ((IBodyWriterSource)stream).WriteToAsync(writer, (_, _) => ValueTask.FromResult(true), Ct);
            Assert.Equal(plaintext.Length - 13, total);
            Assert.True(plaintext.AsSpan(13).SequenceEqual(writer.WrittenSpan));
        }

        // A destination that takes no more (the client went away): the write stops after that flush.
        await using (var stream = await OpenAsync(blob, layout, 0, layout.Size))
        {
            var writer = new ArrayBufferWriter<byte>();
            var calls = 0;
            var total = await ((IBodyWriterSource)stream).WriteToAsync(writer, (_, _) => ValueTask.FromResult(++calls < 5), Ct);
            Assert.Equal(5, calls);
            Assert.Equal(5 * S, total);
        }
    }

    [Fact]
    public async Task The_same_plaintext_seals_to_different_bytes_each_time()
    {
        var plaintext = RandomNumberGenerator.GetBytes(1000);
        var first = await SealRunAsync(plaintext, "u1", 0);
        var second = await SealRunAsync(plaintext, "u1", 0);
        Assert.NotEqual(first, second);
        Assert.Equal(-1, first.AsSpan().IndexOf(plaintext.AsSpan(0, 16)));
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("header-key")]
    [InlineData("magic")]
    public async Task A_flipped_bit_anywhere_fails_the_read(string where)
    {
        var (_, blob, layout) = await SealAsync([(2 * S) + 7]);
        var at = where switch
        {
            "ciphertext" => SealedFormat.HeaderSize + S + 16 + 3,
            "tag" => SealedFormat.HeaderSize + S + 2,
            "header-key" => 20,
            _ => 0,
        };
        blob[at] ^= 0x01;
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob, layout, 0, layout.Size));
    }

    [Fact]
    public async Task A_key_that_cannot_be_opened_fails_the_open_before_any_byte_is_returned()
    {
        // A pull then gets an error response (a disabled KMS key's, say), not a 200 whose body breaks off.
        var (_, blob, layout) = await SealAsync([100]);
        blob[20] ^= 0x01;
        await Assert.ThrowsAnyAsync<CryptographicException>(() => UnsealingStream.OpenAsync(
            layout, keys, new WrappedKeyCache(), (o, l, _) => Task.FromResult<Stream?>(new MemoryStream(blob, (int)o, (int)l)), 0, 100, Ct));
    }

    [Fact]
    public async Task Swapped_segments_fail_the_read()
    {
        var (_, blob, layout) = await SealAsync([3 * S]);
        var first = SealedFormat.HeaderSize;
        var second = first + S + 16;
        var copy = blob.AsSpan(first, S + 16).ToArray();
        blob.AsSpan(second, S + 16).CopyTo(blob.AsSpan(first));
        copy.CopyTo(blob.AsSpan(second));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob, layout, 0, layout.Size));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob, layout, S + 1, 10));
    }

    [Fact]
    public async Task A_run_cut_short_at_a_segment_boundary_fails_the_read()
    {
        // Claim the run is one segment shorter than it is: its new last segment was not sealed as the last.
        var (_, blob, layout) = await SealAsync([3 * S]);
        var cut = layout with { Size = 2 * S };
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob[..(int)SealedFormat.SealedLength(2 * S)], cut, 0, cut.Size));
    }

    [Fact]
    public async Task Truncated_bytes_fail_the_read()
    {
        var (_, blob, layout) = await SealAsync([3 * S]);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob[..^1], layout, 0, layout.Size));
    }

    [Fact]
    public async Task Runs_moved_between_blobs_scopes_or_offsets_fail_the_read()
    {
        var (_, blob, layout) = await SealAsync([S, S]);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob, layout with { UploadId = "other" }, 0, layout.Size));

        // The second run read as if it were the first: its offset is bound into its segments.
        var second = blob[(int)SealedFormat.SealedLength(S)..];
        var alone = new SealedLayout(layout.Scope, layout.UploadId, [0], S, null);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(second, alone, 0, S));
    }

    [Fact]
    public async Task A_hostile_header_is_refused_without_allocating_what_it_claims()
    {
        var (_, blob, layout) = await SealAsync([100]);
        blob[12] = 0xFF;
        blob[13] = 0xFF;
        var e = await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadAsync(blob, layout, 0, layout.Size));
        Assert.Contains("key length", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrapped_key_opens_only_with_its_context()
    {
        using var key = await keys.GenerateAsync(BlobScope.Master, "context-a", Ct);
        using var same = await keys.UnwrapAsync(BlobScope.Master, key.Wrapped, "context-a", Ct);
        Assert.True(key.Key.SequenceEqual(same.Key));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => keys.UnwrapAsync(BlobScope.Master, key.Wrapped, "context-b", Ct));
        var other = new DataKeys(new SecretBox(RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => other.UnwrapAsync(BlobScope.Master, key.Wrapped, "context-a", Ct));
    }

    [Fact]
    public async Task A_KMS_scope_without_a_key_service_is_a_clear_error()
    {
        var e = await Assert.ThrowsAsync<WharfException>(() => keys.GenerateAsync(new BlobScope("arn:aws:kms:us-east-1:123456789012:key/x"), "c", Ct));
        Assert.Contains("key service", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_source_seals_to_nothing()
    {
        Assert.Empty(await SealRunAsync([], "u", 0));
    }

    // Reads smaller than a sealed segment take the copying path; larger ones seal in place into the caller's buffer,
    // as many whole segments as it holds; a mix switches between the two mid-run.
    [Theory]
    [InlineData(100)]
    [InlineData(SealedFormat.SealedSegmentSize - 1)]
    [InlineData(SealedFormat.SealedSegmentSize)]
    [InlineData(SealedFormat.HeaderSize + SealedFormat.SealedSegmentSize)]
    [InlineData(1024 * 1024)]
    [InlineData(0)]
    public async Task Reads_of_any_size_seal_runs_that_read_back_byte_identical(int readSize)
    {
        foreach (var length in new[] { 1, S - 1, S, S + 1, (17 * S) + 5 })
        {
            var plaintext = RandomNumberGenerator.GetBytes(length);
            await using var sealing = new SealingStream(new TrickleStream(plaintext), keys, BlobScope.Master, "upload-1", 0);
            var output = new MemoryStream();
            var buffer = new byte[Math.Max(readSize, 1024 * 1024)];
            var sizes = readSize == 0 ? new[] { 100, 70_000, 1024 * 1024, SealedFormat.SealedSegmentSize - 1, 200_000 } : [readSize];
            for (var i = 0; ; i++)
            {
                var read = await sealing.ReadAsync(buffer.AsMemory(0, sizes[i % sizes.Length]), Ct);
                if (read == 0)
                {
                    break;
                }

                output.Write(buffer, 0, read);
            }

            Assert.Equal(length, sealing.PlaintextRead);
            Assert.Equal(SealedFormat.SealedLength(length), output.Length);
            var layout = new SealedLayout(BlobScope.Master, "upload-1", [0], length, "blob");
            Assert.Equal(plaintext, await ReadAsync(output.ToArray(), layout, 0, length));
        }
    }

    [Fact]
    public async Task A_source_that_fails_mid_segment_leaves_no_plaintext_in_the_callers_buffer()
    {
        var plaintext = RandomNumberGenerator.GetBytes(3 * S);
        await using var sealing = new SealingStream(new FailingStream(plaintext, failAfter: S + 5000), keys, BlobScope.Master, "upload-1", 0);
        var buffer = new byte[1024 * 1024];
        await Assert.ThrowsAsync<IOException>(async () => _ = await sealing.ReadAsync(buffer, Ct));
        Assert.Equal(-1, buffer.AsSpan().IndexOf(plaintext.AsSpan(S, 64)));
        Assert.Equal(-1, buffer.AsSpan().IndexOf(plaintext.AsSpan(0, 64)));
    }

    [Theory]
    [InlineData((3 * S) + 5000)]  // a few whole segments read before the failure
    [InlineData((12 * S) + 5000)] // most of the read's fifteen
    public async Task A_source_that_fails_in_a_large_read_leaves_no_plaintext_in_the_callers_buffer(int failAfter)
    {
        var plaintext = RandomNumberGenerator.GetBytes(20 * S);
        await using var sealing = new SealingStream(new FailingStream(plaintext, failAfter), keys, BlobScope.Master, "upload-1", 0);
        var buffer = new byte[1024 * 1024];
        await Assert.ThrowsAsync<IOException>(async () => _ = await sealing.ReadAsync(buffer, Ct));
        for (var at = 0; at < failAfter - 64; at += S)
        {
            Assert.Equal(-1, buffer.AsSpan().IndexOf(plaintext.AsSpan(at, 64)));
        }

        Assert.Equal(-1, buffer.AsSpan().IndexOf(plaintext.AsSpan(failAfter - 64, 64)));
    }

    [Theory]
    [InlineData(SealedFormat.HeaderSize + (6 * SealedFormat.SealedSegmentSize))] // the header and six segments exactly
    [InlineData((8 * SealedFormat.SealedSegmentSize) + 100)]
    [InlineData(4 * 1024 * 1024)]
    public async Task Large_reads_seal_runs_of_odd_lengths_that_read_back_byte_identical(int readSize)
    {
        foreach (var length in new[] { (6 * S) - 1, 6 * S, (6 * S) + 1, (10 * S) + 3, 16 * S, (45 * S) + 12_345, (64 * S) + 1 })
        {
            var plaintext = RandomNumberGenerator.GetBytes(length);
            await using var sealing = new SealingStream(new TrickleStream(plaintext), keys, BlobScope.Master, "upload-1", 0);
            var output = new MemoryStream();
            var buffer = new byte[readSize];
            int read;
            while ((read = await sealing.ReadAsync(buffer, Ct)) > 0)
            {
                output.Write(buffer, 0, read);
            }

            Assert.Equal(length, sealing.PlaintextRead);
            Assert.Equal(SealedFormat.SealedLength(length), output.Length);
            var layout = new SealedLayout(BlobScope.Master, "upload-1", [0], length, "blob");
            Assert.Equal(plaintext, await ReadAsync(output.ToArray(), layout, 0, length));
        }
    }

    private async Task<(byte[] Plaintext, byte[] Sealed, SealedLayout Layout)> SealAsync(int[] runLengths)
    {
        var plaintext = RandomNumberGenerator.GetBytes(runLengths.Sum());
        var sealedBytes = new MemoryStream();
        var starts = new List<long>();
        long offset = 0;
        foreach (var length in runLengths)
        {
            starts.Add(offset);
            sealedBytes.Write(await SealRunAsync(plaintext.AsSpan((int)offset, length).ToArray(), "upload-1", offset));
            offset += length;
        }

        return (plaintext, sealedBytes.ToArray(), new SealedLayout(BlobScope.Master, "upload-1", starts, plaintext.Length, "blob"));
    }

    private async Task<byte[]> SealRunAsync(byte[] plaintext, string uploadId, long runStart)
    {
        // A source that returns few bytes per read, as a network body does.
        await using var sealing = new SealingStream(new TrickleStream(plaintext), keys, BlobScope.Master, uploadId, runStart);
        var output = new MemoryStream();
        await sealing.CopyToAsync(output, Ct);
        Assert.Equal(plaintext.Length, sealing.PlaintextRead);
        Assert.Equal(SealedFormat.SealedLength(plaintext.Length), output.Length);
        return output.ToArray();
    }

    /// <summary>
    /// Reads the range both ways a caller takes it: as a stream, and as a response does (<see cref="UnsealingStream.WriteToAsync"/>:
    /// batches of segments decrypted into the writer's memory). The two must agree, in bytes and in failure.
    /// </summary>
    private async Task<byte[]> ReadAsync(byte[] blob, SealedLayout layout, long offset, long length)
    {
        Exception? streamFailed = null;
        Exception? writeFailed = null;
        byte[]? streamed = null;
        byte[]? written = null;
        try
        {
            await using var stream = await OpenAsync(blob, layout, offset, length);
            var output = new MemoryStream();
            await stream.CopyToAsync(output, Ct);
            streamed = output.ToArray();
        }
        catch (Exception e)
        {
            streamFailed = e;
        }

        try
        {
            written = await WriteAsync(blob, layout, offset, length);
        }
        catch (Exception e)
        {
            writeFailed = e;
        }

        Assert.Equal(streamFailed?.GetType(), writeFailed?.GetType());
        if (streamFailed is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(streamFailed);
        }

        Assert.Equal(streamed, written);
        return streamed!;
    }

    private async Task<byte[]> WriteAsync(byte[] blob, SealedLayout layout, long offset, long length, List<int>? flushes = null)
    {
        await using var stream = await OpenAsync(blob, layout, offset, length);
        if (length == 0)
        {
            // An empty range is an empty stream of its own, never decrypted.
            Assert.IsNotType<UnsealingStream>(stream);
            return [];
        }

        var writer = new ArrayBufferWriter<byte>();
        var unflushed = 0;
        var total = await ((IBodyWriterSource)stream).WriteToAsync(
            writer,
            (count, _) =>
            {
                Assert.Equal(writer.WrittenCount - unflushed, count);
                unflushed = writer.WrittenCount;
                flushes?.Add(count);
                return ValueTask.FromResult(true);
            },
            Ct);
        Assert.Equal(writer.WrittenCount, total);
        return writer.WrittenSpan.ToArray();
    }

    private async Task<Stream> OpenAsync(byte[] blob, SealedLayout layout, long offset, long length, List<(long Offset, long Length)>? opened = null, List<int>? reads = null) =>
        (await UnsealingStream.OpenAsync(
            layout,
            keys,
            new WrappedKeyCache(),
            (o, l, _) =>
            {
                opened?.Add((o, l));
                Stream inner = new MemoryStream(blob, (int)Math.Min(o, blob.Length), (int)Math.Max(0, Math.Min(l, blob.Length - o)));
                return Task.FromResult<Stream?>(reads is null ? inner : new CountingStream(inner, reads));
            },
            offset,
            length,
            Ct))!;

    private sealed class FailingStream(byte[] data, int failAfter) : MemoryStream(data)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var left = failAfter - (int)Position;
            return left <= 0 ? throw new IOException("the connection broke") : await base.ReadAsync(buffer[..Math.Min(buffer.Length, left)], cancellationToken);
        }
    }

    /// <summary>A buffer writer over one array, so a test can look at memory handed out but never advanced.</summary>
    private sealed class FixedWriter(byte[] array) : IBufferWriter<byte>
    {
        public byte[] Array => array;

        public int Written { get; private set; }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => array.AsMemory(Written);

        public Span<byte> GetSpan(int sizeHint = 0) => array.AsSpan(Written);
    }

    /// <summary>Records the size of each read asked of it.</summary>
    private sealed class CountingStream(Stream inner, List<int> reads) : Wharf.Core.Storage.ReadOnlyStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            reads.Add(buffer.Length);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override int Read(Span<byte> buffer) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 7919)], cancellationToken);
    }
}
