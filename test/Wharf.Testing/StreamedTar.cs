using System.IO.Compression;
using System.Text;

namespace Wharf.Testing;

/// <summary>
/// Layers of gigabytes that cost no memory: a tar written as it is read (headers built here, file data
/// as zeros), optionally gzip-compressed as it is read, so a hostile layer is never materialised.
/// </summary>
public static class StreamedTar
{
    private const int Block = 512;

    /// <summary>One piece of the archive: bytes, or a run of zeros.</summary>
    public readonly record struct Piece(ReadOnlyMemory<byte> Bytes, long Zeros);

    /// <summary>A ustar header (GNU's magic when <paramref name="gnu"/>), with its checksum.</summary>
    public static byte[] Header(string name, char type, long size, bool gnu = false, int mode = 0b110_100_100)
    {
        var header = new byte[Block];
        Encoding.UTF8.GetBytes(name.Length > 100 ? name[..100] : name).CopyTo(header, 0);
        Octal(header.AsSpan(100, 8), mode);
        Octal(header.AsSpan(108, 8), 0);
        Octal(header.AsSpan(116, 8), 0);
        Octal(header.AsSpan(124, 12), size);
        Octal(header.AsSpan(136, 12), 1_700_000_000);
        header[156] = (byte)type;
        (gnu ? "ustar  \0"u8 : "ustar\000"u8).CopyTo(header.AsSpan(257));
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => (long)b);
        Octal(header.AsSpan(148, 7), sum);
        return header;
    }

    /// <summary>A file entry: header, content, padding.</summary>
    public static IEnumerable<Piece> File(string name, byte[] content) =>
        [new(Header(name, '0', content.Length), 0), new(content, 0), new(default, Padding(content.Length))];

    /// <summary>A file entry of <paramref name="size"/> zeros.</summary>
    public static IEnumerable<Piece> Zeros(string name, long size, char type = '0', bool gnu = false) =>
        [new(Header(name, type, size, gnu), 0), new(default, size), new(default, Padding(size))];

    /// <summary>The end-of-archive marker: two zero blocks.</summary>
    public static IEnumerable<Piece> End() => [new(default, 2 * Block)];

    public static long Padding(long size) => (Block - (size % Block)) % Block;

    /// <summary>The archive of <paramref name="pieces"/>, produced as it is read.</summary>
    public static Stream Tar(IEnumerable<Piece> pieces) => new PieceStream(pieces);

    /// <summary>The gzip of <paramref name="source"/>, compressed as it is read.</summary>
    public static Stream Gzip(Stream source) => new GzipAsRead(source);

    private static void Octal(Span<byte> field, long value)
    {
        var text = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(text).CopyTo(field);
        field[^1] = 0;
    }

    private sealed class PieceStream(IEnumerable<Piece> pieces) : Stream
    {
        private readonly IEnumerator<Piece> next = pieces.GetEnumerator();
        private ReadOnlyMemory<byte> bytes;
        private long zeros;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (bytes.Length == 0 && zeros == 0)
            {
                if (!next.MoveNext())
                {
                    return 0;
                }

                (bytes, zeros) = (next.Current.Bytes, next.Current.Zeros);
            }

            if (bytes.Length > 0)
            {
                var n = Math.Min(bytes.Length, buffer.Length);
                bytes.Span[..n].CopyTo(buffer);
                bytes = bytes[n..];
                return n;
            }

            var z = (int)Math.Min(zeros, buffer.Length);
            buffer[..z].Clear();
            zeros -= z;
            return z;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class GzipAsRead : Stream
    {
        private readonly Stream source;
        private readonly MemoryStream output = new();
        private readonly GZipStream gzip;
        private readonly byte[] chunk = new byte[1 << 20];
        private int position;
        private bool done;

        public GzipAsRead(Stream source)
        {
            this.source = source;
            gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (position == output.Length)
            {
                if (done)
                {
                    return 0;
                }

                output.SetLength(0);
                position = 0;
                var read = source.Read(chunk);
                if (read == 0)
                {
                    gzip.Dispose();
                    done = true;
                }
                else
                {
                    gzip.Write(chunk, 0, read);
                }
            }

            var n = (int)Math.Min(buffer.Length, output.Length - position);
            output.GetBuffer().AsSpan(position, n).CopyTo(buffer);
            position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
