using System.Globalization;

namespace Wharf.Core.Uploads;

/// <summary>
/// One HTTP byte range (RFC 9110 §14.1.2): <c>first-last</c>, <c>first-</c> or a suffix <c>-length</c>.
/// Multi-range requests are not supported (the whole blob is served instead, as RFC 9110 allows).
/// </summary>
public readonly record struct ByteRange(long? First, long? Last)
{
    /// <summary>Parses a <c>Range</c> header value; false when it is absent, malformed or multi-range (serve the whole blob).</summary>
    public static bool TryParse(string? header, out ByteRange range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var spec = header.AsSpan(6).Trim();
        if (spec.Contains(','))
        {
            return false;
        }

        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        var firstText = spec[..dash].Trim();
        var lastText = spec[(dash + 1)..].Trim();
        long? first = null;
        long? last = null;
        if (firstText.Length > 0)
        {
            if (!long.TryParse(firstText, NumberStyles.None, CultureInfo.InvariantCulture, out var f))
            {
                return false;
            }

            first = f;
        }

        if (lastText.Length > 0)
        {
            if (!long.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
            {
                return false;
            }

            last = l;
        }

        if (first is null && last is null || first is not null && last is not null && last < first)
        {
            return false;
        }

        range = new ByteRange(first, last);
        return true;
    }

    /// <summary>The offset and length this range selects in a blob of <paramref name="size"/> bytes; false when unsatisfiable.</summary>
    public bool TryResolve(long size, out long offset, out long length)
    {
        if (First is null)
        {
            // Suffix range: the last N bytes.
            var suffix = Math.Min(Last!.Value, size);
            offset = size - suffix;
            length = suffix;
            return suffix > 0;
        }

        offset = First.Value;
        if (offset >= size)
        {
            length = 0;
            return false;
        }

        var last = Last is { } l ? Math.Min(l, size - 1) : size - 1;
        length = last - offset + 1;
        return true;
    }
}
