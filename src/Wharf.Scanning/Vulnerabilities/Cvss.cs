namespace Wharf.Scanning.Vulnerabilities;

/// <summary>
/// CVSS base scores from vectors, as the FIRST specifications define them: v3.0/v3.1 (with 3.1's
/// Roundup) and v2. A vector that is not well-formed has no score.
/// </summary>
public static class Cvss
{
    /// <summary>The base score of a <c>CVSS:3.x/…</c> or v2 (<c>AV:N/AC:L/Au:N/…</c>) vector; null when malformed.</summary>
    public static double? BaseScore(string vector)
    {
        var metrics = vector.Split('/').Select(p => p.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return metrics.TryGetValue("CVSS", out var version) && version.StartsWith('3') ? V3(metrics, version == "3.1")
            : metrics.ContainsKey("Au") ? V2(metrics)
            : null;
    }

    /// <summary>The qualitative rating of a v3 score (v2 scores use the same bands here, as NVD's v3 rating does).</summary>
    public static string Rating(double score) => score switch
    {
        0 => "INFORMATIONAL",
        < 4.0 => "LOW",
        < 7.0 => "MEDIUM",
        < 9.0 => "HIGH",
        _ => "CRITICAL",
    };

    private static double? V3(Dictionary<string, string> m, bool v31)
    {
        if (!m.TryGetValue("S", out var scope) || scope is not ("U" or "C"))
        {
            return null;
        }

        var changed = scope == "C";
        double? av = m.GetValueOrDefault("AV") switch { "N" => 0.85, "A" => 0.62, "L" => 0.55, "P" => 0.2, _ => null };
        double? ac = m.GetValueOrDefault("AC") switch { "L" => 0.77, "H" => 0.44, _ => null };
        double? pr = m.GetValueOrDefault("PR") switch { "N" => 0.85, "L" => changed ? 0.68 : 0.62, "H" => changed ? 0.5 : 0.27, _ => null };
        double? ui = m.GetValueOrDefault("UI") switch { "N" => 0.85, "R" => 0.62, _ => null };
        double? Cia(string key) => m.GetValueOrDefault(key) switch { "H" => 0.56, "L" => 0.22, "N" => 0, _ => null };
        var (c, i, a) = (Cia("C"), Cia("I"), Cia("A"));
        if (av is null || ac is null || pr is null || ui is null || c is null || i is null || a is null)
        {
            return null;
        }

        var iss = 1 - ((1 - c.Value) * (1 - i.Value) * (1 - a.Value));
        var impact = changed ? (7.52 * (iss - 0.029)) - (3.25 * Math.Pow(iss - 0.02, 15)) : 6.42 * iss;
        var exploitability = 8.22 * av.Value * ac.Value * pr.Value * ui.Value;
        if (impact <= 0)
        {
            return 0;
        }

        var raw = changed ? Math.Min(1.08 * (impact + exploitability), 10) : Math.Min(impact + exploitability, 10);
        return v31 ? Roundup31(raw) : Math.Ceiling(raw * 10) / 10;
    }

    // CVSS 3.1 Appendix A: Roundup avoids floating-point surprises.
    private static double Roundup31(double value)
    {
        var integer = (long)Math.Round(value * 100_000);
        return integer % 10_000 == 0 ? integer / 100_000.0 : (Math.Floor(integer / 10_000.0) + 1) / 10.0;
    }

    private static double? V2(Dictionary<string, string> m)
    {
        double? av = m.GetValueOrDefault("AV") switch { "L" => 0.395, "A" => 0.646, "N" => 1.0, _ => null };
        double? ac = m.GetValueOrDefault("AC") switch { "H" => 0.35, "M" => 0.61, "L" => 0.71, _ => null };
        double? au = m.GetValueOrDefault("Au") switch { "M" => 0.45, "S" => 0.56, "N" => 0.704, _ => null };
        double? Cia(string key) => m.GetValueOrDefault(key) switch { "N" => 0, "P" => 0.275, "C" => 0.660, _ => null };
        var (c, i, a) = (Cia("C"), Cia("I"), Cia("A"));
        if (av is null || ac is null || au is null || c is null || i is null || a is null)
        {
            return null;
        }

        var impact = 10.41 * (1 - ((1 - c.Value) * (1 - i.Value) * (1 - a.Value)));
        var exploitability = 20 * av.Value * ac.Value * au.Value;
        var f = impact == 0 ? 0 : 1.176;
        return Math.Round((((0.6 * impact) + (0.4 * exploitability)) - 1.5) * f, 1, MidpointRounding.AwayFromZero);
    }
}
