using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;
using static Wharf.Scanning.Tests.Layers.TestLayers;

namespace Wharf.Scanning.Tests.Layers;

/// <summary>Layers read as stored (gzip, zstd, plain), whiteouts applied across layers, hostile layers refused, and the OS package databases read.</summary>
public sealed class LayerReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<LayerEntry>> ReadAsync(byte[] layer, Func<string, long, bool>? wanted = null, LayerLimits? limits = null)
    {
        var entries = new List<LayerEntry>();
        await foreach (var entry in LayerReader.ReadAsync(new MemoryStream(layer), wanted ?? ((_, _) => true), limits ?? LayerLimits.Default, Ct))
        {
            entries.Add(entry);
        }

        return entries;
    }

    private static async Task<ImageFiles> ImageAsync(params byte[][] layers)
    {
        var files = new ImageFiles();
        for (var i = 0; i < layers.Length; i++)
        {
            await files.ApplyAsync($"sha256:layer{i}", LayerReader.ReadAsync(new MemoryStream(layers[i]), (path, _) => OsPackages.Wanted(path), LayerLimits.Default, Ct), Ct);
        }

        return files;
    }

    [Theory]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.None)]
    public async Task Every_storage_format_reads_the_same_entries_and_only_wanted_contents_are_kept(Compression compression)
    {
        var layer = Build([("etc", null), ("etc/os-release", Text("ID=debian\n")), ("./usr/bin/tool", Text("binary")), ("/abs/file", Text("x"))], compression);
        var entries = await ReadAsync(layer, (path, _) => path == "etc/os-release");
        Assert.Equal(["etc", "etc/os-release", "usr/bin/tool", "abs/file"], entries.Select(e => e.Path));
        Assert.Equal("ID=debian\n", Encoding.UTF8.GetString(entries[1].Content!));
        Assert.Null(entries[2].Content);
        Assert.Equal(LayerEntryKind.Directory, entries[0].Kind);
    }

    [Fact]
    public async Task Whiteouts_and_opaque_directories_hide_what_lower_layers_put_there()
    {
        var files = await ImageAsync(
            Build([("var/lib/dpkg/status.d/openssl", Text("Package: openssl\nVersion: 3.0.11-1\n")), ("var/lib/dpkg/status.d/zlib", Text("Package: zlib1g\nVersion: 1:1.2.13\n")), ("etc/os-release", Text("ID=debian\n"))]),
            Build([("var/lib/dpkg/status.d/.wh.openssl", Text(""))]),
            Build([("etc/.wh..wh..opq", Text("")), ("etc/other", Text("kept: same layer as the marker"))]));
        Assert.Null(files.Get("var/lib/dpkg/status.d/openssl"));
        Assert.NotNull(files.Get("var/lib/dpkg/status.d/zlib"));
        Assert.Null(files.Get("etc/os-release"));
        Assert.Equal(["zlib1g"], OsPackages.ReadDpkg(files).Select(p => p.Name));
    }

    [Fact]
    public async Task A_package_removed_in_a_later_layer_is_not_reported_and_the_rest_name_the_later_layer()
    {
        const string Both = "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10+deb12u5\nSource: curl\n\nPackage: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n";
        const string One = "Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n\nPackage: curl\nStatus: deinstall ok config-files\nVersion: 7.88.1-10+deb12u5\n";
        var files = await ImageAsync(Build([("var/lib/dpkg/status", Text(Both))]), Build([("var/lib/dpkg/status", Text(One))]));
        var package = Assert.Single(OsPackages.ReadDpkg(files));
        Assert.Equal(("libssl3", "3.0.11-1~deb12u2", "openssl", "sha256:layer1"), (package.Name, package.Version, package.SourceName, package.LayerDigest));
    }

    [Fact]
    public async Task The_real_dpkg_status_of_this_machine_reads_as_dpkg_query_lists_it()
    {
        if (!File.Exists("/var/lib/dpkg/status"))
        {
            Wharf.Testing.Requires.Missing("this machine has no dpkg database (CI runs on Debian)");
        }

        var files = await ImageAsync(Build([("var/lib/dpkg/status", await File.ReadAllBytesAsync("/var/lib/dpkg/status", Ct)), ("etc/os-release", await File.ReadAllBytesAsync("/etc/os-release", Ct))]));
        var packages = OsPackages.ReadDpkg(files).ToList();
        var query = Process.Start(new ProcessStartInfo("dpkg-query", ["-W", "-f", "${db:Status-Abbrev} ${Package} ${Version} ${source:Package}\n"]) { RedirectStandardOutput = true })!;
        var listed = (await query.StandardOutput.ReadToEndAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("ii ", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        await query.WaitForExitAsync(Ct);
        Assert.True(listed.Count > 50);
        Assert.Equal(listed.Select(l => (l[1], l[2], l[3])).Order().ToList(), packages.Select(p => (p.Name, p.Version, p.SourceName!)).Order().ToList());
        var os = OsPackages.ReadOs(files)!;
        Assert.Contains(os.Id, new[] { "debian", "ubuntu" });
    }

    [Fact]
    public async Task Apk_databases_list_name_version_and_origin()
    {
        const string Installed = "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nC:Q1def=\nP:libcrypto3\nV:3.3.1-r0\nA:x86_64\no:openssl\nF:lib\nR:libcrypto.so.3\n\nP:busybox-binsh\nV:1.36.1-r29\no:busybox\n";
        var files = await ImageAsync(Build([("lib/apk/db/installed", Text(Installed)), ("etc/os-release", Text("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.1\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"))]));
        Assert.Equal(
            [("musl", "1.2.5-r0", "musl"), ("libcrypto3", "3.3.1-r0", "openssl"), ("busybox-binsh", "1.36.1-r29", "busybox")],
            OsPackages.ReadApk(files).Select(p => (p.Name, p.Version, p.SourceName!)));
        Assert.Equal(new OsInfo("alpine", "3.20.1", null, "Alpine Linux v3.20"), OsPackages.ReadOs(files));
    }

    [Fact]
    public async Task Hostile_layers_are_rejected_with_a_reason_and_nothing_else_breaks()
    {
        var climbing = Build([("../../etc/passwd", Text("root"))]);
        Assert.Contains("climbs out of the root", (await Assert.ThrowsAsync<LayerRejectedException>(() => ReadAsync(climbing))).Message, StringComparison.Ordinal);

        // A decompression bomb: 64 MiB of zeros in a few kilobytes, against a 16 MiB limit.
        var bomb = Build([("zeros", new byte[64 << 20])]);
        Assert.True(bomb.Length < 1 << 20);
        var limits = LayerLimits.Default with { MaxUncompressedBytes = 16 << 20 };
        Assert.Contains("decompresses to more than", (await Assert.ThrowsAsync<LayerRejectedException>(() => ReadAsync(bomb, limits: limits))).Message, StringComparison.Ordinal);

        var many = Build(Enumerable.Range(0, 50).Select(i => ($"f{i}", (byte[]?)Text("x"))));
        await Assert.ThrowsAsync<LayerRejectedException>(() => ReadAsync(many, limits: LayerLimits.Default with { MaxEntries = 10 }));

        var garbage = new byte[4096];
        new Random(1).NextBytes(garbage);
        await Assert.ThrowsAsync<LayerRejectedException>(() => ReadAsync(garbage));
        await Assert.ThrowsAsync<LayerRejectedException>(() => ReadAsync(Compress(garbage, Compression.Gzip)[..100]));
        var valid = Build([("big", new byte[100_000])], Compression.None);
        await Assert.ThrowsAsync<LayerRejectedException>(() => ReadAsync(valid[..20_000]));

        // A file larger than the kept-content limit is listed, not read.
        var large = await ReadAsync(Build([("var/lib/dpkg/status", new byte[2048])]), limits: LayerLimits.Default with { MaxFileBytes = 1024 });
        Assert.Null(Assert.Single(large).Content);
    }
}
