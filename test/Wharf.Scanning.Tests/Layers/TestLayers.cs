using System.Formats.Tar;
using System.IO.Compression;

namespace Wharf.Scanning.Tests.Layers;

/// <summary>Builds layers in memory the way image builders write them: a tar, gzip- or zstd-compressed or plain.</summary>
public static class TestLayers
{
    public enum Compression
    {
        None,
        Gzip,
        Zstd,
    }

    /// <summary>A layer of files (path → content; a null content makes a directory).</summary>
    public static byte[] Build(IEnumerable<(string Path, byte[]? Content)> entries, Compression compression = Compression.Gzip)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in entries)
            {
                var entry = new PaxTarEntry(content is null ? TarEntryType.Directory : TarEntryType.RegularFile, path)
                {
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                if (content is not null)
                {
                    entry.DataStream = new MemoryStream(content);
                }

                writer.WriteEntry(entry);
            }
        }

        return Compress(tar.ToArray(), compression);
    }

    public static byte[] Compress(byte[] tar, Compression compression)
    {
        using var output = new MemoryStream();
        switch (compression)
        {
            case Compression.Gzip:
                using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(tar);
                }

                break;
            case Compression.Zstd:
                using (var zstd = new ZstdSharp.CompressionStream(output, 3, leaveOpen: true))
                {
                    zstd.Write(tar);
                }

                break;
            default:
                output.Write(tar);
                break;
        }

        return output.ToArray();
    }

    public static byte[] Text(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
