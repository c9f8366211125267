using System.Diagnostics;

namespace Wharf.Testing;

/// <summary>
/// A containerd of the test's own (root, state and sockets in a temp directory, no CRI) and <c>ctr</c>
/// against it: containerd as a pulling client, independent of any daemon on the machine.
/// </summary>
public sealed class ContainerdDaemon : IAsyncDisposable
{
    private readonly Process daemon;
    private readonly string ctr;

    private ContainerdDaemon(Process daemon, string ctr, string root)
    {
        this.daemon = daemon;
        this.ctr = ctr;
        Root = root;
    }

    /// <summary>The daemon's directory (config, root, state, socket).</summary>
    public string Root { get; }

    private string Socket => Path.Combine(Root, "containerd.sock");

    /// <summary>Starts containerd and waits until <c>ctr version</c> answers (30 s at most).</summary>
    public static async Task<ContainerdDaemon> StartAsync(CancellationToken cancellationToken = default)
    {
        var containerd = Requires.Tool("containerd");
        var ctr = Requires.Tool("ctr");
        var root = Path.Combine(Path.GetTempPath(), "wharf-containerd-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var socket = Path.Combine(root, "containerd.sock");
        var config = Path.Combine(root, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{root}/root"
            state = "{root}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{socket}"
            [ttrpc]
              address = "{socket}.ttrpc"
            [debug]
              address = ""
            [metrics]
              address = ""
            """, cancellationToken);
        var process = Process.Start(new ProcessStartInfo(containerd, ["--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemon = new ContainerdDaemon(process, ctr, root);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await daemon.CtrAsync("version")).ExitCode != 0)
        {
            if (DateTime.UtcNow >= deadline || process.HasExited)
            {
                await daemon.DisposeAsync();
                throw new InvalidOperationException("containerd did not start");
            }

            await Task.Delay(200, cancellationToken);
        }

        return daemon;
    }

    /// <summary><c>ctr --address &lt;socket&gt; …</c> (2 minutes at most).</summary>
    public Task<ProcessResult> CtrAsync(params string[] args) =>
        ProcessRunner.RunAsync(ctr, ["--address", Socket, .. args], TimeSpan.FromMinutes(2));

    public async ValueTask DisposeAsync()
    {
        if (!daemon.HasExited)
        {
            daemon.Kill();
        }

        await daemon.WaitForExitAsync(CancellationToken.None);
        daemon.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
