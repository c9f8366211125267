using System.Net;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>The console's shell in open mode: security headers, the not-found page, forms refused without their token or from another site.</summary>
public sealed class ConsoleShellTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unknown_pages_answer_a_console_page_with_security_headers()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        using var response = await client.GetAsync("/console/no/such/page", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("There is no console page at this address.", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task A_form_without_its_token_or_from_another_site_changes_nothing()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        using var missing = await client.PostAsync("/console/", new FormUrlEncodedContent([new("do", "anything")]), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Contains("security token is missing or out of date", await missing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/console/") { Content = new FormUrlEncodedContent([new("do", "anything")]) };
        crossSite.Headers.Add("Origin", "http://evil.example");
        using var refused = await client.SendAsync(crossSite, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("This form came from another site.", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_out_caller_is_not_read_past_the_small_cap()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        using var client = server.CreateClient();
        var huge = "do=password&user=" + new string('a', 1024 * 1024);

        // Declared too large: refused before a byte of the body is read.
        using var declared = await client.PostAsync("/console/sign-in", new StringContent(huge, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("The form is too large.", await declared.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // Chunked, so no length is declared: the read stops at the cap and the form is refused as unreadable.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in") { Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(huge))) };
        chunked.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
        chunked.Headers.TransferEncodingChunked = true;
        using var refused = await client.SendAsync(chunked, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("The form could not be read.", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_shell_loads_its_assets_without_problems_in_a_browser()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var response = await browser.GotoAsync("/console/no/such/page");
        Assert.Equal(404, response.Status);
        await Expect(browser.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("There is no console page at this address.");
        await Expect(browser.Page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" })).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }
}
