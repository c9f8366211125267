using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// <c>Replication:Regions</c> is checked before Wharf starts (one line saying what to fix, exit 2), and the
/// credentials commands keep secrets out of flags and out of their output.
/// </summary>
public sealed class RemoteRegionSettingsTests
{
    [Theory]
    [InlineData("Endpoint", "ftp://registry-b.example.com", "Replication:Regions:eu-west-1:Endpoint 'ftp://registry-b.example.com' is not an http or https URL")]
    [InlineData("Endpoint", "https://user:pass@registry-b.example.com", "never in the URL")]
    [InlineData("Kind", "ftp", "Replication:Regions:eu-west-1:Kind is 'ftp'; set wharf (another Wharf) or oci (any OCI registry)")]
    [InlineData("RepositoryPrefix", "mirror", "Replication:Regions:eu-west-1:RepositoryPrefix is for Kind oci only")]
    [InlineData("RequestTimeout", "00:00:00", "Replication:Regions:eu-west-1:RequestTimeout is 00:00:00; set a positive duration")]
    public async Task Serve_refuses_a_bad_remote_region_setting_in_one_line(string key, string value, string expected)
    {
        var directory = NewDirectory();
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["Replication:Regions:eu-west-1:Endpoint"] = "https://registry-b.example.com",
                [$"Replication:Regions:eu-west-1:{key}"] = value,
            };
            var config = Path.Combine(directory, "settings.json");
            await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(settings), TestContext.Current.CancellationToken);
            var result = await WharfCommand.RunAsync(["serve", "--port", "0", "--public-port", "0", "--data-dir", directory, "--config", config], TimeSpan.FromMinutes(1));
            Assert.Equal(2, result.ExitCode);
            Assert.Contains(expected, result.StandardError, StringComparison.Ordinal);
            Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Credentials_are_set_listed_and_deleted_by_region_without_ever_printing_the_secret()
    {
        var settings = RemoteRegions.Settings("eu-west-1", new Uri("https://registry-b.example.com"), "wharf");
        foreach (var (key, value) in RemoteRegions.Settings("eu-mirror-1", new Uri("https://harbor.example.com"), "oci"))
        {
            settings[key] = value;
        }

        await using var server = await WharfTestServer.StartAsync(settings);
        var config = Path.Combine(server.DataDirectory, "remote-settings.json");
        await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(settings), TestContext.Current.CancellationToken);
        Task<ProcessResult> Cli(params string[] args) =>
            WharfCommand.RunAsync(["replication", "credentials", .. args, "--config", config, .. server.StoreArguments], TimeSpan.FromMinutes(1));

        var set = (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, "eu-west-1", "--access-key-id", "AKIAREMOTEKEY0000001", "remote-secret-1")).EnsureSuccess();
        Assert.Contains("AKIAREMOTEKEY0000001", set.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("remote-secret-1", set.StandardOutput + set.StandardError, StringComparison.Ordinal);

        // Each kind names its own identity flag; an unmapped region is refused.
        var wrongFlag = await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, "eu-mirror-1", "--access-key-id", "robot", "token");
        Assert.Equal(1, wrongFlag.ExitCode);
        Assert.Contains("pass --username", wrongFlag.StandardError, StringComparison.Ordinal);
        var unmapped = await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, "ap-east-7", "--access-key-id", "AKIA", "secret");
        Assert.Equal(1, unmapped.ExitCode);
        Assert.Contains("region 'ap-east-7' is not in Replication:Regions", unmapped.StandardError, StringComparison.Ordinal);

        // No secret on standard input: refused, nothing stored.
        var empty = await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, "eu-mirror-1", "--username", "robot", "");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no secret on standard input", empty.StandardError, StringComparison.Ordinal);

        Assert.Equal(["eu-west-1"], (await Cli("list")).EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        (await Cli("delete", "eu-west-1")).EnsureSuccess();
        Assert.Empty((await Cli("list")).EnsureSuccess().StandardOutput.Trim());
        Assert.Equal(1, (await Cli("delete", "eu-west-1")).ExitCode);
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-repl-settings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
