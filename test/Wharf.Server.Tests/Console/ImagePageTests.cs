using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>One open-mode server for the image page's tests (each test pushes to its own repository).</summary>
public sealed class ImagePageServer : IAsyncLifetime
{
    private WharfTestServer? server;

    public WharfTestServer Server => server ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync() => server = await WharfTestServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>
/// The image page in a real browser: an index's platforms linking to each child, a manifest's layers and
/// config, referrers linking both ways, hostile config values shown as text, oversized, deep and malformed
/// configs shown as a readable page, unknown images and bad addresses as a 404 page.
/// </summary>
public sealed class ImagePageTests(ChromiumFixture chromium, ImagePageServer fixture) : IClassFixture<ChromiumFixture>, IClassFixture<ImagePageServer>
{
    private const string Registry = "/console/123456789012/us-east-1";

    private const string Script = "<script>alert(1)</script>";

    private const string Img = "\"><img src=x onerror=alert(1)>";

    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private WharfTestServer Server => fixture.Server;

    [Fact]
    public async Task An_index_lists_its_platforms_and_links_to_each_child()
    {
        var oci = new RawOci(Server);
        var amd64 = await oci.PushImageAsync("console/multi", null, Config("amd64", null), "amd64 layer");
        var arm64 = await oci.PushImageAsync("console/multi", null, Config("arm64", "v8"), "arm64 layer");
        var index = await oci.PushIndexAsync("console/multi", "1", (amd64, "amd64", null), (arm64, "arm64", "v8"));

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, Server);
        var response = await browser.GotoAsync($"{Registry}/image/{index.Digest}/console/multi");
        Assert.Equal(200, response.Status);
        var page = browser.Page;
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "console/multi:1" })).ToBeVisibleAsync();
        await Expect(page.Locator("section[aria-labelledby=details] dl.facts")).ToContainTextAsync("application/vnd.oci.image.index.v1+json");
        var platforms = page.Locator("section[aria-labelledby=platforms] tbody tr");
        await Expect(platforms).ToHaveCountAsync(2);
        await Expect(platforms.Nth(0)).ToContainTextAsync("linux/amd64");
        await Expect(platforms.Nth(1)).ToContainTextAsync("linux/arm64/v8");
        await Expect(platforms.Nth(1)).ToContainTextAsync(arm64.Digest[..19]);
        await browser.CaptureAsync("image-index");

        await platforms.Nth(1).GetByRole(AriaRole.Link).ClickAsync();
        await page.WaitForURLAsync($"**/image/{arm64.Digest}/console/multi");
        await Expect(page.Locator("section[aria-labelledby=layers] tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("section[aria-labelledby=config] dl.facts")).ToContainTextAsync("linux/arm64/v8");
        await Expect(page.Locator("section[aria-labelledby=config] dl.facts")).ToContainTextAsync("[\"/bin/app\",\"--serve\"]");
        await Expect(page.Locator("#layer-1")).ToContainTextAsync("COPY app /bin/app");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the repository" })).ToHaveAttributeAsync("href", $"{Registry}/repository/console/multi");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task A_referrer_is_listed_in_plain_words_and_links_back_to_its_subject()
    {
        var oci = new RawOci(Server);
        var image = await oci.PushImageAsync("console/signed", "1", Config("amd64", null), "signed layer");
        var signature = await oci.PushReferrerAsync("console/signed", image, "application/vnd.dev.cosign.artifact.sig.v1+json", "2026-01-02T03:04:05Z");
        var sbom = await oci.PushReferrerAsync("console/signed", image, "application/spdx+json", null);

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, Server);
        await browser.GotoAsync($"{Registry}/image/{image.Digest}/console/signed");
        var page = browser.Page;
        var rows = page.Locator("section[aria-labelledby=referrers] tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        var signatureRow = rows.Filter(new() { HasText = "Cosign signature" });
        await Expect(signatureRow).ToContainTextAsync(signature.Digest[..19]);
        await Expect(signatureRow.Locator("time")).ToHaveAttributeAsync("title", "2026-01-02 03:04:05 UTC");
        await Expect(rows.Filter(new() { HasText = "SPDX SBOM" })).ToContainTextAsync(sbom.Digest[..19]);

        await signatureRow.GetByRole(AriaRole.Link).ClickAsync();
        await page.WaitForURLAsync($"**/image/{signature.Digest}/console/signed");
        await Expect(page.Locator("section[aria-labelledby=details] dl.facts")).ToContainTextAsync("application/vnd.dev.cosign.artifact.sig.v1+json");
        await Expect(page.Locator("section[aria-labelledby=config]")).ToContainTextAsync("not a container image");

        // An artifact is not scanned: the API's refusal, in plain words.
        await page.GetByRole(AriaRole.Button, new() { Name = "Scan now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This artifact is not a container image, so it cannot be scanned.");

        await page.GetByRole(AriaRole.Link, new() { Name = image.Digest[..19] }).ClickAsync();
        await page.WaitForURLAsync($"**/image/{image.Digest}/console/signed");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "console/signed:1" })).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task An_archived_image_shows_as_archived_and_scan_now_says_to_restore_it()
    {
        var image = await new RawOci(Server).PushImageAsync("console/cold", "1", Config("amd64", null), "cold layer");
        (await Wharf.Testing.AwsClients.CliAsync(Server.BaseAddress, "us-east-1", "ecr", "update-image-storage-class", "--repository-name", "console/cold", "--image-id", "imageTag=1", "--target-storage-class", "ARCHIVE")).EnsureSuccess();

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, Server);
        await browser.GotoAsync($"{Registry}/image/{image.Digest}/console/cold");
        var page = browser.Page;
        await Expect(page.Locator("section[aria-labelledby=details] dl.facts")).ToContainTextAsync("Archived");
        await page.GetByRole(AriaRole.Button, new() { Name = "Scan now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This image is archived: restore it before scanning it.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("restore it with UpdateImageStorageClass");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Hostile_config_values_render_as_text_and_run_nothing()
    {
        var config = new JsonObject
        {
            ["created"] = Script,
            ["architecture"] = "amd64",
            ["os"] = Img,
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("X=" + Script, "Y=" + Img),
                ["Entrypoint"] = new JsonArray("/bin/sh", "-c", Script),
                ["Cmd"] = new JsonArray(Img),
                ["WorkingDir"] = "javascript:alert(1)",
                ["User"] = "<b>root</b>",
                ["ExposedPorts"] = new JsonObject { ["80/tcp" + Img] = new JsonObject() },
                ["Labels"] = new JsonObject { [Script] = Img, ["org.opencontainers.image.url"] = "javascript:alert(1)" },
            },
            ["history"] = new JsonArray(
                new JsonObject { ["created_by"] = Script, ["created"] = Img },
                new JsonObject { ["created_by"] = Img, ["empty_layer"] = true }),
        };
        var image = await new RawOci(Server).PushImageAsync("console/hostile", "1", Encoding.UTF8.GetBytes(config.ToJsonString()), "hostile layer");

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, Server);
        var dialogs = new List<string>();
        browser.Page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        await browser.GotoAsync($"{Registry}/image/{image.Digest}/console/hostile");
        var page = browser.Page;
        var section = page.Locator("section[aria-labelledby=config]");
        await Expect(section.Locator("#env + .table-wrap")).ToContainTextAsync(Script);
        await Expect(section.Locator("#labels + .table-wrap")).ToContainTextAsync(Img);
        await Expect(section.Locator("#history + .table-wrap")).ToContainTextAsync(Script);
        await Expect(section.Locator("dl.facts")).ToContainTextAsync("[\"/bin/sh\",\"-c\",\"<script>alert(1)</script>\"]");
        await Expect(section.Locator("dl.facts")).ToContainTextAsync("<b>root</b>");
        await Expect(page.Locator("#layer-1")).ToContainTextAsync(Script);
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal(0, await page.Locator("[onerror]").CountAsync());
        Assert.Equal(0, await page.Locator("main script, main b").CountAsync());
        Assert.Equal(0, await page.Locator("a[href^='javascript']").CountAsync());
        Assert.Empty(dialogs);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Oversized_deep_and_malformed_configs_give_a_readable_page_quickly()
    {
        var oci = new RawOci(Server);
        var many = new JsonObject();
        var labels = new JsonObject();
        var env = new JsonArray();
        for (var i = 0; i < 20_000; i++)
        {
            labels["label." + i] = "value " + i;
            env.Add($"VAR_{i}=value");
        }

        many["config"] = new JsonObject { ["Labels"] = labels, ["Env"] = env };
        var cases = new (string Name, byte[] Config, string Expected)[]
        {
            ("oversized", Encoding.UTF8.GetBytes("{\"config\":{\"Labels\":{\"big\":\"" + new string('a', 5 * 1024 * 1024) + "\"}}}"), "The image's configuration is not shown."),
            ("deep", Encoding.UTF8.GetBytes("{\"config\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), "The image's configuration could not be read."),
            ("malformed", Encoding.UTF8.GetBytes("{\"config\":{\"Env\":[\"A=1\","), "The image's configuration could not be read."),
            ("not-utf8", [.. Encoding.UTF8.GetBytes("{\"os\":\""), 0xff, 0xfe, .. Encoding.UTF8.GetBytes("\"}")], "The image's configuration could not be read."),
            ("lone-surrogate", Encoding.UTF8.GetBytes("{\"os\":\"\\ud800\"}"), "The image's configuration could not be read."),
            ("wrong-shapes", Encoding.UTF8.GetBytes("{\"config\":\"text\",\"history\":5,\"os\":[1],\"created\":{}}"), "No environment variables."),
            ("many", Encoding.UTF8.GetBytes(many.ToJsonString()), "Showing the first 200 of 20000 labels."),
        };
        using var client = Server.CreateClient();
        foreach (var (name, config, expected) in cases)
        {
            var image = await oci.PushImageAsync("console/odd-" + name, "1", config, name + " layer");
            var watch = Stopwatch.StartNew();
            using var response = await client.GetAsync($"{Registry}/image/{image.Digest}/console/odd-{name}", Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode}\n{body}");
            Assert.Contains(expected, WebUtility.HtmlDecode(body), StringComparison.Ordinal);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"{name} took {watch.Elapsed}");
        }

        // The same in a browser: the page is whole, without problems.
        var deep = await oci.PushImageAsync("console/odd-deep", "2", Encoding.UTF8.GetBytes("{\"config\":" + new string('{', 100) + new string('}', 100) + "}"), "deep-2 layer");
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, Server);
        await browser.GotoAsync($"{Registry}/image/{deep.Digest}/console/odd-deep");
        await Expect(browser.Page.Locator("section[aria-labelledby=config]")).ToContainTextAsync("The image's configuration could not be read.");
        await Expect(browser.Page.Locator("section[aria-labelledby=layers] tbody tr")).ToHaveCountAsync(1);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Unknown_images_and_bad_addresses_answer_a_not_found_page()
    {
        var image = await new RawOci(Server).PushImageAsync("console/known", "1", Config("amd64", null), "known layer");
        var unknown = "sha256:" + new string('0', 64);
        using var client = Server.CreateClient();
        foreach (var (path, expected) in new[]
        {
            ($"{Registry}/image/{unknown}/console/known", "That image does not exist"),
            ($"{Registry}/image/{image.Digest}/console/nothing-here", "That repository does not exist"),
            ($"{Registry}/image/sha256:zz/console/known", "There is no image at this address."),
            ($"{Registry}/image/{image.Digest}/Not..A..Name", "There is no image at this address."),
            ($"/console/12345/us-east-1/image/{image.Digest}/console/known", "There is no image at this address."),
            ($"/console/123456789012/_public/image/{image.Digest}/console/known", "There is no image at this address."),
        })
        {
            using var response = await client.GetAsync(path, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            Assert.Contains(expected, WebUtility.HtmlDecode(body), StringComparison.Ordinal);
        }

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, Server);
        var page = await browser.GotoAsync($"{Registry}/image/{unknown}/console/known");
        Assert.Equal(404, page.Status);
        await Expect(browser.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That image does not exist");
        await Expect(browser.Page.GetByRole(AriaRole.Link, new() { Name = "Back to the repository console/known" })).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    /// <summary>A container image's config with a platform, a command, and one history line per layer.</summary>
    internal static byte[] Config(string architecture, string? variant)
    {
        var config = new JsonObject
        {
            ["created"] = "2026-01-01T00:00:00Z",
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/usr/bin:/bin"),
                ["Entrypoint"] = new JsonArray("/bin/app", "--serve"),
                ["WorkingDir"] = "/srv",
                ["ExposedPorts"] = new JsonObject { ["8080/tcp"] = new JsonObject() },
                ["Labels"] = new JsonObject { ["org.opencontainers.image.title"] = "app" },
            },
            ["history"] = new JsonArray(
                new JsonObject { ["created_by"] = "COPY app /bin/app", ["created"] = "2026-01-01T00:00:00Z" },
                new JsonObject { ["created_by"] = "ENTRYPOINT [\"/bin/app\"]", ["empty_layer"] = true }),
        };
        if (variant is not null)
        {
            config["variant"] = variant;
        }

        return Encoding.UTF8.GetBytes(config.ToJsonString());
    }
}

/// <summary>Pushes exact manifests, indexes and referrers over /v2 (the shapes real tools push, and shapes they would not).</summary>
internal sealed class RawOci(Func<HttpClient> clients)
{
    public RawOci(WharfTestServer server)
        : this(server.CreateClient)
    {
    }

    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    /// <summary>What was pushed: its digest and size.</summary>
    public sealed record Pushed(string Digest, long Size, string MediaType);

    public async Task<Pushed> PushImageAsync(string repository, string? tag, byte[] config, string layerText)
    {
        using var client = clients();
        var pusher = new OciPusher(client);
        var layer = Encoding.UTF8.GetBytes(layerText);
        await pusher.PushBlobMonolithicAsync(repository, config);
        await pusher.PushBlobMonolithicAsync(repository, layer);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = OciPusher.Sha256(config), ["size"] = config.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar", ["digest"] = OciPusher.Sha256(layer), ["size"] = layer.Length }),
        };
        return await PutAsync(client, repository, tag, manifest, OciManifest);
    }

    public async Task<Pushed> PushIndexAsync(string repository, string tag, params (Pushed Image, string Architecture, string? Variant)[] children)
    {
        using var client = clients();
        var manifests = new JsonArray();
        foreach (var (image, architecture, variant) in children)
        {
            var platform = new JsonObject { ["os"] = "linux", ["architecture"] = architecture };
            if (variant is not null)
            {
                platform["variant"] = variant;
            }

            manifests.Add(new JsonObject { ["mediaType"] = image.MediaType, ["digest"] = image.Digest, ["size"] = image.Size, ["platform"] = platform });
        }

        return await PutAsync(client, repository, tag, new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = OciIndex, ["manifests"] = manifests }, OciIndex);
    }

    /// <summary>An artifact with <c>subject</c> (a signature, an SBOM): OCI 1.1's empty config and one layer.</summary>
    public async Task<Pushed> PushReferrerAsync(string repository, Pushed subject, string artifactType, string? created)
    {
        using var client = clients();
        var pusher = new OciPusher(client);
        var empty = "{}"u8.ToArray();
        var payload = Encoding.UTF8.GetBytes($"{{\"artifact\":\"{artifactType}\",\"for\":\"{subject.Digest}\"}}");
        await pusher.PushBlobMonolithicAsync(repository, empty);
        await pusher.PushBlobMonolithicAsync(repository, payload);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciManifest,
            ["artifactType"] = artifactType,
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.empty.v1+json", ["digest"] = OciPusher.Sha256(empty), ["size"] = empty.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/json", ["digest"] = OciPusher.Sha256(payload), ["size"] = payload.Length }),
            ["subject"] = new JsonObject { ["mediaType"] = subject.MediaType, ["digest"] = subject.Digest, ["size"] = subject.Size },
        };
        if (created is not null)
        {
            manifest["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = created };
        }

        return await PutAsync(client, repository, null, manifest, OciManifest);
    }

    private static async Task<Pushed> PutAsync(HttpClient client, string repository, string? tag, JsonObject manifest, string mediaType)
    {
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = OciPusher.Sha256(bytes);
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await client.PutAsync($"/v2/{repository}/manifests/{tag ?? digest}", body, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"PUT {repository} manifest → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return new Pushed(digest, bytes.Length, mediaType);
    }
}
