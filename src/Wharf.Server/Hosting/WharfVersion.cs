using System.Reflection;

namespace Wharf.Server.Hosting;

/// <summary>
/// This build's version and the commit it was built from. The build stamps the informational version
/// <c>version+commit</c> (<c>SourceRevisionId</c>, from <c>git rev-parse HEAD</c> in Directory.Build.props);
/// a build without git (from a tarball) has no commit, and says so.
/// </summary>
internal static class WharfVersion
{
    private static readonly string Informational =
        typeof(WharfVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The version without the commit, e.g. <c>0.1.0</c>.</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The full commit id, or null when the build had none.</summary>
    public static string? Commit { get; } = Informational.Split('+') is [_, var commit, ..] && commit.Length > 0 ? commit : null;

    /// <summary>The commit's first 12 characters, as <c>git log --abbrev=12</c> writes it, or null.</summary>
    public static string? ShortCommit => Commit is { Length: > 12 } c ? c[..12] : Commit;

    /// <summary>One line for people: <c>wharf 0.1.0 (commit abcdef123456)</c>.</summary>
    public static string Describe() => $"wharf {Version} ({(Commit is null ? "commit unknown: built without git" : $"commit {ShortCommit}")})";
}
