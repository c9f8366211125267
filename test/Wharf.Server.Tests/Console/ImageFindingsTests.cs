using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Scanning;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// A server whose scan job runs every second, with the scanning tests' Alpine advisories and one hostile
/// advisory (script in its text, a <c>javascript:</c> reference) imported by <c>wharf vulndb import</c>.
/// </summary>
public sealed class ImageScanServer : IAsyncLifetime
{
    private WharfTestServer? server;

    public WharfTestServer Server => server ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Scanning:Interval"] = "00:00:01", ["Console:PageSize"] = "3" });
        await ImportAsync(ScanTestImages.FixtureDirectory("Alpine"));
        var hostile = Path.Combine(server.DataDirectory, "hostile-advisory.json");
        await File.WriteAllTextAsync(hostile, new JsonObject
        {
            ["schema_version"] = "1.6.0",
            ["id"] = "ALPINE-CVE-2099-0001",
            ["modified"] = "2026-01-01T00:00:00Z",
            ["upstream"] = new JsonArray("CVE-2099-0001"),
            ["details"] = "<script>alert(1)</script>\"><img src=x onerror=alert(1)> in zlib",
            ["severity"] = new JsonArray(new JsonObject { ["type"] = "CVSS_V3", ["score"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }),
            ["affected"] = new JsonArray(new JsonObject
            {
                ["package"] = new JsonObject { ["ecosystem"] = "Alpine:v3.17", ["name"] = "zlib" },
                ["ranges"] = new JsonArray(new JsonObject { ["type"] = "ECOSYSTEM", ["events"] = new JsonArray(new JsonObject { ["introduced"] = "0" }, new JsonObject { ["fixed"] = "1.2.14-r0" }) }),
            }),
            ["references"] = new JsonArray(new JsonObject { ["type"] = "ADVISORY", ["url"] = "javascript:alert(1)" }),
        }.ToJsonString(), TestContext.Current.CancellationToken);
        await ImportAsync(hostile, "--source", "Hostile");
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private async Task ImportAsync(string path, params string[] more) =>
        (await WharfCommand.RunAsync(["vulndb", "import", path, .. more, "--data-dir", Server.DataDirectory], TimeSpan.FromMinutes(1))).EnsureSuccess();
}

/// <summary>
/// Findings on the image page: an Alpine image pushed with podman, opened from the repository's image list, "Scan now", then the findings with
/// severity, package, fixed version and the layer that introduced each, most severe first; a hostile
/// advisory's text shown as text and its <c>javascript:</c> reference not made a link; the daily limit
/// refused in plain words.
/// </summary>
public sealed class ImageFindingsTests(ChromiumFixture chromium, ImageScanServer fixture) : IClassFixture<ChromiumFixture>, IClassFixture<ImageScanServer>
{
    [Fact]
    public async Task Scan_now_shows_the_findings_with_severity_package_fixed_version_and_layer()
    {
        var server = fixture.Server;
        var image = await ScanTestImages.AlpineAsync();
        (await ContainerTools.Instance.PodmanAsync("push", "--tls-verify=false", image, $"docker://{server.HostAndPort}/console/alpine:3.17")).EnsureSuccess();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var dialogs = new List<string>();
        browser.Page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        var page = browser.Page;

        // From the repository's image list to the image's page, by its digest.
        var digest = await ManifestDigestAsync(server, "console/alpine", "3.17");
        await browser.GotoAsync("/console/123456789012/us-east-1/repository/console/alpine");
        await page.GetByRole(AriaRole.Link, new() { Name = digest[..19] }).ClickAsync();
        await page.WaitForURLAsync($"**/image/{digest}/console/alpine");
        var findings = page.Locator("section[aria-labelledby=findings]");
        await Expect(findings).ToContainTextAsync("This image has not been scanned.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Scan now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "The scan has started." })).ToBeVisibleAsync();

        var rows = findings.Locator("tbody tr");
        var watch = Stopwatch.StartNew();
        while (await rows.CountAsync() == 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), "no findings after two minutes: " + await findings.InnerTextAsync());
            await page.WaitForTimeoutAsync(500);
            await page.ReloadAsync();
        }

        // Four HIGH openssl findings (two advisories × two binary packages) and the hostile CRITICAL one first,
        // three to a page (Console:PageSize).
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(findings.Locator("nav.pages")).ToContainTextAsync("Page 1 of 2 (5 findings)");
        await Expect(rows.Nth(0).Locator(".sev.critical")).ToHaveTextAsync("Critical");
        await Expect(rows.Nth(0)).ToContainTextAsync("CVE-2099-0001");
        await Expect(rows.Nth(0)).ToContainTextAsync("<script>alert(1)</script>");
        await Expect(rows.Nth(0).Locator("td[data-label='Fixed in']")).ToHaveTextAsync("1.2.14-r0");

        // Its reference is a javascript: URI: the id stays text.
        Assert.Equal(0, await rows.Nth(0).Locator("td[data-label=Vulnerability] a").CountAsync());
        Assert.Equal(0, await page.Locator("a[href^='javascript']").CountAsync());
        await Expect(rows.Nth(1)).ToContainTextAsync("CVE-2023-0215");
        await Expect(rows.Nth(1).Locator(".sev.high")).ToHaveTextAsync("High");
        await Expect(page.Locator("section[aria-labelledby=details] dl.facts")).ToContainTextAsync("1 critical");
        await Expect(page.Locator("section[aria-labelledby=details] dl.facts")).ToContainTextAsync("4 high");
        await Expect(page.Locator("#layer-1")).ToBeAttachedAsync();
        Assert.Equal(0, await page.Locator("img, [onerror]").CountAsync());
        await browser.CaptureAsync("image-findings");

        await findings.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        var row = rows.Filter(new() { HasText = "CVE-2023-0286" }).Filter(new() { HasText = "libcrypto3" });
        await Expect(row.Locator(".sev.high")).ToHaveTextAsync("High");
        await Expect(row.Locator("td[data-label=Package]")).ToHaveTextAsync("libcrypto3 3.0.7-r0");
        await Expect(row.Locator("td[data-label='Fixed in']")).ToHaveTextAsync("3.0.8-r0");
        await Expect(row.Locator("td[data-label=Layer]")).ToContainTextAsync("Layer 1");
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = "CVE-2023-0286" })).ToHaveAttributeAsync("href", "https://www.openssl.org/news/secadv/20230207.txt");
        await Expect(findings.Locator("nav.pages")).ToContainTextAsync("Page 2 of 2 (5 findings)");

        // Once a day, as ECR: the refusal in plain words with the API's message.
        await page.GetByRole(AriaRole.Button, new() { Name = "Scan now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This image was scanned (or a scan was started) in the last 24 hours.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("an image can be scanned once every 24 hours");
        Assert.Empty(dialogs);
        browser.AssertNoProblems();
    }

    private static async Task<string> ManifestDigestAsync(WharfTestServer server, string repository, string tag)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("Docker-Content-Digest").Single();
    }
}
