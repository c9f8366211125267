using System.Net;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.DataPlane;
using static Wharf.Testing.StreamedTar;

namespace Wharf.Server.Tests.Scanning;

/// <summary>
/// Unusual and hostile layers through the scan job, pushed over <c>/v2</c> and read back with
/// <c>aws ecr describe-image-scan-findings</c>: a layer without the end-of-archive blocks (as <c>umoci</c>
/// writes) scans, files past the analyser's limits are named in the scan's description beside the
/// findings of the rest, and an oversized tar header fails the scan with the reason.
/// </summary>
[Collection(nameof(ScanCollection))]
public sealed class HostileLayerScanTests(ScanFixture fixture)
{
    private const string DpkgStatus = """
        Package: libnghttp2-14
        Status: install ok installed
        Version: 1.52.0-1
        Source: nghttp2

        Package: libc6
        Status: install ok installed
        Version: 2.36-9+deb12u1
        Source: glibc

        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_layer_without_end_blocks_scans_and_skipped_files_or_an_oversized_header_show_in_the_scan_status()
    {
        using var client = fixture.Server.CreateClient();
        var debian = Layer(File("etc/os-release", Encoding.UTF8.GetBytes("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"))
            .Concat(File("var/lib/dpkg/status", Encoding.UTF8.GetBytes(DpkgStatus.ReplaceLineEndings("\n"))))); // no End(): as umoci writes it

        await PushAsync(client, "scan/umoci", debian);
        var complete = await fixture.FindingsAsync("scan/umoci", "1");
        Assert.Equal(("COMPLETE", "The scan was completed successfully."), Status(complete));
        Assert.Equal(["CVE-2019-1010022", "CVE-2023-44487", "CVE-2023-4911"], Names(complete));

        // Three 65 MiB files in status.d (200 KB of gzip): each past the 64 MiB one file may keep.
        var bombs = Layer(Enumerable.Range(0, 3).SelectMany(i => Zeros($"var/lib/dpkg/status.d/bomb{i}", 65L << 20)).Concat(End()));
        Assert.True(bombs.Length < 1 << 20);
        await PushAsync(client, "scan/skipped", debian, bombs);
        var skipped = await fixture.FindingsAsync("scan/skipped", "1");
        Assert.Equal(
            ("COMPLETE", "The scan was completed successfully. Not read, so their packages were not checked: "
                + "'var/lib/dpkg/status.d/bomb0' (65 MiB is more than the 64 MiB one file may keep); "
                + "'var/lib/dpkg/status.d/bomb1' (65 MiB is more than the 64 MiB one file may keep); "
                + "'var/lib/dpkg/status.d/bomb2' (65 MiB is more than the 64 MiB one file may keep)."),
            Status(skipped));
        Assert.Equal(["CVE-2019-1010022", "CVE-2023-44487", "CVE-2023-4911"], Names(skipped));

        // A 16 MiB PAX header (16 KB of gzip): the layer is refused before the header is read.
        var pax = Layer(Zeros("PaxHeaders/bomb", 16L << 20, 'x').Concat(File("etc/passwd", "root:x:0:0::/root:/bin/sh\n"u8.ToArray())).Concat(End()));
        await PushAsync(client, "scan/header", debian, pax);
        var failed = await fixture.FindingsAsync("scan/header", "1", waiter: false);
        Assert.Equal(
            ("FAILED", "The image could not be scanned: the layer has a PAX extended header of 16777216 bytes; at most 1048576 bytes are read, as container runtimes do"),
            Status(failed));
    }

    private static byte[] Layer(IEnumerable<Piece> pieces)
    {
        using var gzip = new MemoryStream();
        Gzip(Tar(pieces)).CopyTo(gzip);
        return gzip.ToArray();
    }

    private static async Task PushAsync(HttpClient client, string repository, params byte[][] layers)
    {
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{},"n":"{{repository}}"}""");
        await Oci.PushBlobAsync(client, repository, config);
        foreach (var layer in layers)
        {
            await Oci.PushBlobAsync(client, repository, layer);
        }

        using var response = await Oci.PutManifestAsync(client, repository, "1", Oci.Manifest(config, layers));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static (string?, string?) Status(JsonElement findings)
    {
        var status = findings.GetProperty("imageScanStatus");
        return (status.GetProperty("status").GetString(), status.GetProperty("description").GetString());
    }

    private static List<string> Names(JsonElement findings) =>
        [.. findings.GetProperty("imageScanFindings").GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).Distinct().Order(StringComparer.Ordinal)];
}
