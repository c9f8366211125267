using Microsoft.Data.Sqlite;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;
using Wharf.Scanning.Vulnerabilities;
using Wharf.Testing;
using static Wharf.Scanning.Tests.Layers.TestLayers;

namespace Wharf.Scanning.Tests.Packages;

/// <summary>
/// rpm's SQLite database, as the real <c>rpm</c> 4.18 writes it: packages built with <c>rpmbuild</c>
/// (one with an epoch, a subpackage named apart from its source, one installed for two architectures)
/// installed into a fresh database.
/// </summary>
public sealed class RpmPackagesTests
{
    private const string Rocky = "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n";
    private const string Alma = "ID=almalinux\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"AlmaLinux 9.4 (Seafoam Ocelot)\"\n";

    // A throwaway ed25519 public key (its secret half was never kept): rpm --import stores it as a
    // gpg-pubkey pseudo-package, as distributions' images carry their signing keys.
    private const string SigningKey = """
        -----BEGIN PGP PUBLIC KEY BLOCK-----

        mDMEawZ8lxYJKwYBBAHaRw8BAQdABEndB8Is1E8ZCg8IK7vCxxa0+nr5xo0YQR0C
        YWMPomG0L1doYXJmIHRlc3Qgc2lnbmluZyBrZXkgPHJwbS10ZXN0QHdoYXJmLmlu
        dmFsaWQ+iJAEExYIADgWIQSZ0d9pGdM4dyxtXqh85lMrz0SwsQUCawZ8lwIbAwUL
        CQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRB85lMrz0SwsSEdAP0QQEmL8rOZO5vu
        p6S4BgiR2R4+XKcMbh+nXZW/w5wlaAD/Y8R6XtOirnEVqkCXRPUI2HxVOQxNflVe
        QOERTDpNFA8=
        =SkVf
        -----END PGP PUBLIC KEY BLOCK-----
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rpm_packages_are_read_from_a_real_rpmdb_sqlite_with_epoch_version_release_and_source_rpm()
    {
        var database = await RealDatabaseAsync();
        var inventory = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", database)]));
        Assert.True(inventory.Supported, inventory.UnsupportedReason);

        // The i686 and x86_64 installs of one package are one package; the signing-key rows are none.
        Assert.Equal(
            [
                "demo-libs 2:1.2.3-4.el9 source demo-source",
                "demo-source 2:1.2.3-4.el9 source demo-source",
                "multi 1.0-1 source multi",
            ],
            inventory.Packages.Select(p => $"{p.Name} {p.Version} source {p.SourceName}").Order(StringComparer.Ordinal));
        Assert.All(inventory.Packages, p => Assert.Equal(("rpm", "var/lib/rpm/rpmdb.sqlite", "sha256:" + new string('0', 64), (string?)null), (p.Manager, p.Path, p.LayerDigest, (string?)p.SourceVersion)));

        // Fedora's location, and a later layer's whiteout removes the database and its packages.
        var sysimage = await AnalyzeAsync(Build([("etc/os-release", Text(Alma)), ("usr/lib/sysimage/rpm/rpmdb.sqlite", database)]));
        Assert.Equal(3, sysimage.Packages.Count);
        Assert.Equal("AlmaLinux:9", OsvEcosystems.ForOs(sysimage.Os!));
        var removed = await AnalyzeAsync(
            Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", database)]),
            Build([("var/lib/rpm/.wh.rpmdb.sqlite", [])]));
        Assert.Empty(removed.Packages);
    }

    [Fact]
    public async Task Rocky_advisories_match_by_source_rpm_and_AlmaLinux_advisories_by_binary_rpm_in_rpm_version_order()
    {
        var database = await RealDatabaseAsync();

        // Rocky's exporter lists an advisory's src rpms with their epoch:version-release: every binary built
        // from demo-source is affected; the epoch decides over a larger version.
        var rocky = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", database)]));
        var rockyAdvisories = new InMemoryAdvisoryIndex(
        [
            OsvAdvisory.Parse("""
                {"id":"RLSA-TEST:1","affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"demo-source"},
                 "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2:1.2.3-5.el9"}]}]}]}
                """),
            OsvAdvisory.Parse("""
                {"id":"RLSA-TEST:2","affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"multi"},
                 "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0:9.9-1"}]}]},
                 {"package":{"ecosystem":"Rocky Linux:9","name":"demo-libs"},
                 "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:9.9.9-1.el9"}]}]}]}
                """),
        ]);
        Assert.Equal(
            ["RLSA-TEST:1 demo-libs 2:1.2.3-5.el9", "RLSA-TEST:1 demo-source 2:1.2.3-5.el9", "RLSA-TEST:2 multi 0:9.9-1"],
            VulnerabilityMatcher.Match(rocky, rockyAdvisories).Select(f => $"{f.Advisory.Id} {f.Package.Name} {f.FixedIn}").Order(StringComparer.Ordinal));

        // AlmaLinux's list each binary rpm: demo-libs is found by its own name, never by its source's.
        var alma = await AnalyzeAsync(Build([("etc/os-release", Text(Alma)), ("var/lib/rpm/rpmdb.sqlite", database)]));
        var almaAdvisories = new InMemoryAdvisoryIndex(
        [
            OsvAdvisory.Parse("""
                {"id":"ALSA-TEST:1","affected":[{"package":{"ecosystem":"AlmaLinux:9","name":"demo-libs"},
                 "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2:1.2.3-5.el9"}]}]}]}
                """),
        ]);
        var finding = Assert.Single(VulnerabilityMatcher.Match(alma, almaAdvisories));
        Assert.Equal(("demo-libs", "demo-source", "AlmaLinux:9"), (finding.Package.Name, finding.Package.SourceName, finding.Ecosystem));
        Assert.Equal("demo-source", alma.Packages.Single(p => p.Name == "demo-libs").AdvisoryName("Rocky Linux:9"));
        Assert.Equal("demo-libs", alma.Packages.Single(p => p.Name == "demo-libs").AdvisoryName("AlmaLinux:9"));
    }

    [Fact]
    public async Task A_corrupt_database_or_header_makes_the_image_unsupported_with_the_reason_and_never_throws()
    {
        var garbage = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", Text(new string('x', 5000)))]));
        Assert.False(garbage.Supported);
        Assert.Contains("rpm database could not be read", garbage.UnsupportedReason, StringComparison.Ordinal);

        // A SQLite database that is not rpm's: no Packages table.
        var other = await SqliteCopyAsync(await RealDatabaseAsync(), "PRAGMA foreign_keys = OFF; DROP TABLE Packages");
        var notRpm = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", other)]));
        Assert.Contains("rpm database could not be read", notRpm.UnsupportedReason, StringComparison.Ordinal);

        // Headers whose index claims more entries than the blob holds, or a count past any real header's.
        foreach (var prefix in new[] { "0000FFFF00000010", "7FFFFFFF7FFFFFFF", "FFFFFFFF00000000" })
        {
            var corrupt = await SqliteCopyAsync(await RealDatabaseAsync(), $"UPDATE Packages SET blob = CAST(X'{prefix}' || substr(blob, 9) AS BLOB) WHERE hnum = 1");
            var inventory = await AnalyzeAsync(Build([("etc/os-release", Text(Rocky)), ("var/lib/rpm/rpmdb.sqlite", corrupt)]));
            Assert.False(inventory.Supported);
            Assert.Contains("corrupt package header", inventory.UnsupportedReason, StringComparison.Ordinal);
        }

        // An rpm image of a distribution without an advisory ecosystem is not reported clean: it is unsupported.
        var fedora = await AnalyzeAsync(Build([("etc/os-release", Text("ID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora Linux 40\"\n")), ("var/lib/rpm/rpmdb.sqlite", await RealDatabaseAsync())]));
        Assert.Contains("'Fedora Linux 40' is not one Wharf scans", fedora.UnsupportedReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_BerkeleyDB_or_NDB_rpm_database_is_reported_as_unsupported()
    {
        // rpm 4.18 here is built without BerkeleyDB, so the file is a Berkeley DB hash database's first page:
        // its magic (0x061561) at offset 12. The analyser goes by the path, not by reading the file.
        var page = new byte[4096];
        page[12] = 0x61;
        page[13] = 0x15;
        page[14] = 0x06;
        foreach (var path in new[] { "var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages.db" })
        {
            var inventory = await AnalyzeAsync(Build([("etc/os-release", Text("ID=\"rocky\"\nVERSION_ID=\"8.9\"\n")), (path, page)]));
            Assert.False(inventory.Supported);
            Assert.Empty(inventory.Packages);
            Assert.Contains("BerkeleyDB or NDB format", inventory.UnsupportedReason, StringComparison.Ordinal);
        }
    }

    private static async Task<byte[]> SqliteCopyAsync(byte[] database, string statement)
    {
        var path = Path.Combine(Path.GetTempPath(), $"wharf-rpm-{Guid.NewGuid():N}.sqlite");
        try
        {
            await File.WriteAllBytesAsync(path, database, Ct);
            await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                await connection.OpenAsync(Ct);
                await using var command = connection.CreateCommand();
                command.CommandText = statement;
                await command.ExecuteNonQueryAsync(Ct);
            }

            return await File.ReadAllBytesAsync(path, Ct);
        }
        finally
        {
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                File.Delete(path + suffix);
            }
        }
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
            var multi = Path.Combine(root, "multi.spec");
            await File.WriteAllTextAsync(multi, """
                Name: multi
                Version: 1.0
                Release: 1
                Summary: a package of two architectures
                License: MIT
                %description
                a package of two architectures
                %files
                """, Ct);
            var timeout = TimeSpan.FromMinutes(2);
            (await ProcessRunner.RunAsync(rpmbuild, ["--define", $"_topdir {root}/top", "-bb", spec], timeout)).EnsureSuccess();
            foreach (var target in new[] { "x86_64", "i686" })
            {
                (await ProcessRunner.RunAsync(rpmbuild, ["--define", $"_topdir {root}/top", "--target", target, "-bb", multi], timeout)).EnsureSuccess();
            }

            var db = Path.Combine(root, "db");
            (await ProcessRunner.RunAsync(rpm, ["--dbpath", db, "--define", "_db_backend sqlite", "--initdb"], timeout)).EnsureSuccess();
            var packages = Directory.GetFiles(Path.Combine(root, "top", "RPMS"), "*.rpm", SearchOption.AllDirectories);
            (await ProcessRunner.RunAsync(rpm, ["--dbpath", db, "--define", "_db_backend sqlite", "-i", "--justdb", "--nodeps", "--ignoreos", "--ignorearch", .. packages], timeout)).EnsureSuccess();
            var key = Path.Combine(root, "key.asc");
            await File.WriteAllTextAsync(key, SigningKey, Ct);
            (await ProcessRunner.RunAsync(rpm, ["--dbpath", db, "--define", "_db_backend sqlite", "--import", key], timeout)).EnsureSuccess();
            var listed = (await ProcessRunner.RunAsync(rpm, ["--dbpath", db, "-qa"], timeout)).EnsureSuccess().StandardOutput;
            Assert.Contains("gpg-pubkey-", listed, StringComparison.Ordinal);
            return await File.ReadAllBytesAsync(Path.Combine(db, "rpmdb.sqlite"), Ct);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
