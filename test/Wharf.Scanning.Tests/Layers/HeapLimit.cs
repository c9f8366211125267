using System.Runtime.CompilerServices;
using Wharf.Testing;

namespace Wharf.Scanning.Tests.Layers;

/// <summary>Runs a test's body in a child process with a hard GC heap limit, where holding more memory than allowed is an <see cref="OutOfMemoryException"/>.</summary>
public static class HeapLimit
{
    /// <summary>
    /// Runs the calling test again in a child process whose GC heap is capped at
    /// <paramref name="heapLimitBytes"/> (<c>DOTNET_GCHeapHardLimit</c>), and fails when the child fails:
    /// an analyser that held more would die there of an <see cref="OutOfMemoryException"/>. Returns true
    /// in the parent (the test is done), false in the child (run the test's body).
    /// </summary>
    public static async Task<bool> RanUnderHeapLimitAsync(Type test, long heapLimitBytes, [CallerMemberName] string method = "")
    {
        var name = $"{test.FullName}.{method}";
        if (Environment.GetEnvironmentVariable("WHARF_HEAP_LIMITED_TEST") == name)
        {
            return false;
        }

        var assembly = test.Assembly.Location;
        var result = await ProcessRunner.RunAsync(
            "dotnet",
            [assembly, "-method", name, "-parallel", "none", "-noColor"],
            TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["WHARF_HEAP_LIMITED_TEST"] = name, ["DOTNET_GCHeapHardLimit"] = $"0x{heapLimitBytes:x}" });
        Assert.True(result.ExitCode == 0, $"under a {heapLimitBytes >> 20} MiB heap, {name} failed:\n{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("Total: 1, Errors: 0, Failed: 0, Skipped: 0", result.StandardOutput, StringComparison.Ordinal);
        return true;
    }
}
