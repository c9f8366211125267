using Wharf.Core.Metadata;

namespace Wharf.Server.WebConsole.Images;

/// <summary>ECR's severities, most severe first, and how the console shows them (<c>.sev.&lt;level&gt;</c>).</summary>
internal static class Severities
{
    public static readonly IReadOnlyList<string> Order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"];

    /// <summary>0 for CRITICAL … 5 for UNDEFINED; anything else after them.</summary>
    public static int Rank(string? severity)
    {
        for (var i = 0; i < Order.Count; i++)
        {
            if (string.Equals(Order[i], severity, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return Order.Count;
    }

    /// <summary>The badge's class: one of the stylesheet's levels (an unknown severity is shown as undefined).</summary>
    public static string CssClass(string? severity) => Rank(severity) < Order.Count ? Order[Rank(severity)].ToLowerInvariant() : "undefined";

    /// <summary>"Critical", "Informational".</summary>
    public static string Label(string? severity) =>
        string.IsNullOrEmpty(severity) ? "Undefined" : string.Concat(severity[..1].ToUpperInvariant(), severity[1..].ToLowerInvariant());

    /// <summary>Most severe first; then the highest CVSS score, the vulnerability and the package.</summary>
    public static IReadOnlyList<ScanFinding> Sort(IEnumerable<ScanFinding> findings) =>
        [.. findings
            .OrderBy(f => Rank(f.Severity))
            .ThenByDescending(f => f.Cvss3Score ?? f.Cvss2Score ?? -1)
            .ThenBy(f => f.Name, StringComparer.Ordinal)
            .ThenBy(f => f.Package, StringComparer.Ordinal)];
}
