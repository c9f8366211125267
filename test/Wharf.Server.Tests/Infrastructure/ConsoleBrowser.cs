using Microsoft.Playwright;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>
/// One browser context on the console (Debian's Chromium through <see cref="ChromiumFixture"/>) that records
/// every problem a page has: console errors, uncaught script errors, failed requests and sub-resources
/// answered with an error status. Tests end with <see cref="AssertNoProblems"/>; <see cref="CaptureAsync"/>
/// saves a page light and dark, at desktop and phone widths, as test artifacts.
/// </summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    public static readonly ViewportSize Desktop = new() { Width = 1280, Height = 900 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    private readonly Uri baseAddress;

    private ConsoleBrowser(IBrowserContext context, IPage page, Uri baseAddress)
    {
        Context = context;
        Page = page;
        this.baseAddress = baseAddress;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>What went wrong in the page so far (each a line saying what).</summary>
    public List<string> Problems { get; } = [];

    public static async Task<ConsoleBrowser> OpenAsync(ChromiumFixture chromium, WharfTestServer server, ViewportSize? viewport = null)
    {
        var browser = chromium.Require();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = viewport ?? Desktop, BaseURL = server.BaseAddress.ToString() });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var console = new ConsoleBrowser(context, page, server.BaseAddress);
        page.Console += (_, message) =>
        {
            // "Failed to load resource" repeats what the Response handler below records precisely (and a
            // document's own status, which tests assert).
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                console.Problems.Add($"console error on {page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => console.Problems.Add($"script error on {page.Url}: {error}");
        page.RequestFailed += (_, request) =>
        {
            // A navigation the test itself abandons (a new GotoAsync) is not the page's fault.
            if (request.Failure is { } failure && !failure.Contains("ERR_ABORTED", StringComparison.Ordinal))
            {
                console.Problems.Add($"request failed: {request.Method} {request.Url}: {failure}");
            }
        };
        page.Response += (_, response) =>
        {
            // Documents answer with the status the test asserts (403 for a denial, 404, …); anything a page loads must succeed.
            if (response.Status >= 400 && response.Request.ResourceType != "document")
            {
                console.Problems.Add($"{response.Request.ResourceType} {response.Url} answered {response.Status}");
            }
        };
        return console;
    }

    /// <summary>Opens a console path (<c>/console/…</c>) and returns the document's response.</summary>
    public async Task<IResponse> GotoAsync(string path)
    {
        var response = await Page.GotoAsync(new Uri(baseAddress, path).ToString());
        return response ?? throw new InvalidOperationException($"no response for {path}");
    }

    /// <summary>Signs in with a login profile's password on the sign-in page and waits to leave it.</summary>
    public async Task SignInAsync(string account, string userName, string password)
    {
        await GotoAsync("/console/sign-in");
        await Page.GetByLabel("Account ID").FillAsync(account);
        await Page.GetByLabel("User name").FillAsync(userName);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Page.WaitForURLAsync(url => !url.Contains("/console/sign-in", StringComparison.Ordinal));
    }

    /// <summary>
    /// Saves the current page four times — light and dark, desktop and phone width — as
    /// <c>&lt;name&gt;-&lt;scheme&gt;-&lt;width&gt;.png</c> under <see cref="ChromiumFixture.ConsoleScreenshotDirectory"/>,
    /// then puts the page back as it was.
    /// </summary>
    public async Task CaptureAsync(string name)
    {
        var original = Page.ViewportSize is { } current ? new ViewportSize { Width = current.Width, Height = current.Height } : Desktop;
        foreach (var (scheme, schemeName) in new[] { (ColorScheme.Light, "light"), (ColorScheme.Dark, "dark") })
        {
            await Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = scheme });
            foreach (var (size, sizeName) in new[] { (Desktop, "desktop"), (Phone, "phone") })
            {
                await Page.SetViewportSizeAsync(size.Width, size.Height);
                var path = Path.Combine(ChromiumFixture.ConsoleScreenshotDirectory, $"{name}-{schemeName}-{sizeName}.png");
                await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
                TestContext.Current.SendDiagnosticMessage($"console screenshot: {path}");
            }
        }

        await Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Null });
        await Page.SetViewportSizeAsync(original.Width, original.Height);
    }

    public void AssertNoProblems() => Assert.True(Problems.Count == 0, "the page had problems:\n" + string.Join('\n', Problems));

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
