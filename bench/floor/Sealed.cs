using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;

// The floor of a sealed pull (bench/README.md, "The Kestrel floor"): the least a blob encrypted at rest costs to send
// from this runtime. The file under --root is sealed once, on its first request, into a file in the floor's scratch
// directory (beside --root): AES-256-GCM in segments of 64 KiB, each with its 16-byte tag and a nonce made of its index, the shape
// Wharf's sealed blobs have. A GET reads whole segments (15 per 1 MiB read, from the page cache), decrypts each one
// straight into Kestrel's response pipe (no copy beyond the decryption itself) and flushes about every MiB; ranges are
// served from the segments that hold them. No key lookups, no framing header, no authorisation: a measurement, not
// Wharf's code.
internal static class Sealed
{
    private const int Segment = 64 * 1024;
    private const int Tag = 16;
    private const int SealedSegment = Segment + Tag;
    private const int SegmentsPerRead = 15;

    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly ConcurrentDictionary<string, Lazy<Task<(string Path, long Length)>>> Files = new();
    /// <summary>Where the sealed copy goes: Program.cs sets a directory inside bench/run's work directory, which bench/run removes.</summary>
    public static string Directory { get; set; } = System.IO.Path.GetTempPath();

    public static async Task ServeAsync(HttpContext context, string file)
    {
        var (path, length) = await Files.GetOrAdd(file, f => new(() => SealAsync(f))).Value;
        var (offset, count) = (0L, length);
        var response = context.Response;
        if (context.Request.Headers.Range.ToString() is { Length: > 0 } range && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            var parts = range[6..].Split('-');
            offset = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            var end = Math.Min(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), length - 1);
            count = end - offset + 1;
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {offset}-{end}/{length}";
        }

        response.ContentType = "application/octet-stream";
        response.ContentLength = count;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(SegmentsPerRead * SealedSegment);
        var partial = ArrayPool<byte>.Shared.Rent(Segment);
        using var aes = new AesGcm(Key, Tag);
        try
        {
            var index = offset / Segment;
            var skip = (int)(offset % Segment);
            var left = count;
            var writer = response.BodyWriter;
            while (left > 0)
            {
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, SegmentsPerRead * SealedSegment), index * SealedSegment);
                if (read <= Tag)
                {
                    throw new IOException("the sealed file is short");
                }

                for (var at = 0; at < read && left > 0; at += SealedSegment, index++)
                {
                    var sealedLength = Math.Min(SealedSegment, read - at);
                    var plain = sealedLength - Tag;
                    Decrypt(aes, index, buffer.AsSpan(at, plain), buffer.AsSpan(at + plain, Tag), skip, plain, left, writer, partial, out var written);
                    left -= written;
                    skip = 0;
                }

                await writer.FlushAsync(context.RequestAborted);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(partial);
        }
    }

    private static void Decrypt(AesGcm aes, long index, ReadOnlySpan<byte> cipher, ReadOnlySpan<byte> tag, int skip, int plain, long left, System.IO.Pipelines.PipeWriter writer, byte[] partial, out int written)
    {
        Span<byte> nonce = stackalloc byte[12];
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], index);
        written = (int)Math.Min(plain - skip, left);
        if (skip == 0 && written == plain)
        {
            // The whole segment: decrypted into the pipe's own memory.
            var target = writer.GetSpan(plain);
            aes.Decrypt(nonce, cipher, tag, target[..plain]);
            writer.Advance(plain);
            return;
        }

        aes.Decrypt(nonce, cipher, tag, partial.AsSpan(0, plain));
        partial.AsSpan(skip, written).CopyTo(writer.GetSpan(written));
        writer.Advance(written);
    }

    private static async Task<(string Path, long Length)> SealAsync(string file)
    {
        var path = Path.Combine(Directory, Guid.NewGuid().ToString("N"));
        await using var source = File.OpenRead(file);
        await using var target = File.Create(path);
        using var aes = new AesGcm(Key, Tag);
        var plain = new byte[Segment];
        var sealedBytes = new byte[SealedSegment];
        var nonce = new byte[12];
        long index = 0;
        int read;
        while ((read = await source.ReadAtLeastAsync(plain, Segment, throwOnEndOfStream: false)) > 0)
        {
            BinaryPrimitives.WriteInt64BigEndian(nonce.AsSpan(4), index++);
            aes.Encrypt(nonce, plain.AsSpan(0, read), sealedBytes.AsSpan(0, read), sealedBytes.AsSpan(read, Tag));
            await target.WriteAsync(sealedBytes.AsMemory(0, read + Tag));
        }

        return (path, source.Length);
    }
}
