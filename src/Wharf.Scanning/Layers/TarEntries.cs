using System.Buffers;
using System.Text;
using Wharf.Core.Storage;

namespace Wharf.Scanning.Layers;

/// <summary>One tar entry as <see cref="TarEntries"/> reads it: its full name (PAX or GNU long names applied), type flag, data size and mode.</summary>
internal sealed record TarHeader(string Name, byte Type, long Size, int Mode);

/// <summary>
/// Reads tar headers (ustar, GNU and PAX) from a stream, with bounds: a PAX header or GNU long name or
/// link larger than <c>maxSpecialBytes</c> rejects the layer before anything of it is read into memory
/// (.NET's <c>TarReader</c> reads them whole, up to 2 GiB; Go's <c>archive/tar</c>, which containerd and
/// podman extract with, stops at 1 MiB too). An archive that ends after an entry without the two zero
/// blocks of the end-of-archive marker ends there, as GNU tar, Go and containerd read it (<c>umoci</c>
/// writes such layers).
/// </summary>
internal sealed class TarEntries(Stream tar, long maxSpecialBytes)
{
    private const int Block = 512;
    private const int SkipChunk = 80 * 1024;
    private readonly byte[] header = new byte[Block];
    private long unread;
    private int padding;

    private Stream Tar => tar;

    /// <summary>The data of the entry <see cref="NextAsync"/> returned last; it throws <see cref="EndOfStreamException"/> if the archive ends inside it.</summary>
    public Stream Data => new EntryData(this);

    /// <summary>The next entry, after what is left of the current one is skipped; null at the end of the archive.</summary>
    public async Task<TarHeader?> NextAsync(CancellationToken cancellationToken)
    {
        await SkipAsync(unread, exact: true, cancellationToken);
        unread = 0;
        await SkipAsync(padding, exact: false, cancellationToken);
        padding = 0;

        string? longName = null;
        string? paxPath = null;
        long? paxSize = null;
        while (true)
        {
            var read = await tar.ReadAtLeastAsync(header, Block, throwOnEndOfStream: false, cancellationToken);
            if (read == 0 || (read == Block && !header.AsSpan().ContainsAnyExcept((byte)0)))
            {
                return null; // the end of the data, or the end-of-archive marker; what may follow is not read
            }

            if (read < Block)
            {
                throw new LayerRejectedException("the layer is not a readable tar archive: it ends inside a tar header");
            }

            if (!ChecksumMatches(header))
            {
                throw new LayerRejectedException("the layer is not a readable tar archive: a tar header's checksum does not match");
            }

            var type = header[156];
            var size = Number(header.AsSpan(124, 12), "size");
            switch ((char)type)
            {
                case 'x':
                    var pax = await SpecialAsync(size, "PAX extended header", cancellationToken);
                    ParsePax(pax, ref paxPath, ref paxSize);
                    continue;
                case 'g':
                    await SpecialAsync(size, "PAX global header", cancellationToken); // read for its bound; nothing in it names an entry
                    continue;
                case 'L':
                    longName = CString(await SpecialAsync(size, "GNU long name", cancellationToken));
                    continue;
                case 'K':
                    await SpecialAsync(size, "GNU long link name", cancellationToken); // link targets are not followed
                    continue;
                case 'S' when header[482] != 0:
                    await SkipSparseExtensionsAsync(cancellationToken);
                    break;
            }

            var name = paxPath ?? longName ?? UstarName(header);
            size = paxSize ?? size;

            // Links, devices, directories and FIFOs have no data whatever their size field says (Go reads them so).
            unread = type is (byte)'1' or (byte)'2' or (byte)'3' or (byte)'4' or (byte)'5' or (byte)'6' ? 0 : size;
            padding = (int)((Block - (unread % Block)) % Block);
            var mode = (int)Math.Min(Number(header.AsSpan(100, 8), "mode"), int.MaxValue);
            return new TarHeader(name, type, unread, mode);
        }
    }

    /// <summary>Skips <paramref name="count"/> bytes; short of them, the archive ends inside an entry (or, for padding, harmlessly).</summary>
    private async Task SkipAsync(long count, bool exact, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        // 80 KiB reads: gzip inflates small reads with ~15 % more CPU (bench/scan).
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(count, SkipChunk));
        try
        {
            while (count > 0)
            {
                var read = await tar.ReadAsync(buffer.AsMemory(0, (int)Math.Min(count, buffer.Length)), cancellationToken);
                if (read == 0)
                {
                    // A writer that stopped without padding the last entry lost nothing: only its data counts.
                    if (exact)
                    {
                        throw new EndOfStreamException();
                    }

                    return;
                }

                count -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<byte[]> SpecialAsync(long size, string what, CancellationToken cancellationToken)
    {
        if (size > maxSpecialBytes)
        {
            throw new LayerRejectedException(
                $"the layer has a {what} of {size} bytes; at most {maxSpecialBytes} bytes are read, as container runtimes do");
        }

        var data = new byte[size];
        if (await tar.ReadAtLeastAsync(data, data.Length, throwOnEndOfStream: false, cancellationToken) < data.Length)
        {
            throw new LayerRejectedException($"the layer is not a readable tar archive: it ends inside a {what}");
        }

        await SkipAsync((Block - (size % Block)) % Block, exact: false, cancellationToken);
        return data;
    }

    // An old GNU sparse file lists more of its map in 512-byte extension blocks, each flagged when another follows.
    private async Task SkipSparseExtensionsAsync(CancellationToken cancellationToken)
    {
        var block = new byte[Block];
        do
        {
            if (await tar.ReadAtLeastAsync(block, Block, throwOnEndOfStream: false, cancellationToken) < Block)
            {
                throw new LayerRejectedException("the layer is not a readable tar archive: it ends inside a sparse file's header");
            }
        }
        while (block[504] != 0);
    }

    // Records are "<length> <key>=<value>\n", the length counting the whole record.
    private static void ParsePax(byte[] data, ref string? path, ref long? size)
    {
        var rest = data.AsSpan();
        while (rest.Length > 0 && rest[0] != 0)
        {
            var space = rest.IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(rest[..space], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
                || length <= space + 1 || length > rest.Length || rest[length - 1] != (byte)'\n')
            {
                throw new LayerRejectedException("the layer is not a readable tar archive: a PAX extended header is malformed");
            }

            var record = rest[(space + 1)..(length - 1)];
            var equals = record.IndexOf((byte)'=');
            if (equals <= 0)
            {
                throw new LayerRejectedException("the layer is not a readable tar archive: a PAX extended header is malformed");
            }

            var key = record[..equals];
            if (key.SequenceEqual("path"u8))
            {
                path = Encoding.UTF8.GetString(record[(equals + 1)..]);
            }
            else if (key.SequenceEqual("size"u8))
            {
                size = long.TryParse(record[(equals + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s)
                    ? s
                    : throw new LayerRejectedException("the layer is not a readable tar archive: a PAX size is not a number");
            }

            rest = rest[length..];
        }
    }

    private static string UstarName(byte[] block)
    {
        var name = CString(block.AsSpan(0, 100));

        // POSIX ustar ("ustar\0") splits long names into prefix and name; GNU ("ustar  ") keeps other fields there.
        var posix = block.AsSpan(257, 6).SequenceEqual("ustar\0"u8);
        var prefix = posix ? CString(block.AsSpan(345, 155)) : string.Empty;
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    /// <summary>An octal field (space or NUL padded), or GNU's base-256 for values octal cannot hold.</summary>
    private static long Number(ReadOnlySpan<byte> field, string what)
    {
        if ((field[0] & 0x80) != 0)
        {
            if ((field[0] & 0x40) != 0 || field[1..^8].ContainsAnyExcept((byte)0) || (field[^8] & 0x80) != 0)
            {
                throw new LayerRejectedException($"the layer is not a readable tar archive: a tar header's {what} is out of range");
            }

            return System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(field[^8..]);
        }

        long value = 0;
        var digits = field.Trim(" \0"u8);
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'7' || value > long.MaxValue >> 3)
            {
                throw new LayerRejectedException($"the layer is not a readable tar archive: a tar header's {what} is not an octal number");
            }

            value = (value << 3) | (uint)(digit - '0');
        }

        return value;
    }

    // The sum of the header's bytes with the checksum field as spaces; some old writers summed signed bytes.
    private static bool ChecksumMatches(byte[] block)
    {
        var field = block.AsSpan(148, 8).Trim(" \0"u8);
        long expected = 0;
        foreach (var digit in field)
        {
            if (digit is < (byte)'0' or > (byte)'7')
            {
                return false;
            }

            expected = (expected << 3) | (uint)(digit - '0');
        }

        long unsigned = 0, signed = 0;
        for (var i = 0; i < Block; i++)
        {
            var b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsigned += b;
            signed += (sbyte)b;
        }

        return field.Length > 0 && (expected == unsigned || expected == signed);
    }

    /// <summary>The current entry's data: at most its size, and an early end of the archive is an error.</summary>
    private sealed class EntryData(TarEntries owner) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            if (owner.unread == 0 || buffer.Length == 0)
            {
                return 0;
            }

            var read = owner.Tar.Read(buffer[..(int)Math.Min(buffer.Length, owner.unread)]);
            return Consumed(read);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (owner.unread == 0 || buffer.Length == 0)
            {
                return 0;
            }

            var read = await owner.Tar.ReadAsync(buffer[..(int)Math.Min(buffer.Length, owner.unread)], cancellationToken);
            return Consumed(read);
        }

        private int Consumed(int read)
        {
            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            owner.unread -= read;
            return read;
        }
    }
}
