using System.Globalization;
using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>How the console shows values: sizes human-readable, dates relative with the exact time on hover, digests shortened with a copy button.</summary>
internal static class ConsoleFormat
{
    private static readonly string[] Units = ["B", "KB", "MB", "GB", "TB", "PB"];

    /// <summary><c>1.4 MB</c> (decimal units, as ECR's console), <c>512 B</c>.</summary>
    public static string Size(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1000 && unit < Units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        return unit == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>A <c>&lt;time&gt;</c> element: "3 hours ago", with the exact UTC time as its title and datetime.</summary>
    public static Html Time(DateTimeOffset? at, DateTimeOffset now)
    {
        var html = new Html();
        if (at is not { } value)
        {
            return html.Raw("<span class=\"muted\">never</span>");
        }

        var exact = value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        return html.Add($"<time datetime=\"{value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\" title=\"{exact}\">{Relative(value, now)}</time>");
    }

    /// <summary>"just now", "5 minutes ago", "in 2 days".</summary>
    public static string Relative(DateTimeOffset at, DateTimeOffset now)
    {
        var delta = now - at;
        var future = delta < TimeSpan.Zero;
        var span = future ? -delta : delta;
        string amount;
        if (span < TimeSpan.FromMinutes(1))
        {
            return "just now";
        }
        else if (span < TimeSpan.FromHours(1))
        {
            amount = Plural((int)span.TotalMinutes, "minute");
        }
        else if (span < TimeSpan.FromDays(1))
        {
            amount = Plural((int)span.TotalHours, "hour");
        }
        else if (span < TimeSpan.FromDays(60))
        {
            amount = Plural((int)span.TotalDays, "day");
        }
        else if (span < TimeSpan.FromDays(730))
        {
            amount = Plural((int)(span.TotalDays / 30.4), "month");
        }
        else
        {
            amount = Plural((int)(span.TotalDays / 365.25), "year");
        }

        return future ? "in " + amount : amount + " ago";
    }

    /// <summary>A digest as <c>sha256:0123abcd…</c> (12 hex digits) in a <c>&lt;code&gt;</c> titled with the whole, and a copy button.</summary>
    public static Html Digest(Digest digest) => new Html().Add($"<code class=\"digest\" title=\"{digest.ToString()}\">{Short(digest)}</code> ").Append(CopyButton(digest.ToString(), "Copy digest"));

    /// <summary><c>sha256:0123456789ab</c>.</summary>
    public static string Short(Digest digest)
    {
        var text = digest.ToString();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return text.Length > colon + 13 ? text[..(colon + 13)] : text;
    }

    /// <summary>A button that copies <paramref name="text"/> (hidden until the script shows it, so a page without script shows only text).</summary>
    public static Html CopyButton(string text, string label = "Copy") =>
        new Html().Add($"<button type=\"button\" class=\"copy\" data-copy=\"{text}\" aria-label=\"{label}\" hidden>Copy</button>");

    /// <summary>
    /// The links under a paged list, in a <c>nav.pages</c> named <paramref name="label"/>: back (to the first page, or with
    /// <paramref name="backIsPrevious"/> to the previous one), an optional status, and the next page (<c>rel="next"</c>).
    /// Empty when there is neither a page back nor a next one.
    /// </summary>
    public static Html Pages(string label, (string Href, string Text)? back, (string Href, string Text)? next, string? status = null, bool backIsPrevious = false)
    {
        var html = new Html();
        if (back is null && next is null)
        {
            return html;
        }

        html.Add($"<nav class=\"pages\" aria-label=\"{label}\">");
        if (back is { } b)
        {
            if (backIsPrevious)
            {
                html.Add($"<a href=\"{b.Href}\" rel=\"prev\">{b.Text}</a>");
            }
            else
            {
                html.Add($"<a href=\"{b.Href}\">{b.Text}</a>");
            }
        }

        if (status is not null)
        {
            html.Add($"<span>{status}</span>");
        }

        if (next is { } n)
        {
            html.Add($"<a href=\"{n.Href}\" rel=\"next\">{n.Text}</a>");
        }

        return html.Raw("</nav>");
    }

    private static string Plural(int n, string unit) => n.ToString(CultureInfo.InvariantCulture) + " " + unit + (n == 1 ? string.Empty : "s");
}
