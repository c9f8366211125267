using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Wharf.Server.Web;

/// <summary>
/// A small HTML writer for the gallery and the console: markup written here goes in with <see cref="Raw"/>
/// (literals only), and every value goes through <see cref="Text"/>, <see cref="Attr"/> or <see cref="Url"/>,
/// which encode it. <see cref="Add"/> takes an interpolated string whose literal parts are markup and whose
/// holes are values, encoded (an <see cref="Html"/> hole is a fragment already written, appended as is).
/// The one other exception is already-sanitized Markdown (<see cref="Trusted"/>).
/// </summary>
internal sealed class Html
{
    // Letters of every script stay readable in the source; markup characters and controls are encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private readonly StringBuilder builder = new(8 * 1024);

    /// <summary>Literal markup written by the gallery itself (never a value from a request or the store).</summary>
    public Html Raw(string markup)
    {
        builder.Append(markup);
        return this;
    }

    /// <summary>
    /// Markup with values: <c>html.Add($"&lt;td title=\"{exact}\"&gt;{name}&lt;/td&gt;")</c>. Literal parts are
    /// written as they are; every hole is encoded (strings, numbers, anything formattable), except an
    /// <see cref="Html"/> fragment, which is appended as written.
    /// </summary>
    public Html Add([InterpolatedStringHandlerArgument("")] ref HtmlInterpolation markup)
    {
        _ = markup;
        return this;
    }

    /// <summary>Appends a fragment written with another <see cref="Html"/>.</summary>
    public Html Append(Html fragment)
    {
        builder.Append(fragment.builder);
        return this;
    }

    /// <summary>Text content, encoded.</summary>
    public Html Text(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            builder.Append(Encoder.Encode(text));
        }

        return this;
    }

    /// <summary>A number, formatted invariantly.</summary>
    public Html Number(long value)
    {
        builder.Append(value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    /// <summary><c> name="value"</c> with the value encoded.</summary>
    public Html Attr(string name, string? value)
    {
        builder.Append(' ').Append(name).Append("=\"");
        Text(value);
        builder.Append('"');
        return this;
    }

    /// <summary><c> href="…"</c> for a path the gallery built (segments and query values already escaped with <see cref="Path"/>/<see cref="Query"/>).</summary>
    public Html Url(string name, string url) => Attr(name, url);

    /// <summary>HTML the Markdown renderer produced and sanitized.</summary>
    public Html Trusted(string sanitizedHtml)
    {
        builder.Append(sanitizedHtml);
        return this;
    }

    public override string ToString() => builder.ToString();

    /// <summary>A path segment (or a repository name with its slashes kept), escaped for a URL.</summary>
    public static string Path(string segment) =>
        string.Join('/', segment.Split('/').Select(Uri.EscapeDataString));

    /// <summary>A query string from the pairs whose value is not null (<c>?a=1&amp;b=2</c>), or empty.</summary>
    public static string Query(params (string Name, string? Value)[] pairs)
    {
        var parts = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return parts.Count == 0 ? string.Empty : "?" + string.Join('&', parts);
    }
}

/// <summary>
/// The handler behind <see cref="Html.Add"/>: literals are markup, holes are values and are encoded.
/// </summary>
[InterpolatedStringHandler]
internal ref struct HtmlInterpolation
{
    private readonly Html html;

    public HtmlInterpolation(int literalLength, int formattedCount, Html html)
    {
        _ = literalLength;
        _ = formattedCount;
        this.html = html;
    }

    public readonly void AppendLiteral(string markup) => html.Raw(markup);

    public readonly void AppendFormatted(string? value) => html.Text(value);

    public readonly void AppendFormatted(Html? fragment)
    {
        if (fragment is not null)
        {
            html.Append(fragment);
        }
    }

    public readonly void AppendFormatted(long value) => html.Number(value);

    public readonly void AppendFormatted<T>(T value) =>
        html.Text(value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value?.ToString());
}
