using System.Text.Json;
using System.Text.RegularExpressions;
using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Packages;
using Wharf.Scanning.Vulnerabilities;

namespace Wharf.Scanning.Registry;

/// <summary>
/// Scans one stored image: reads its layers from the blob store as they are stored, lists its packages,
/// matches them with the vulnerability database and returns the outcome to record. An index is scanned
/// as the union of its platform images (each finding names its platform). A hostile or unreadable layer
/// fails the scan (<c>FAILED</c>, with the reason); an image Wharf cannot analyse is <c>UNSUPPORTED_IMAGE</c>.
/// </summary>
public sealed partial class ImageScanner(IMetadataStore store, IBlobVault vault, TimeProvider time, LayerLimits limits)
{
    /// <summary>The outcome, or null when the image (or its repository <paramref name="key"/>, id <paramref name="repositoryId"/>) is gone.</summary>
    public async Task<ScanOutcome?> ScanAsync(long repositoryId, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        // Layers are read under the repository's key (its sealed copies, or plaintext from before encryption).
        var repository = await store.Repositories.GetAsync(key, cancellationToken);
        var manifest = repository?.Id == repositoryId ? await store.Images.GetManifestAsync(repositoryId, digest, cancellationToken) : null;
        if (manifest is null)
        {
            return null;
        }

        var scope = BlobScope.Of(repository!.Settings);

        var sources = await store.Vulnerabilities.ListSourcesAsync(cancellationToken);
        var sourceUpdatedAt = sources.Select(s => s.UpdatedAt).Max();
        var databaseAt = sources.Count > 0 ? sources.Max(s => s.ImportedAt) : (DateTimeOffset?)null;
        ScanOutcome Outcome(string status, string? description, IReadOnlyList<ScanFinding> findings) =>
            new(status, description, time.GetUtcNow(), sourceUpdatedAt, databaseAt, findings);

        try
        {
            if (!MediaTypes.IsIndex(manifest.MediaType))
            {
                var (findings, unsupported, skipped) = await ScanImageAsync(scope, manifest, null, cancellationToken);
                return unsupported is null
                    ? Outcome(ScanStatuses.Complete, "The scan was completed successfully." + (skipped is null ? string.Empty : " " + skipped), findings)
                    : Outcome(ScanStatuses.Unsupported, unsupported, []);
            }

            var all = new List<ScanFinding>();
            var reasons = new List<string>();
            var notes = new List<string>();
            var scanned = 0;
            foreach (var (child, platform) in Children(manifest.Content))
            {
                var childManifest = await store.Images.GetManifestAsync(repositoryId, child, cancellationToken);
                if (childManifest is null || platform is null)
                {
                    continue; // attestation manifests (platform unknown/unknown) and absent children are not images to scan
                }

                var (findings, unsupported, skipped) = await ScanImageAsync(scope, childManifest, platform, cancellationToken);
                all.AddRange(findings);
                if (unsupported is null)
                {
                    scanned++;
                    if (skipped is not null)
                    {
                        notes.Add($"{platform}: {skipped}");
                    }
                }
                else
                {
                    reasons.Add($"{platform}: {unsupported}");
                }
            }

            // One scanned platform makes the index's scan complete; the ones that could not be say so.
            return scanned > 0
                ? Outcome(ScanStatuses.Complete, "The scan was completed successfully." + (reasons.Count > 0 ? $" Not scanned: {string.Join("; ", reasons)}" : string.Empty) + string.Concat(notes.Select(n => " " + n)), Order(all))
                : Outcome(ScanStatuses.Unsupported, reasons.Count > 0 ? string.Join("; ", reasons) : "UnsupportedImageError: the index lists no platform image to scan.", []);
        }
        catch (LayerRejectedException e)
        {
            return Outcome(ScanStatuses.Failed, $"The image could not be scanned: {e.Message}", []);
        }
        catch (MissingLayerException e)
        {
            return Outcome(ScanStatuses.Failed, $"The image could not be scanned: layer {e.Message} is missing from storage.", []);
        }
    }

    /// <summary>The image's findings, or why it is unsupported; and, when some of its files were past a limit, a note saying which.</summary>
    private async Task<(IReadOnlyList<ScanFinding> Findings, string? Unsupported, string? Skipped)> ScanImageAsync(BlobScope scope, ManifestRecord manifest, string? platform, CancellationToken cancellationToken)
    {
        if (!MediaTypes.IsManifest(manifest.MediaType))
        {
            return ([], $"UnsupportedImageError: '{manifest.MediaType}' is not an image manifest.", null);
        }

        using var document = JsonDocument.Parse(manifest.Content);
        var root = document.RootElement;
        var configType = root.TryGetProperty("config", out var config) && config.TryGetProperty("mediaType", out var ct) ? ct.GetString() : null;
        if (!MediaTypes.IsImageConfig(configType))
        {
            return ([], $"UnsupportedImageError: the artifact's config type '{configType}' is not a container image's.", null);
        }

        var layers = new List<ImageLayer>();
        foreach (var layer in root.TryGetProperty("layers", out var array) ? array.EnumerateArray() : default)
        {
            var mediaType = layer.TryGetProperty("mediaType", out var mt) ? mt.GetString() ?? string.Empty : string.Empty;
            var layerDigest = Digest.Parse(layer.GetProperty("digest").GetString()!);
            if (mediaType.Contains(".foreign.", StringComparison.Ordinal))
            {
                continue; // foreign layers (Windows base images) are not stored here
            }

            if (!mediaType.Contains("tar", StringComparison.Ordinal))
            {
                return ([], $"UnsupportedImageError: layer {layerDigest} has media type '{mediaType}', which is not a tar archive.", null);
            }

            layers.Add(new ImageLayer(layerDigest.ToString(), async ct => await vault.OpenReadAsync(scope, layerDigest, 0, null, ct) ?? throw new MissingLayerException(layerDigest.ToString())));
        }

        var inventory = await ImageAnalyzer.AnalyzeAsync(layers, limits, cancellationToken);
        if (!inventory.Supported)
        {
            return ([], $"UnsupportedImageError: The operating system and/or package manager are not supported: {inventory.UnsupportedReason}.", null);
        }

        var index = await AdvisoryLookup.LoadAsync(store.Vulnerabilities, inventory, cancellationToken);
        var findings = VulnerabilityMatcher.Match(inventory, index).Select(f => ToFinding(f, platform));
        return (Order(findings), null, inventory.SkippedNote());
    }

    /// <summary>One finding per vulnerability and package, the most severe first.</summary>
    private static List<ScanFinding> Order(IEnumerable<ScanFinding> findings) =>
        [.. findings
            .GroupBy(f => (f.Name, f.Package, f.Version, f.FilePath, f.Platform))
            .Select(g => g.OrderBy(f => f.FixedInVersion is null).First())
            .OrderByDescending(f => Rank(f.Severity))
            .ThenBy(f => f.Name, StringComparer.Ordinal)
            .ThenBy(f => f.Package, StringComparer.Ordinal)
            .ThenBy(f => f.Platform, StringComparer.Ordinal)];

    private static int Rank(string severity) => severity switch
    {
        "CRITICAL" => 5,
        "HIGH" => 4,
        "MEDIUM" => 3,
        "LOW" => 2,
        "INFORMATIONAL" => 1,
        _ => 0,
    };

    private static ScanFinding ToFinding(Finding finding, string? platform)
    {
        var advisory = finding.Advisory;
        var package = finding.Package;
        var name = VulnerabilityName(advisory);
        var v2 = advisory.Vector("CVSS_V2");
        var v3 = advisory.Vector("CVSS_V3");
        return new ScanFinding(
            name,
            name == advisory.Id ? null : advisory.Id,
            advisory.Details ?? advisory.Summary,
            Uri(advisory, name, finding.Ecosystem),
            finding.Severity,
            package.Name,
            package.Version,
            package.SourceName is { } source && source != package.Name ? source : null,
            PackageManager(package),
            package.Path,
            package.LayerDigest,
            finding.FixedIn,
            v2,
            v2 is null ? null : Cvss.BaseScore(v2),
            v3,
            v3 is null ? null : Cvss.BaseScore(v3),
            Source(advisory.Id, finding.Ecosystem),
            advisory.References,
            platform);
    }

    /// <summary>ECR names findings by CVE: the advisory's own id, the CVE in a distribution's id (<c>DEBIAN-CVE-…</c>), or a CVE alias.</summary>
    private static string VulnerabilityName(OsvAdvisory advisory)
    {
        if (advisory.Id.StartsWith("CVE-", StringComparison.Ordinal))
        {
            return advisory.Id;
        }

        var embedded = EmbeddedCve().Match(advisory.Id);
        return embedded.Success ? embedded.Value : advisory.Aliases.FirstOrDefault(a => a.StartsWith("CVE-", StringComparison.Ordinal)) ?? advisory.Id;
    }

    private static string? Uri(OsvAdvisory advisory, string name, string ecosystem) =>
        name.StartsWith("CVE-", StringComparison.Ordinal) && ecosystem.StartsWith("Debian", StringComparison.Ordinal) ? $"https://security-tracker.debian.org/tracker/{name}"
        : name.StartsWith("CVE-", StringComparison.Ordinal) && ecosystem.StartsWith("Ubuntu", StringComparison.Ordinal) ? $"https://ubuntu.com/security/{name}"
        : advisory.References.Count > 0 ? advisory.References[0] : $"https://osv.dev/vulnerability/{advisory.Id}";

    private static string Source(string id, string ecosystem) =>
        id.StartsWith("GHSA-", StringComparison.Ordinal) ? "GITHUB"
        : id.StartsWith("GO-", StringComparison.Ordinal) ? "GO"
        : id.StartsWith("PYSEC-", StringComparison.Ordinal) ? "PYPA"
        : id.StartsWith("RUSTSEC-", StringComparison.Ordinal) ? "RUSTSEC"
        : ecosystem.StartsWith("Debian", StringComparison.Ordinal) ? "DEBIAN"
        : ecosystem.StartsWith("Ubuntu", StringComparison.Ordinal) ? "UBUNTU"
        : ecosystem.StartsWith("Alpine", StringComparison.Ordinal) ? "ALPINE"
        : "OSV";

    /// <summary>Amazon Inspector's <c>packageManager</c> for where the package was found.</summary>
    private static string PackageManager(InstalledPackage package) => package.Manager switch
    {
        "dpkg" or "apk" or "rpm" => "OS",
        "npm" => package.Path.EndsWith("package-lock.json", StringComparison.Ordinal) ? "NPM" : "NODEPKG",
        "PyPI" => package.Path.EndsWith("poetry.lock", StringComparison.Ordinal) ? "POETRY" : package.Path.EndsWith(".txt", StringComparison.Ordinal) ? "PIP" : "PYTHONPKG",
        "NuGet" => package.Path.EndsWith("packages.lock.json", StringComparison.Ordinal) ? "NUGET" : "DOTNET_CORE",
        "crates.io" => "CARGO",
        "Go" => "GOBINARY",
        "Maven" => "JAR",
        _ => package.Manager.ToUpperInvariant(),
    };

    private static List<(Digest Digest, string? Platform)> Children(byte[] content)
    {
        using var document = JsonDocument.Parse(content);
        var list = new List<(Digest Digest, string? Platform)>();
        foreach (var child in document.RootElement.TryGetProperty("manifests", out var manifests) ? manifests.EnumerateArray() : default)
        {
            string? platform = null;
            if (child.TryGetProperty("platform", out var p) && p.TryGetProperty("os", out var os) && p.TryGetProperty("architecture", out var arch)
                && os.GetString() is { } o && o != "unknown" && arch.GetString() is { } a && a != "unknown")
            {
                platform = p.TryGetProperty("variant", out var variant) && variant.GetString() is { Length: > 0 } v ? $"{o}/{a}/{v}" : $"{o}/{a}";
            }

            list.Add((Digest.Parse(child.GetProperty("digest").GetString()!), platform));
        }

        return list;
    }

    [GeneratedRegex(@"CVE-\d{4}-\d{4,}$")]
    private static partial Regex EmbeddedCve();

    private sealed class MissingLayerException(string digest) : Exception(digest);
}
