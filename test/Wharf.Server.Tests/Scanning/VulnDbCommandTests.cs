using System.IO.Compression;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Scanning;

/// <summary><c>wharf vulndb import</c> and <c>status</c>: OSV exports as zips or directories, loaded into the store; a broken export changes nothing.</summary>
public sealed class VulnDbCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private const string Nghttp2 = """
        {"id":"DEBIAN-CVE-2023-44487","modified":"2024-02-01T00:00:00Z","aliases":["CVE-2023-44487"],
         "affected":[{"package":{"ecosystem":"Debian:12","name":"nghttp2"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.52.0-1+deb12u1"}]}]}]}
        """;

    private const string Glibc = """
        {"id":"DEBIAN-CVE-2023-4911","modified":"2024-03-01T00:00:00Z","aliases":["CVE-2023-4911"],
         "affected":[{"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u3"}]}]}]}
        """;

    [Fact]
    public async Task Exports_import_as_zips_or_directories_replace_their_source_and_a_broken_one_changes_nothing()
    {
        // Beside a running server, as an operator would load it.
        await using var server = await WharfTestServer.StartAsync();
        var data = server.DataDirectory;
        var exports = Directory.CreateDirectory(Path.Combine(data, "exports", "Debian")).FullName;
        var zip = Path.Combine(exports, "all.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            foreach (var (name, json) in new[] { ("DEBIAN-CVE-2023-44487.json", Nghttp2), ("DEBIAN-CVE-2023-4911.json", Glibc) })
            {
                await using var entry = await archive.CreateEntry(name).OpenAsync(TestContext.Current.CancellationToken);
                await entry.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json), TestContext.Current.CancellationToken);
            }
        }

        Assert.Contains("the vulnerability database is empty", (await WharfAsync("vulndb", "status", "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);
        Assert.Contains("imported 2 advisories into source 'Debian'", (await WharfAsync("vulndb", "import", zip, "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);

        var directory = Directory.CreateDirectory(Path.Combine(data, "exports", "npm")).FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "GHSA-35jh-r3h4-6jhm.json"), """{"id":"GHSA-35jh-r3h4-6jhm","affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}""", TestContext.Current.CancellationToken);
        Assert.Contains("imported 1 advisories into source 'npm'", (await WharfAsync("vulndb", "import", directory, "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);

        var status = (await WharfAsync("vulndb", "status", "--data-dir", data)).EnsureSuccess().StandardOutput;
        Assert.Contains("Debian: 2 advisories, newest change 2024-03-01", status, StringComparison.Ordinal);
        Assert.Contains("npm: 1 advisories", status, StringComparison.Ordinal);

        // A broken record in a new export of the source: the import fails by name and the old source stays.
        await File.WriteAllTextAsync(Path.Combine(directory, "broken.json"), "{\"not\":\"osv\"}", TestContext.Current.CancellationToken);
        var failed = await WharfAsync("vulndb", "import", directory, "--data-dir", data);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("broken.json is not an OSV record", failed.StandardError, StringComparison.Ordinal);
        Assert.Contains("npm: 1 advisories", (await WharfAsync("vulndb", "status", "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(0, (await WharfAsync("vulndb", "import", Path.Combine(data, "missing.zip"), "--data-dir", data)).ExitCode);
    }

    private static Task<ProcessResult> WharfAsync(params string[] args) => ProcessRunner.RunAsync("dotnet", [WharfProcess.ServerDll, .. args], Timeout);
}
