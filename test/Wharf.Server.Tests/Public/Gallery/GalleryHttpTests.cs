using System.Net;
using System.Text.RegularExpressions;
using Wharf.Server.Public.Gallery;

namespace Wharf.Server.Tests.Public.Gallery;

/// <summary>The gallery's routes over plain HTTP on the public address: pages, statuses, headers, logos, paging, and what it never shows.</summary>
public sealed partial class GalleryHttpTests(GalleryFixture fixture) : IClassFixture<GalleryFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Search_page_lists_public_repositories_with_security_headers()
    {
        using var response = await fixture.Public.GetAsync("/", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        AssertSecurityHeaders(response);
        Assert.Contains("<meta name=\"viewport\"", html, StringComparison.Ordinal);
        Assert.Equal(GalleryHandler.SearchPageSize, RepositoryLinks().Count(html));
        Assert.Contains("<label class=\"sr-only\" for=\"q\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_finds_by_description_word_prefix_and_by_name()
    {
        var byDescription = await GetHtmlAsync("/?q=tiny+dem");
        Assert.Contains($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}\"", byDescription, StringComparison.Ordinal);
        Assert.DoesNotContain($"/{GalleryFixture.OtherAlias}/bulk-00\"", byDescription, StringComparison.Ordinal);

        var byName = await GetHtmlAsync("/?q=hostile");
        Assert.Contains($"/{GalleryFixture.Alias}/{GalleryFixture.HostileRepository}\"", byName, StringComparison.Ordinal);
        Assert.DoesNotContain($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}\"", byName, StringComparison.Ordinal);

        var nothing = await GetHtmlAsync("/?q=zzzznothing");
        Assert.Contains("No public repository matches.", nothing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Badge_filters_narrow_the_search_and_only_supported_badges_show()
    {
        var arm = await GetHtmlAsync("/?arch=ARM");
        Assert.Contains($"/{GalleryFixture.OtherAlias}/bulk-00\"", arm, StringComparison.Ordinal);
        Assert.DoesNotContain($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}\"", arm, StringComparison.Ordinal);

        var arm64 = await GetHtmlAsync("/?arch=ARM%2064&os=linux");
        Assert.Contains($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}\"", arm64, StringComparison.Ordinal);
        Assert.DoesNotContain($"/{GalleryFixture.OtherAlias}/bulk-00\"", arm64, StringComparison.Ordinal);

        var windows = await GetHtmlAsync("/?os=Windows");
        Assert.Contains($"/{GalleryFixture.OtherAlias}/bulk-00\"", windows, StringComparison.Ordinal);
        Assert.DoesNotContain($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}\"", windows, StringComparison.Ordinal);

        // RISC-V and Plan9 are stored (the API returns them) but are not ECR Public badges: not shown, not a filter.
        var page = await GetHtmlAsync($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}");
        Assert.Contains("<li>x86-64</li>", page, StringComparison.Ordinal);
        Assert.Contains("<li>ARM 64</li>", page, StringComparison.Ordinal);
        Assert.Contains("<li>Linux</li>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("RISC-V", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Plan9", page, StringComparison.Ordinal);
        var unsupported = await GetHtmlAsync("/?arch=RISC-V");
        Assert.Contains($"/{GalleryFixture.OtherAlias}/bulk-00\"", unsupported, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_pages_with_a_cursor_until_the_end()
    {
        var seen = new List<string>();
        var url = "/?q=bulkseed";
        for (var pages = 0; url is not null && pages < 5; pages++)
        {
            var html = await GetHtmlAsync(url);
            seen.AddRange(RepositoryLinks().Matches(html).Select(m => m.Groups[1].Value).Where(l => l.StartsWith($"/{GalleryFixture.OtherAlias}/", StringComparison.Ordinal)));
            var next = NextLink().Match(html);
            url = next.Success ? WebUtility.HtmlDecode(next.Groups[1].Value) : null;
        }

        Assert.Null(url);
        Assert.Equal(GalleryFixture.BulkRepositories, seen.Count);
        Assert.Equal(GalleryFixture.BulkRepositories, seen.Distinct().Count());
    }

    [Fact]
    public async Task Registry_page_shows_verified_display_name_and_pages_its_repositories()
    {
        var verified = await GetHtmlAsync($"/{GalleryFixture.Alias}");
        Assert.Contains(GalleryFixture.DisplayName, verified, StringComparison.Ordinal);
        Assert.Contains("class=\"verified\"", verified, StringComparison.Ordinal);
        Assert.Contains($"href=\"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}\"", verified, StringComparison.Ordinal);

        var other = await GetHtmlAsync($"/{GalleryFixture.OtherAlias}");
        Assert.DoesNotContain("class=\"verified\"", other, StringComparison.Ordinal);
        Assert.Equal(GalleryHandler.RegistryPageSize, RepositoryLinks().Matches(other).Count(m => m.Groups[1].Value.StartsWith($"/{GalleryFixture.OtherAlias}/", StringComparison.Ordinal)));
        var next = NextLink().Match(other);
        Assert.True(next.Success);
        var second = await GetHtmlAsync(WebUtility.HtmlDecode(next.Groups[1].Value));
        Assert.Equal(GalleryFixture.BulkRepositories - GalleryHandler.RegistryPageSize, RepositoryLinks().Matches(second).Count(m => m.Groups[1].Value.StartsWith($"/{GalleryFixture.OtherAlias}/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Repository_page_shows_markdown_tags_platforms_and_pull_commands()
    {
        var html = await GetHtmlAsync($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}");

        Assert.Contains("<h3>Demo application</h3>", html, StringComparison.Ordinal);
        Assert.Contains("<pre><code", html, StringComparison.Ordinal);
        Assert.Contains("<th>Tag</th>", html, StringComparison.Ordinal);
        Assert.Contains("<h4>Running</h4>", html, StringComparison.Ordinal);
        Assert.Contains("rel=\"noopener noreferrer nofollow\"", html, StringComparison.Ordinal);
        Assert.Contains($"podman pull {fixture.Authority}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}:latest", html, StringComparison.Ordinal);
        Assert.Contains($"docker pull {fixture.Authority}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}:latest", html, StringComparison.Ordinal);
        Assert.Contains("A tiny demo application for the gallery", html, StringComparison.Ordinal);

        // Tags: the single-platform image under two tags, the index with both children's platforms.
        Assert.Matches(@"<code>latest</code>[\s\S]*?linux/amd64[\s\S]*?<time datetime=""\d{4}-\d\d-\d\dT", html);
        Assert.Matches(@"<code>multi</code>[\s\S]*?linux/amd64, linux/arm64", html);
        Assert.Matches(@"<code title=""sha256:[0-9a-f]{64}"">sha256:[0-9a-f]{12}</code>", html);
        Assert.Matches(@"data-label=""Size"">\d+(\.\d)? (B|kB)</td>", html);

        // The logo, for a verified registry.
        Assert.Matches(@"<img class=""logo""[^>]* src=""/logo/[0-9a-f]{64}""", html);
    }

    [Fact]
    public async Task Any_alias_reaches_the_pages_which_name_the_primary_one()
    {
        var registry = await fixture.Server.GetService<Wharf.Core.Public.PublicRegistryService>().GetRegistryAsync(fixture.Account, Ct);
        var defaultAlias = registry!.Aliases.Single(a => a.Default).Name;
        Assert.NotEqual(GalleryFixture.Alias, defaultAlias);

        var html = await GetHtmlAsync($"/{defaultAlias}/{GalleryFixture.DemoRepository}");
        Assert.Contains($"podman pull {fixture.Authority}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}:latest", html, StringComparison.Ordinal);
        Assert.DoesNotContain(defaultAlias, html, StringComparison.Ordinal);
        Assert.Contains(GalleryFixture.DisplayName, await GetHtmlAsync($"/{defaultAlias}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unverified_registry_shows_no_logo()
    {
        var page = await GetHtmlAsync($"/{GalleryFixture.OtherAlias}/bulk-00");
        Assert.DoesNotContain("<img", page, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"verified\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", await GetHtmlAsync("/?q=bulkseed"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tags_are_paged()
    {
        var first = await GetHtmlAsync($"/{GalleryFixture.Alias}/{GalleryFixture.TaggedRepository}");
        Assert.Equal(GalleryHandler.TagPageSize, TagCells().Count(first));
        var next = NextLink().Match(first);
        Assert.True(next.Success);
        var second = await GetHtmlAsync(WebUtility.HtmlDecode(next.Groups[1].Value));
        Assert.Equal(GalleryFixture.ManyTags - GalleryHandler.TagPageSize, TagCells().Count(second));
        Assert.DoesNotMatch(NextLink(), second);

        // No "latest": the pull command names the first tag.
        Assert.Contains($"podman pull {fixture.Authority}/{GalleryFixture.Alias}/{GalleryFixture.TaggedRepository}:v00", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hostile_about_text_is_rendered_inert()
    {
        var html = await GetHtmlAsync($"/{GalleryFixture.Alias}/{GalleryFixture.HostileRepository}");
        var about = html[html.IndexOf("id=\"about-text\"", StringComparison.Ordinal)..html.IndexOf("id=\"tags\"", StringComparison.Ordinal)];

        Assert.DoesNotContain("<script", about, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", about, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<svg", about, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<iframe", about, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"<[^>]+\son[a-z]+\s*=", about);
        Assert.DoesNotMatch(@"<[a-z][^>]*\s(href|src)=""\s*(javascript|data|vbscript):", about);
        Assert.DoesNotMatch(@"<[a-z][^>]*\sstyle=", about);
        Assert.Contains("<a href=\"https://example.com/safe\" rel=\"noopener noreferrer nofollow\">ok link</a>", about, StringComparison.Ordinal);

        // The script tag shows as text, as Markdown with raw HTML disabled shows it.
        Assert.Contains("&lt;script&gt;", about, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_alias_repository_and_paths_are_html_404s()
    {
        foreach (var path in new[] { "/nosuchalias", "/nosuchalias/app", $"/{GalleryFixture.Alias}/nosuchrepo", "/Bad_Alias", "/a", $"/{GalleryFixture.Alias}/Bad..Name", "/-/nothing.css", "/logo/nothex", "/logo/" + new string('a', 64) })
        {
            using var response = await fixture.Public.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            AssertSecurityHeaders(response);
            Assert.Contains("<h1>Not found</h1>", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_private_repository_never_appears_on_the_public_address()
    {
        Assert.DoesNotContain(GalleryFixture.PrivateRepository, await GetHtmlAsync("/?q=secret"), StringComparison.Ordinal);
        Assert.DoesNotContain(GalleryFixture.PrivateRepository, await GetHtmlAsync("/"), StringComparison.Ordinal);
        Assert.DoesNotContain(GalleryFixture.PrivateRepository, await GetHtmlAsync($"/{GalleryFixture.Alias}"), StringComparison.Ordinal);
        using var response = await fixture.Public.GetAsync($"/{GalleryFixture.Alias}/{GalleryFixture.PrivateRepository}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Logo_is_served_as_an_immutable_image()
    {
        var html = await GetHtmlAsync($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}");
        var src = Regex.Match(html, @"src=""(/logo/[0-9a-f]{64})""").Groups[1].Value;
        using var response = await fixture.Public.GetAsync(src, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(GalleryFixture.Logo, await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.Public);
        Assert.Equal(TimeSpan.FromDays(365), response.Headers.CacheControl?.MaxAge);

        using var again = new HttpRequestMessage(HttpMethod.Get, src);
        again.Headers.TryAddWithoutValidation("If-None-Match", response.Headers.ETag!.ToString());
        using var notModified = await fixture.Public.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Stylesheet_and_script_are_hashed_and_cached_long()
    {
        var html = await GetHtmlAsync("/");
        var css = Regex.Match(html, @"<link rel=""stylesheet"" href=""(/-/gallery\.[0-9a-f]{12}\.css)""").Groups[1].Value;
        var js = Regex.Match(html, @"<script defer src=""(/-/gallery\.[0-9a-f]{12}\.js)""").Groups[1].Value;
        foreach (var (path, type) in new[] { (css, "text/css"), (js, "text/javascript") })
        {
            using var response = await fixture.Public.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("immutable", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        }

        // No inline script or style anywhere: the CSP would block them, and the page needs none.
        Assert.DoesNotMatch(@"<script(?![^>]*\ssrc=)", html);
        Assert.DoesNotContain("<style", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" style=", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_requests_get_readable_pages_not_errors()
    {
        using var post = await fixture.Public.PostAsync("/", new StringContent("x"), Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Contains("GET", post.Content.Headers.Allow);

        using var longQuery = await fixture.Public.GetAsync("/?q=" + new string('a', GalleryHandler.MaxQueryChars + 1), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, longQuery.StatusCode);
        Assert.Equal("text/html", longQuery.Content.Headers.ContentType?.MediaType);

        using var badTagCursor = await fixture.Public.GetAsync($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}?after=%3Cscript%3E", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badTagCursor.StatusCode);

        using var head = await fixture.Public.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));

        // What a request carries is echoed encoded, never as markup.
        var echoed = await GetHtmlAsync("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        Assert.DoesNotContain("<script>alert", echoed, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", echoed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Random_paths_and_queries_never_fail_the_server()
    {
        // Deterministic: the same 400 requests every run.
        var random = new Random(17);
        string[] pieces = ["wharfdemo", "demo-app", "bulkpub", "logo", "-", "%2F", "%00", "%ff", "..", ".", "%C3%A9", "a", "A",
            "__", "x" + new string('y', 300), "%", "%E2%80%AE", "<script>", "'", "\"", "v00", "sha256:abc", "%20", "+", "ü"];
        string[] names = ["q", "arch", "os", "after", "x"];
        for (var i = 0; i < 400; i++)
        {
            var path = "/" + string.Join('/', Enumerable.Range(0, random.Next(1, 5)).Select(_ => pieces[random.Next(pieces.Length)]));
            var query = string.Join('&', Enumerable.Range(0, random.Next(0, 4)).Select(_ => names[random.Next(names.Length)] + "=" + pieces[random.Next(pieces.Length)]));
            var target = query.Length > 0 ? path + "?" + query : path;
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.Public.BaseAddress!, target));
            using var response = await fixture.Public.SendAsync(request, Ct);
            Assert.True(
                response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.BadRequest,
                $"{target}: {(int)response.StatusCode}");
            // Kestrel itself refuses a NUL in the path (400, no body) before any handler runs.
            if (!path.StartsWith("/-/", StringComparison.Ordinal) && !path.Contains("%00", StringComparison.Ordinal))
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "text/html", $"{target}: {response.Content.Headers.ContentType} {(int)response.StatusCode}");
            }
        }
    }

    private async Task<string> GetHtmlAsync(string path)
    {
        using var response = await fixture.Public.GetAsync(path, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}\n{html}");
        return html;
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("same-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }

    [GeneratedRegex(@"<h[23]><a href=""(/[^""]+)""")]
    private static partial Regex RepositoryLinks();

    [GeneratedRegex(@"<a rel=""next"" href=""([^""]+)""")]
    private static partial Regex NextLink();

    [GeneratedRegex(@"<td data-label=""Tag"">")]
    private static partial Regex TagCells();
}
