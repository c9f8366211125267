namespace Wharf.Scanning.Versions;

/// <summary>
/// Debian package versions, <c>[epoch:]upstream[-revision]</c>, compared as dpkg compares them (Debian
/// Policy §5.6.12): epochs numerically, then upstream and revision alternating non-digit runs —
/// where <c>~</c> sorts before everything, even the end, and letters before other characters — and
/// digit runs compared as numbers.
/// </summary>
public static class DpkgVersion
{
    public static int Compare(string a, string b)
    {
        var (epochA, upstreamA, revisionA) = Split(a);
        var (epochB, upstreamB, revisionB) = Split(b);
        var epoch = epochA.CompareTo(epochB);
        if (epoch != 0)
        {
            return epoch;
        }

        var upstream = Segments(upstreamA, upstreamB);
        return upstream != 0 ? upstream : Segments(revisionA, revisionB);
    }

    /// <summary>Epoch (0 when absent), upstream version, and revision (empty when absent).</summary>
    public static (long Epoch, string Upstream, string Revision) Split(string version)
    {
        version = version.Trim();
        long epoch = 0;
        var colon = version.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && long.TryParse(version.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
        {
            epoch = parsed;
            version = version[(colon + 1)..];
        }

        var dash = version.LastIndexOf('-');
        return dash < 0 ? (epoch, version, string.Empty) : (epoch, version[..dash], version[(dash + 1)..]);
    }

    private static int Order(string s, int i)
    {
        if (i >= s.Length)
        {
            return 0;
        }

        var c = s[i];
        return c == '~' ? -1 : char.IsAsciiDigit(c) ? 0 : char.IsAsciiLetter(c) ? c : c + 256;
    }

    private static int Segments(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            // A non-digit run, character by character (the end counts as 0, after '~').
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ac = Order(a, i);
                var bc = Order(b, j);
                if (ac != bc)
                {
                    return ac < bc ? -1 : 1;
                }

                i++;
                j++;
            }

            // A digit run, as a number: leading zeros skipped, then length, then the first difference.
            while (i < a.Length && a[i] == '0')
            {
                i++;
            }

            while (j < b.Length && b[j] == '0')
            {
                j++;
            }

            var firstDiff = 0;
            while (i < a.Length && j < b.Length && char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                if (firstDiff == 0)
                {
                    firstDiff = a[i] - b[j];
                }

                i++;
                j++;
            }

            if (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                return 1;
            }

            if (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                return -1;
            }

            if (firstDiff != 0)
            {
                return firstDiff < 0 ? -1 : 1;
            }
        }

        return 0;
    }
}
