using System.Diagnostics;
using System.Net;
using System.Text;

namespace Wharf.Testing;

/// <summary>
/// A server the tests run as a child process (a registry, a Wharf site): started with its output collected
/// (across restarts), waited for until an HTTP address answers, killed with SIGKILL.
/// </summary>
public sealed class LoggedProcess : IDisposable
{
    private readonly StringBuilder log = new();
    private Process? process;

    /// <summary>Everything the process wrote to stdout and stderr, across restarts.</summary>
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
    /// Starts <paramref name="fileName"/> and waits until <paramref name="ready"/> answers 200 or 401; throws
    /// with the output when the process exits first or does not answer within <paramref name="timeout"/>.
    /// </summary>
    public async Task StartAsync(string fileName, IEnumerable<string> arguments, Uri ready, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var started = Process.Start(info)!;
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process?.Dispose();
        process = started;

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (started.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(fileName)} exited with {started.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await client.GetAsync(ready);
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

            await Task.Delay(50);
        }

        Kill();
        throw new InvalidOperationException($"{Path.GetFileName(fileName)} did not answer {ready} within {timeout}:\n{Log}");
    }

    /// <summary>SIGKILL: nothing of the process's shutdown runs.</summary>
    public void Kill()
    {
        if (process is { HasExited: false } running)
        {
            running.Kill(entireProcessTree: true);
            running.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        process?.Dispose();
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
