using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;

namespace Wharf.Scanning;

/// <summary>A layer to analyse: its digest and how to open it as stored.</summary>
public sealed record ImageLayer(string Digest, Func<CancellationToken, Task<Stream>> OpenAsync);

/// <summary>
/// What an image contains: its distribution (if any), its packages, and — when nothing could be
/// analysed — why (ECR's <c>UNSUPPORTED_IMAGE</c>).
/// </summary>
public sealed record ImageInventory(OsInfo? Os, IReadOnlyList<InstalledPackage> Packages, string? UnsupportedReason)
{
    public bool Supported => UnsupportedReason is null;

    /// <summary>Package databases and manifests the image has that were not read (past a limit of <see cref="LayerLimits"/>): their packages are not in <see cref="Packages"/>.</summary>
    public IReadOnlyList<SkippedFile> Skipped { get; init; } = [];

    /// <summary>A sentence naming what was not read and why (the first few files), or null when everything was.</summary>
    public string? SkippedNote()
    {
        if (Skipped.Count == 0)
        {
            return null;
        }

        const int Named = 3;
        var named = Skipped.Take(Named).Select(f => $"'{LayerReader.Shown(f.Path)}' ({f.Reason})");
        var more = Skipped.Count > Named ? $", and {Skipped.Count - Named} more" : string.Empty;
        return $"Not read, so their packages were not checked: {string.Join("; ", named)}{more}.";
    }
}

/// <summary>
/// Reads an image's layers in order, streamed, and lists its OS and language packages. An image from
/// <c>scratch</c> or of an unknown distribution is unsupported (as in ECR) unless it has language
/// packages; rpm databases are read in the SQLite format, and one in the BerkeleyDB or NDB format is
/// reported as unsupported.
/// </summary>
public static class ImageAnalyzer
{
    public static async Task<ImageInventory> AnalyzeAsync(IReadOnlyList<ImageLayer> layers, LayerLimits limits, CancellationToken cancellationToken)
    {
        var files = new ImageFiles();
        var kept = new KeptBytes(limits);
        foreach (var layer in layers)
        {
            await using var stream = await layer.OpenAsync(cancellationToken);
            var entries = LayerReader.ReadAsync(
                stream,
                (path, _) => OsPackages.Wanted(path) || LanguagePackages.Wanted(path),
                (BinaryPackages.Candidate, BinaryPackages.ExtractAsync),
                kept,
                cancellationToken);
            await files.ApplyAsync(layer.Digest, entries, cancellationToken);
        }

        var os = OsPackages.ReadOs(files);
        var packages = OsPackages.ReadDpkg(files).Concat(OsPackages.ReadApk(files)).Concat(LanguagePackages.Read(files)).ToList();
        string? rpmError = null;
        if (RpmPackages.SqlitePaths.Select(files.Get).FirstOrDefault(f => f is not null) is { } rpmdb)
        {
            (var rpms, rpmError) = RpmPackages.Read(rpmdb);
            packages.AddRange(rpms);
        }

        // Language packages make an image scannable whatever its base; OS packages only on a distribution
        // with advisories to match them against (else "no findings" would hide what was never checked).
        var matchable = packages.Count(p => OsvEcosystems.For(p, os) is not null);
        string? unsupported = null;
        if (matchable == 0 && rpmError is not null)
        {
            unsupported = rpmError;
        }
        else if (matchable == 0 && OsPackages.RpmLegacy.Any(p => files.Get(p) is not null))
        {
            unsupported = "the image's rpm database is in the BerkeleyDB or NDB format, which Wharf does not read (rpmdb.sqlite is read)";
        }
        else if (matchable == 0 && (os is null || OsvEcosystems.ForOs(os) is null))
        {
            unsupported = os is null
                ? "the image has no operating system (it is built from scratch or has no os-release) and no language packages Wharf reads"
                : $"the image's distribution '{os.PrettyName}' is not one Wharf scans, and it has no language packages Wharf reads";
        }

        var inventory = new ImageInventory(os, packages, unsupported) { Skipped = files.Skipped };
        return unsupported is not null && inventory.SkippedNote() is { } note ? inventory with { UnsupportedReason = $"{unsupported}. {note.TrimEnd('.')}" } : inventory;
    }
}

/// <summary>The OSV ecosystem of a distribution release, or of a package manager.</summary>
public static class OsvEcosystems
{
    /// <summary><c>Debian:12</c>, <c>Ubuntu:22.04:LTS</c>, <c>Alpine:v3.20</c>, <c>Rocky Linux:9</c>, <c>AlmaLinux:9</c>; null for a distribution Wharf does not scan.</summary>
    public static string? ForOs(OsInfo os)
    {
        var version = os.VersionId ?? string.Empty;
        var parts = version.Split('.');
        return os.Id switch
        {
            "debian" when parts[0].Length > 0 => $"Debian:{parts[0]}",
            "ubuntu" when parts.Length >= 2 => $"Ubuntu:{parts[0]}.{parts[1]}" + (parts[1] == "04" && int.TryParse(parts[0], out var year) && year % 2 == 0 ? ":LTS" : string.Empty),
            "alpine" when parts.Length >= 2 => $"Alpine:v{parts[0]}.{parts[1]}",
            "rocky" when parts[0].Length > 0 => $"Rocky Linux:{parts[0]}",
            "almalinux" when parts[0].Length > 0 => $"AlmaLinux:{parts[0]}",
            _ => null,
        };
    }

    /// <summary>The ecosystem a package is looked up in: its distribution's for OS packages, its own for language packages.</summary>
    public static string? For(InstalledPackage package, OsInfo? os) =>
        package.Manager is "dpkg" or "apk" or "rpm" ? (os is null ? null : ForOs(os)) : package.Manager;
}
