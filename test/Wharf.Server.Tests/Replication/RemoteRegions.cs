using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>Settings and credentials of remote regions, as an operator writes them.</summary>
internal static class RemoteRegions
{
    /// <summary><c>Replication:Regions:&lt;region&gt;:*</c> for another Wharf or an OCI registry.</summary>
    public static Dictionary<string, string?> Settings(string region, Uri endpoint, string kind, string? prefix = null)
    {
        var settings = new Dictionary<string, string?>
        {
            [$"Replication:Regions:{region}:Endpoint"] = endpoint.ToString(),
            [$"Replication:Regions:{region}:Kind"] = kind,
            [$"Replication:Regions:{region}:RequestTimeout"] = "00:00:10",
        };
        if (prefix is not null)
        {
            settings[$"Replication:Regions:{region}:RepositoryPrefix"] = prefix;
        }

        return settings;
    }

    /// <summary>
    /// <c>wharf replication credentials set</c> with the secret on standard input, against a data directory
    /// and store (<paramref name="storeArguments"/>) and the settings in <paramref name="settings"/>.
    /// </summary>
    public static async Task<ProcessResult> SetCredentialsAsync(IReadOnlyList<string> storeArguments, IDictionary<string, string?> settings, string region, string identityFlag, string identity, string secret)
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-repl-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var config = Path.Combine(directory, "settings.json");
            await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(settings));
            var secretFile = Path.Combine(directory, "secret");
            await File.WriteAllTextAsync(secretFile, secret + "\n");
            string[] command = [WharfCommand.FileName, .. WharfCommand.Prefix, "replication", "credentials", "set", region, identityFlag, identity, "--config", config, .. storeArguments];
            return await ProcessRunner.RunAsync("sh", ["-c", "\"$@\" < \"$0\"", secretFile, .. command], TimeSpan.FromMinutes(1));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
