using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Wharf.Core.Lifecycle;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// A repository's settings in a real browser (open mode): the lifecycle editor previewing and saving a
/// policy the AWS CLI then reads, its refusals in the API's words with the text kept; tag mutability with
/// exclusions saved and then enforced on push; the repository policy invalid then valid; resource tags;
/// hostile editor input staying text.
/// </summary>
public sealed class RepositorySettingsTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lifecycle_policy_is_previewed_from_the_editor_then_saved_and_the_api_returns_it()
    {
        await using var server = await WharfTestServer.StartAsync();
        const string repo = "life/web";
        (await Aws(server, "ecr", "create-repository", "--repository-name", repo)).EnsureSuccess();
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var digests = new Dictionary<string, string>();
        foreach (var (tag, seed) in new[] { ("release-1", 1), ("release-2", 2), ("release-3", 3), ("release-4", 4), ("dev-1", 5) })
        {
            digests[tag] = OciPusher.Sha256(await PushAsync(pusher, repo, tag, seed));
        }

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var dialogs = RecordDialogs(browser);
        var response = await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=lifecycle");
        Assert.Equal(200, response.Status);
        var page = browser.Page;
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Lifecycle policy" })).ToHaveAttributeAsync("aria-current", "page");
        var editor = page.GetByLabel("Lifecycle policy (JSON)");
        await Expect(editor).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("\"rules\""));

        // Keep the two newest releases: the two oldest would expire, nothing else.
        const string policy = """{"rules":[{"rulePriority":1,"description":"keep two releases","selection":{"tagStatus":"tagged","tagPrefixList":["release"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}""";
        await editor.FillAsync(policy);
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview", Exact = true }).ClickAsync();
        var results = page.GetByRole(AriaRole.Table, new() { Name = "Images the policy would act on" });
        await Expect(results).ToBeVisibleAsync();
        await Expect(results.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(results).ToContainTextAsync("release-1");
        await Expect(results).ToContainTextAsync("release-2");
        await Expect(results).Not.ToContainTextAsync("release-3");
        await Expect(results).Not.ToContainTextAsync("dev-1");
        await Expect(results).ToContainTextAsync("Expire");
        await Expect(results.Locator("code.digest").First).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^sha256:"));
        Assert.Contains(await results.Locator("code.digest").EvaluateAllAsync<string[]>("els => els.map(e => e.title)"), d => d == digests["release-1"]);

        // The previewed text stays in the editor, not yet saved.
        await Expect(page.GetByLabel("Lifecycle policy (JSON)")).ToHaveValueAsync(policy);
        Assert.False((await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", repo)).ExitCode == 0, "a preview saves nothing");
        await browser.CaptureAsync("settings-lifecycle-preview");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Lifecycle policy saved.");
        using (var saved = JsonDocument.Parse((await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", repo)).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(policy, saved.RootElement.GetProperty("lifecyclePolicyText").GetString());
        }

        // Nothing expired: a preview and a save act on no image.
        Assert.Equal(5, JsonDocument.Parse((await Aws(server, "ecr", "describe-images", "--repository-name", repo)).EnsureSuccess().StandardOutput).RootElement.GetProperty("imageDetails").GetArrayLength());
        await browser.CaptureAsync("settings-lifecycle");

        // Delete, with the policy gone for the API too.
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Lifecycle policy deleted.");
        Assert.NotEqual(0, (await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", repo)).ExitCode);
        Assert.All(dialogs, d => Assert.Equal("confirm", d));
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task An_invalid_lifecycle_policy_shows_the_apis_message_and_keeps_the_text_and_hostile_text_stays_text()
    {
        await using var server = await WharfTestServer.StartAsync();
        const string repo = "life/bad";
        (await Aws(server, "ecr", "create-repository", "--repository-name", repo)).EnsureSuccess();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var dialogs = RecordDialogs(browser);
        var page = browser.Page;
        await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=lifecycle");

        // A priority of 0: what the API answers, word for word, above the editor, with the text kept.
        const string invalid = """{"rules":[{"rulePriority":0,"description":"zero is not a priority","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":3},"action":{"type":"expire"}}]}""";
        var apiMessage = Assert.Throws<LifecyclePolicyException>(() => LifecyclePolicy.Parse(invalid)).Message;
        var cli = await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", repo, "--lifecycle-policy-text", invalid);
        Assert.Contains(apiMessage, cli.StandardError, StringComparison.Ordinal);
        await page.GetByLabel("Lifecycle policy (JSON)").FillAsync(invalid);
        var saved = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(400, saved.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(apiMessage);
        await Expect(page.GetByLabel("Lifecycle policy (JSON)")).ToHaveValueAsync(invalid);
        await browser.CaptureAsync("settings-lifecycle-invalid");

        // Too short for the model (under 100 characters), and not JSON at all: the model's message first, as the API.
        await page.GetByLabel("Lifecycle policy (JSON)").FillAsync("{\"rules\": [");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint");
        await Expect(page.GetByLabel("Lifecycle policy (JSON)")).ToHaveValueAsync("{\"rules\": [");

        // Markup in the editor is text: refused as not a policy, shown back as typed, no script runs.
        var hostile = "</textarea><script>alert(1)</script>" + new string(' ', 80) + "<img src=x onerror=alert(2)>";
        await page.GetByLabel("Lifecycle policy (JSON)").FillAsync(hostile);
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Lifecycle policy validation failure");
        await Expect(page.GetByLabel("Lifecycle policy (JSON)")).ToHaveValueAsync(hostile);
        Assert.Equal(0, await page.Locator("main script, main img").CountAsync());
        Assert.Empty(dialogs);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task A_preview_still_running_shows_a_refresh_link_and_another_preview_is_refused_until_it_ends()
    {
        await using var server = await WharfTestServer.StartAsync();
        const string repo = "life/busy";
        (await Aws(server, "ecr", "create-repository", "--repository-name", repo)).EnsureSuccess();
        const string policy = """{"rules":[{"rulePriority":1,"description":"a preview in progress","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""";

        // A preview another node started and has not finished (as StartLifecyclePolicyPreview leaves it while it runs).
        var store = server.GetService<Wharf.Core.Metadata.IMetadataStore>();
        var repository = await store.Repositories.GetAsync(new(new(Wharf.Core.Primitives.AccountId.Parse(Account), Region), Wharf.Core.Primitives.RepositoryName.Parse(repo)), Ct);
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.Lifecycle.TryStartPreviewAsync(repository!.Id, policy, now, now - LifecycleService.AbandonedPreview, Ct));

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=lifecycle&preview=1");
        await Expect(page.GetByText("The preview is still running.")).ToBeVisibleAsync();
        var refresh = page.GetByRole(AriaRole.Link, new() { Name = "Refresh" });
        await Expect(refresh).ToHaveAttributeAsync("href", $"/console/{Account}/{Region}/settings/{repo}?tab=lifecycle&preview=1");
        await Expect(page.GetByLabel("Lifecycle policy (JSON)")).ToHaveValueAsync(policy);

        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Preview", Exact = true }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(409, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The previous lifecycle policy preview request has not completed");

        // Once it ends, Refresh shows its result.
        await store.Lifecycle.CompletePreviewAsync(repository.Id, "COMPLETE", "[]", Ct);
        await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=lifecycle&preview=1");
        await Expect(page.GetByText("This policy would expire or archive no image now.")).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Tag_mutability_with_exclusions_is_saved_and_then_enforced_on_push()
    {
        await using var server = await WharfTestServer.StartAsync();
        const string repo = "locked/app";
        (await Aws(server, "ecr", "create-repository", "--repository-name", repo)).EnsureSuccess();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        // Reached from the repository's page; the General tab first.
        await browser.GotoAsync($"/console/{Account}/{Region}/repository/{repo}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "General" })).ToHaveAttributeAsync("aria-current", "page");
        await Expect(page.GetByText("AES256")).ToBeVisibleAsync();

        // Exclusions are required by the *_WITH_EXCLUSION modes: the API's message, the choice kept.
        await page.GetByLabel("Image tag mutability").SelectOptionAsync("IMMUTABLE_WITH_EXCLUSION");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tag mutability" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("imageTagMutabilityExclusionFilters must be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION");
        await Expect(page.GetByLabel("Image tag mutability")).ToHaveValueAsync("IMMUTABLE_WITH_EXCLUSION");

        // A filter the model's pattern refuses.
        await page.GetByLabel("Exclusion filters").FillAsync("not a filter!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tag mutability" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("imageTagMutabilityExclusionFilters.1.member.filter");
        await Expect(page.GetByLabel("Exclusion filters")).ToHaveValueAsync("not a filter!");

        await page.GetByLabel("Exclusion filters").FillAsync("latest\ndev-*");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tag mutability" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Tag mutability is now IMMUTABLE_WITH_EXCLUSION.");
        await Expect(page.GetByLabel("Exclusion filters")).ToHaveValueAsync("latest\ndev-*");
        using (var described = JsonDocument.Parse((await Aws(server, "ecr", "describe-repositories", "--repository-names", repo)).EnsureSuccess().StandardOutput))
        {
            var repository = described.RootElement.GetProperty("repositories")[0];
            Assert.Equal("IMMUTABLE_WITH_EXCLUSION", repository.GetProperty("imageTagMutability").GetString());
            Assert.Equal(["latest", "dev-*"], repository.GetProperty("imageTagMutabilityExclusionFilters").EnumerateArray().Select(f => f.GetProperty("filter").GetString()));
        }

        // Enforced: v1 cannot move; latest and dev-1 (excluded) can.
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        await PushAsync(pusher, repo, "v1", 1);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => PushAsync(pusher, repo, "v1", 2));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        await PushAsync(pusher, repo, "latest", 3);
        await PushAsync(pusher, repo, "latest", 4);
        await PushAsync(pusher, repo, "dev-1", 5);
        await PushAsync(pusher, repo, "dev-1", 6);

        // Scan on push.
        await page.GetByLabel("Scan images on push").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save scanning" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Images are scanned on push.");
        await Expect(page.GetByLabel("Scan images on push")).ToBeCheckedAsync();
        await browser.CaptureAsync("settings-general");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task The_repository_policy_is_refused_when_invalid_then_saved_and_resource_tags_are_added_and_removed()
    {
        await using var server = await WharfTestServer.StartAsync();
        const string repo = "shared/app";
        (await Aws(server, "ecr", "create-repository", "--repository-name", repo)).EnsureSuccess();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=permissions");
        var editor = page.GetByLabel("Policy (JSON)");
        await Expect(editor).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("2012-10-17"));

        const string invalid = """{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:BatchGetImage"}]}""";
        await editor.FillAsync(invalid);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid repository policy provided");
        await Expect(editor).ToHaveValueAsync(invalid);
        var cli = await Aws(server, "ecr", "set-repository-policy", "--repository-name", repo, "--policy-text", invalid);
        Assert.Contains("Invalid repository policy provided", cli.StandardError, StringComparison.Ordinal);

        const string valid = """{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}""";
        await editor.FillAsync(valid);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Repository policy saved.");
        await Expect(page.GetByLabel("Policy (JSON)")).ToHaveValueAsync(valid);
        using (var got = JsonDocument.Parse((await Aws(server, "ecr", "get-repository-policy", "--repository-name", repo)).EnsureSuccess().StandardOutput))
        {
            Assert.Contains("210987654321", got.RootElement.GetProperty("policyText").GetString(), StringComparison.Ordinal);
        }

        await browser.CaptureAsync("settings-permissions");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Repository policy deleted.");
        Assert.NotEqual(0, (await Aws(server, "ecr", "get-repository-policy", "--repository-name", repo)).ExitCode);

        // Resource tags: add, refuse the reserved prefix with the API's reason, remove.
        await page.GetByRole(AriaRole.Link, new() { Name = "Tags", Exact = true }).ClickAsync();
        await Expect(page.GetByText("This repository has no resource tags.")).ToBeVisibleAsync();
        await page.GetByLabel("Key", new() { Exact = true }).FillAsync("team");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("<b>payments</b>");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tag" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Tag team set.");
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "<b>payments</b>" })).ToBeVisibleAsync();

        await page.GetByLabel("Key", new() { Exact = true }).FillAsync("aws:owner");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tag" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("the aws: prefix is reserved for AWS use");
        await Expect(page.GetByLabel("Key", new() { Exact = true })).ToHaveValueAsync("aws:owner");

        using (var tags = JsonDocument.Parse((await Aws(server, "ecr", "list-tags-for-resource", "--resource-arn", $"arn:aws:ecr:{Region}:{Account}:repository/{repo}")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("<b>payments</b>", tags.RootElement.GetProperty("tags").EnumerateArray().Single(t => t.GetProperty("Key").GetString() == "team").GetProperty("Value").GetString());
        }

        await browser.CaptureAsync("settings-tags");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove tag team" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Tag team removed.");
        await Expect(page.GetByText("This repository has no resource tags.")).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Hostile_posts_get_readable_refusals_never_a_fault()
    {
        await using var server = await WharfTestServer.StartAsync();
        const string repo = "hostile/app";
        (await Aws(server, "ecr", "create-repository", "--repository-name", repo)).EnsureSuccess();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=permissions");

        // A policy of 1 MB: the form cap refuses it, in words.
        await page.GetByLabel("Policy (JSON)").FillAsync(new string('x', 1024 * 1024));
        var tooLarge = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(413, tooLarge.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The form is too large.");

        // 100 KB: past the model's 10,240 characters, shown back as typed.
        await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=permissions");
        var big = "{\"Version\":\"2012-10-17\",\"Statement\":[" + new string(' ', 100 * 1024) + "]}";
        await page.GetByLabel("Policy (JSON)").FillAsync(big);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid parameter at 'policyText' failed to satisfy constraint: 'must have length less than or equal to 10240'");

        // Deeply nested JSON: refused as a policy, no fault.
        var deep = new string('[', 5000) + new string(']', 5000);
        await page.GetByLabel("Policy (JSON)").FillAsync(deep);
        var nested = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(400, nested.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid repository policy provided");

        // Names that are not a repository, an unknown tab, an unknown action, a missing repository.
        Assert.Equal(404, (await browser.GotoAsync($"/console/{Account}/{Region}/settings/Not..A..Name")).Status);
        Assert.Equal(404, (await browser.GotoAsync($"/console/{Account}/_public/settings/{repo}")).Status);
        Assert.Equal(404, (await browser.GotoAsync($"/console/{Account}/{Region}/settings/{repo}?tab=nope")).Status);
        Assert.Equal(404, (await browser.GotoAsync($"/console/{Account}/{Region}/settings/no/such/repo?tab=general")).Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("does not exist");
        browser.AssertNoProblems();
    }

    internal static Task<ProcessResult> Aws(WharfTestServer server, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);

    /// <summary>The types of the dialogs the page opened (an alert dismissed; a confirm left to the test's own handler).</summary>
    internal static List<string> RecordDialogs(ConsoleBrowser browser)
    {
        var dialogs = new List<string>();
        browser.Page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Type);
            if (dialog.Type != "confirm")
            {
                _ = dialog.DismissAsync();
            }
        };
        return dialogs;
    }

    /// <summary>A one-layer image unique to <paramref name="seed"/>, pushed over /v2; returns the manifest's bytes.</summary>
    internal static async Task<byte[]> PushAsync(OciPusher pusher, string repository, string tag, int seed)
    {
        var layer = new byte[512 + seed];
        new Random(seed).NextBytes(layer);
        var config = System.Text.Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}""");
        await pusher.PushBlobMonolithicAsync(repository, layer, Ct);
        await pusher.PushBlobMonolithicAsync(repository, config, Ct);
        return await pusher.PushManifestAsync(repository, tag, config, [layer], Ct);
    }
}
