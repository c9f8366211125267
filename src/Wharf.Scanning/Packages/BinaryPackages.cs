using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Wharf.Scanning.Layers;

namespace Wharf.Scanning.Packages;

/// <summary>
/// Packages inside files too large to keep: Go module build information embedded in executables
/// (Go 1.18 and later), and Maven coordinates in Java archives (<c>META-INF/maven/…/pom.properties</c>,
/// one level of nested jars as fat jars have them). The file is read once, as it streams past; what is
/// kept is a few lines: <c>go</c> or <c>maven</c>, then <c>name\tversion</c> per package.
/// </summary>
/// <remarks>
/// Jars are untrusted zips, so each read is bounded: a jar is opened from memory up to 64 MiB and from a
/// private temporary file up to 1 GiB (past that it is skipped, and the scan says so); one with more
/// than 250,000 entries is skipped before its directory is read; what its nested jars and
/// <c>pom.properties</c> inflate to is counted against 1 GiB, each read no further than it may be.
/// </remarks>
public static class BinaryPackages
{
    private const int Chunk = 1 << 20;
    private const long MaxJarInMemory = 64L << 20;
    private const long MaxJarBytes = 1L << 30;
    private const long MaxNestedJarBytes = 64L << 20;
    private const long MaxInflatedBytes = 1L << 30;
    private const int MaxPomBytes = 64 * 1024;
    private const long MaxJarEntries = 250_000;
    private static readonly byte[] GoMagic = [0xff, .. " Go buildinf:"u8];

    /// <summary>Whether a file could hold packages: an executable, or a Java archive.</summary>
    public static bool Candidate(string path, long size, bool executable) =>
        IsJar(path) || (executable && size >= 1024);

    /// <summary>The file's packages as kept lines, or null when it has none; <see cref="LayerFileSkippedException"/> when a bound stops the read.</summary>
    public static async Task<byte[]?> ExtractAsync(string path, long size, Stream content, CancellationToken cancellationToken)
    {
        if (IsJar(path))
        {
            if (size > MaxJarBytes)
            {
                throw new LayerFileSkippedException($"a Java archive of {KeptBytes.Size(size)} is more than the {KeptBytes.Size(MaxJarBytes)} one is opened at");
            }

            // ZipArchive needs to seek (the directory is at the end): small jars are copied to memory, larger ones to a private temporary file.
            await using var copy = size <= MaxJarInMemory ? new MemoryStream((int)size) : (Stream)TemporaryFile();
            await content.CopyToAsync(copy, cancellationToken);
            copy.Position = 0;
            var packages = Jar(copy, nested: true, new Inflated());
            return packages.Count == 0 ? null : Encoding.UTF8.GetBytes("maven\n" + string.Join('\n', packages.Distinct().Select(p => $"{p.Name}\t{p.Version}")));
        }

        var info = await GoBuildInfoAsync(content, cancellationToken);
        return info is null ? null : Encoding.UTF8.GetBytes("go\n" + string.Join('\n', info.Select(p => $"{p.Name}\t{p.Version}")));
    }

    /// <summary>Reads back what <see cref="ExtractAsync"/> kept: the ecosystem and its packages.</summary>
    public static (string Ecosystem, IReadOnlyList<(string Name, string Version)> Packages)? Read(byte[] kept)
    {
        var lines = Encoding.UTF8.GetString(kept).Split('\n');
        var ecosystem = lines[0] switch { "go" => "Go", "maven" => "Maven", _ => null };
        return ecosystem is null
            ? null
            : (ecosystem, lines.Skip(1).Select(l => l.Split('\t')).Where(p => p.Length == 2 && p[0].Length > 0 && p[1].Length > 0).Select(p => (p[0], p[1])).ToList());
    }

    private static bool IsJar(string path) =>
        path.EndsWith(".jar", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".war", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ear", StringComparison.OrdinalIgnoreCase);

    private static FileStream TemporaryFile()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the image's content is not everyone's
        }

        return new FileStream(Path.Combine(Path.GetTempPath(), $"wharf-jar-{Guid.NewGuid():N}.zip"), options);
    }

    private static List<(string Name, string Version)> Jar(Stream stream, bool nested, Inflated inflated)
    {
        var packages = new List<(string Name, string Version)>();
        if (EntryCount(stream) is > MaxJarEntries and var count)
        {
            throw new LayerFileSkippedException($"a Java archive of {count} entries is more than the {MaxJarEntries} one is opened with");
        }

        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.StartsWith("META-INF/maven/", StringComparison.Ordinal) && entry.Name == "pom.properties" && entry.Length < MaxPomBytes)
                {
                    using var source = entry.Open();
                    using var text = new MemoryStream();
                    if (!inflated.CopyAtMost(source, text, MaxPomBytes))
                    {
                        continue; // it inflates past what its directory entry says: not a pom.properties Maven wrote
                    }

                    var properties = Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#')
                        .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
                    if (properties.TryGetValue("groupId", out var group) && properties.TryGetValue("artifactId", out var artifact) && properties.TryGetValue("version", out var version))
                    {
                        packages.Add(($"{group}:{artifact}", version));
                    }
                }
                else if (nested && IsJar(entry.Name) && entry.Length <= MaxNestedJarBytes)
                {
                    using var inner = new MemoryStream((int)entry.Length);
                    using (var source = entry.Open())
                    {
                        if (!inflated.CopyAtMost(source, inner, MaxNestedJarBytes))
                        {
                            continue;
                        }
                    }

                    inner.Position = 0;
                    try
                    {
                        packages.AddRange(Jar(inner, nested: false, inflated));
                    }
                    catch (LayerFileSkippedException) when (inflated.Total <= MaxInflatedBytes)
                    {
                        // A nested jar with too many entries: the outer jar's other packages still count.
                    }
                }
            }
        }
        catch (InvalidDataException)
        {
            // Not a zip after all: no packages.
        }

        return packages;
    }

    /// <summary>The entry count the zip's end-of-central-directory record (or its ZIP64 twin) declares; null when there is none to read.</summary>
    private static long? EntryCount(Stream zip)
    {
        const int Eocd = 22;
        var length = zip.Length;
        var tail = new byte[(int)Math.Min(length, Eocd + ushort.MaxValue)];
        zip.Position = length - tail.Length;
        zip.ReadExactly(tail);
        zip.Position = 0;
        var at = tail.AsSpan().LastIndexOf("PK\u0005\u0006"u8);
        if (at < 0 || at + Eocd > tail.Length)
        {
            return null;
        }

        var count = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(at + 10));
        if (count != ushort.MaxValue || at < 20 || !tail.AsSpan(at - 20, 4).SequenceEqual("PK\u0006\u0007"u8))
        {
            return count;
        }

        var zip64 = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(at - 20 + 8));
        if (zip64 < 0 || zip64 > length - 56)
        {
            return null;
        }

        var record = new byte[56];
        zip.Position = zip64;
        zip.ReadExactly(record);
        zip.Position = 0;
        return record.AsSpan(0, 4).SequenceEqual("PK\u0006\u0006"u8) ? (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32)), long.MaxValue) : null;
    }

    /// <summary>What one jar's entries have inflated to, bounded as a whole (a zip bomb of nested jars costs time) and per entry.</summary>
    private sealed class Inflated
    {
        public long Total { get; private set; }

        /// <summary>Copies at most <paramref name="max"/> bytes; false when there were more.</summary>
        public bool CopyAtMost(Stream source, Stream destination, long max)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                long copied = 0;
                int read;
                while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
                {
                    copied += read;
                    Total += read;
                    if (Total > MaxInflatedBytes)
                    {
                        throw new LayerFileSkippedException($"the Java archive's nested archives and pom.properties inflate to more than {KeptBytes.Size(MaxInflatedBytes)}");
                    }

                    if (copied > max)
                    {
                        return false;
                    }

                    destination.Write(buffer, 0, read);
                }

                return true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    // Go 1.18+: the build info header ("\xff Go buildinf:", pointer size, flags) with flag 2 set is
    // followed by two varint-prefixed strings, the Go version and the module information.
    private static async Task<List<(string Name, string Version)>?> GoBuildInfoAsync(Stream content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Chunk + GoMagic.Length);
        try
        {
            var carried = 0;
            while (true)
            {
                var read = await content.ReadAtLeastAsync(buffer.AsMemory(carried, Chunk), Chunk, throwOnEndOfStream: false, cancellationToken);
                var length = carried + read;
                var at = buffer.AsSpan(0, length).IndexOf(GoMagic);
                if (at >= 0)
                {
                    // The strings follow the 32-byte header; keep what came and read up to 256 KiB more.
                    using var rest = new MemoryStream();
                    rest.Write(buffer, at, length - at);
                    var more = new byte[256 * 1024];
                    var extra = await content.ReadAtLeastAsync(more, more.Length, throwOnEndOfStream: false, cancellationToken);
                    rest.Write(more, 0, extra);
                    await content.CopyToAsync(Stream.Null, cancellationToken);
                    return ParseGo(rest.GetBuffer().AsSpan(0, (int)rest.Length));
                }

                if (read == 0)
                {
                    return null;
                }

                // Keep the tail, in case the magic straddles two chunks.
                carried = Math.Min(GoMagic.Length - 1, length);
                Array.Copy(buffer, length - carried, buffer, 0, carried);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static List<(string Name, string Version)>? ParseGo(ReadOnlySpan<byte> data)
    {
        if (data.Length < 32 || (data[15] & 2) == 0)
        {
            return null; // before Go 1.18 the strings are pointers into the binary: not read
        }

        var position = 32;
        string? Next(ReadOnlySpan<byte> d)
        {
            ulong length = 0;
            var shift = 0;
            while (position < d.Length)
            {
                var b = d[position++];
                length |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    break;
                }

                shift += 7;
                if (shift > 35)
                {
                    return null;
                }
            }

            if (length > (ulong)(d.Length - position))
            {
                return null;
            }

            var text = Encoding.UTF8.GetString(d.Slice(position, (int)length));
            position += (int)length;
            return text;
        }

        var goVersion = Next(data);
        var modules = Next(data);
        if (goVersion is null || modules is null)
        {
            return null;
        }

        var packages = new List<(string Name, string Version)>();
        if (goVersion.StartsWith("go", StringComparison.Ordinal))
        {
            packages.Add(("stdlib", goVersion[2..].Split(' ')[0]));
        }

        // Module info sits between two 16-byte sentinels; lines are "mod|dep\tpath\tversion\tsum" and "=>" replacements.
        var text = modules.Length >= 33 ? modules[16..^16] : modules;
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split('\t');
            if (fields.Length >= 3 && fields[0] is "mod" or "dep" && fields[2] != "(devel)")
            {
                packages.Add((fields[1], fields[2]));
            }
            else if (fields.Length >= 3 && fields[0] == "=>" && packages.Count > 0)
            {
                packages[^1] = (fields[1], fields[2]);
            }
        }

        return packages;
    }
}
