using System.Globalization;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// One Wharf site for the pairing tests: <c>wharf serve</c> as its own process on a port chosen before it
/// starts (the other site's settings name it), with its own data directory and settings file, in IAM mode.
/// </summary>
internal sealed class WharfSite : IAsyncDisposable
{
    private readonly LoggedProcess process = new();

    public WharfSite(string name, Dictionary<string, string?> settings)
    {
        Name = name;
        Port = Ports.Free();
        DataDirectory = Path.Combine(Path.GetTempPath(), $"wharf-site-{name}-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        Settings = settings;
    }

    public string Name { get; }

    public int Port { get; }

    public string DataDirectory { get; }

    /// <summary>The site's settings (written to its settings file at each start, so a test may add to them first).</summary>
    public Dictionary<string, string?> Settings { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public string HostAndPort => $"127.0.0.1:{Port}";

    /// <summary>The flags that point a <c>wharf</c> command at this site's store and settings.</summary>
    public IReadOnlyList<string> StoreArguments => ["--data-dir", DataDirectory];

    public string Log => process.Log;

    /// <summary>The root access key the first start wrote, as credential variables.</summary>
    public Dictionary<string, string> Root => AwsClients.ReadCredentialsFile(Path.Combine(DataDirectory, "root-credentials"));

    public async Task StartAsync()
    {
        var config = Path.Combine(DataDirectory, "settings.json");
        await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(Settings));
        await process.StartAsync(
            WharfCommand.FileName,
            [.. WharfCommand.Prefix, "serve", "--public-port", "0", "--port", Port.ToString(CultureInfo.InvariantCulture), "--data-dir", DataDirectory, "--config", config],
            new Uri(BaseAddress, "v2/"),
            TimeSpan.FromSeconds(90));
    }

    /// <summary>SIGKILL.</summary>
    public void Kill() => process.Kill();

    public ValueTask DisposeAsync()
    {
        process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
