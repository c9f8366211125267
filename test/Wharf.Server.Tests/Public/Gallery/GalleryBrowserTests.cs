using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Public.Gallery;

/// <summary>The gallery in a real browser: search, Markdown, hostile text inert, copy button, phone layout, no-script reading, screenshots.</summary>
public sealed class GalleryBrowserTests(GalleryFixture gallery, ChromiumFixture chromium) : IClassFixture<GalleryFixture>, IClassFixture<ChromiumFixture>
{
    private string BaseUrl => gallery.Server.PublicBaseAddress.ToString().TrimEnd('/');

    [Fact]
    public async Task Search_finds_a_repository_whose_page_renders_the_markdown()
    {
        var (context, page, problems) = await OpenAsync();
        await using var _ = context;

        await page.GotoAsync(BaseUrl + "/");
        await ScreenshotAsync(page, "search");
        await page.GetByLabel("Search public repositories").FillAsync("tiny demo");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/?q=tiny+demo");
        var result = page.GetByRole(AriaRole.Link, new() { Name = $"{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}", Exact = true });
        await Expect(result).ToBeVisibleAsync();
        await ScreenshotAsync(page, "search-results");

        await result.ClickAsync();
        await page.WaitForURLAsync($"**/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}");
        var about = page.Locator("#about-text");
        await Expect(about.Locator("h3")).ToHaveTextAsync("Demo application");
        await Expect(about.Locator("pre code")).ToContainTextAsync("podman run --rm demo-app --version");
        await Expect(about.Locator("table th").First).ToHaveTextAsync("Tag");
        await Expect(about.Locator("table td").First).ToHaveTextAsync("latest");
        await Expect(page.Locator("#usage-text h4")).ToHaveTextAsync("Running");
        await Expect(page.Locator("table.tags")).ToContainTextAsync("linux/amd64, linux/arm64");
        await Expect(page.Locator("img.logo")).ToBeVisibleAsync();
        Assert.True(await page.Locator("img.logo").EvaluateAsync<bool>("img => img.complete && img.naturalWidth === 1"), "the logo loads under the CSP");
        await ScreenshotAsync(page, "repository");

        Assert.Empty(problems);
    }

    [Fact]
    public async Task Hostile_about_text_does_not_run()
    {
        var (context, page, problems) = await OpenAsync();
        await using var _ = context;
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };

        var response = await page.GotoAsync($"{BaseUrl}/{GalleryFixture.Alias}/{GalleryFixture.HostileRepository}");
        Assert.Equal(200, response!.Status);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var about = page.Locator("#about-text");
        await Expect(about.Locator("h3")).ToHaveTextAsync("Innocent title");

        // Hover and click everything the text made, as a reader might.
        foreach (var element in await about.Locator("*").AllAsync())
        {
            if (await element.IsVisibleAsync())
            {
                try
                {
                    await element.HoverAsync(new() { Timeout = 2000 });
                }
                catch (TimeoutException)
                {
                    // Covered by another element: nothing a reader could hover either.
                }
            }
        }

        foreach (var link in await about.Locator("a:not([href^='http'])").AllAsync())
        {
            await link.ClickAsync(new() { Timeout = 2000 });
        }

        await ScreenshotAsync(page, "repository-hostile");

        Assert.Empty(dialogs);
        Assert.True(await page.EvaluateAsync<bool>("() => typeof window.__pwned === 'undefined'"), "an injected script ran");
        Assert.Equal($"{BaseUrl}/{GalleryFixture.Alias}/{GalleryFixture.HostileRepository}", page.Url);
        var offending = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('#about-text *, #usage-text *')].flatMap(e =>
              [...e.attributes].filter(a => a.name.startsWith('on') || a.name === 'style' || a.name === 'src' || a.name === 'srcdoc'
                || (a.name === 'href' && !/^(https?:|mailto:|[^:]*$)/i.test(a.value.trim())))
                .map(a => e.tagName + ' ' + a.name + '=' + a.value)
              .concat(['SCRIPT', 'IFRAME', 'IMG', 'SVG', 'svg', 'FORM', 'INPUT', 'STYLE', 'OBJECT', 'EMBED'].includes(e.tagName) ? [e.tagName] : []))
            """);
        Assert.Empty(offending);
        var rels = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#about-text a, #usage-text a')].map(a => a.rel)");
        Assert.NotEmpty(rels);
        Assert.All(rels, rel => Assert.Contains("noopener", rel, StringComparison.Ordinal));
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Copy_button_copies_the_pull_command()
    {
        var (context, page, problems) = await OpenAsync();
        await using var _ = context;
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = BaseUrl });

        await page.GotoAsync($"{BaseUrl}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}");
        var expected = $"podman pull {gallery.Authority}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}:latest";
        var button = page.Locator(".pull button.copy").First;
        await Expect(button).ToBeVisibleAsync();
        await Expect(button).ToHaveAttributeAsync("data-copy", expected);
        await button.ClickAsync();

        Assert.Equal(expected, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await Expect(page.Locator("#copy-status")).ToHaveTextAsync("Copied: " + expected);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Pages_fit_a_phone_screen()
    {
        var (context, page, problems) = await OpenAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 360, Height = 740 },
            IsMobile = true,
            HasTouch = true,
            DeviceScaleFactor = 2,
        });
        await using var _ = context;

        foreach (var (path, name) in new[]
        {
            ("/", "phone-search"),
            ($"/{GalleryFixture.Alias}", "phone-registry"),
            ($"/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}", "phone-repository"),
        })
        {
            await page.GotoAsync(BaseUrl + path);
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 0, $"{path} is {overflow}px wider than the phone's screen");
            await ScreenshotAsync(page, name);
        }

        // The tags table becomes one card per tag: no cell is cut off.
        var cells = await page.EvaluateAsync<int>("() => [...document.querySelectorAll('table.tags td')].filter(td => td.getBoundingClientRect().right > window.innerWidth + 1).length");
        Assert.Equal(0, cells);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Registry_and_not_found_pages_render_and_everything_reads_without_javascript()
    {
        var (context, page, problems) = await OpenAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        await using var _ = context;

        await page.GotoAsync($"{BaseUrl}/{GalleryFixture.Alias}");
        await Expect(page.Locator("h1")).ToContainTextAsync(GalleryFixture.DisplayName);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}", Exact = true })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "registry");

        await page.GotoAsync($"{BaseUrl}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}");
        var pull = $"podman pull {gallery.Authority}/{GalleryFixture.Alias}/{GalleryFixture.DemoRepository}:latest";
        await Expect(page.Locator(".pull code").First).ToHaveTextAsync(pull);
        await Expect(page.Locator(".pull button.copy").First).ToBeHiddenAsync();
        await Expect(page.Locator("#about-text h3")).ToHaveTextAsync("Demo application");

        // Search works as a plain form.
        await page.GotoAsync(BaseUrl + "/");
        await page.GetByLabel("Search public repositories").FillAsync("bulkseed");
        await page.GetByLabel("Search public repositories").PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"{GalleryFixture.OtherAlias}/bulk-00", Exact = true })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"{GalleryFixture.OtherAlias}/bulk-22", Exact = true })).ToBeVisibleAsync();

        var missing = await page.GotoAsync($"{BaseUrl}/{GalleryFixture.Alias}/no-such-repository");
        Assert.Equal(404, missing!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not found");
        await ScreenshotAsync(page, "not-found");

        // Keyboard: the skip link is the first stop and shows a focus style.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        Assert.Empty(problems);
    }

    private async Task<(IBrowserContext Context, IPage Page, List<string> Problems)> OpenAsync(BrowserNewContextOptions? options = null)
    {
        var browser = chromium.Require();
        var context = await browser.NewContextAsync(options ?? new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();

        // A CSP violation or script error on the gallery's own pages is a bug (its markup needs nothing the CSP refuses).
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains("404", StringComparison.Ordinal))
            {
                problems.Add(message.Text);
            }
        };
        page.PageError += (_, error) => problems.Add(error);
        return (context, page, problems);
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ChromiumFixture.ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        TestContext.Current.SendDiagnosticMessage($"gallery screenshot: {path}");
    }
}
