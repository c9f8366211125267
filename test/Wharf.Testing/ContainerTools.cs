namespace Wharf.Testing;

/// <summary>
/// skopeo, podman and buildah as root in a sandbox: a private containers-storage (vfs driver, its own
/// root and runroot) per test run, cgroupfs and file events, TLS verification off for 127.0.0.1.
/// Nothing depends on the machine's container configuration.
/// </summary>
public sealed class ContainerTools
{
    private static readonly Lazy<ContainerTools> Shared = new(() => new ContainerTools(Path.Combine(Path.GetTempPath(), "wharf-containers-" + System.Environment.ProcessId)));

    private ContainerTools(string root)
    {
        Root = root;
        Directory.CreateDirectory(Path.Combine(root, "storage"));
        Directory.CreateDirectory(Path.Combine(root, "run"));
        Directory.CreateDirectory(Path.Combine(root, "tmp"));
        RegistriesConf = Path.Combine(root, "registries.conf");
        File.WriteAllText(RegistriesConf, "unqualified-search-registries = []\n");
        PolicyJson = Path.Combine(root, "policy.json");
        File.WriteAllText(PolicyJson, """{"default":[{"type":"insecureAcceptAnything"}]}""");
        StorageConf = Path.Combine(root, "storage.conf");
        File.WriteAllText(StorageConf, $"[storage]\ndriver = \"vfs\"\ngraphroot = \"{Path.Combine(root, "storage")}\"\nrunroot = \"{Path.Combine(root, "run")}\"\n");
    }

    public static ContainerTools Instance => Shared.Value;

    public string Root { get; }

    public string RegistriesConf { get; }

    public string PolicyJson { get; }

    /// <summary>The same storage as a <c>storage.conf</c>, for scripts that run buildah or podman without the flags.</summary>
    public string StorageConf { get; }

    /// <summary>
    /// The environment under which a script's own <c>buildah</c>/<c>podman</c>/<c>skopeo</c> calls use this
    /// run's storage and registries (<c>CONTAINERS_STORAGE_CONF</c>, <c>CONTAINERS_REGISTRIES_CONF</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> ScriptEnvironment
    {
        get
        {
            var environment = ToolEnvironment;
            environment["CONTAINERS_STORAGE_CONF"] = StorageConf;
            return environment;
        }
    }

    private Dictionary<string, string> ToolEnvironment => new()
    {
        ["CONTAINERS_REGISTRIES_CONF"] = RegistriesConf,
        ["TMPDIR"] = Path.Combine(Root, "tmp"),
        ["XDG_RUNTIME_DIR"] = Path.Combine(Root, "run"),
        ["STORAGE_DRIVER"] = "vfs",
    };

    private IEnumerable<string> StorageArgs =>
        ["--root", Path.Combine(Root, "storage"), "--runroot", Path.Combine(Root, "run"), "--storage-driver", "vfs"];

    public Task<ProcessResult> SkopeoAsync(params string[] args) =>
        ProcessRunner.RunAsync(Requires.Tool("skopeo"), ["--policy", PolicyJson, .. args], TimeSpan.FromMinutes(10), ToolEnvironment);

    /// <summary>skopeo with extra environment variables (a <c>PATH</c> with a credential helper, say).</summary>
    public Task<ProcessResult> SkopeoAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var merged = ToolEnvironment;
        foreach (var (key, value) in environment)
        {
            merged[key] = value;
        }

        return ProcessRunner.RunAsync(Requires.Tool("skopeo"), ["--policy", PolicyJson, .. args], TimeSpan.FromMinutes(10), merged);
    }

    public Task<ProcessResult> PodmanAsync(params string[] args) =>
        ProcessRunner.RunAsync(Requires.Tool("podman"), [.. StorageArgs, "--cgroup-manager=cgroupfs", "--events-backend=file", .. args], TimeSpan.FromMinutes(10), ToolEnvironment);

    public Task<ProcessResult> BuildahAsync(params string[] args) =>
        ProcessRunner.RunAsync(Requires.Tool("buildah"), [.. StorageArgs, .. args], TimeSpan.FromMinutes(10), ToolEnvironment);
}
