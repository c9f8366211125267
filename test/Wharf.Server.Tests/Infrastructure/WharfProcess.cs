using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>
/// The real server as a separate process (<c>wharf serve …</c>, <see cref="Wharf.Testing.WharfCommand"/>), for tests that kill it,
/// signal it, or check how it exits.
/// </summary>
public sealed class WharfProcess : IAsyncDisposable
{
    private readonly Process process;

    private WharfProcess(Process process, int port, string scheme)
    {
        this.process = process;
        Port = port;
        Scheme = scheme;
    }

    /// <summary><c>https</c> when started with a TLS flag (<c>--tls</c>, <c>--tls-cert</c>) or <c>WHARF__Tls__*</c> setting, else <c>http</c>.</summary>
    public string Scheme { get; }

    private readonly System.Text.StringBuilder output = new();
    private readonly System.Text.StringBuilder error = new();

    public int Port { get; }

    /// <summary>The server's process id (to read its memory from <c>/proc</c>).</summary>
    public int ProcessId => process.Id;

    public string StandardOutput
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (error)
            {
                return error.ToString();
            }
        }
    }

    /// <summary>SIGTERM, then waits for the process to exit; returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        (await Wharf.Testing.ProcessRunner.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        process.WaitForExit();
        return process.ExitCode;
    }

    private void Append(System.Text.StringBuilder target, string? line)
    {
        if (line is not null)
        {
            lock (target)
            {
                target.AppendLine(line);
            }
        }
    }

    public Uri BaseAddress => new($"{Scheme}://127.0.0.1:{Port}/");

    public bool HasExited => process.HasExited;

    /// <summary>Starts <c>wharf serve</c> on a free port and waits until <c>/v2/</c> answers (200, or 401 in IAM mode).</summary>
    public static async Task<WharfProcess> StartAsync(string dataDirectory, IDictionary<string, string>? environment = null, params string[] extraArgs)
    {
        var port = Wharf.Testing.Ports.Free();
        var info = Wharf.Testing.WharfCommand.StartInfo(new[] { "serve", "--public-port", "0", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDirectory }.Concat(extraArgs));

        // Open mode unless the test says otherwise (IAM is the default).
        info.Environment["WHARF__Auth"] = "Open";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var tls = extraArgs.Any(a => a is "--tls" or "--tls-cert") || info.Environment.Keys.Any(k => k.StartsWith("WHARF__Tls__", StringComparison.OrdinalIgnoreCase));
        var process = Process.Start(info)!;
        var server = new WharfProcess(process, port, tls ? "https" : "http");
        process.OutputDataReceived += (_, e) => server.Append(server.output, e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(server.error, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                Assert.Fail($"wharf exited with {process.ExitCode} before answering");
            }

            // Over TLS the test's own client, trusting its CA, checks the certificate: ready is the listening line.
            if (tls)
            {
                if (server.StandardOutput.Contains("Wharf listening on ", StringComparison.Ordinal))
                {
                    return server;
                }

                await Task.Delay(50);
                continue;
            }

            try
            {
                using var response = await client.GetAsync(new Uri(server.BaseAddress, "v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
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

}
