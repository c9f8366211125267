using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// One Wharf site for the pairing tests: <c>wharf serve</c> as its own process on a port chosen before it
/// starts (the other site's settings name it), with its own data directory and settings file, in IAM mode.
/// </summary>
internal sealed class WharfSite : IAsyncDisposable
{
    private readonly StringBuilder log = new();
    private Process? process;

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

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>The root access key the first start wrote, as credential variables.</summary>
    public Dictionary<string, string> Root => AwsClients.ReadCredentialsFile(Path.Combine(DataDirectory, "root-credentials"));

    public async Task StartAsync()
    {
        var config = Path.Combine(DataDirectory, "settings.json");
        await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(Settings));
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { WharfProcess.ServerDll, "serve", "--port", Port.ToString(CultureInfo.InvariantCulture), "--data-dir", DataDirectory, "--config", config })
        {
            info.ArgumentList.Add(arg);
        }

        var started = Process.Start(info)!;
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process = started;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(started.HasExited, $"site {Name} exited with {(started.HasExited ? started.ExitCode : 0)}:\n{Log}");
            try
            {
                using var response = await client.GetAsync(new Uri(BaseAddress, "v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        Kill();
        Assert.Fail($"site {Name} did not answer /v2/ within 90 s:\n{Log}");
    }

    /// <summary>SIGKILL.</summary>
    public void Kill()
    {
        if (process is { HasExited: false } running)
        {
            running.Kill(entireProcessTree: true);
            running.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        process?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }
}
