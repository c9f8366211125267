using System.Globalization;
using System.Net;
using Wharf.Testing;

namespace Wharf.Server.Tests.Packaging;

/// <summary>
/// Wharf's image, built once per test class by <c>packaging/build-image</c> (Wharf's Native AOT executable
/// assembled into a <c>FROM scratch</c> image by buildah) into the tests' own containers-storage, and containers
/// of it run by podman. The executable is the one the other tests run (<see cref="WharfCommand.Binary"/>, which
/// <c>.ci/run</c> publishes), or, without one, a publish of its own. Removes its containers, volumes and the
/// image when done.
/// </summary>
public sealed class ContainerImageFixture : IAsyncLifetime
{
    public const string Image = "localhost/wharf-test/wharf:image";

    private readonly List<string> containers = [];
    private readonly List<string> volumes = [];
    private readonly string work = Path.Combine(Path.GetTempPath(), "wharf-image-" + Environment.ProcessId);
    private string? skipReason;

    public ContainerTools Tools => ContainerTools.Instance;

    /// <summary>The last line <c>build-image</c> printed: the image id.</summary>
    public string ImageId { get; private set; } = string.Empty;

    public static string RepositoryRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "Wharf.slnx")))
        {
            directory = Path.GetDirectoryName(directory.TrimEnd('/'))
                ?? throw new InvalidOperationException("Wharf.slnx not found above the test binaries");
        }

        return directory;
    }

    public async ValueTask InitializeAsync()
    {
        foreach (var tool in new[] { "buildah", "podman", "skopeo" })
        {
            if (Requires.Which(tool) is null)
            {
                skipReason = $"'{tool}' is not on PATH (.ci/run installs it)";
                return;
            }
        }

        if (Requires.Which("/bin/busybox") is null)
        {
            skipReason = "busybox-static is not installed (.ci/run installs it)";
            return;
        }

        var environment = new Dictionary<string, string>(Tools.ScriptEnvironment);
        string[] from = WharfCommand.Binary is { } binary ? ["--published", Path.GetDirectoryName(binary)!] : [];
        var build = await ProcessRunner.RunAsync(
            "bash",
            [Path.Combine(RepositoryRoot(), "packaging", "build-image"), .. from, "--tag", Image, "--work", work],
            TimeSpan.FromMinutes(from.Length > 0 ? 5 : 20),
            environment);
        build.EnsureSuccess();
        ImageId = build.StandardOutput.Trim().Split('\n')[^1].Trim();
    }

    /// <summary>Skips (or in CI fails) a test when a tool the image needs is missing.</summary>
    public void EnsureAvailable()
    {
        if (skipReason is not null)
        {
            Requires.Missing(skipReason);
        }
    }

    public Task<ProcessResult> PodmanAsync(params string[] args) => Tools.PodmanAsync(args);

    /// <summary>A named volume, removed with the fixture.</summary>
    public async Task<string> CreateVolumeAsync()
    {
        var name = "wharf-image-data-" + Guid.NewGuid().ToString("N")[..8];
        (await PodmanAsync("volume", "create", name)).EnsureSuccess();
        volumes.Add(name);
        return name;
    }

    /// <summary>
    /// <c>podman run -d</c> of the image with <paramref name="volume"/> on /var/lib/wharf and both ports
    /// published on 127.0.0.1, with the image's own command unless <paramref name="command"/> is given;
    /// returns once <c>/health/ready</c> answers 200 (over HTTPS unless the command has --allow-plain-http).
    /// </summary>
    public async Task<RunningContainer> RunAsync(string volume, params string[] command)
    {
        var name = "wharf-image-" + Guid.NewGuid().ToString("N")[..8];
        var port = Ports.Free();
        var publicPort = Ports.Free();
        var run = await PodmanAsync([
            "run", "-d", "--name", name, .. SandboxArgs(),
            "-v", volume + ":/var/lib/wharf",
            "-p", $"127.0.0.1:{port}:5000", "-p", $"127.0.0.1:{publicPort}:5001",
            Image, .. command]);
        run.EnsureSuccess();
        containers.Add(name);
        var container = new RunningContainer(name, port, publicPort, Tls: !command.Contains("--allow-plain-http"));

        // Only waiting here: the CA appears in the volume on first start, and the tests' clients verify
        // the certificate with it afterwards.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(container.BaseAddress, "health/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return container;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            var state = (await PodmanAsync("inspect", "--format", "{{.State.Running}}", name)).StandardOutput.Trim();
            if (state == "false")
            {
                var logs = await PodmanAsync("logs", name);
                Assert.Fail($"the container exited before it was ready:\n{logs.StandardOutput}{logs.StandardError}");
            }

            await Task.Delay(100);
        }

        var last = await PodmanAsync("logs", name);
        Assert.Fail($"the container was not ready within 90 s:\n{last.StandardOutput}{last.StandardError}");
        return container;
    }

    /// <summary>
    /// What podman needs to run a container as root in this sandbox, none of it about Wharf: runc, because
    /// crun refuses the host's hybrid cgroup v1/v2 layout; and open-file and process limits within this
    /// process's own, because without CAP_SYS_RESOURCE podman's default (1,048,576 open files) cannot be set.
    /// </summary>
    private static IEnumerable<string> SandboxArgs()
    {
        if (Requires.Which("runc") is not null || File.Exists("/usr/sbin/runc"))
        {
            yield return "--runtime";
            yield return "runc";
        }

        var files = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2];
        var openFiles = files == "unlimited" ? 65536 : Math.Min(long.Parse(files, CultureInfo.InvariantCulture), 65536);
        yield return "--ulimit";
        yield return $"nofile={openFiles}:{openFiles}";
        yield return "--ulimit";
        yield return "nproc=4096:4096";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var container in containers)
        {
            await PodmanAsync("rm", "-f", "-t", "0", container);
        }

        foreach (var volume in volumes)
        {
            await PodmanAsync("volume", "rm", "-f", volume);
        }

        if (skipReason is null)
        {
            await PodmanAsync("rmi", "-f", Image);
        }

        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
    }
}

public sealed record RunningContainer(string Name, int Port, int PublicPort, bool Tls)
{
    public Uri BaseAddress => new($"{(Tls ? "https" : "http")}://127.0.0.1:{Port}/");

    public string Registry => $"127.0.0.1:{Port}";
}
