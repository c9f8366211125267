using System.Text.Json;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// Settings in IAM mode, signed in with a password: a user with AWS's managed ReadOnly policy sees a
/// repository's settings but every save is refused with AWS's reason, the text typed kept and nothing
/// changed, and is told why each registry setting (which that policy does not cover) is not shown; a user
/// without <c>ecr:DescribeRepositories</c> gets AWS's reason instead of the page.
/// </summary>
public sealed class SettingsAccessTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private const string Password = "Correct-Horse-42";
    private const string Repo = "guarded/app";

    [Fact]
    public async Task A_read_only_user_sees_settings_but_each_save_is_refused_with_AWSs_reason()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key"));
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        const string policy = """{"rules":[{"rulePriority":1,"description":"the saved policy","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}""";
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text", policy)).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", "reader")).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "attach-user-policy", "--user-name", "reader", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-login-profile", "--user-name", "reader", "--password", Password)).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", "stranger")).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-login-profile", "--user-name", "stranger", "--password", Password)).EnsureSuccess();

        await using (var browser = await ConsoleBrowser.OpenAsync(chromium, server))
        {
            await browser.SignInAsync(Account, "reader", Password);
            var page = browser.Page;
            Assert.Equal(200, (await browser.GotoAsync($"/console/{Account}/{Region}/settings/{Repo}?tab=lifecycle")).Status);
            var editor = page.GetByLabel("Lifecycle policy (JSON)");
            await Expect(editor).ToHaveValueAsync(policy);

            var edited = policy.Replace("the saved policy", "an edit", StringComparison.Ordinal);
            await editor.FillAsync(edited);
            var refused = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = "Save policy" }).ClickAsync(),
                r => r.Request.Method == "POST");
            Assert.Equal(403, refused.Status);
            var alert = page.GetByRole(AriaRole.Alert);
            await Expect(alert).ToContainTextAsync("You are not allowed to do this.");
            await Expect(alert).ToContainTextAsync($"User: arn:aws:iam::{Account}:user/reader is not authorized to perform: ecr:PutLifecyclePolicy on resource: arn:aws:ecr:{Region}:{Account}:repository/{Repo}");
            await Expect(editor).ToHaveValueAsync(edited);
            await browser.CaptureAsync("settings-read-only-refused");

            // Preview is not a read either (ecr:StartLifecyclePolicyPreview).
            await page.GetByRole(AriaRole.Button, new() { Name = "Preview", Exact = true }).ClickAsync();
            await Expect(alert).ToContainTextAsync("is not authorized to perform: ecr:StartLifecyclePolicyPreview");

            // The general tab and the registry's settings: seen, refused.
            await browser.GotoAsync($"/console/{Account}/{Region}/settings/{Repo}?tab=general");
            await page.GetByLabel("Image tag mutability").SelectOptionAsync("IMMUTABLE");
            await page.GetByRole(AriaRole.Button, new() { Name = "Save tag mutability" }).ClickAsync();
            await Expect(alert).ToContainTextAsync("is not authorized to perform: ecr:PutImageTagMutability");
            await Expect(page.GetByLabel("Image tag mutability")).ToHaveValueAsync("IMMUTABLE");

            // ReadOnly reads no registry setting (as AWS's policy): each tab says why, its tabs still there.
            Assert.Equal(403, (await browser.GotoAsync($"/console/{Account}/{Region}/registry-settings?tab=account")).Status);
            await Expect(alert).ToContainTextAsync($"User: arn:aws:iam::{Account}:user/reader is not authorized to perform: ecr:GetAccountSetting");
            Assert.Equal(0, await page.Locator("main select").CountAsync());
            await page.GetByRole(AriaRole.Link, new() { Name = "Registry policy" }).ClickAsync();
            await Expect(alert).ToContainTextAsync("is not authorized to perform: ecr:GetRegistryPolicy");
            browser.AssertNoProblems();
        }

        // Nothing changed.
        using (var saved = JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "get-lifecycle-policy", "--repository-name", Repo)).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(policy, saved.RootElement.GetProperty("lifecyclePolicyText").GetString());
        }

        using (var described = JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "describe-repositories", "--repository-names", Repo)).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("MUTABLE", described.RootElement.GetProperty("repositories")[0].GetProperty("imageTagMutability").GetString());
        }

        using (var setting = JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "get-account-setting", "--name", "BLOB_MOUNTING")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("ENABLED", setting.RootElement.GetProperty("value").GetString());
        }

        // A user with no policy at all: the repository's settings are not shown, AWS's reason is.
        await using (var browser = await ConsoleBrowser.OpenAsync(chromium, server))
        {
            await browser.SignInAsync(Account, "stranger", Password);
            var response = await browser.GotoAsync($"/console/{Account}/{Region}/settings/{Repo}?tab=permissions");
            Assert.Equal(403, response.Status);
            await Expect(browser.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"User: arn:aws:iam::{Account}:user/stranger is not authorized to perform: ecr:DescribeRepositories");
            Assert.Equal(0, await browser.Page.Locator("textarea").CountAsync());
            browser.AssertNoProblems();
        }
    }
}
