using System.Globalization;

namespace Wharf.Scanning.Versions;

/// <summary>
/// RPM versions, <c>[epoch:]version[-release]</c>, compared as rpm does (<c>rpmvercmp</c> on each of
/// version and release after the epoch): alphanumeric segments, numbers numerically and beyond any
/// letters, letters as strings; <c>~</c> sorts before everything (pre-releases), <c>^</c> after the
/// end but before anything else (snapshots after a release).
/// </summary>
public static class RpmVersion
{
    public static int Compare(string a, string b)
    {
        var (epochA, versionA, releaseA) = Split(a);
        var (epochB, versionB, releaseB) = Split(b);
        var epoch = epochA.CompareTo(epochB);
        if (epoch != 0)
        {
            return epoch;
        }

        var version = VerCmp(versionA, versionB);
        return version != 0 ? version : VerCmp(releaseA, releaseB);
    }

    /// <summary>Epoch (0 when absent), version, release (empty when absent).</summary>
    public static (long Epoch, string Version, string Release) Split(string evr)
    {
        evr = evr.Trim();
        long epoch = 0;
        var colon = evr.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && long.TryParse(evr.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            epoch = parsed;
            evr = evr[(colon + 1)..];
        }

        var dash = evr.LastIndexOf('-');
        return dash < 0 ? (epoch, evr, string.Empty) : (epoch, evr[..dash], evr[(dash + 1)..]);
    }

    /// <summary>rpm's <c>rpmvercmp</c>.</summary>
    public static int VerCmp(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return 0;
        }

        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            while (i < a.Length && !char.IsAsciiLetterOrDigit(a[i]) && a[i] is not ('~' or '^'))
            {
                i++;
            }

            while (j < b.Length && !char.IsAsciiLetterOrDigit(b[j]) && b[j] is not ('~' or '^'))
            {
                j++;
            }

            var ca = i < a.Length ? a[i] : '\0';
            var cb = j < b.Length ? b[j] : '\0';
            if (ca == '~' || cb == '~')
            {
                if (ca != '~')
                {
                    return 1;
                }

                if (cb != '~')
                {
                    return -1;
                }

                i++;
                j++;
                continue;
            }

            if (ca == '^' || cb == '^')
            {
                if (ca == '\0')
                {
                    return -1;
                }

                if (cb == '\0')
                {
                    return 1;
                }

                if (ca != '^')
                {
                    return 1;
                }

                if (cb != '^')
                {
                    return -1;
                }

                i++;
                j++;
                continue;
            }

            if (ca == '\0' || cb == '\0')
            {
                break;
            }

            var numeric = char.IsAsciiDigit(ca);
            var startA = i;
            var startB = j;
            while (i < a.Length && (numeric ? char.IsAsciiDigit(a[i]) : char.IsAsciiLetter(a[i])))
            {
                i++;
            }

            while (j < b.Length && (numeric ? char.IsAsciiDigit(b[j]) : char.IsAsciiLetter(b[j])))
            {
                j++;
            }

            // Segments of different kinds: a number is newer than letters.
            if (j == startB)
            {
                return numeric ? 1 : -1;
            }

            var segA = a.AsSpan(startA, i - startA);
            var segB = b.AsSpan(startB, j - startB);
            if (numeric)
            {
                segA = segA.TrimStart('0');
                segB = segB.TrimStart('0');
                if (segA.Length != segB.Length)
                {
                    return segA.Length > segB.Length ? 1 : -1;
                }
            }

            var rc = segA.SequenceCompareTo(segB);
            if (rc != 0)
            {
                return rc < 0 ? -1 : 1;
            }
        }

        var endA = i >= a.Length;
        var endB = j >= b.Length;
        return endA && endB ? 0 : endA ? -1 : 1;
    }
}
