using System.Text.Json;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static Wharf.Server.Tests.Console.RepositorySettingsTests;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// A registry's settings in a real browser (open mode): scanning configuration, registry policy,
/// replication (readable rules, JSON editor, ECR's refusals), pull-through cache rules (create, refuse,
/// delete) and account settings — each change then read back through the AWS CLI.
/// </summary>
public sealed class RegistrySettingsTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Base = "/console/123456789012/us-east-1/registry-settings";

    [Fact]
    public async Task The_scanning_configuration_and_the_registry_policy_are_saved_and_refused_as_the_api_does()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await browser.GotoAsync(Base);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Scanning", Exact = true })).ToHaveAttributeAsync("aria-current", "page");
        await Expect(page.GetByLabel("Scan type")).ToHaveValueAsync("BASIC");

        // BASIC scanning cannot scan continuously: the service's refusal, the form as typed.
        await page.GetByLabel("Scan frequency").First.SelectOptionAsync("CONTINUOUS_SCAN");
        await page.GetByLabel("Repository filters").First.FillAsync("prod/*");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save scanning configuration" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("scanFrequency CONTINUOUS_SCAN is not supported with scanType BASIC");
        await Expect(page.GetByLabel("Repository filters").First).ToHaveValueAsync("prod/*");

        await page.GetByLabel("Scan type").SelectOptionAsync("ENHANCED");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save scanning configuration" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Scanning configuration saved: ENHANCED scanning with 1 rule(s).");
        using (var got = JsonDocument.Parse((await Aws(server, "ecr", "get-registry-scanning-configuration")).EnsureSuccess().StandardOutput))
        {
            var configuration = got.RootElement.GetProperty("scanningConfiguration");
            Assert.Equal("ENHANCED", configuration.GetProperty("scanType").GetString());
            var rule = configuration.GetProperty("rules")[0];
            Assert.Equal("CONTINUOUS_SCAN", rule.GetProperty("scanFrequency").GetString());
            Assert.Equal("prod/*", rule.GetProperty("repositoryFilters")[0].GetProperty("filter").GetString());
        }

        await browser.CaptureAsync("registry-settings-scanning");

        // The registry policy: an invalid one refused in the API's words, a valid one saved, then deleted.
        await page.GetByRole(AriaRole.Link, new() { Name = "Registry policy" }).ClickAsync();
        var editor = page.GetByLabel("Registry policy (JSON)");
        await editor.FillAsync("""{"Version":"2012-10-17","Statement":"</textarea><script>alert(1)</script>"}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid registry policy provided");
        await Expect(editor).ToHaveValueAsync("""{"Version":"2012-10-17","Statement":"</textarea><script>alert(1)</script>"}""");
        const string policy = """{"Version":"2012-10-17","Statement":[{"Sid":"replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:123456789012:repository/*"}]}""";
        await editor.FillAsync(policy);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Registry policy saved.");
        using (var got = JsonDocument.Parse((await Aws(server, "ecr", "get-registry-policy")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(policy, got.RootElement.GetProperty("policyText").GetString());
        }

        await browser.CaptureAsync("registry-settings-policy");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Registry policy deleted.");
        Assert.NotEqual(0, (await Aws(server, "ecr", "get-registry-policy")).ExitCode);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task A_replication_rule_is_saved_from_json_and_shown_readably_and_bad_json_is_refused_in_words()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        await browser.GotoAsync(Base + "?tab=replication");
        await Expect(page.GetByText("No replication: images stay in this registry.")).ToBeVisibleAsync();
        var editor = page.GetByLabel("Replication configuration (JSON)");

        // Not JSON, too deep, the source as destination, a member of the wrong type: each refused with what is wrong, the text kept.
        await editor.FillAsync("{\"rules\": [");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save replication configuration" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The replication configuration is not valid JSON");
        await Expect(editor).ToHaveValueAsync("{\"rules\": [");

        await editor.FillAsync(new string('[', 2000) + new string(']', 2000));
        await page.GetByRole(AriaRole.Button, new() { Name = "Save replication configuration" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not valid JSON");

        await editor.FillAsync("""{"rules":[{"destinations":[{"region":"us-east-1","registryId":"123456789012"}]}]}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save replication configuration" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Replication destination cannot be the same as the source registry");

        await editor.FillAsync("""{"rules":"every"}""");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Save replication configuration" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("replicationConfiguration.rules");

        await editor.FillAsync("""{"rules":[{"destinations":[{"region":"us-west-2","registryId":"123456789012"}],"repositoryFilters":[{"filter":"prod","filterType":"PREFIX_MATCH"}],"wharfTagFilters":["release-*"]}]}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save replication configuration" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Replication configuration saved: 1 rule(s).");
        var rules = page.GetByRole(AriaRole.Table, new() { Name = "Replication rules" });
        await Expect(rules).ToContainTextAsync("123456789012 · us-west-2");
        await Expect(rules).ToContainTextAsync("prod…");
        await Expect(rules).ToContainTextAsync("release-*");
        using (var described = JsonDocument.Parse((await Aws(server, "ecr", "describe-registry")).EnsureSuccess().StandardOutput))
        {
            var destination = described.RootElement.GetProperty("replicationConfiguration").GetProperty("rules")[0].GetProperty("destinations")[0];
            Assert.Equal("us-west-2", destination.GetProperty("region").GetString());
        }

        await browser.CaptureAsync("registry-settings-replication");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task A_pull_through_cache_rule_is_created_refused_when_invalid_and_deleted_and_an_account_setting_changes()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await browser.GotoAsync(Base + "?tab=pull-through");
        await Expect(page.GetByText("No pull-through cache rules.")).ToBeVisibleAsync();

        // The model's pattern for the prefix, in the API's words, the form kept.
        await page.GetByLabel("Repository prefix", new() { Exact = true }).FillAsync("Not A Prefix");
        await page.GetByLabel("Upstream registry URL").FillAsync("quay.io");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create rule" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid parameter at 'ecrRepositoryPrefix'");
        await Expect(page.GetByLabel("Repository prefix", new() { Exact = true })).ToHaveValueAsync("Not A Prefix");
        await Expect(page.GetByLabel("Upstream registry URL")).ToHaveValueAsync("quay.io");

        await page.GetByLabel("Repository prefix", new() { Exact = true }).FillAsync("quay");
        await page.GetByLabel("Upstream registry", new() { Exact = true }).SelectOptionAsync("quay");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create rule" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Pull-through cache rule quay created");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Pull-through cache rules" })).ToContainTextAsync("quay.io");
        using (var described = JsonDocument.Parse((await Aws(server, "ecr", "describe-pull-through-cache-rules")).EnsureSuccess().StandardOutput))
        {
            var rule = described.RootElement.GetProperty("pullThroughCacheRules").EnumerateArray().Single();
            Assert.Equal("quay", rule.GetProperty("ecrRepositoryPrefix").GetString());
            Assert.Equal("quay", rule.GetProperty("upstreamRegistry").GetString());
        }

        // The same prefix again: ECR's conflict.
        await page.GetByLabel("Repository prefix", new() { Exact = true }).FillAsync("quay");
        await page.GetByLabel("Upstream registry URL").FillAsync("quay.io");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create rule" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("already exists");
        await browser.CaptureAsync("registry-settings-pull-through");

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete rule quay" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Pull-through cache rule quay deleted.");
        await Expect(page.GetByText("No pull-through cache rules.")).ToBeVisibleAsync();
        using (var described = JsonDocument.Parse((await Aws(server, "ecr", "describe-pull-through-cache-rules")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(0, described.RootElement.GetProperty("pullThroughCacheRules").GetArrayLength());
        }

        // Account settings: BLOB_MOUNTING off, read back by the API.
        await page.GetByRole(AriaRole.Link, new() { Name = "Account settings" }).ClickAsync();
        await Expect(page.GetByLabel("BLOB_MOUNTING", new() { Exact = true })).ToHaveValueAsync("ENABLED");
        await page.GetByLabel("BLOB_MOUNTING", new() { Exact = true }).SelectOptionAsync("DISABLED");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save BLOB_MOUNTING" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("BLOB_MOUNTING is now DISABLED.");
        await Expect(page.GetByLabel("BLOB_MOUNTING", new() { Exact = true })).ToHaveValueAsync("DISABLED");
        using (var setting = JsonDocument.Parse((await Aws(server, "ecr", "get-account-setting", "--name", "BLOB_MOUNTING")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("DISABLED", setting.RootElement.GetProperty("value").GetString());
        }

        await browser.CaptureAsync("registry-settings-account");
        browser.AssertNoProblems();
    }
}
