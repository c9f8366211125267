using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AngleSharp.Dom;
using Ganss.Xss;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

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

    private const int MaxCached = 2_000;

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

        var html = Sanitize(Render(text));
        if (Cache.Count >= MaxCached)
        {
            Cache.Clear();
        }

        Cache[key] = html;
        return html;
    }

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
            return "<pre>" + System.Net.WebUtility.HtmlEncode(text) + "</pre>";
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
