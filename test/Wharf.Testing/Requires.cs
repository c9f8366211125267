using System.Diagnostics.CodeAnalysis;

namespace Wharf.Testing;

/// <summary>
/// External parts a test needs (PostgreSQL, skopeo, Chromium, …). Missing locally: the test is
/// skipped with the reason. Missing when <c>CI=true</c>: the test fails, because CI must have it.
/// </summary>
public static class Requires
{
    public static bool InCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the full path of <paramref name="tool"/> on PATH, or skips/fails.</summary>
    public static string Tool(string tool)
    {
        var path = Which(tool);
        if (path is null)
        {
            Missing($"'{tool}' is not on PATH (.ci/run installs it)");
        }

        return path!;
    }

    /// <summary>Full path of an executable on PATH (or an absolute path that exists), else null.</summary>
    public static string? Which(string tool)
    {
        if (Path.IsPathRooted(tool))
        {
            return File.Exists(tool) ? tool : null;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Skips the test locally, fails it in CI.</summary>
    [DoesNotReturn]
    public static void Missing(string reason)
    {
        if (InCi)
        {
            Assert.Fail($"Required part missing in CI: {reason}");
        }

        Assert.Skip(reason);
    }
}
