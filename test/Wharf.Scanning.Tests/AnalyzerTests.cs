using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;
using Wharf.Scanning.Vulnerabilities;
using static Wharf.Scanning.Tests.Layers.TestLayers;

namespace Wharf.Scanning.Tests;

/// <summary>Images analysed layer by layer into OS and language packages, and matched with advisories.</summary>
public sealed class AnalyzerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<ImageInventory> AnalyzeAsync(params byte[][] layers) =>
        ImageAnalyzer.AnalyzeAsync(
            layers.Select((bytes, i) => new ImageLayer($"sha256:{i:x64}", _ => Task.FromResult<Stream>(new MemoryStream(bytes)))).ToList(),
            LayerLimits.Default,
            Ct);

    private const string Bookworm = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

    private static readonly OsvAdvisory Nghttp2 = OsvAdvisory.Parse("""
        {"id":"DEBIAN-CVE-2023-44487","aliases":["CVE-2023-44487"],
         "affected":[{"package":{"ecosystem":"Debian:12","name":"nghttp2"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.52.0-1+deb12u1"}]}]}]}
        """);

    private static readonly OsvAdvisory Lodash = OsvAdvisory.Parse("""
        {"id":"GHSA-35jh-r3h4-6jhm","aliases":["CVE-2021-23337"],"database_specific":{"severity":"HIGH"},
         "affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}
        """);

    [Fact]
    public async Task A_debian_image_lists_its_packages_and_matches_by_source_package_in_its_release()
    {
        var inventory = await AnalyzeAsync(Build([
            ("etc/os-release", Text(Bookworm)),
            ("var/lib/dpkg/status", Text("Package: libnghttp2-14\nStatus: install ok installed\nVersion: 1.52.0-1\nSource: nghttp2\n\nPackage: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nSource: bash (5.2.15-2)\n")),
        ]));
        Assert.True(inventory.Supported);
        Assert.Equal("Debian:12", OsvEcosystems.ForOs(inventory.Os!));
        Assert.Equal([("libnghttp2-14", "nghttp2", (string?)null), ("bash", "bash", "5.2.15-2")], inventory.Packages.Select(p => (p.Name, p.SourceName!, p.SourceVersion)));

        var finding = Assert.Single(VulnerabilityMatcher.Match(inventory, new InMemoryAdvisoryIndex([Nghttp2, Lodash])));
        Assert.Equal(("DEBIAN-CVE-2023-44487", "libnghttp2-14", "1.52.0-1+deb12u1", "UNDEFINED", "sha256:" + new string('0', 64)), (finding.Advisory.Id, finding.Package.Name, finding.FixedIn, finding.Severity, finding.Package.LayerDigest));
    }

    [Fact]
    public async Task A_package_a_later_layer_removes_is_not_found_and_a_fixed_one_is_not_either()
    {
        var inventory = await AnalyzeAsync(
            Build([("etc/os-release", Text(Bookworm)), ("var/lib/dpkg/status", Text("Package: libnghttp2-14\nStatus: install ok installed\nVersion: 1.52.0-1\nSource: nghttp2\n"))]),
            Build([("var/lib/dpkg/status", Text("Package: libnghttp2-14\nStatus: deinstall ok config-files\nVersion: 1.52.0-1\nSource: nghttp2\n"))]));
        Assert.Empty(VulnerabilityMatcher.Match(inventory, new InMemoryAdvisoryIndex([Nghttp2])));

        var patched = await AnalyzeAsync(Build([("etc/os-release", Text(Bookworm)), ("var/lib/dpkg/status", Text("Package: libnghttp2-14\nStatus: install ok installed\nVersion: 1.52.0-1+deb12u1\nSource: nghttp2\n"))]));
        Assert.Empty(VulnerabilityMatcher.Match(patched, new InMemoryAdvisoryIndex([Nghttp2])));
    }

    [Fact]
    public async Task Language_lockfiles_are_read_and_matched_in_their_ecosystems()
    {
        var inventory = await AnalyzeAsync(Build([
            ("app/package-lock.json", Text("""{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/lodash":{"version":"4.17.20"},"node_modules/express/node_modules/debug":{"version":"2.6.9"}}}""")),
            ("app/poetry.lock", Text("[[package]]\nname = \"requests\"\nversion = \"2.31.0\"\n\n[[package]]\nname = \"urllib3\"\nversion = \"2.0.7\"\n\n[metadata]\nlock-version = \"2.0\"\n")),
            ("app/requirements.txt", Text("flask==2.3.2  # web\nrequests>=2\njinja2[i18n]==3.1.2\n")),
            ("usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA", Text("Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n\nbody")),
            ("app/App.deps.json", Text("""{"libraries":{"App/1.0.0":{"type":"project"},"Newtonsoft.Json/13.0.1":{"type":"package"}}}""")),
            ("app/packages.lock.json", Text("""{"version":1,"dependencies":{"net8.0":{"Serilog":{"type":"Direct","resolved":"3.1.1"},"Lib":{"type":"Project"}}}}""")),
            ("src/Cargo.lock", Text("version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.193\"\n")),
            ("usr/lib/node_modules/npm/node_modules/semver/package.json", Text("""{"name":"semver","version":"7.5.4"}""")),
            ("app/broken/package-lock.json", Text("{not json")),
        ]));
        Assert.True(inventory.Supported); // no OS at all, but language packages
        Assert.Null(inventory.Os);
        var found = inventory.Packages.Select(p => $"{p.Manager}:{p.Name}@{p.Version}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["NuGet:Newtonsoft.Json@13.0.1", "NuGet:Serilog@3.1.1", "PyPI:flask@2.3.2", "PyPI:jinja2@3.1.2", "PyPI:requests@2.31.0", "PyPI:six@1.16.0", "PyPI:urllib3@2.0.7", "crates.io:serde@1.0.193", "npm:debug@2.6.9", "npm:lodash@4.17.20", "npm:semver@7.5.4"],
            found);
        var finding = Assert.Single(VulnerabilityMatcher.Match(inventory, new InMemoryAdvisoryIndex([Lodash, Nghttp2])));
        Assert.Equal(("GHSA-35jh-r3h4-6jhm", "app/package-lock.json", "4.17.21", "HIGH"), (finding.Advisory.Id, finding.Package.Path, finding.FixedIn, finding.Severity));
    }

    [Fact]
    public async Task Images_from_scratch_or_unknown_distributions_are_unsupported_unless_they_have_language_packages()
    {
        var scratch = await AnalyzeAsync(Build([("bin/busybox", new byte[100])]));
        Assert.False(scratch.Supported);
        Assert.Contains("no operating system", scratch.UnsupportedReason, StringComparison.Ordinal);

        var unknown = await AnalyzeAsync(Build([("etc/os-release", Text("ID=plan9\nPRETTY_NAME=\"Plan 9\"\n"))]));
        Assert.Contains("'Plan 9' is not one Wharf scans", unknown.UnsupportedReason, StringComparison.Ordinal);

        var rpm = await AnalyzeAsync(Build([("etc/os-release", Text("ID=rhel\nVERSION_ID=\"8.9\"\n")), ("var/lib/rpm/Packages", new byte[64])]));
        Assert.Contains("rpm database", rpm.UnsupportedReason, StringComparison.Ordinal);

        Assert.Equal("Ubuntu:22.04:LTS", OsvEcosystems.ForOs(new OsInfo("ubuntu", "22.04", "jammy", "Ubuntu 22.04")));
        Assert.Equal("Ubuntu:23.10", OsvEcosystems.ForOs(new OsInfo("ubuntu", "23.10", "mantic", "Ubuntu 23.10")));
        Assert.Equal("Alpine:v3.20", OsvEcosystems.ForOs(new OsInfo("alpine", "3.20.1", null, "Alpine")));
    }
}
