using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;
using Wharf.Server.Tests.Identity;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// Every console page, signed in as an account's root in IAM mode (its password set with
/// <c>wharf admin set-password</c>): each answers 200, loads without a console error or failed request,
/// passes the accessibility checks below in light and dark mode, and is saved light and dark at desktop and
/// phone widths. A page added to the console belongs in <see cref="Pages"/>.
/// </summary>
public sealed class ConsoleTourTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private const string Password = "Tour-Password-42";
    private const string Repository = "team/app";

    [Fact]
    public async Task Every_page_loads_cleanly_passes_the_accessibility_checks_and_is_captured()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (image, index) = await SeedAsync(server);

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        await browser.SignInAsync(Account, "root", Password);

        // The first Tab from the top of a page reaches the skip link, which leads to the main content.
        await browser.GotoAsync(ConsolePath("/repositories"));
        await browser.Page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await browser.Page.EvaluateAsync<string>("() => document.activeElement.textContent"));

        var failures = new List<string>();
        foreach (var (name, path) in Pages(image, index))
        {
            var response = await browser.GotoAsync(path);
            if (response.Status != 200)
            {
                failures.Add($"{name} ({path}) answered {response.Status}");
                continue;
            }

            foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
            {
                await browser.Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = scheme });
                failures.AddRange((await browser.Page.EvaluateAsync<string[]>(AccessibilityCheck)).Select(f => $"{name} ({scheme}): {f}"));
            }

            await browser.CaptureAsync("tour-" + name);
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task The_accessibility_checks_find_what_a_page_gets_wrong()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        await browser.Page.SetContentAsync("""
            <html><body><h1>One</h1><h1>Two</h1><input name="nameless"><a href="/x"></a><img src="data:,">
            <table><tr><td>cell</td></tr></table><p id="twice">a</p><p id="twice" style="color:#bbb;background:#fff">faint text</p></body></html>
            """);
        var issues = await browser.Page.EvaluateAsync<string[]>(AccessibilityCheck);
        foreach (var expected in new[] { "the page has no language", "2 h1 elements", "unlabelled input nameless", "unnamed <a href", "img without alt", "table without header cells", "duplicate id twice", "contrast " })
        {
            Assert.Contains(issues, i => i.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    private static string ConsolePath(string rest) => $"/console/{Account}/{Region}{rest}";

    private static IEnumerable<(string Name, string Path)> Pages(string image, string index)
    {
        yield return ("registries", "/console/registries");
        yield return ("repositories", ConsolePath("/repositories"));
        yield return ("repository-new", ConsolePath("/repositories/new"));
        yield return ("repository", ConsolePath("/repository/" + Repository));
        yield return ("image", ConsolePath($"/image/{image}/{Repository}"));
        yield return ("image-index", ConsolePath($"/image/{index}/{Repository}"));
        foreach (var tab in new[] { "general", "lifecycle", "permissions", "tags" })
        {
            yield return ("settings-" + tab, ConsolePath($"/settings/{Repository}?tab={tab}"));
        }

        foreach (var tab in new[] { "scanning", "policy", "replication", "pull-through", "account" })
        {
            yield return ("registry-settings-" + tab, ConsolePath("/registry-settings?tab=" + tab));
        }

        yield return ("iam-users", "/console/iam/users");
        yield return ("iam-user", "/console/iam/users/alice");
        yield return ("iam-groups", "/console/iam/groups");
        yield return ("iam-group", "/console/iam/groups/devs");
        yield return ("iam-roles", "/console/iam/roles");
        yield return ("iam-role", "/console/iam/roles/builder");
        yield return ("iam-policies", "/console/iam/policies");
        yield return ("iam-policy", $"/console/iam/policies/view?arn={Uri.EscapeDataString($"arn:aws:iam::{Account}:policy/readers")}");
        yield return ("password", "/console/password");
    }

    // What every page must have: a language, one h1, a name for every control, link and button, alt text,
    // header cells in tables, unique ids, and text contrast of at least 4.5:1 (3:1 for large text) against
    // what is behind it (WCAG 2.1 AA), read from the computed colours.
    private const string AccessibilityCheck = """
        () => {
          const issues = [];
          const visible = el => !el.hidden && !el.closest('[hidden]') && el.getClientRects().length > 0;
          if (!document.documentElement.lang) issues.push('the page has no language');
          const h1 = document.querySelectorAll('h1').length;
          if (h1 !== 1) issues.push(h1 + ' h1 elements');
          for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
            if (!visible(el)) continue;
            const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title;
            if (!named) issues.push('unlabelled ' + el.tagName.toLowerCase() + ' ' + (el.name || el.id));
          }
          for (const el of document.querySelectorAll('button, a[href]')) {
            if (!visible(el)) continue;
            if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.title)) issues.push('unnamed ' + el.outerHTML.slice(0, 80));
          }
          for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) issues.push('img without alt');
          for (const table of document.querySelectorAll('table')) if (!table.querySelector('th')) issues.push('table without header cells');
          const ids = new Set();
          for (const el of document.querySelectorAll('[id]')) { if (ids.has(el.id)) issues.push('duplicate id ' + el.id); ids.add(el.id); }
          const rgb = text => { const m = text.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
          const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
          const behind = el => {
            for (let e = el; e; e = e.parentElement) {
              const c = rgb(getComputedStyle(e).backgroundColor);
              if (c && c.a >= 0.99) return c;
            }
            return rgb(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255, a: 1 };
          };
          const seen = new Set();
          for (const node of document.querySelectorAll('body *')) {
            if (!visible(node) || node.closest('.sr-only, .skip')) continue;
            const text = [...node.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
            if (!text) continue;
            const style = getComputedStyle(node);
            const fg = rgb(style.color);
            if (!fg) continue;
            const bg = behind(node);
            const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
            const ratio = (hi + 0.05) / (lo + 0.05);
            const size = parseFloat(style.fontSize);
            const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
            const key = node.tagName + ':' + style.color + ':' + bg.r + ',' + bg.g + ',' + bg.b;
            if (ratio < (large ? 3 : 4.5) && !seen.has(key)) {
              seen.add(key);
              issues.push('contrast ' + ratio.toFixed(2) + ':1 for "' + text.slice(0, 40) + '" (' + node.tagName.toLowerCase() + ', ' + style.color + ' on rgb(' + bg.r + ',' + bg.g + ',' + bg.b + '))');
            }
          }
          return issues;
        }
        """;

    // A repository with an image and an index of it, and one of each IAM entity, made through the API.
    private static async Task<(string Image, string Index)> SeedAsync(WharfTestServer server)
    {
        (await LoginProfileTests.SetPasswordAsync(server, Password + "\n")).EnsureSuccess();
        var root = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key"));
        async Task CliAsync(params string[] args) => (await AwsClients.CliAsync(server.BaseAddress, Region, root, args)).EnsureSuccess();
        await CliAsync("ecr", "create-repository", "--repository-name", Repository, "--image-scanning-configuration", "scanOnPush=false");
        var token = (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var oci = new RawOci(() =>
        {
            var client = server.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + token)));
            return client;
        });
        var image = await oci.PushImageAsync(Repository, "v1", ImagePageTests.Config("amd64", null), "tour layer");
        var index = await oci.PushIndexAsync(Repository, "multi", (image, "amd64", null));

        await CliAsync("iam", "create-user", "--user-name", "alice");
        await CliAsync("iam", "create-group", "--group-name", "devs");
        await CliAsync("iam", "add-user-to-group", "--group-name", "devs", "--user-name", "alice");
        await CliAsync("iam", "create-role", "--role-name", "builder", "--assume-role-policy-document",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{Account}}:root"},"Action":"sts:AssumeRole"}]}""");
        await CliAsync("iam", "create-policy", "--policy-name", "readers", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:Describe*","Resource":"*"}]}""");
        return (image.Digest, index.Digest);
    }
}
