using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>
/// The real server as a separate process (<c>dotnet wharf.dll serve …</c>), for tests that kill it,
/// signal it, or check how it exits.
/// </summary>
public sealed class WharfProcess : IAsyncDisposable
{
    private readonly Process process;

    private WharfProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public bool HasExited => process.HasExited;

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "wharf.dll");

    /// <summary>Starts <c>wharf serve</c> on a free port and waits until <c>/v2/</c> answers.</summary>
    public static async Task<WharfProcess> StartAsync(string dataDirectory, IDictionary<string, string>? environment = null, params string[] extraArgs)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { ServerDll, "serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDirectory }.Concat(extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new WharfProcess(process, port);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                Assert.Fail($"wharf exited with {process.ExitCode} before answering");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(server.BaseAddress, "v2/"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }

        process.Kill(entireProcessTree: true);
        Assert.Fail("wharf did not answer /v2/ within 60 s");
        return server;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        process.Dispose();
        await Task.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
