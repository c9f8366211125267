namespace Wharf.Testing;

/// <summary>
/// How tests run the <c>wharf</c> command in a process of its own (<c>serve</c> nodes, <c>admin</c>, <c>gc</c>,
/// <c>check</c>…): the build's <c>dotnet wharf.dll</c> beside the test assembly, or, when the
/// <c>WHARF_TEST_BINARY</c> variable names one, that executable. <c>.ci/run</c> sets it to the Native AOT publish
/// it makes, the form the container image ships, so every such test runs the shipped binary.
/// </summary>
public static class WharfCommand
{
    public const string BinaryVariable = "WHARF_TEST_BINARY";

    /// <summary>The published executable the tests run, if <see cref="BinaryVariable"/> names one.</summary>
    public static string? Binary { get; } = Resolve();

    /// <summary>The program to start: the executable, or <c>dotnet</c>.</summary>
    public static string FileName => Binary ?? "dotnet";

    /// <summary>The arguments before <c>wharf</c>'s own: the build's <c>wharf.dll</c> for <c>dotnet</c>, none for an executable.</summary>
    public static IReadOnlyList<string> Prefix { get; } =
        Binary is null ? [Path.Combine(AppContext.BaseDirectory, "wharf.dll")] : [];

    /// <summary>Runs <c>wharf</c> with these arguments (see <see cref="ProcessRunner.RunAsync"/>).</summary>
    public static Task<ProcessResult> RunAsync(
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        IDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        string? standardInput = null,
        CancellationToken cancellationToken = default) =>
        ProcessRunner.RunAsync(FileName, [.. Prefix, .. arguments], timeout, environment, workingDirectory, standardInput, cancellationToken);

    /// <summary>A start description for <c>wharf</c> with these arguments, output redirected, for a long-running process.</summary>
    public static System.Diagnostics.ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in Prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private static string? Resolve()
    {
        var path = Environment.GetEnvironmentVariable(BinaryVariable);
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        // A set variable that names nothing is a broken run, not a reason to test something else quietly.
        return File.Exists(path)
            ? Path.GetFullPath(path)
            : throw new InvalidOperationException($"{BinaryVariable}={path}: no such file");
    }
}
