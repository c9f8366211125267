using Microsoft.Data.Sqlite;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;
using Wharf.Scanning.Vulnerabilities;
using Wharf.Testing;
using static Wharf.Scanning.Tests.Layers.TestLayers;

namespace Wharf.Scanning.Tests.Packages;

/// <summary>
/// rpm's SQLite database, as the real <c>rpm</c> 4.18 writes it: two packages built with <c>rpmbuild</c>
/// (one with an epoch, a subpackage named apart from its source) installed into a fresh database.
/// </summary>
public sealed class RpmPackagesTests
{
    private const string Rocky = "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Packages_are_read_from_a_real_rpmdb_sqlite_with_epoch_version_and_release()
    {
        var database = await RealDatabaseAsync();
        var inventory = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", database)]));
        Assert.True(inventory.Supported, inventory.UnsupportedReason);
        Assert.Equal(
            ["demo-libs 2:1.2.3-4.el9 rpm var/lib/rpm/rpmdb.sqlite", "demo-source 2:1.2.3-4.el9 rpm var/lib/rpm/rpmdb.sqlite"],
            inventory.Packages.Select(p => $"{p.Name} {p.Version} {p.Manager} {p.Path}").Order(StringComparer.Ordinal));
        Assert.All(inventory.Packages, p => Assert.Equal(p.Name, p.AdvisoryName));

        // Matched in the distribution's ecosystem, in rpm's version order (the epoch wins over the version).
        var advisory = OsvAdvisory.Parse("""
            {"id":"RLSA-TEST","affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"demo-libs"},
             "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2:1.2.3-5.el9"}]}]},
             {"package":{"ecosystem":"Rocky Linux:9","name":"demo-source"},
             "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:9.9.9-1.el9"}]}]}]}
            """);
        var finding = Assert.Single(VulnerabilityMatcher.Match(inventory, new InMemoryAdvisoryIndex([advisory])));
        Assert.Equal(("demo-libs", "Rocky Linux:9", "2:1.2.3-5.el9"), (finding.Package.Name, finding.Ecosystem, finding.FixedIn));

        // The Fedora location, and a later layer's whiteout removes the database.
        var fedora = await AnalyzeAsync(Build([("etc/os-release", Text("ID=almalinux\nVERSION_ID=\"9.4\"\n")), ("usr/lib/sysimage/rpm/rpmdb.sqlite", database)]));
        Assert.Equal(2, fedora.Packages.Count);
        Assert.Equal("AlmaLinux:9", OsvEcosystems.ForOs(fedora.Os!));
        var removed = await AnalyzeAsync(
            Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", database)]),
            Build([("var/lib/rpm/.wh.rpmdb.sqlite", [])]));
        Assert.Empty(removed.Packages);
    }

    [Fact]
    public async Task A_corrupt_database_or_header_makes_the_image_unsupported_with_the_reason_and_never_throws()
    {
        var garbage = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", Text(new string('x', 5000)))]));
        Assert.False(garbage.Supported);
        Assert.Contains("rpm database could not be read", garbage.UnsupportedReason, StringComparison.Ordinal);

        // A header whose index claims more entries than its blob holds.
        var database = await RealDatabaseAsync();
        var path = Path.Combine(Path.GetTempPath(), $"wharf-rpm-{Guid.NewGuid():N}.sqlite");
        await File.WriteAllBytesAsync(path, database, Ct);
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE Packages SET blob = CAST(X'0000FFFF00000010' || substr(blob, 9) AS BLOB) WHERE hnum = 1";
            await command.ExecuteNonQueryAsync(Ct);
        }

        var corrupt = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", await File.ReadAllBytesAsync(path, Ct))]));
        File.Delete(path);
        Assert.False(corrupt.Supported);
        Assert.Contains("corrupt package header", corrupt.UnsupportedReason, StringComparison.Ordinal);

        // An rpm image of a distribution without an advisory ecosystem is not reported clean: it is unsupported.
        var fedora = await AnalyzeAsync(Build([("etc/os-release", Text("ID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora Linux 40\"\n")), ("var/lib/rpm/rpmdb.sqlite", database)]));
        Assert.Contains("'Fedora Linux 40' is not one Wharf scans", fedora.UnsupportedReason, StringComparison.Ordinal);
    }

    private static Task<ImageInventory> AnalyzeAsync(params byte[][] layers) =>
        ImageAnalyzer.AnalyzeAsync(
            layers.Select((bytes, i) => new ImageLayer($"sha256:{i:x64}", _ => Task.FromResult<Stream>(new MemoryStream(bytes)))).ToList(),
            LayerLimits.Default,
            Ct);

    private static async Task<byte[]> RealDatabaseAsync()
    {
        var rpm = Requires.Tool("rpm");
        var rpmbuild = Requires.Tool("rpmbuild");
        var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"wharf-rpm-{Guid.NewGuid():N}")).FullName;
        try
        {
            var spec = Path.Combine(root, "demo.spec");
            await File.WriteAllTextAsync(spec, """
                Name: demo-source
                Version: 1.2.3
                Release: 4.el9
                Epoch: 2
                Summary: a package
                License: MIT
                BuildArch: noarch
                %description
                a package
                %package -n demo-libs
                Summary: its subpackage
                %description -n demo-libs
                its subpackage
                %files -n demo-libs
                %files
                """, Ct);
            var timeout = TimeSpan.FromMinutes(2);
            (await ProcessRunner.RunAsync(rpmbuild, ["--define", $"_topdir {root}/top", "--define", "_db_backend sqlite", "-bb", spec], timeout)).EnsureSuccess();
            var db = Path.Combine(root, "db");
            (await ProcessRunner.RunAsync(rpm, ["--dbpath", db, "--define", "_db_backend sqlite", "--initdb"], timeout)).EnsureSuccess();
            var packages = Directory.GetFiles(Path.Combine(root, "top", "RPMS"), "*.rpm", SearchOption.AllDirectories);
            (await ProcessRunner.RunAsync(rpm, ["--dbpath", db, "--define", "_db_backend sqlite", "-i", "--justdb", "--nodeps", "--ignoreos", .. packages], timeout)).EnsureSuccess();
            return await File.ReadAllBytesAsync(Path.Combine(db, "rpmdb.sqlite"), Ct);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
