using System.Text.Json;
using Wharf.Scanning.Versions;

namespace Wharf.Scanning.Vulnerabilities;

/// <summary>One OSV range event: where affected versions start, end (fixed), or last are affected.</summary>
public sealed record OsvEvent(string? Introduced, string? Fixed, string? LastAffected);

/// <summary>One affected package of an advisory: its ecosystem and name, ranges of affected versions, listed versions.</summary>
public sealed record OsvAffected(string Ecosystem, string Name, IReadOnlyList<(string Type, IReadOnlyList<OsvEvent> Events)> Ranges, IReadOnlyList<string> Versions, string? Severity);

/// <summary>
/// An advisory in the OSV schema (ossf.github.io/osv-schema), the format Debian, Ubuntu, Alpine,
/// GitHub, Go, PyPI, npm and others export: id, aliases, summary, CVSS vectors, and the affected
/// packages with their ranges. Parsed leniently: unknown fields are ignored, a malformed record is
/// refused with <see cref="JsonException"/>.
/// </summary>
public sealed record OsvAdvisory(
    string Id,
    IReadOnlyList<string> Aliases,
    string? Summary,
    string? Details,
    DateTimeOffset? Modified,
    IReadOnlyList<(string Type, string Score)> Severity,
    IReadOnlyList<string> References,
    IReadOnlyList<OsvAffected> Affected,
    string? SourceSeverity)
{
    public static OsvAdvisory Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var id = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
            ? idElement.GetString()!
            : throw new JsonException("an OSV record needs an id");
        IReadOnlyList<string> Strings(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().Select(e => e.GetString()).OfType<string>().ToList() : [];
        string? Text(JsonElement parent, string name) => parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        var severity = root.TryGetProperty("severity", out var sev) && sev.ValueKind == JsonValueKind.Array
            ? sev.EnumerateArray().Select(s => (Text(s, "type") ?? string.Empty, Text(s, "score") ?? string.Empty)).ToList()
            : [];
        var references = root.TryGetProperty("references", out var refs) && refs.ValueKind == JsonValueKind.Array
            ? refs.EnumerateArray().Select(r => Text(r, "url")).OfType<string>().ToList()
            : [];
        var affected = new List<OsvAffected>();
        if (root.TryGetProperty("affected", out var aff) && aff.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in aff.EnumerateArray())
            {
                if (!a.TryGetProperty("package", out var package))
                {
                    continue;
                }

                var ranges = a.TryGetProperty("ranges", out var r) && r.ValueKind == JsonValueKind.Array
                    ? r.EnumerateArray().Select(range => (Text(range, "type") ?? string.Empty, (IReadOnlyList<OsvEvent>)(range.TryGetProperty("events", out var events)
                        ? events.EnumerateArray().Select(e => new OsvEvent(Text(e, "introduced"), Text(e, "fixed"), Text(e, "last_affected"))).ToList()
                        : []))).ToList()
                    : [];
                affected.Add(new OsvAffected(
                    Text(package, "ecosystem") ?? string.Empty,
                    Text(package, "name") ?? string.Empty,
                    ranges,
                    Strings(a, "versions"),
                    OwnSeverity(a)));
            }
        }

        return new OsvAdvisory(
            id,
            // Distribution advisories (DSA-…) name the CVEs they fix in "upstream"; findings are named by CVE.
            [.. Strings(root, "aliases"), .. Strings(root, "upstream")],
            Text(root, "summary"),
            Text(root, "details"),
            root.TryGetProperty("modified", out var modified) && modified.TryGetDateTimeOffset(out var m) ? m : null,
            severity,
            references,
            affected,
            OwnSeverity(root));
    }

    /// <summary>
    /// The advisory's severity for an ECR finding, as ECR rates it: the source's own rating when it
    /// gives one (GitHub's <c>database_specific.severity</c>, a distribution's priority such as Ubuntu's),
    /// else the band of the highest CVSS base score, else <c>UNDEFINED</c>.
    /// </summary>
    public string FindingSeverity(OsvAffected? affected = null)
    {
        var own = affected?.Severity ?? SourceSeverity;
        if (own is not null && Normalise(own) is { } rated)
        {
            return rated;
        }

        if (Severity.Where(s => !s.Type.StartsWith("CVSS", StringComparison.Ordinal)).Select(s => Normalise(s.Score)).OfType<string>().FirstOrDefault() is { } distro)
        {
            return distro;
        }

        var scores = Severity.Where(s => s.Type.StartsWith("CVSS", StringComparison.Ordinal)).Select(s => Cvss.BaseScore(s.Score)).OfType<double>().ToList();
        return scores.Count > 0 ? Cvss.Rating(scores.Max()) : "UNDEFINED";
    }

    /// <summary>The first CVSS vector of the given version prefix (<c>CVSS_V3</c>, <c>CVSS_V2</c>), if any.</summary>
    public string? Vector(string type) => Severity.FirstOrDefault(s => s.Type == type).Score;

    /// <summary>
    /// Whether <paramref name="version"/> of <paramref name="affected"/>'s package is affected: listed
    /// among its versions, or inside one of its <c>ECOSYSTEM</c>/<c>SEMVER</c> ranges (introduced ≤ v &lt;
    /// fixed, or ≤ last_affected), compared in the ecosystem's own order. Returns the fixed version of
    /// the range that matched, when there is one.
    /// </summary>
    public static (bool Affected, string? FixedIn) Matches(OsvAffected affected, string version)
    {
        var compare = VersionComparers.For(affected.Ecosystem);
        if (affected.Versions.Contains(version, StringComparer.Ordinal))
        {
            return (true, FixedFor(affected, version, compare));
        }

        if (compare is null)
        {
            return (false, null);
        }

        foreach (var (type, events) in affected.Ranges)
        {
            if (type is not ("ECOSYSTEM" or "SEMVER"))
            {
                continue;
            }

            // Events in order: each introduced opens an interval that the next fixed or last_affected closes.
            string? introduced = null;
            foreach (var e in events)
            {
                if (e.Introduced is { } start)
                {
                    introduced = start;
                }
                else if (introduced is not null && e.Fixed is { } fixedIn)
                {
                    if (AtLeast(version, introduced, compare) && compare(version, fixedIn) < 0)
                    {
                        return (true, fixedIn);
                    }

                    introduced = null;
                }
                else if (introduced is not null && e.LastAffected is { } last)
                {
                    if (AtLeast(version, introduced, compare) && compare(version, last) <= 0)
                    {
                        return (true, null);
                    }

                    introduced = null;
                }
            }

            if (introduced is not null && AtLeast(version, introduced, compare))
            {
                return (true, null); // open-ended: no fix yet
            }
        }

        return (false, null);
    }

    private static bool AtLeast(string version, string introduced, Comparison<string> compare) =>
        introduced == "0" || compare(version, introduced) >= 0;

    private static string? FixedFor(OsvAffected affected, string version, Comparison<string>? compare) =>
        compare is null ? null : affected.Ranges.SelectMany(r => r.Events).Select(e => e.Fixed).OfType<string>().Where(f => compare(version, f) < 0).Order(Comparer<string>.Create(compare)).FirstOrDefault();

    private static string? OwnSeverity(JsonElement element) =>
        element.TryGetProperty("database_specific", out var specific) && specific.ValueKind == JsonValueKind.Object
        && specific.TryGetProperty("severity", out var severity) && severity.ValueKind == JsonValueKind.String
            ? severity.GetString()
            : element.TryGetProperty("ecosystem_specific", out var eco) && eco.ValueKind == JsonValueKind.Object
              && eco.TryGetProperty("severity", out var ecoSeverity) && ecoSeverity.ValueKind == JsonValueKind.String
                ? ecoSeverity.GetString()
                : null;

    // Sources' own words for severity, in ECR's FindingSeverity.
    private static string? Normalise(string rating) => rating.Trim().ToUpperInvariant() switch
    {
        "CRITICAL" => "CRITICAL",
        "HIGH" or "IMPORTANT" => "HIGH",
        "MEDIUM" or "MODERATE" => "MEDIUM",
        "LOW" or "NEGLIGIBLE" => "LOW",
        "INFORMATIONAL" or "NONE" => "INFORMATIONAL",
        "UNIMPORTANT" => "INFORMATIONAL",
        _ => null,
    };
}
