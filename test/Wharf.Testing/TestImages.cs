namespace Wharf.Testing;

/// <summary>
/// Images built locally once per test run, with no network: busybox from Debian's busybox-static via
/// buildah <c>FROM scratch</c> + <c>COPY</c>, and generated OCI layouts (multi-layer, one ≥ 1 GiB layer).
/// </summary>
public static class TestImages
{
    public const long LargeLayerSize = (1L << 30) + 12345;

    private const string RootPrefix = "wharf-images-";
    private static readonly string Root = CreateRoot();
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? busyboxArchive;
    private static LayoutImage? multiLayer;
    private static LayoutImage? large;

    /// <summary>The busybox image's name in the tests' containers-storage.</summary>
    public const string BusyboxLocalName = "localhost/wharf-test/busybox:1";

    /// <summary>Builds busybox into containers-storage and an <c>oci-archive</c>; returns the archive path.</summary>
    public static async Task<string> BusyboxArchiveAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (busyboxArchive is not null)
            {
                return busyboxArchive;
            }

            var busybox = Requires.Which("/bin/busybox") ?? Requires.Which("busybox");
            if (busybox is null)
            {
                Requires.Missing("busybox-static is not installed (.ci/run installs it)");
            }

            var tools = ContainerTools.Instance;
            var container = (await tools.BuildahAsync("from", "scratch")).EnsureSuccess().StandardOutput.Trim();
            (await tools.BuildahAsync("copy", container, busybox!, "/bin/busybox")).EnsureSuccess();
            (await tools.BuildahAsync("config", "--cmd", "[\"/bin/busybox\",\"sh\"]", "--arch", "amd64", "--os", "linux", container)).EnsureSuccess();
            (await tools.BuildahAsync("commit", "--rm", container, BusyboxLocalName)).EnsureSuccess();
            var archive = Path.Combine(Root, "busybox.tar");
            (await tools.BuildahAsync("push", BusyboxLocalName, "oci-archive:" + archive)).EnsureSuccess();
            busyboxArchive = archive;
            return archive;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>An image of three incompressible layers (3, 2 and 1 MiB plus a few bytes).</summary>
    public static Task<LayoutImage> MultiLayerAsync() =>
        BuildOnceAsync(() => multiLayer, v => multiLayer = v, "multi", [(3 << 20) + 7, (2 << 20) + 11, (1 << 20) + 13], 42);

    /// <summary>An image whose single layer is larger than 1 GiB, written streamed to disk.</summary>
    public static Task<LayoutImage> LargeAsync() =>
        BuildOnceAsync(() => large, v => large = v, "large", [LargeLayerSize], 7);

    private static async Task<LayoutImage> BuildOnceAsync(Func<LayoutImage?> get, Action<LayoutImage> set, string name, long[] sizes, ulong seed)
    {
        await Gate.WaitAsync();
        try
        {
            if (get() is { } existing)
            {
                return existing;
            }

            var image = await OciLayout.WriteImageAsync(Path.Combine(Root, name), "v1", sizes, seed);
            set(image);
            return image;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// This process's directory (a 1 GiB image lives there), removed when the process exits; directories that earlier
    /// test processes left behind (killed before they could remove theirs) are removed first.
    /// </summary>
    private static string CreateRoot()
    {
        foreach (var stale in Directory.EnumerateDirectories(Path.GetTempPath(), RootPrefix + "*"))
        {
            if (OperatingSystem.IsLinux() && int.TryParse(Path.GetFileName(stale)[RootPrefix.Length..], out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(stale);
            }
        }

        var root = Path.Combine(Path.GetTempPath(), RootPrefix + Environment.ProcessId);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another process's, or in use: left for the next run.
        }
    }
}
