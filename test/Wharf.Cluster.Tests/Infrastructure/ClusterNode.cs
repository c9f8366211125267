using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Wharf.Testing;

namespace Wharf.Cluster.Tests.Infrastructure;

/// <summary>
/// One node of the cluster: <c>wharf serve</c> (<see cref="WharfCommand"/>) as a child process on a fixed port (so the
/// balancer's upstream list stays valid across a restart), killed with SIGKILL and started again.
/// </summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> environment;
    private readonly StringBuilder log = new();
    private Process? process;

    public ClusterNode(int index, int port, string dataDirectory, IReadOnlyDictionary<string, string> environment)
    {
        Index = index;
        Port = port;
        DataDirectory = dataDirectory;
        this.environment = environment;
    }

    public int Index { get; }

    public int Port { get; }

    public string DataDirectory { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public bool IsRunning => process is { HasExited: false };

    /// <summary>Everything the node wrote to stdout and stderr, across restarts.</summary>
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

    /// <summary>
    /// Each "Unhandled error" the node logged (a request answered 500) with the lines of its exception,
    /// at most <paramref name="lines"/> of them.
    /// </summary>
    public IReadOnlyList<string> UnhandledErrors(int lines = 12)
    {
        var all = Log.Split('\n');
        var found = new List<string>();
        for (var i = 0; i < all.Length; i++)
        {
            if (all[i].Contains("Unhandled error on", StringComparison.Ordinal))
            {
                found.Add(string.Join(" | ", all.Skip(i).Take(lines).Select(l => l.Trim())));
            }
        }

        return found;
    }

    /// <summary>Starts the node and waits until <c>/v2/</c> answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (await TryStartAsync(cancellationToken) is { } exitCode)
        {
            Assert.Fail($"node {Index} exited with {exitCode} before answering:\n{Log}");
        }
    }

    /// <summary>
    /// Starts the node and waits until <c>/v2/</c> answers; returns null then, or the exit code when the
    /// node refused to start (its start-up checks failed), as a supervisor would see it.
    /// </summary>
    public async Task<int?> TryStartAsync(CancellationToken cancellationToken = default)
    {
        var info = WharfCommand.StartInfo(["serve", "--public-port", "0", "--port", Port.ToString(CultureInfo.InvariantCulture), "--data-dir", DataDirectory]);

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        Append($"--- node {Index} starting at {DateTime.UtcNow:HH:mm:ss.fff}");
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
            if (started.HasExited)
            {
                Append($"--- node {Index} exited with {started.ExitCode} at {DateTime.UtcNow:HH:mm:ss.fff}");
                return started.ExitCode;
            }

            try
            {
                using var response = await client.GetAsync(new Uri(BaseAddress, "v2/"), cancellationToken);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return null;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(100, cancellationToken);
        }

        Kill();
        Assert.Fail($"node {Index} did not answer /v2/ within 90 s:\n{Log}");
        return null;
    }

    /// <summary>SIGKILL: no shutdown code runs, requests in flight are cut.</summary>
    public void Kill()
    {
        if (process is { HasExited: false } running)
        {
            running.Kill(entireProcessTree: true);
            running.WaitForExit();
            Append($"--- node {Index} killed at {DateTime.UtcNow:HH:mm:ss.fff}");
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        process?.Dispose();
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
