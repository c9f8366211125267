using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AngleSharp.Dom;
using Ganss.Xss;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Wharf.Server.Web;

namespace Wharf.Server.Public.Gallery;

/// <summary>
/// A repository's About and Usage text (Markdown, from whoever may put its catalog data) as safe HTML.
/// Two layers: Markdig with raw HTML disabled (it is shown as text), then an allow-list sanitizer over
/// Markdig's output, so neither a Markdig bug nor an extension's output can carry script, event handlers,
/// styles or <c>javascript:</c>/<c>data:</c> links. Links get <c>rel="noopener noreferrer nofollow"</c>;
/// images become links to the image (the page's CSP loads images from the gallery only).
/// </summary>
internal static class GalleryMarkdown
{
    /// <summary>ECR Public's limit on <c>aboutText</c> and <c>usageText</c>; longer text (from a store written by another version) is cut here.</summary>
    public const int MaxInputChars = 25_600;

    /// <summary>Markdig's nesting limit (quotes in lists in quotes…): deeper input is refused by Markdig and shown as plain text.</summary>
    public const int MaxNestingDepth = 32;

    /// <summary>
    /// Markdig's inline parsing is quadratic in unmatched link brackets and emphasis delimiters (25,600 <c>[](</c>
    /// take half a second): a text with more of one kind than this is shown as plain text instead. Real
    /// READMEs stay far below (a thousand links in 25,600 characters is one every 25).
    /// </summary>
    public const int MaxDelimiters = 1_000;

    /// <summary>Emphasis and strikethrough delimiters (<c>*</c>, <c>_</c>, <c>~</c>) allowed of each kind (cheaper than brackets).</summary>
    public const int MaxEmphasisDelimiters = 2_000;

    private const int MaxCached = 2_000;

    // The cache holds at most this many characters of HTML (a rendered text is at most a few times its 25,600 characters).
    private const long MaxCachedChars = 16L << 20;

    private static long cachedChars;

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder { MaximumNestingDepth = MaxNestingDepth }
        .DisableHtml()
        .UsePipeTables()
        .UseAutoLinks()
        .UseEmphasisExtras(Markdig.Extensions.EmphasisExtras.EmphasisExtraOptions.Strikethrough)
        .Build();

    private static readonly string[] Tags =
    [
        "p", "br", "hr", "h3", "h4", "h5", "h6", "em", "strong", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    ];

    // Rendering is pure: the same text gives the same HTML, so a repository page viewed again costs a lookup.
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    /// <summary>The sanitized HTML of <paramref name="markdown"/> (empty for null or blank text).</summary>
    public static string ToSafeHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown))
        {
            return string.Empty;
        }

        var text = markdown.Length > MaxInputChars ? markdown[..MaxInputChars] : markdown;
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        if (Cache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var html = Sanitize(TooComplex(text) ? Plain(text) : Render(text));
        if (Cache.Count >= MaxCached || Interlocked.Add(ref cachedChars, html.Length) > MaxCachedChars)
        {
            Cache.Clear();
            Interlocked.Exchange(ref cachedChars, html.Length);
        }

        Cache[key] = html;
        return html;
    }

    /// <summary>
    /// A linear pre-check for what makes Markdig slow or deep: a line whose quote and list markers nest past
    /// <see cref="MaxNestingDepth"/>, or more link brackets or emphasis delimiters than it parses quickly.
    /// </summary>
    internal static bool TooComplex(string text)
    {
        int brackets = 0, stars = 0, underscores = 0, tildes = 0;
        foreach (var c in text)
        {
            switch (c)
            {
                case '[': brackets++; break;
                case '*': stars++; break;
                case '_': underscores++; break;
                case '~': tildes++; break;
            }
        }

        if (brackets > MaxDelimiters || stars > MaxEmphasisDelimiters || underscores > MaxEmphasisDelimiters || tildes > MaxEmphasisDelimiters)
        {
            return true;
        }

        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (ContainerDepth(line) > MaxNestingDepth)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How many block quote and list markers open a line (<c>&gt; - 1. &gt; …</c>).</summary>
    private static int ContainerDepth(ReadOnlySpan<char> line)
    {
        var depth = 0;
        var i = 0;
        while (depth <= MaxNestingDepth)
        {
            while (i < line.Length && line[i] is ' ' or '\t')
            {
                i++;
            }

            if (i < line.Length && line[i] == '>')
            {
                i++;
            }
            else if (i + 1 < line.Length && line[i] is '-' or '+' or '*' && line[i + 1] is ' ' or '\t')
            {
                i += 2;
            }
            else
            {
                var digits = 0;
                while (i + digits < line.Length && digits < 10 && char.IsAsciiDigit(line[i + digits]))
                {
                    digits++;
                }

                if (digits is 0 or > 9 || i + digits + 1 >= line.Length || line[i + digits] is not ('.' or ')') || line[i + digits + 1] is not (' ' or '\t'))
                {
                    break;
                }

                i += digits + 2;
            }

            depth++;
        }

        return depth;
    }

    private static string Plain(string text) => "<pre>" + System.Net.WebUtility.HtmlEncode(text) + "</pre>";

    private static string Render(string text)
    {
        try
        {
            var document = Markdown.Parse(text, Pipeline);
            foreach (var node in document.Descendants())
            {
                switch (node)
                {
                    // The page's headings are h1 (the repository) and h2 (About, Usage): the text's start below them.
                    case HeadingBlock heading:
                        heading.Level = Math.Min(6, heading.Level + 2);
                        break;

                    // The CSP allows no third-party images (they would tell another site who reads the page): an image becomes a link to it.
                    case LinkInline { IsImage: true } image:
                        image.IsImage = false;
                        break;
                }
            }

            return document.ToHtml(Pipeline);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or InsufficientExecutionStackException)
        {
            // Nested past the limit: the text is shown as it is, as plain text.
            return Plain(text);
        }
    }

    private static string Sanitize(string html)
    {
        var options = HtmlSanitizerOptions.Empty();
        foreach (var tag in Tags)
        {
            options.AllowedTags.Add(tag);
        }

        options.AllowedAttributes.Add("href");
        options.AllowedAttributes.Add("title");
        options.AllowedSchemes.Add("http");
        options.AllowedSchemes.Add("https");
        options.AllowedSchemes.Add("mailto");
        options.UriAttributes.Add("href");

        // One sanitizer per render: cheap next to parsing, and nothing is shared between threads.
        var sanitizer = new HtmlSanitizer(options) { KeepChildNodes = true };
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is IElement { LocalName: "a" } link)
            {
                link.SetAttribute("rel", "noopener noreferrer nofollow");
            }
        };
        return sanitizer.Sanitize(html);
    }
}
