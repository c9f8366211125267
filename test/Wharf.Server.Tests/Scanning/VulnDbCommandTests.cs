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

    [Fact]
    public async Task A_single_OSV_file_imports_as_a_record_or_an_array_and_anything_else_is_refused_with_what_is_expected()
    {
        await using var server = await WharfTestServer.StartAsync();
        var data = server.DataDirectory;
        var ct = TestContext.Current.CancellationToken;

        // One record, as an advisory page of osv.dev downloads it: a source named after the file.
        var single = Path.Combine(data, "advisory.json");
        await File.WriteAllTextAsync(single, Nghttp2, ct);
        Assert.Contains("imported 1 advisories into source 'advisory'", (await WharfAsync("vulndb", "import", single, "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);

        // An array of records, into a named source.
        var array = Path.Combine(data, "debian-extra.json");
        await File.WriteAllTextAsync(array, $"[{Nghttp2},{Glibc}]", ct);
        Assert.Contains("imported 2 advisories into source 'Debian'", (await WharfAsync("vulndb", "import", array, "--source", "Debian", "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);
        var status = (await WharfAsync("vulndb", "status", "--data-dir", data)).EnsureSuccess().StandardOutput;
        Assert.Contains("advisory: 1 advisories, newest change 2024-02-01", status, StringComparison.Ordinal);
        Assert.Contains("Debian: 2 advisories, newest change 2024-03-01", status, StringComparison.Ordinal);

        // Neither a zip nor JSON: the error says what is expected, and nothing changes.
        var text = Path.Combine(data, "notes.txt");
        await File.WriteAllTextAsync(text, "CVE-2023-44487 affects nghttp2\n", ct);
        var refused = await WharfAsync("vulndb", "import", text, "--source", "Debian", "--data-dir", data);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("notes.txt is neither a zip of OSV records nor OSV JSON (one record, or an array of records)", refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("End of Central Directory", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("Debian: 2 advisories", (await WharfAsync("vulndb", "status", "--data-dir", data)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);

        // An array with a record that is not OSV fails by its place in the file.
        await File.WriteAllTextAsync(array, $"[{Nghttp2},{{\"not\":\"osv\"}}]", ct);
        var broken = await WharfAsync("vulndb", "import", array, "--source", "Debian", "--data-dir", data);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("debian-extra.json[1] is not an OSV record", broken.StandardError, StringComparison.Ordinal);

        var help = string.Join(' ', (await WharfAsync("vulndb", "import", "--help")).EnsureSuccess().StandardOutput.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("one JSON file holding a record or an array of records", help, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> WharfAsync(params string[] args) => WharfCommand.RunAsync([.. args], Timeout);
}
