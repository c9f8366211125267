using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Wharf.Scanning.Versions;

/// <summary>
/// Python versions as PEP 440 orders them: epoch, release (trailing zeros insignificant), then
/// developmental releases of a release before its pre-releases (<c>a</c> &lt; <c>b</c> &lt; <c>rc</c>),
/// before the release itself, before its post-releases; a <c>.dev</c> suffix sorts before what it is
/// appended to; a local label (<c>+…</c>) sorts after the same public version. Spellings are
/// normalised as PEP 440 says (<c>alpha</c>→a, <c>c</c>/<c>pre</c>/<c>preview</c>→rc, <c>-1</c>→post1, …).
/// </summary>
public static partial class Pep440Version
{
    public static bool IsValid(string version) => Grammar().IsMatch(version.Trim());

    public static int Compare(string a, string b)
    {
        var x = Key(a);
        var y = Key(b);
        var c = x.Epoch.CompareTo(y.Epoch);
        if (c != 0)
        {
            return c;
        }

        for (var i = 0; i < Math.Max(x.Release.Count, y.Release.Count); i++)
        {
            c = (i < x.Release.Count ? x.Release[i] : 0).CompareTo(i < y.Release.Count ? y.Release[i] : 0);
            if (c != 0)
            {
                return c;
            }
        }

        c = x.Pre.CompareTo(y.Pre);
        if (c != 0)
        {
            return c;
        }

        c = x.Post.CompareTo(y.Post);
        if (c != 0)
        {
            return c;
        }

        c = x.Dev.CompareTo(y.Dev);
        return c != 0 ? c : CompareLocal(x.Local, y.Local);
    }

    // Sort keys as the packaging library builds them: "none" is below or above every value as PEP 440 orders it.
    private sealed record SortKey(BigInteger Epoch, List<BigInteger> Release, (int Phase, BigInteger Number) Pre, (int Phase, BigInteger Number) Post, (int Phase, BigInteger Number) Dev, string[]? Local);

    private static SortKey Key(string version)
    {
        var m = Grammar().Match(version.Trim());
        if (!m.Success)
        {
            var digits = Numbers().Matches(version).Select(n => BigInteger.Parse(n.Value, CultureInfo.InvariantCulture)).ToList();
            return new SortKey(0, digits, (3, 0), (0, 0), (1, 0), null);
        }

        BigInteger Number(string group) => m.Groups[group].Value is { Length: > 0 } n ? BigInteger.Parse(n, CultureInfo.InvariantCulture) : 0;
        var epoch = Number("epoch");
        var release = m.Groups["release"].Value.Split('.').Select(n => BigInteger.Parse(n, CultureInfo.InvariantCulture)).ToList();
        var hasPre = m.Groups["pre_l"].Success;
        var hasPost = m.Groups["post_l"].Success || m.Groups["post_n1"].Success;
        var hasDev = m.Groups["dev_l"].Success;

        // Pre: a dev release with no pre- or post-release sorts before every pre-release; none, after all.
        (int Phase, BigInteger Number) pre = hasPre
            ? (NormalisePre(m.Groups["pre_l"].Value) switch { "a" => 1, "b" => 2, _ => 3 }, Number("pre_n"))
            : !hasPost && hasDev ? (0, BigInteger.Zero) : (4, BigInteger.Zero);
        var post = hasPost ? (1, m.Groups["post_n1"].Success ? Number("post_n1") : Number("post_n2")) : (0, BigInteger.Zero);
        var dev = hasDev ? (0, Number("dev_n")) : (1, BigInteger.Zero);
        var local = m.Groups["local"].Success ? m.Groups["local"].Value.ToLowerInvariant().Split('.', '-', '_') : null;
        return new SortKey(epoch, release, pre, post, dev, local);
    }

    private static string NormalisePre(string label) => label.ToLowerInvariant() switch
    {
        "alpha" or "a" => "a",
        "beta" or "b" => "b",
        _ => "rc",
    };

    // No local label sorts before any; numeric segments sort after alphanumeric ones and as numbers.
    private static int CompareLocal(string[]? a, string[]? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null ? 0 : a is null ? -1 : 1;
        }

        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var numericA = BigInteger.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out var na);
            var numericB = BigInteger.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out var nb);
            var c = numericA && numericB ? na.CompareTo(nb) : numericA ? 1 : numericB ? -1 : string.CompareOrdinal(a[i], b[i]);
            if (c != 0)
            {
                return c < 0 ? -1 : 1;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    // PEP 440's appendix regex, case-insensitive.
    [GeneratedRegex(
        @"^v?(?:(?<epoch>\d+)!)?(?<release>\d+(?:\.\d+)*)(?:[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>\d+)?)?(?:-(?<post_n1>\d+)|[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>\d+)?)?(?:[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>\d+)?)?(?:\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Grammar();

    [GeneratedRegex(@"\d+", RegexOptions.CultureInvariant)]
    private static partial Regex Numbers();
}
