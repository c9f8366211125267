using System.Text;
using Wharf.Scanning.Layers;

namespace Wharf.Scanning.Packages;

/// <summary>The distribution an image is built on, from <c>os-release</c>.</summary>
/// <param name="Id">The distribution's id (<c>debian</c>, <c>ubuntu</c>, <c>alpine</c>, <c>rhel</c>, …).</param>
/// <param name="VersionId">Its release (<c>12</c>, <c>22.04</c>, <c>3.20.1</c>), if given.</param>
/// <param name="Codename">Its codename (<c>bookworm</c>), if given.</param>
/// <param name="PrettyName">What it calls itself.</param>
public sealed record OsInfo(string Id, string? VersionId, string? Codename, string PrettyName);

/// <summary>A package installed in an image, where its database says so, and the layer that put that database there.</summary>
/// <param name="Manager"><c>dpkg</c>, <c>apk</c>, <c>rpm</c>, or a language ecosystem.</param>
/// <param name="Name">The binary package's name.</param>
/// <param name="Version">Its installed version.</param>
/// <param name="SourceName">The source package it was built from (Debian advisories are per source package; rpm's source rpm), when different or known.</param>
/// <param name="SourceVersion">The source package's version, when it differs from <paramref name="Version"/>.</param>
/// <param name="Path">The file that lists it.</param>
/// <param name="LayerDigest">The layer that brought that file.</param>
public sealed record InstalledPackage(string Manager, string Name, string Version, string? SourceName, string? SourceVersion, string Path, string LayerDigest)
{
    /// <summary>The name advisories in <paramref name="ecosystem"/> use: the source package's, except in AlmaLinux's.</summary>
    /// <remarks>
    /// Debian, Ubuntu, Alpine and Rocky Linux publish by source package (Rocky's OSV exporter writes only
    /// the advisory's <c>src</c> rpms). AlmaLinux's records list each binary rpm instead (<c>openssl</c>,
    /// <c>openssl-libs</c>, <c>openssl-devel</c>), though OSV's schema describes them as source names;
    /// looking up the source rpm there would miss every subpackage named apart from it.
    /// </remarks>
    public string AdvisoryName(string ecosystem) =>
        ecosystem.Split(':')[0] == "AlmaLinux" ? Name : SourceName ?? Name;

    /// <summary>The version advisories compare: the binary's, unless its source package's differs.</summary>
    public string AdvisoryVersion => SourceVersion ?? Version;
}

/// <summary>Reads <c>os-release</c> and the OS package databases: dpkg's status (and <c>status.d/</c>) and apk's installed database.</summary>
public static class OsPackages
{
    public const string DpkgStatus = "var/lib/dpkg/status";
    public const string DpkgStatusDirectory = "var/lib/dpkg/status.d/";
    public const string ApkInstalled = "lib/apk/db/installed";
    public static readonly string[] RpmLegacy = ["var/lib/rpm/Packages", "var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"];
    public static readonly string[] OsRelease = ["etc/os-release", "usr/lib/os-release"];

    /// <summary>Whether the analyser needs this file's content.</summary>
    public static bool Wanted(string path) =>
        OsRelease.Contains(path) || path == DpkgStatus || path == ApkInstalled || RpmPackages.SqlitePaths.Contains(path) || RpmLegacy.Contains(path)
        || (path.StartsWith(DpkgStatusDirectory, StringComparison.Ordinal) && !path.EndsWith(".md5sums", StringComparison.Ordinal));

    /// <summary>The distribution from <c>etc/os-release</c> (or <c>usr/lib/os-release</c>); null when neither is there or names no <c>ID</c>.</summary>
    public static OsInfo? ReadOs(ImageFiles files)
    {
        var file = OsRelease.Select(files.Get).FirstOrDefault(f => f is not null);
        if (file is null)
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(file.Content).Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && !line.TrimStart().StartsWith('#'))
            {
                fields[line[..eq].Trim()] = Unquote(line[(eq + 1)..].Trim());
            }
        }

        return fields.TryGetValue("ID", out var id) && id.Length > 0
            ? new OsInfo(id.ToLowerInvariant(), fields.GetValueOrDefault("VERSION_ID"), fields.GetValueOrDefault("VERSION_CODENAME"), fields.GetValueOrDefault("PRETTY_NAME") ?? id)
            : null;
    }

    /// <summary>Installed packages from dpkg's status file and from <c>status.d/</c> (distroless images keep one file per package there).</summary>
    public static IEnumerable<InstalledPackage> ReadDpkg(ImageFiles files) =>
        files.Files
            .Where(f => f.Path == DpkgStatus || f.Path.StartsWith(DpkgStatusDirectory, StringComparison.Ordinal))
            .SelectMany(f => Stanzas(Encoding.UTF8.GetString(f.Content)).Select(s => Dpkg(s, f)).OfType<InstalledPackage>());

    /// <summary>Installed packages from apk's database: <c>P:</c> name, <c>V:</c> version, <c>o:</c> origin (source) package.</summary>
    public static IEnumerable<InstalledPackage> ReadApk(ImageFiles files)
    {
        if (files.Get(ApkInstalled) is not { } file)
        {
            yield break;
        }

        foreach (var block in Encoding.UTF8.GetString(file.Content).Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n"))
        {
            string? name = null, version = null, origin = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.Length < 2 || line[1] != ':')
                {
                    continue;
                }

                switch (line[0])
                {
                    case 'P':
                        name = line[2..];
                        break;
                    case 'V':
                        version = line[2..];
                        break;
                    case 'o':
                        origin = line[2..];
                        break;
                }
            }

            if (name is not null && version is not null)
            {
                yield return new InstalledPackage("apk", name, version, origin, null, file.Path, file.LayerDigest);
            }
        }
    }

    private static InstalledPackage? Dpkg(Dictionary<string, string> stanza, ImageFile file)
    {
        if (!stanza.TryGetValue("Package", out var name) || !stanza.TryGetValue("Version", out var version))
        {
            return null;
        }

        // The status file keeps removed and half-configured packages too; only installed ones count.
        // (status.d files of distroless images carry no Status field: they are installed.)
        if (stanza.TryGetValue("Status", out var status) && !status.EndsWith(" installed", StringComparison.Ordinal))
        {
            return null;
        }

        string? sourceName = null, sourceVersion = null;
        if (stanza.TryGetValue("Source", out var source))
        {
            // "Source: name" or "Source: name (version)" when the source version differs.
            var paren = source.IndexOf('(', StringComparison.Ordinal);
            sourceName = (paren < 0 ? source : source[..paren]).Trim();
            sourceVersion = paren < 0 ? null : source[(paren + 1)..].TrimEnd(')', ' ');
        }

        return new InstalledPackage("dpkg", name, version, sourceName ?? name, sourceVersion, file.Path, file.LayerDigest);
    }

    // RFC 822-style stanzas separated by blank lines; continuation lines (leading space) belong to the field before.
    private static IEnumerable<Dictionary<string, string>> Stanzas(string text)
    {
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (raw.Length == 0)
            {
                if (current.Count > 0)
                {
                    yield return current;
                }

                current = new Dictionary<string, string>(StringComparer.Ordinal);
                continue;
            }

            if (raw[0] is ' ' or '\t')
            {
                continue; // a continuation (descriptions, conffiles): nothing the scanner reads
            }

            var colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                current[raw[..colon]] = raw[(colon + 1)..].Trim();
            }
        }

        if (current.Count > 0)
        {
            yield return current;
        }
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;
}
