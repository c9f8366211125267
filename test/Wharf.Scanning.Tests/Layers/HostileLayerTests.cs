using System.Formats.Tar;
using System.Text;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;
using static Wharf.Scanning.Tests.Layers.HeapLimit;
using static Wharf.Testing.StreamedTar;
using static Wharf.Scanning.Tests.Layers.TestLayers;

namespace Wharf.Scanning.Tests.Layers;

/// <summary>
/// Layers built to exhaust the scanner's memory, generated as they are read (gigabytes of zeros that
/// gzip to megabytes), each analysed in a child process under a hard GC heap limit: the analyser keeps
/// what its limits allow and says what it skipped, or rejects the layer with the reason. And layers
/// that are valid though unusual (no end-of-archive marker) read to their end.
/// </summary>
public sealed class HostileLayerTests
{
    private const string Bookworm = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n";
    private const string Status = "Package: libnghttp2-14\nStatus: install ok installed\nVersion: 1.52.0-1\nSource: nghttp2\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<ImageInventory> AnalyzeAsync(Func<Stream> layer, LayerLimits? limits = null) =>
        AnalyzeLayersAsync([layer], limits);

    private static Task<ImageInventory> AnalyzeLayersAsync(IReadOnlyList<Func<Stream>> layers, LayerLimits? limits = null) =>
        ImageAnalyzer.AnalyzeAsync(layers.Select((open, i) => new ImageLayer($"sha256:{i:x64}", _ => Task.FromResult(open()))).ToList(), limits ?? LayerLimits.Default, Ct);

    [Fact]
    public async Task Forty_64_MiB_files_under_dpkg_status_d_are_kept_only_up_to_the_layer_limit_and_the_rest_are_named_as_skipped()
    {
        // 2.5 GiB of tar (about 2.5 MB as gzip; plain here, to spare the CPU: the gzip path is the next test's),
        // which the analyser must get through in a 512 MiB heap (it took 4.1 GB).
        if (await RanUnderHeapLimitAsync(typeof(HostileLayerTests), 512L << 20))
        {
            return;
        }

        IEnumerable<Piece> Pieces() =>
            File("etc/os-release", Text(Bookworm)).Concat(File("var/lib/dpkg/status", Text(Status)))
                .Concat(Enumerable.Range(0, 40).SelectMany(i => Zeros($"var/lib/dpkg/status.d/bomb{i:00}", 64L << 20)))
                .Concat(End());
        var inventory = await AnalyzeAsync(() => Tar(Pieces()));

        Assert.True(inventory.Supported);
        Assert.Equal(["libnghttp2-14"], inventory.Packages.Select(p => p.Name));
        // The first 64 MiB file fits the 128 MiB a layer may keep, with the small ones; the second would not.
        Assert.Equal(39, inventory.Skipped.Count);
        Assert.All(inventory.Skipped, s => Assert.Contains("one layer may keep 128 MiB", s.Reason, StringComparison.Ordinal));
        var note = inventory.SkippedNote()!;
        Assert.StartsWith("Not read, so their packages were not checked: 'var/lib/dpkg/status.d/bomb01' (the layer's files read before it hold 64 MiB", note, StringComparison.Ordinal);
        Assert.EndsWith("and 36 more.", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_over_the_file_limit_and_files_past_the_image_limit_are_skipped_with_the_reason_and_a_later_layer_can_replace_them()
    {
        var limits = LayerLimits.Default with { MaxFileBytes = 1 << 20, MaxLayerKeptBytes = 3 << 20, MaxImageKeptBytes = 4 << 20 };
        Func<Stream> Layer(params IEnumerable<Piece>[] files) => () => Tar(files.SelectMany(f => f).Concat(End()));
        IEnumerable<Piece> Lock(string app) => Zeros($"app/{app}/package-lock.json", 1 << 20);

        var inventory = await AnalyzeLayersAsync(
            [
                Layer(Zeros("var/lib/dpkg/status", 2 << 20), Lock("a"), Lock("b"), Lock("c"), Lock("d")),
                Layer(Lock("e"), Lock("f")),
            ],
            limits);
        Assert.Equal(
            [
                ("app/d/package-lock.json", "the layer's files read before it hold 3 MiB, and one layer may keep 3 MiB"),
                ("app/f/package-lock.json", "the image's files read before it hold 4 MiB, and one image may keep 4 MiB"),
                ("var/lib/dpkg/status", "2 MiB is more than the 1 MiB one file may keep"),
            ],
            inventory.Skipped.Select(s => (s.Path, s.Reason)));

        // The image has no packages that were read (nor an os-release), so it is unsupported, and the reason says what was not read.
        Assert.False(inventory.Supported);
        Assert.Contains("Not read, so their packages were not checked: 'app/d/package-lock.json'", inventory.UnsupportedReason, StringComparison.Ordinal);

        // A later layer that replaces the skipped status file with a readable one, and deletes the lock file: nothing is skipped.
        var replaced = await AnalyzeLayersAsync(
            [
                Layer(File("etc/os-release", Text(Bookworm)), Zeros("var/lib/dpkg/status", 2 << 20), Zeros("app/e/package-lock.json", 2 << 20)),
                Layer(File("var/lib/dpkg/status", Text(Status)), File("app/e/.wh.package-lock.json", [])),
            ],
            limits);
        Assert.Empty(replaced.Skipped);
        Assert.Null(replaced.SkippedNote());
        Assert.Equal(["libnghttp2-14"], replaced.Packages.Select(p => p.Name));
    }

    [Fact]
    public async Task A_1_5_GiB_PAX_header_or_GNU_long_name_rejects_the_layer_before_it_is_read()
    {
        // 1.5 GiB of header in 1.6 MB of gzip: .NET's TarReader reads it whole (OutOfMemoryException in the scan job).
        if (await RanUnderHeapLimitAsync(typeof(HostileLayerTests), 256L << 20))
        {
            return;
        }

        foreach (var (type, what) in new[] { ('x', "PAX extended header"), ('L', "GNU long name"), ('K', "GNU long link name"), ('g', "PAX global header") })
        {
            IEnumerable<Piece> Pieces() =>
                File("etc/os-release", Text(Bookworm)).Concat(Zeros("././@LongLink", 3L << 29, type, gnu: type is 'L' or 'K')).Concat(File("var/lib/dpkg/status", Text(Status))).Concat(End());
            var rejected = await Assert.ThrowsAsync<LayerRejectedException>(() => AnalyzeAsync(() => Gzip(Tar(Pieces()))));
            Assert.Equal($"the layer has a {what} of 1610612736 bytes; at most 1048576 bytes are read, as container runtimes do", rejected.Message);
        }
    }

    [Fact]
    public async Task Long_names_and_pax_paths_within_the_limit_name_their_entries()
    {
        var deep = string.Join('/', Enumerable.Repeat("node_modules/pkg", 20)) + "/package.json";
        var manifest = Text("""{"name":"left-pad","version":"1.3.0"}""");
        var longName = Text(deep + "\0");
        var pax = Text(PaxRecord("path", "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"));
        var metadata = Text("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n");
        IEnumerable<Piece> Pieces() =>
            new[] { new Piece(Header("././@LongLink", 'L', longName.Length, gnu: true), 0), new Piece(longName, Padding(longName.Length)) }
                .Concat(File("ignored-short-name", manifest))
                .Concat([new Piece(Header("PaxHeaders/x", 'x', pax.Length), 0), new Piece(pax, Padding(pax.Length))])
                .Concat(File("ignored", metadata))
                .Concat(End());
        var inventory = await AnalyzeAsync(() => Tar(Pieces()));
        Assert.Equal(
            [("PyPI", "requests", "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"), ("npm", "left-pad", deep)],
            inventory.Packages.OrderBy(p => p.Manager, StringComparer.Ordinal).Select(p => (p.Manager, p.Name, p.Path)));
    }

    [Fact]
    public async Task A_skipped_file_with_a_long_name_is_shortened_in_the_note()
    {
        // A 500,000-character PAX path (within the 1 MiB header bound) must not make a 500 KB scan description.
        var path = "var/lib/dpkg/status.d/" + new string('a', 500_000);
        var pax = Text(PaxRecord("path", path));
        IEnumerable<Piece> Pieces() =>
            new[] { new Piece(Header("PaxHeaders/x", 'x', pax.Length), 0), new Piece(pax, Padding(pax.Length)) }
                .Concat(Zeros("short", 2048)).Concat(End());
        var inventory = await AnalyzeAsync(() => Tar(Pieces()), LayerLimits.Default with { MaxFileBytes = 1024 });
        Assert.Equal(path, Assert.Single(inventory.Skipped).Path);
        var note = inventory.UnsupportedReason!;
        Assert.True(note.Length < 1000, note);
        Assert.Contains("'var/lib/dpkg/status.d/aaa", note, StringComparison.Ordinal);
        Assert.Contains("aaa…aaa", note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_layer_that_ends_after_its_last_entry_without_the_end_of_archive_blocks_is_read_to_its_end(bool padded)
    {
        // As umoci insert writes layers: the entries, and no two zero blocks after them (nor, unpadded, the last entry's padding).
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, text) in new[] { ("etc/os-release", Bookworm), ("var/lib/dpkg/status", Status) })
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Text(text)) });
            }
        }

        var bytes = tar.ToArray();
        Assert.Equal(new byte[1024], bytes[^1024..]);
        var padding = (int)Padding(Status.Length);
        var cut = bytes.Length - 1024 - (padded ? 0 : padding);
        foreach (var compression in new[] { Compression.None, Compression.Gzip, Compression.Zstd })
        {
            var layer = Compress(bytes[..cut], compression);
            var inventory = await AnalyzeAsync(() => new MemoryStream(layer));
            var package = Assert.Single(inventory.Packages);
            Assert.Equal(("libnghttp2-14", "1.52.0-1", "nghttp2"), (package.Name, package.Version, package.SourceName));
            Assert.Equal("Debian:12", OsvEcosystems.ForOs(inventory.Os!));
        }

        // Ending inside the last file's data is still a truncated layer.
        await Assert.ThrowsAsync<LayerRejectedException>(() => AnalyzeAsync(() => new MemoryStream(bytes[..(bytes.Length - 1024 - padding - 10)])));
    }

    [Fact]
    public async Task A_tar_written_by_GNU_tar_reads_as_TarReader_read_it()
    {
        // The system's tar writes GNU long names and its own header layout; the reader sees the same entries.
        var root = Directory.CreateTempSubdirectory("wharf-gnutar-").FullName;
        try
        {
            var deep = Path.Combine([root, .. Enumerable.Repeat("node_modules/pkg", 10)]);
            Directory.CreateDirectory(deep);
            await System.IO.File.WriteAllTextAsync(Path.Combine(deep, "package.json"), """{"name":"left-pad","version":"1.3.0"}""", Ct);
            Directory.CreateDirectory(Path.Combine(root, "var/lib/dpkg"));
            await System.IO.File.WriteAllTextAsync(Path.Combine(root, "var/lib/dpkg/status"), Status, Ct);
            var archive = Path.Combine(Path.GetTempPath(), $"wharf-gnutar-{Guid.NewGuid():N}.tar");
            var result = await Wharf.Testing.ProcessRunner.RunAsync("tar", ["--format=gnu", "-cf", archive, "-C", root, "."], TimeSpan.FromMinutes(1));
            if (result.ExitCode != 0)
            {
                Wharf.Testing.Requires.Missing($"no GNU tar here: {result.StandardError}");
            }

            var bytes = await System.IO.File.ReadAllBytesAsync(archive, Ct);
            System.IO.File.Delete(archive);
            var entries = new List<LayerEntry>();
            await foreach (var entry in LayerReader.ReadAsync(new MemoryStream(bytes), (_, _) => true, LayerLimits.Default, Ct))
            {
                entries.Add(entry);
            }

            var expected = new List<string>();
            await using (var reader = new TarReader(new MemoryStream(bytes)))
            {
                while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
                {
                    expected.Add(LayerReader.Normalise(entry.Name));
                }
            }

            Assert.Equal(expected.Where(p => p.Length > 0), entries.Select(e => e.Path));
            Assert.Contains(entries, e => e.Path.EndsWith("/node_modules/pkg/package.json", StringComparison.Ordinal) && e.Path.Length > 100 && e.Content is not null);
            Assert.Equal(Status, Encoding.UTF8.GetString(entries.Single(e => e.Path == "var/lib/dpkg/status").Content!));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string PaxRecord(string key, string value)
    {
        var body = $" {key}={value}\n";
        var length = body.Length + 1;
        while ((length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body).Length != length)
        {
            length++;
        }

        return length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body;
    }
}
