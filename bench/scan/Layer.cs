using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Wharf.Bench.Scan;

/// <summary>A generated layer: its gzip and zstd files and what its tar holds.</summary>
internal sealed record LayerFiles(string Gzip, string Zstd, long TarBytes, int Entries, int Files);

/// <summary>
/// The generated layer: what an application image holds, at scale. Deterministic (one seed), cached
/// beside its description, so a layer is written once per size and generator version.
/// </summary>
internal static class Layer
{
    // Bump when the content changes, so a layer cached by an older generator is not measured.
    private const int Version = 2;

    private static readonly string[] Executables = ["/usr/bin/docker", "/usr/local/bin/docker", "/usr/bin/dpkg", "/usr/bin/gzip", "/usr/bin/tar", "/usr/bin/bash"];

    private static readonly string[] JarDirectories = ["/usr/share/java", "/usr/share/maven-repo"];

    private static readonly DateTimeOffset Time = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The layer of <paramref name="mib"/> MiB of files, generated if it is not cached; its zstd copy only when <paramref name="zstd"/>.</summary>
    public static LayerFiles Ensure(string directory, long mib, bool zstd)
    {
        var stem = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"layer-v{Version}-{mib}"));
        var (gzipPath, zstdPath, infoPath) = (stem + ".tar.gz", stem + ".tar.zst", stem + ".info");
        if (!File.Exists(gzipPath) || !File.Exists(infoPath))
        {
            Console.Error.WriteLine($"generating {gzipPath} …");
            File.Delete(zstdPath);
            Generate(gzipPath, infoPath, mib << 20);
        }

        if (zstd && !File.Exists(zstdPath))
        {
            Console.Error.WriteLine($"generating {zstdPath} …");
            Transcode(gzipPath, zstdPath);
        }

        var parts = File.ReadAllText(infoPath).Split(' ').Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new LayerFiles(gzipPath, zstdPath, parts[0], (int)parts[1], (int)parts[2]);
    }

    /// <summary>
    /// A gzip tar (level 6, as docker and buildkit write) of about <paramref name="size"/> file bytes:
    /// this machine's dpkg status and os-release, real executables and jars, a thousand node_modules
    /// packages, then files as an image has them: most small (64 B–64 KiB), a few large (to 16 MiB),
    /// text that gzip takes to about a third or random bytes that do not compress, some executable, in
    /// directories, with a symbolic link now and then.
    /// </summary>
    private static void Generate(string gzipPath, string infoPath, long size)
    {
        var random = new Random(20261125);
        var words = Vocabulary(random);
        int entries = 0, files = 0;
        long fileBytes = 0;
        CountingStream counted;
        using (var file = File.Create(gzipPath + ".tmp"))
        using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        using (counted = new CountingStream(gzip))
        using (var tar = new TarWriter(counted, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var directories = new HashSet<string>(StringComparer.Ordinal);
            void Parents(string path)
            {
                var parent = Path.GetDirectoryName(path);
                if (string.IsNullOrEmpty(parent) || !directories.Add(parent))
                {
                    return;
                }

                Parents(parent);
                tar.WriteEntry(new UstarTarEntry(TarEntryType.Directory, parent + "/") { Mode = (UnixFileMode)0b111_101_101, ModificationTime = Time });
                entries++;
            }

            void Add(string path, ReadOnlySpan<byte> content, bool executable = false)
            {
                Parents(path);
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, path)
                {
                    DataStream = new MemoryStream(content.ToArray()),
                    Mode = executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
                    ModificationTime = Time,
                });
                entries++;
                files++;
                fileBytes += content.Length;
            }

            Add("etc/os-release", File.ReadAllBytes("/etc/os-release"));
            Add("var/lib/dpkg/status", File.ReadAllBytes("/var/lib/dpkg/status"));
            foreach (var binary in Executables.Where(File.Exists))
            {
                Add("usr/bin/" + Path.GetFileName(binary), File.ReadAllBytes(binary), executable: true);
            }

            // Debian's maven-repo holds symbolic links to /usr/share/java: one copy of each real jar.
            var jars = JarDirectories.Where(System.IO.Directory.Exists)
                .SelectMany(d => System.IO.Directory.EnumerateFiles(d, "*.jar", SearchOption.AllDirectories))
                .Select(j => new FileInfo(j).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? j)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(12);
            foreach (var jar in jars)
            {
                Add("opt/app/lib/" + Path.GetFileName(jar), File.ReadAllBytes(jar));
            }

            for (var i = 0; i < 1000; i++)
            {
                var package = string.Create(CultureInfo.InvariantCulture, $"opt/app/node_modules/pkg-{i}");
                Add(package + "/package.json", Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"name":"pkg-{{i}}","version":"1.{{i % 50}}.{{i % 7}}","main":"index.js","license":"MIT"}""")));
                var index = new byte[random.Next(200, 8000)];
                Text(random, words, index);
                Add(package + "/index.js", index);
            }

            var buffer = new byte[16 << 20];
            for (var n = 0; fileBytes < size; n++)
            {
                // 97 % log-uniform in 64 B–64 KiB, 3 % in 64 KiB–16 MiB: about 10,000 files per GiB,
                // 90 % of the bytes in the large ones, as in an image of shared libraries and sources.
                var large = random.Next(100) < 3;
                var length = (int)Math.Min(size - fileBytes, (long)Math.Exp(large ? random.NextDouble() * Math.Log(256) + Math.Log(64 << 10) : random.NextDouble() * Math.Log(1024) + Math.Log(64)));
                var content = buffer.AsSpan(0, Math.Max(length, 1));
                var kind = random.Next(100);
                string extension;
                if (kind < 60)
                {
                    Text(random, words, content);
                    extension = "py";
                }
                else if (kind < 85)
                {
                    random.NextBytes(content);
                    extension = "gz";
                }
                else
                {
                    // Like a shared library: blocks of code-like noise and of text.
                    for (var o = 0; o < content.Length; o += 4096)
                    {
                        var block = content[o..Math.Min(content.Length, o + 4096)];
                        if ((o >> 12) % 2 == 0)
                        {
                            random.NextBytes(block);
                        }
                        else
                        {
                            Text(random, words, block);
                        }
                    }

                    extension = "so";
                }

                var directory = n / 20;
                Add(string.Create(CultureInfo.InvariantCulture, $"usr/lib/app/d{directory / 64}/d{directory}/f{n}.{extension}"), content, executable: extension == "so");
                if (n % 200 == 199)
                {
                    tar.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, string.Create(CultureInfo.InvariantCulture, $"usr/lib/app/d{directory / 64}/d{directory}/link{n}")) { LinkName = $"f{n}.{extension}", ModificationTime = Time });
                    entries++;
                }
            }
        }

        File.WriteAllText(infoPath, string.Create(CultureInfo.InvariantCulture, $"{counted.Count} {entries} {files}"));
        File.Move(gzipPath + ".tmp", gzipPath, overwrite: true);
    }

    /// <summary>The same tar as zstd (level 3, the default of zstd and of buildkit's zstd layers).</summary>
    private static void Transcode(string gzipPath, string zstdPath)
    {
        using (var source = new GZipStream(File.OpenRead(gzipPath), CompressionMode.Decompress))
        using (var target = File.Create(zstdPath + ".tmp"))
        using (var zstd = new ZstdSharp.CompressionStream(target, level: 3, leaveOpen: true))
        {
            source.CopyTo(zstd, 1 << 20);
        }

        File.Move(zstdPath + ".tmp", zstdPath, overwrite: true);
    }

    private static byte[][] Vocabulary(Random random) =>
        Enumerable.Range(0, 1024).Select(_ => Enumerable.Range(0, random.Next(2, 11)).Select(_ => (byte)('a' + random.Next(26))).ToArray()).ToArray();

    /// <summary>Lines of words drawn from a vocabulary: text that compresses like sources and configuration (gzip about 3×).</summary>
    private static void Text(Random random, byte[][] words, Span<byte> into)
    {
        var at = 0;
        var inLine = 0;
        while (at < into.Length)
        {
            // Skewed towards the first words, as identifiers and keywords repeat in real text.
            var u = random.NextDouble();
            var word = words[(int)(u * u * u * words.Length)].AsSpan();
            word = word[..Math.Min(word.Length, into.Length - at)];
            word.CopyTo(into[at..]);
            at += word.Length;
            if (at < into.Length)
            {
                into[at++] = ++inLine % 10 == 0 ? (byte)'\n' : (byte)' ';
            }
        }
    }

    /// <summary>Counts the bytes written through it: the tar's length.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Count += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
