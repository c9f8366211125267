using System.IO.Compression;
using System.Runtime.CompilerServices;
using Wharf.Core.Storage;

namespace Wharf.Scanning.Layers;

/// <summary>A layer the scanner refuses: hostile or malformed. The scan fails with this reason; nothing else does.</summary>
public sealed class LayerRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Thrown by a <see cref="LayerExtractor"/> when a bound stops it: the file is listed as skipped, with this reason, and the layer read on.</summary>
public sealed class LayerFileSkippedException(string reason) : Exception(reason);

/// <summary>Bounds on what reading an image's layers may cost.</summary>
/// <param name="MaxUncompressedBytes">Decompressed tar bytes per layer (a decompression bomb stops here).</param>
/// <param name="MaxEntries">Tar entries per layer.</param>
/// <param name="MaxFileBytes">The largest file whose content is kept for analysis (an rpm database is the largest real one).</param>
/// <param name="MaxHeaderBytes">The largest PAX header or GNU long name or link read; a larger one rejects the layer (Go's <c>archive/tar</c>, which container runtimes use, stops at 1 MiB too).</param>
/// <param name="MaxLayerKeptBytes">File contents kept from one layer; files past it are skipped, and the scan says so.</param>
/// <param name="MaxImageKeptBytes">File contents kept from all the layers of an image; files past it are skipped, and the scan says so.</param>
public sealed record LayerLimits(long MaxUncompressedBytes, int MaxEntries, long MaxFileBytes, long MaxHeaderBytes, long MaxLayerKeptBytes, long MaxImageKeptBytes)
{
    public static readonly LayerLimits Default = new(16L << 30, 2_000_000, 64L << 20, 1L << 20, 128L << 20, 256L << 20);
}

/// <summary>
/// What one image's scan has kept in memory so far, shared by its layers, so that the files kept stay
/// under <see cref="LayerLimits.MaxImageKeptBytes"/> whatever the layers hold. Every file read counts,
/// even one a later layer replaces.
/// </summary>
public sealed class KeptBytes(LayerLimits limits)
{
    public LayerLimits Limits { get; } = limits;

    public long Total { get; private set; }

    /// <summary>Why a file of <paramref name="size"/> bytes cannot be kept (with <paramref name="layerKept"/> bytes kept from its layer so far), or null after counting it.</summary>
    internal string? Take(long size, ref long layerKept)
    {
        if (size > Limits.MaxFileBytes)
        {
            return $"{Size(size)} is more than the {Size(Limits.MaxFileBytes)} one file may keep";
        }

        if (layerKept + size > Limits.MaxLayerKeptBytes)
        {
            return $"the layer's files read before it hold {Size(layerKept)}, and one layer may keep {Size(Limits.MaxLayerKeptBytes)}";
        }

        if (Total + size > Limits.MaxImageKeptBytes)
        {
            return $"the image's files read before it hold {Size(Total)}, and one image may keep {Size(Limits.MaxImageKeptBytes)}";
        }

        layerKept += size;
        Total += size;
        return null;
    }

    internal static string Size(long bytes) =>
        bytes >= 1L << 30 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.#} GiB")
        : bytes >= 1 << 20 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.#} MiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes} bytes");
}

public enum LayerEntryKind
{
    File,
    Directory,
    Link,

    /// <summary>An <c>.wh.&lt;name&gt;</c> file: <see cref="LayerEntry.Path"/> is the deleted path.</summary>
    Whiteout,

    /// <summary>An <c>.wh..wh..opq</c> file: <see cref="LayerEntry.Path"/> is the directory whose lower contents are hidden.</summary>
    Opaque,
}

/// <summary>
/// One entry of a layer: its normalised path (no leading <c>/</c> or <c>./</c>), kind, size, and content
/// when it was wanted — or, <see cref="Extracted"/>, what an extractor kept of it; <see cref="Skipped"/> says
/// why a wanted file's content was not kept (a limit of <see cref="LayerLimits"/>).
/// </summary>
public sealed record LayerEntry(string Path, LayerEntryKind Kind, long Size, byte[]? Content, bool Executable, bool Extracted = false, string? Skipped = null);

/// <summary>Reads a file as it streams past and keeps a little of it (or nothing: null).</summary>
public delegate Task<byte[]?> LayerExtractor(string path, long size, Stream content, CancellationToken cancellationToken);

/// <summary>
/// Reads a layer as it is stored — gzip, zstd or plain tar, told apart by their magic bytes — entry by
/// entry, streaming: nothing is extracted to disk, and only the contents a caller wants are kept, within
/// <see cref="LayerLimits"/> (a wanted file past them is listed with the reason it was skipped). Absolute
/// paths are made relative; <c>..</c> that would climb out of the root, too many entries, too many
/// decompressed bytes, an oversized tar header or a malformed archive reject the layer with
/// <see cref="LayerRejectedException"/>.
/// </summary>
public static class LayerReader
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    public static IAsyncEnumerable<LayerEntry> ReadAsync(Stream stored, Func<string, long, bool> wanted, LayerLimits limits, CancellationToken cancellationToken = default) =>
        ReadAsync(stored, wanted, null, new KeptBytes(limits), cancellationToken);

    /// <summary>As below, for one layer on its own.</summary>
    public static IAsyncEnumerable<LayerEntry> ReadAsync(
        Stream stored,
        Func<string, long, bool> wanted,
        (Func<string, long, bool, bool> Accepts, LayerExtractor Extract)? extract,
        LayerLimits limits,
        CancellationToken cancellationToken = default) =>
        ReadAsync(stored, wanted, extract, new KeptBytes(limits), cancellationToken);

    /// <summary>
    /// Reads one layer of an image whose layers share <paramref name="kept"/>; files not wanted whole that
    /// <paramref name="extract"/> accepts (by path, size and mode) are passed to it.
    /// </summary>
    public static async IAsyncEnumerable<LayerEntry> ReadAsync(
        Stream stored,
        Func<string, long, bool> wanted,
        (Func<string, long, bool, bool> Accepts, LayerExtractor Extract)? extract,
        KeptBytes kept,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var limits = kept.Limits;
        var head = new byte[4];
        var read = await stored.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        Stream input = new PrefixedStream(head.AsMemory(0, read), stored);
        Stream decompressed = read >= 2 && head[0] == 0x1f && head[1] == 0x8b ? new GZipStream(input, CompressionMode.Decompress)
            : read >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd ? new ZstdSharp.DecompressionStream(input)
            : input;
        await using var bounded = new BoundedStream(decompressed, limits.MaxUncompressedBytes);

        // Headers are read here, not by System.Formats.Tar's TarReader, which reads a PAX header or GNU
        // long name whole into memory whatever its size, and fails an archive without its end marker.
        var tar = new TarEntries(bounded, limits.MaxHeaderBytes);
        var entries = 0;
        long layerKept = 0;
        while (true)
        {
            TarHeader? entry;
            try
            {
                entry = await tar.NextAsync(cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ZstdSharp.ZstdException)
            {
                throw new LayerRejectedException($"the layer is not a readable tar archive: {e.Message}", e);
            }

            if (entry is null)
            {
                yield break;
            }

            if (++entries > limits.MaxEntries)
            {
                throw new LayerRejectedException($"the layer has more than {limits.MaxEntries} entries");
            }

            var path = Normalise(entry.Name);
            if (path.Length == 0)
            {
                continue;
            }

            var slash = path.LastIndexOf('/');
            var directory = slash < 0 ? string.Empty : path[..(slash + 1)];
            var name = path[(slash + 1)..];
            if (name == OpaqueMarker)
            {
                yield return new LayerEntry(directory.TrimEnd('/'), LayerEntryKind.Opaque, 0, null, false);
                continue;
            }

            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                yield return new LayerEntry(directory + name[WhiteoutPrefix.Length..], LayerEntryKind.Whiteout, 0, null, false);
                continue;
            }

            var kind = (char)entry.Type switch
            {
                '5' => LayerEntryKind.Directory,
                '0' or '7' => LayerEntryKind.File,
                '\0' => entry.Name.EndsWith('/') ? LayerEntryKind.Directory : LayerEntryKind.File, // V7: a trailing slash makes a directory
                '1' or '2' => LayerEntryKind.Link,
                _ => (LayerEntryKind?)null,
            };
            if (kind is null)
            {
                continue;
            }

            var executable = (entry.Mode & 0b001_001_001) != 0;
            byte[]? content = null;
            string? skipped = null;
            var extracted = false;
            if (kind == LayerEntryKind.File)
            {
                var data = tar.Data;
                try
                {
                    if (wanted(path, entry.Size) && (skipped = kept.Take(entry.Size, ref layerKept)) is null)
                    {
                        content = new byte[entry.Size];
                        await data.ReadExactlyAsync(content, cancellationToken);
                    }
                    else if (skipped is null && extract is { } x && x.Accepts(path, entry.Size, executable))
                    {
                        try
                        {
                            content = await x.Extract(path, entry.Size, data, cancellationToken);
                            extracted = content is not null;
                        }
                        catch (LayerFileSkippedException e)
                        {
                            skipped = e.Message;
                        }
                    }

                    // What is left of the file is read here, 80 KiB at a time: gzip inflates small reads with ~15 % more CPU (bench/scan).
                    await data.CopyToAsync(Stream.Null, cancellationToken);
                }
                catch (EndOfStreamException e)
                {
                    throw new LayerRejectedException($"the layer ends inside '{Shown(path)}'", e);
                }
            }

            yield return new LayerEntry(path, kind.Value, entry.Size, content, executable, extracted, skipped);
        }
    }

    /// <summary>The path relative to the root: leading <c>/</c> and <c>./</c> dropped, <c>.</c> segments removed; <c>..</c> rejects the layer.</summary>
    public static string Normalise(string name)
    {
        var segments = new List<string>();
        foreach (var segment in name.Replace('\\', '/').Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                throw new LayerRejectedException($"the layer has an entry that climbs out of the root: '{Shown(name)}'");
            }

            segments.Add(segment);
        }

        return string.Join('/', segments);
    }

    /// <summary>A path as a scan's description shows it: a name can be up to 1 MiB long, a description should not.</summary>
    public static string Shown(string path) => path.Length <= 256 ? path : string.Concat(path.AsSpan(0, 128), "…", path.AsSpan(path.Length - 127));

    /// <summary>The magic bytes read to tell the format, then the rest of the stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : ReadOnlyStream
    {
        private ReadOnlyMemory<byte> prefix = prefix;

        public override int Read(Span<byte> buffer)
        {
            if (prefix.Length > 0)
            {
                var n = Math.Min(prefix.Length, buffer.Length);
                prefix.Span[..n].CopyTo(buffer);
                prefix = prefix[n..];
                return n;
            }

            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (prefix.Length > 0)
            {
                var n = Math.Min(prefix.Length, buffer.Length);
                prefix[..n].CopyTo(buffer);
                prefix = prefix[n..];
                return n;
            }

            return await rest.ReadAsync(buffer, cancellationToken);
        }
    }

    /// <summary>Counts decompressed bytes and rejects the layer past the limit.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : ReadOnlyStream
    {
        private long total;

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken));
            }
            catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException)
            {
                throw new LayerRejectedException($"the layer's compression is corrupt: {e.Message}", e);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            total += n;
            return total > limit ? throw new LayerRejectedException($"the layer decompresses to more than {limit} bytes") : n;
        }
    }
}
