using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Wharf.Server.Public.Gallery;

/// <summary>
/// A small HTML writer: markup the gallery writes itself goes in with <see cref="Raw"/> (literals only),
/// and every value goes through <see cref="Text"/>, <see cref="Attr"/> or <see cref="Url"/>, which encode it.
/// The one exception is already-sanitized Markdown (<see cref="Trusted"/>).
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
