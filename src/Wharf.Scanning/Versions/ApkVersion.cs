using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Wharf.Scanning.Versions;

/// <summary>
/// Alpine (apk) versions, <c>number{.number}[letter]{_suffix[number]}[-r number]</c>, compared as
/// apk-tools does: numbers component by component (more components is newer), then the letter (none
/// before any), then suffixes — <c>_alpha</c> &lt; <c>_beta</c> &lt; <c>_pre</c> &lt; <c>_rc</c> &lt;
/// none &lt; <c>_cvs</c> &lt; <c>_svn</c> &lt; <c>_git</c> &lt; <c>_hg</c> &lt; <c>_p</c> — then the
/// <c>-r</c> revision.
/// </summary>
public static partial class ApkVersion
{
    private static readonly string[] Suffixes = ["alpha", "beta", "pre", "rc", string.Empty, "cvs", "svn", "git", "hg", "p"];

    public static bool IsValid(string version) => Grammar().IsMatch(version);

    public static int Compare(string a, string b)
    {
        var x = Parse(a);
        var y = Parse(b);
        for (var i = 0; i < Math.Max(x.Numbers.Count, y.Numbers.Count); i++)
        {
            if (i >= x.Numbers.Count)
            {
                return -1;
            }

            if (i >= y.Numbers.Count)
            {
                return 1;
            }

            var c = x.Numbers[i].CompareTo(y.Numbers[i]);
            if (c != 0)
            {
                return c;
            }
        }

        var letter = x.Letter.CompareTo(y.Letter);
        if (letter != 0)
        {
            return letter;
        }

        for (var i = 0; i < Math.Max(x.Suffixes.Count, y.Suffixes.Count); i++)
        {
            var (rankA, numberA) = i < x.Suffixes.Count ? x.Suffixes[i] : (Array.IndexOf(Suffixes, string.Empty), BigInteger.Zero);
            var (rankB, numberB) = i < y.Suffixes.Count ? y.Suffixes[i] : (Array.IndexOf(Suffixes, string.Empty), BigInteger.Zero);
            var c = rankA != rankB ? rankA.CompareTo(rankB) : numberA.CompareTo(numberB);
            if (c != 0)
            {
                return c;
            }
        }

        return x.Revision.CompareTo(y.Revision);
    }

    private sealed record Parsed(List<BigInteger> Numbers, char Letter, List<(int Rank, BigInteger Number)> Suffixes, BigInteger Revision);

    private static Parsed Parse(string version)
    {
        var match = Grammar().Match(version.Trim());
        if (!match.Success)
        {
            // Not apk's grammar: the digit runs alone, so that nothing throws on odd input.
            return new Parsed(Digits().Matches(version).Select(m => BigInteger.Parse(m.Value, CultureInfo.InvariantCulture)).ToList(), '\0', [], BigInteger.Zero);
        }

        var numbers = match.Groups["numbers"].Value.Split('.').Select(n => BigInteger.Parse(n, CultureInfo.InvariantCulture)).ToList();
        var letter = match.Groups["letter"].Success ? match.Groups["letter"].Value[0] : '\0';
        var suffixes = match.Groups["suffix"].Captures
            .Select((capture, index) => (Array.IndexOf(Suffixes, capture.Value), match.Groups["sufnum"].Captures[index].Value is { Length: > 0 } n ? BigInteger.Parse(n, CultureInfo.InvariantCulture) : BigInteger.Zero))
            .ToList();
        var revision = match.Groups["revision"].Success ? BigInteger.Parse(match.Groups["revision"].Value, CultureInfo.InvariantCulture) : BigInteger.Zero;
        return new Parsed(numbers, letter, suffixes, revision);
    }

    [GeneratedRegex(@"^(?<numbers>\d+(?:\.\d+)*)(?<letter>[a-z])?(?:_(?<suffix>alpha|beta|pre|rc|cvs|svn|git|hg|p)(?<sufnum>\d*))*(?:-r(?<revision>\d+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Grammar();

    [GeneratedRegex(@"\d+", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();
}
