using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Wharf.Scanning.Versions;

/// <summary>
/// Semantic Versioning 2.0.0 precedence (npm, NuGet, Cargo, Go modules): numeric core, then a version
/// with a pre-release below the same without; pre-release identifiers compared one by one — numeric
/// ones as numbers and below alphanumeric ones, which compare in ASCII order — and more identifiers
/// above fewer; build metadata ignored. Accepted leniently as ecosystems write them: a leading
/// <c>v</c> (Go), one to four numeric parts (NuGet's fourth), missing parts as 0.
/// </summary>
public static partial class SemanticVersion
{
    public static bool IsValid(string version) => Grammar().IsMatch(version.Trim());

    public static int Compare(string a, string b)
    {
        var (coreA, preA) = Parse(a);
        var (coreB, preB) = Parse(b);
        for (var i = 0; i < 4; i++)
        {
            var c = coreA[i].CompareTo(coreB[i]);
            if (c != 0)
            {
                return c;
            }
        }

        if (preA.Length == 0 || preB.Length == 0)
        {
            return preA.Length == preB.Length ? 0 : preA.Length == 0 ? 1 : -1;
        }

        for (var i = 0; i < Math.Min(preA.Length, preB.Length); i++)
        {
            var numericA = BigInteger.TryParse(preA[i], NumberStyles.None, CultureInfo.InvariantCulture, out var na);
            var numericB = BigInteger.TryParse(preB[i], NumberStyles.None, CultureInfo.InvariantCulture, out var nb);
            var c = numericA && numericB ? na.CompareTo(nb)
                : numericA ? -1
                : numericB ? 1
                : string.CompareOrdinal(preA[i], preB[i]);
            if (c != 0)
            {
                return c < 0 ? -1 : 1;
            }
        }

        return preA.Length.CompareTo(preB.Length);
    }

    private static (BigInteger[] Core, string[] PreRelease) Parse(string version)
    {
        var match = Grammar().Match(version.Trim());
        if (!match.Success)
        {
            // Lenient: whatever numbers lead, then the rest as one pre-release identifier.
            var digits = LeadingNumbers().Match(version.Trim().TrimStart('v', 'V'));
            var parts = digits.Value.Split('.', StringSplitOptions.RemoveEmptyEntries).Take(4).Select(p => BigInteger.Parse(p, CultureInfo.InvariantCulture)).ToList();
            var rest = version.Trim().TrimStart('v', 'V')[digits.Length..].TrimStart('-', '.');
            return ([.. parts, .. Enumerable.Repeat(BigInteger.Zero, 4 - parts.Count)], rest.Length == 0 ? [] : [rest]);
        }

        var core = match.Groups["core"].Value.Split('.').Select(p => BigInteger.Parse(p, CultureInfo.InvariantCulture)).ToList();
        var pre = match.Groups["pre"].Success ? match.Groups["pre"].Value.Split('.') : [];
        return ([.. core, .. Enumerable.Repeat(BigInteger.Zero, 4 - core.Count)], pre);
    }

    [GeneratedRegex(@"^[vV]?(?<core>\d+(?:\.\d+){0,3})(?:-(?<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Grammar();

    [GeneratedRegex(@"^\d+(?:\.\d+)*", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingNumbers();
}
