using Wharf.Server.Hosting;
using Wharf.Testing;

namespace Wharf.Server.Tests.Packaging;

/// <summary>
/// packaging/wharf.service: systemd's own checker accepts it without a word, it says what
/// docs/operations.md says it says (the docs carry the same file), and it waits for Wharf's drain.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class SystemdUnitTests
{
    private static readonly string UnitPath = Path.Combine(ContainerImageFixture.RepositoryRoot(), "packaging", "wharf.service");

    [Fact]
    public async Task Unit_passes_systemd_analyze_verify_without_a_warning()
    {
        var result = await VerifyAsync(await File.ReadAllTextAsync(UnitPath, TestContext.Current.CancellationToken));
        Assert.True(result.ExitCode == 0 && result.StandardError.Trim().Length == 0, $"systemd-analyze verify: exit {result.ExitCode}\n{result.StandardError}");
    }

    [Fact]
    public async Task Verify_reports_a_mistyped_key_and_a_bad_value()
    {
        // The check above is only worth something if systemd-analyze speaks up about what it ignores.
        var unit = (await File.ReadAllTextAsync(UnitPath, TestContext.Current.CancellationToken))
            .Replace("ProtectHome=yes", "ProtectHome=bogus", StringComparison.Ordinal)
            .Replace("PrivateTmp=yes", "PrivateTemp=yes", StringComparison.Ordinal);
        var result = await VerifyAsync(unit);
        Assert.Contains("bogus", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("PrivateTemp", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unit_runs_serve_as_wharf_on_its_state_directory_hardened_and_waits_for_the_drain()
    {
        var text = await File.ReadAllTextAsync(UnitPath, TestContext.Current.CancellationToken);
        var keys = text.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToLookup(p => p[0], p => p[1]);

        Assert.Equal("wharf", keys["User"].Single());
        Assert.Equal("wharf", keys["StateDirectory"].Single());
        Assert.Contains(" serve --data-dir /var/lib/wharf ", keys["ExecStart"].Single() + " ", StringComparison.Ordinal);
        Assert.Equal("on-failure", keys["Restart"].Single());
        Assert.Equal("/var/lib/wharf", keys["ReadWritePaths"].Single());
        foreach (var (key, value) in new[] { ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes") })
        {
            Assert.Equal(value, keys[key].Single());
        }

        Assert.True(int.Parse(keys["LimitNOFILE"].Single(), System.Globalization.CultureInfo.InvariantCulture) >= 65536);
        var stop = TimeSpan.FromSeconds(int.Parse(keys["TimeoutStopSec"].Single().TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(stop > new WharfOptions().ShutdownTimeout, $"TimeoutStopSec {stop} must exceed ShutdownTimeout, or systemd kills Wharf mid-drain");

        var docs = await File.ReadAllTextAsync(Path.Combine(ContainerImageFixture.RepositoryRoot(), "docs", "operations.md"), TestContext.Current.CancellationToken);
        Assert.Contains(text.Trim(), docs, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>systemd-analyze verify --root</c> on a small tree: the system's own units (for the targets the unit
    /// names) and a stand-in executable at ExecStart's path, since verify checks that it exists.
    /// </summary>
    private static async Task<ProcessResult> VerifyAsync(string unit)
    {
        var analyze = Requires.Tool("systemd-analyze");
        var root = Path.Combine(Path.GetTempPath(), "wharf-unit-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "usr", "lib", "systemd"));
            (await ProcessRunner.RunAsync("cp", ["-a", "/usr/lib/systemd/system", Path.Combine(root, "usr", "lib", "systemd", "system")])).EnsureSuccess();
            Directory.CreateDirectory(Path.Combine(root, "etc", "systemd", "system"));
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "systemd", "system", "wharf.service"), unit);
            Directory.CreateDirectory(Path.Combine(root, "opt", "wharf"));
            var executable = Path.Combine(root, "opt", "wharf", "wharf");
            await File.WriteAllTextAsync(executable, "#!/bin/sh\n");
            (await ProcessRunner.RunAsync("chmod", ["0755", executable])).EnsureSuccess();
            return await ProcessRunner.RunAsync(analyze, ["verify", "--root=" + root, "wharf.service"], TimeSpan.FromMinutes(1));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
