using System.Text.RegularExpressions;
using Wharf.Server.Public.Gallery;

namespace Wharf.Server.Tests.Public.Gallery;

/// <summary>The About/Usage renderer on its own: what Markdown becomes, what never survives, and hostile input bounded.</summary>
public sealed class GalleryMarkdownTests
{
    [Fact]
    public void Renders_headings_below_the_page_code_blocks_tables_and_links()
    {
        var html = GalleryMarkdown.ToSafeHtml("# Title\n\n```\ncode here\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nSee https://example.com and [docs](https://example.com/docs \"Docs\").\n\n~~old~~");

        Assert.Contains("<h3>Title</h3>", html, StringComparison.Ordinal);
        Assert.Contains("<pre><code>code here", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("<th>a</th>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://example.com\" rel=\"noopener noreferrer nofollow\">https://example.com</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://example.com/docs\" title=\"Docs\" rel=\"noopener noreferrer nofollow\">docs</a>", html, StringComparison.Ordinal);
        Assert.Contains("<del>old</del>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Relative_and_mailto_links_stay_and_images_become_links()
    {
        var html = GalleryMarkdown.ToSafeHtml("[rel](docs/readme) [mail](mailto:a@example.com) ![logo](https://example.com/x.png)");

        Assert.Contains("href=\"docs/readme\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"mailto:a@example.com\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://example.com/x.png\" rel=\"noopener noreferrer nofollow\">logo</a>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JAVASCRIPT:alert(1))")]
    [InlineData("[x](jav&#x09;ascript:alert(1))")]
    [InlineData("[x](&#106;avascript:alert(1))")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x](vbscript:msgbox(1))")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("![x](javascript:alert(1))")]
    [InlineData("[x](https://example.com \"t\" onmouseover=alert(1))")]
    [InlineData("<div style=\"background:url(javascript:alert(1))\" onclick=\"alert(1)\">x</div>")]
    [InlineData("<svg><script>alert(1)</script></svg>")]
    [InlineData("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>")]
    [InlineData("<form action=\"https://evil.example\"><input name=p></form>")]
    [InlineData("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>")]
    public void Hostile_input_leaves_no_script_handler_or_dangerous_url(string markdown)
    {
        var html = GalleryMarkdown.ToSafeHtml(markdown);

        Assert.DoesNotMatch(new Regex("<(script|img|iframe|svg|math|form|input|style|div)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"<[^>]+\son[a-z]+\s*=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"<[a-z][^>]*\s(href|src)=""\s*(javascript|data|vbscript)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"<[a-z][^>]*\sstyle=", RegexOptions.IgnoreCase), html);
    }

    [Theory]
    [InlineData('[')]
    [InlineData('>')]
    [InlineData('*')]
    [InlineData('_')]
    [InlineData('`')]
    [InlineData('<')]
    [InlineData('|')]
    [InlineData('!')]
    [InlineData('(')]
    public void Pathological_input_of_the_largest_size_renders_bounded(char c)
    {
        var text = new string(c, GalleryMarkdown.MaxInputChars);

        var html = GalleryMarkdown.ToSafeHtml(text);

        // Every character is shown once, at most escaped (&gt; is 4): nothing multiplies.
        Assert.InRange(html.Length, 1, (GalleryMarkdown.MaxInputChars * 6) + 100);
    }

    [Theory]
    [InlineData("> ")]
    [InlineData("- ")]
    [InlineData("1. ")]
    [InlineData("[a](")]
    [InlineData("*a ")]
    [InlineData("**a")]
    [InlineData("[![")]
    public void Deep_nesting_is_refused_by_the_nesting_limit_and_shown_as_text(string unit)
    {
        var text = string.Concat(Enumerable.Repeat(unit, GalleryMarkdown.MaxInputChars / unit.Length));

        var html = GalleryMarkdown.ToSafeHtml(text);

        Assert.InRange(html.Length, 1, (GalleryMarkdown.MaxInputChars * 6) + 100);
        Assert.True(Regex.Count(html, "<blockquote>") <= GalleryMarkdown.MaxNestingDepth);
        Assert.True(Regex.Count(html, "<ul>") <= GalleryMarkdown.MaxNestingDepth);
    }

    [Theory]
    [InlineData("[](")]
    [InlineData("[a](")]
    [InlineData("~~a")]
    [InlineData("*a ")]
    [InlineData("_a ")]
    [InlineData("> ")]
    [InlineData("1. > - ")]
    public void Inputs_Markdig_parses_slowly_are_shown_as_plain_text(string unit)
    {
        var text = string.Concat(Enumerable.Repeat(unit, GalleryMarkdown.MaxInputChars / unit.Length));

        Assert.True(GalleryMarkdown.TooComplex(text));
        Assert.StartsWith("<pre>", GalleryMarkdown.ToSafeHtml(text), StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_real_readme_is_not_too_complex()
    {
        var text = string.Concat(Enumerable.Repeat("## Title\n\nSome **bold**, _em_ and `code` with a [link](https://e.com).\n\n- item\n  - nested\n    > quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n", 400))[..GalleryMarkdown.MaxInputChars];

        Assert.False(GalleryMarkdown.TooComplex(text));
        Assert.Contains("<table>", GalleryMarkdown.ToSafeHtml(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_past_the_model_limit_is_cut()
    {
        var html = GalleryMarkdown.ToSafeHtml(new string('a', GalleryMarkdown.MaxInputChars + 5000));

        Assert.Equal(GalleryMarkdown.MaxInputChars, html.Count(ch => ch == 'a'));
    }
}
