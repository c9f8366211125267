using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// The identity pages in a real browser: users with access keys, attached and inline policies, groups,
/// roles and customer managed policies, made and undone through the pages as IAM's API would, with hostile
/// policy text shown as text.
/// </summary>
public sealed class IdentityPagesTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private const string Hostile = "</pre><script>alert(1)</script><img src=x onerror=alert(2)>";

    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_user_gets_a_key_shown_once_policies_and_a_group_and_is_deleted_only_after_they_are_removed()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        var dialogs = Track(page);

        await browser.GotoAsync("/console/iam/users");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Identity" }).GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveAttributeAsync("aria-current", "page");
        await Expect(page.GetByText("This account has no IAM users yet.")).ToBeVisibleAsync();
        await page.GetByText("Create a user").ClickAsync();
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/iam/users/alice$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "User alice" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Created the user alice.");
        await Expect(page.Locator("dl.facts")).ToContainTextAsync($"arn:aws:iam::{Account}:user/alice");

        // A key: its secret on the answer to the form, once.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create access key" }).ClickAsync();
        var shown = page.Locator("#new-key");
        await Expect(shown).ToContainTextAsync("this is the only time it is shown");
        var secret = (await shown.Locator("code.secret").TextContentAsync())!;
        var keyId = (await shown.Locator("dd code").First.TextContentAsync())!;
        Assert.Equal(40, secret.Length);
        Assert.StartsWith("AKIA", keyId, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain((await browser.Context.CookiesAsync()).Select(c => Uri.UnescapeDataString(c.Value)), v => v.Contains(secret, StringComparison.Ordinal));
        await browser.CaptureAsync("iam-user-new-key");

        await browser.GotoAsync("/console/iam/users/alice");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        var keys = page.GetByRole(AriaRole.Table).Filter(new() { HasText = keyId });
        await Expect(keys).ToContainTextAsync("Active");
        await keys.GetByRole(AriaRole.Button, new() { Name = "Deactivate" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Filter(new() { HasText = keyId })).ToContainTextAsync("Inactive");

        // An AWS managed policy attached from the list Wharf knows.
        await page.GetByText("Attach a managed policy").ClickAsync();
        await page.GetByLabel("Managed policy", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "AmazonEC2ContainerRegistryReadOnly" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Attach policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Filter(new() { HasText = "AWS managed" })).ToContainTextAsync("AmazonEC2ContainerRegistryReadOnly");

        // An inline policy: IAM's refusal keeps what was typed; hostile text in a good one stays text.
        await page.GetByText("Add an inline policy").ClickAsync();
        await page.GetByLabel("Policy name").FillAsync("pulls");
        await page.GetByLabel("Policy document (JSON)").FillAsync("{\"Version\": \"2012-10-17\", \"Statement\": [");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Save inline policy" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The policy is not valid.");
        await Expect(page.GetByLabel("Policy document (JSON)")).ToHaveValueAsync("{\"Version\": \"2012-10-17\", \"Statement\": [");
        await Expect(page.GetByLabel("Policy name")).ToHaveValueAsync("pulls");
        var document = HostileDocument();
        await page.GetByLabel("Policy document (JSON)").FillAsync(document);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save inline policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Saved the inline policy pulls.");
        await page.GetByText("pulls", new() { Exact = true }).ClickAsync();
        Assert.Equal(document, (await page.Locator("details.panel pre").First.TextContentAsync())!.ReplaceLineEndings("\n")); // forms send CRLF
        Assert.Equal(0, await page.Locator("main script, main img").CountAsync());

        // Hostile tag values are text too.
        await page.GetByLabel("Tag key").FillAsync("team");
        await page.GetByLabel("Tag value").FillAsync(Hostile);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add tag" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Filter(new() { HasText = "team" })).ToContainTextAsync(Hostile);
        await browser.CaptureAsync("iam-user");

        // A group with the user in it.
        await browser.GotoAsync("/console/iam/groups");
        await page.GetByText("Create a group").ClickAsync();
        await page.GetByLabel("Group name").FillAsync("devs");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Group devs" })).ToBeVisibleAsync();
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Filter(new() { HasText = "alice" })).ToBeVisibleAsync();
        var groupConflict = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Delete group" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(409, groupConflict.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Remove the group's users and policies first.");
        await browser.GotoAsync("/console/iam/groups/devs");
        await browser.CaptureAsync("iam-group");
        await browser.GotoAsync("/console/iam/groups");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "devs" })).ToBeVisibleAsync();
        await browser.CaptureAsync("iam-groups");

        // Deleting the user is refused while anything hangs on it, with IAM's reason, then allowed.
        await browser.GotoAsync("/console/iam/users/alice");
        var conflict = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Delete user" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(409, conflict.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Remove the user's access keys, policies, groups and login profile first.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Cannot delete entity");
        await browser.GotoAsync("/console/iam/users/alice");
        await page.GetByRole(AriaRole.Table).Filter(new() { HasText = keyId }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.GetByText("No access keys.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Detach" }).ClickAsync();
        await Expect(page.GetByText("No managed policies attached.")).ToBeVisibleAsync();
        await page.GetByText("pulls", new() { Exact = true }).ClickAsync();
        await page.Locator("details.panel").Filter(new() { HasText = "pulls" }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.GetByText("No inline policies.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove from group" }).ClickAsync();
        await Expect(page.GetByText("Not in any group.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete user" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/iam/users$"));
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Deleted the user alice.");
        await Expect(page.GetByText("This account has no IAM users yet.")).ToBeVisibleAsync();
        await browser.GotoAsync("/console/iam/groups/devs");
        await Expect(page.GetByText("No users in this group.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete group" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Deleted the group devs.");

        Assert.Empty(dialogs);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Roles_and_customer_managed_policies_are_created_and_shown_as_text()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        var dialogs = Track(page);

        await browser.GotoAsync("/console/iam/roles");
        await page.GetByText("Create a role").ClickAsync();
        await page.GetByLabel("Role name").FillAsync("deployer");
        await Expect(page.GetByLabel("Trust policy (JSON)")).ToHaveValueAsync(new Regex($"arn:aws:iam::{Account}:root"));
        await page.GetByLabel("Maximum session duration (seconds)").FillAsync("7200");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create role" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Role deployer" })).ToBeVisibleAsync();
        await Expect(page.Locator("dl.facts")).ToContainTextAsync("2 hours");
        await Expect(page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Trust policy" }) }).Locator("pre")).ToContainTextAsync("sts:AssumeRole");

        // A trust policy that is not one is refused with what was typed kept.
        await page.GetByText("Edit the trust policy").ClickAsync();
        await page.GetByLabel("Trust policy (JSON)").FillAsync("{\"Statement\": \"nope\"}");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Save trust policy" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The policy is not valid.");
        await Expect(page.GetByLabel("Trust policy (JSON)")).ToHaveValueAsync("{\"Statement\": \"nope\"}");
        await browser.CaptureAsync("iam-role");
        await browser.GotoAsync("/console/iam/roles");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "deployer" })).ToBeVisibleAsync();
        await browser.CaptureAsync("iam-roles");

        // A customer managed policy with hostile text, a second version, then attached to the role.
        await browser.GotoAsync("/console/iam/policies");
        await page.GetByText("Create a policy").ClickAsync();
        await page.GetByLabel("Policy name").FillAsync("pull-only");
        await page.GetByLabel("Description (optional)").FillAsync(Hostile);
        var document = HostileDocument();
        await page.GetByLabel("Policy document (JSON)").FillAsync(document);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Policy pull-only" })).ToBeVisibleAsync();
        await Expect(page.Locator("dl.facts")).ToContainTextAsync($"arn:aws:iam::{Account}:policy/pull-only");
        await Expect(page.Locator("dl.facts")).ToContainTextAsync(Hostile);
        Assert.Equal(document, (await page.Locator("section pre").TextContentAsync())!.ReplaceLineEndings("\n"));
        Assert.Equal(0, await page.Locator("main script, main img").CountAsync());
        await page.GetByText("Create a new version").ClickAsync();
        await page.GetByLabel("Policy document (JSON)").FillAsync(document.Replace("ecr:BatchGetImage", "ecr:DescribeImages", StringComparison.Ordinal));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create version" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Created version v2, now the default.");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Document of version v2 (default)" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Set as default" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Document of version v1 (default)" })).ToBeVisibleAsync();
        await browser.CaptureAsync("iam-policy");

        await browser.GotoAsync("/console/iam/roles/deployer");
        await page.GetByText("Attach a managed policy").ClickAsync();
        await page.GetByLabel("Managed policy", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "pull-only" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Attach policy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table).Filter(new() { HasText = "Customer managed" })).ToContainTextAsync("pull-only");
        var conflict = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Delete role" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(409, conflict.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Remove the role's policies first.");

        await browser.GotoAsync("/console/iam/policies");
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "pull-only" });
        await Expect(row).ToContainTextAsync("1");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "AmazonEC2ContainerRegistryReadOnly" })).ToBeVisibleAsync();
        await browser.CaptureAsync("iam-policies");

        Assert.Empty(dialogs);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Lists_page_on_the_server_and_bad_names_answer_readable_pages()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Console:PageSize"] = "2" });
        foreach (var name in new[] { "carol", "alice", "bob" })
        {
            (await AwsClients.CliAsync(server.BaseAddress, Region, "iam", "create-user", "--user-name", name)).EnsureSuccess();
        }

        using var client = server.CreateClient();
        var first = await client.GetStringAsync("/console/iam/users", Ct);
        Assert.Contains(">alice</a>", first, StringComparison.Ordinal);
        Assert.Contains(">bob</a>", first, StringComparison.Ordinal);
        Assert.DoesNotContain(">carol</a>", first, StringComparison.Ordinal);
        Assert.Contains("href=\"/console/iam/users?after=bob\"", first, StringComparison.Ordinal);
        var second = await client.GetStringAsync("/console/iam/users?after=bob", Ct);
        Assert.Contains(">carol</a>", second, StringComparison.Ordinal);
        Assert.DoesNotContain(">alice</a>", second, StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"next\"", second, StringComparison.Ordinal);

        foreach (var path in new[] { "/console/iam/users/no-such-user", "/console/iam/users/%3Cscript%3E", "/console/iam/groups/none", "/console/iam/roles/none", $"/console/iam/policies/view?arn=arn:aws:iam::{Account}:policy/none" })
        {
            using var missing = await client.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            var body = await missing.Content.ReadAsStringAsync(Ct);
            Assert.Contains("does not exist", body, StringComparison.Ordinal);
            Assert.DoesNotContain("<script>", body, StringComparison.Ordinal);
        }

        foreach (var path in new[] { "/console/iam/groups/%3Cscript%3E", "/console/iam/policies/view?arn=%3Cscript%3E", "/console/iam/policies/view" })
        {
            using var bad = await client.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.DoesNotContain("<script>", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task In_iam_mode_an_administrator_gives_a_user_a_password_and_a_key_and_a_user_without_iam_permissions_sees_aws_reason()
    {
        const string AdminPassword = "Correct-Horse-42";
        const string BobPassword = "Battery-Staple-7";
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key"));
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", "admin")).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "put-user-policy", "--user-name", "admin", "--policy-name", "iam", "--policy-document", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\"}]}")).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-login-profile", "--user-name", "admin", "--password", AdminPassword, "--no-password-reset-required")).EnsureSuccess();

        await using var admin = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = admin.Page;
        var dialogs = Track(page);
        await admin.SignInAsync(Account, "admin", AdminPassword);
        await admin.GotoAsync("/console/iam/users");
        await page.GetByText("Create a user").ClickAsync();
        await page.GetByLabel("User name").FillAsync("bob");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "User bob" })).ToBeVisibleAsync();

        // A password AWS's policy refuses, then one it takes, without a reset so that bob goes straight in.
        await page.GetByText("Create a login profile").ClickAsync();
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("short");
        await page.GetByLabel("Require a new password at the next sign-in").UncheckAsync();
        await page.EvaluateAsync("() => document.querySelectorAll('input[minlength]').forEach(i => i.removeAttribute('minlength'))");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Create login profile" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The password does not meet the password policy.");
        await Expect(page.GetByLabel("New password", new() { Exact = true })).ToHaveValueAsync(string.Empty);
        await Expect(page.GetByLabel("Require a new password at the next sign-in")).Not.ToBeCheckedAsync();
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(BobPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create login profile" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("bob can now sign in to the console with this password.");
        await Expect(page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Console password" }) })).ToContainTextAsync("New password required");

        // A key made on the page works with the AWS CLI, as bob.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create access key" }).ClickAsync();
        var bobKey = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = (await page.Locator("#new-key dd code").First.TextContentAsync())!,
            ["AWS_SECRET_ACCESS_KEY"] = (await page.Locator("#new-key code.secret").TextContentAsync())!,
        };
        var identity = (await AwsClients.CliAsync(server.BaseAddress, Region, bobKey, "sts", "get-caller-identity")).EnsureSuccess().StandardOutput;
        Assert.Contains($"arn:aws:iam::{Account}:user/bob", identity, StringComparison.Ordinal);
        await admin.CaptureAsync("iam-user-iam-mode");

        // bob signs in elsewhere with the password set on the page, and is refused the identity pages with AWS's reason.
        await using var bob = await ConsoleBrowser.OpenAsync(chromium, server);
        await bob.SignInAsync(Account, "bob", BobPassword);
        var denied = await bob.GotoAsync("/console/iam/users");
        Assert.Equal(403, denied.Status);
        await Expect(bob.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"User: arn:aws:iam::{Account}:user/bob is not authorized to perform: iam:ListUsers");
        Assert.Equal(0, await bob.Page.GetByRole(AriaRole.Link, new() { Name = "admin" }).CountAsync());
        await bob.Page.GetByText("Create a user").ClickAsync();
        await bob.Page.GetByLabel("User name").FillAsync("mallory");
        var refusedCreate = await bob.Page.RunAndWaitForResponseAsync(() => bob.Page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(403, refusedCreate.Status);
        await Expect(bob.Page.GetByRole(AriaRole.Alert).First).ToContainTextAsync($"is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::{Account}:user/mallory");
        await Expect(bob.Page.GetByLabel("User name")).ToHaveValueAsync("mallory");
        Assert.Contains("NoSuchEntity", (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "get-user", "--user-name", "mallory")).StandardError, StringComparison.Ordinal);
        var deniedUser = await bob.GotoAsync("/console/iam/users/admin");
        Assert.Equal(403, deniedUser.Status);
        await Expect(bob.Page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("iam:GetUser");
        await bob.CaptureAsync("iam-denied");

        // Deleting bob's password ends that way in; the user can be deleted once its key and profile are gone.
        await admin.GotoAsync("/console/iam/users/bob");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete login profile" }).ClickAsync();
        await Expect(page.GetByText("This user has no login profile")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Table).Filter(new() { HasText = bobKey["AWS_ACCESS_KEY_ID"] }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete user" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Deleted the user bob.");

        Assert.Empty(dialogs);
        admin.AssertNoProblems();
        bob.AssertNoProblems();
    }

    // A valid identity policy whose condition value is markup.
    private static string HostileDocument() =>
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"ecr:BatchGetImage\",\n      \"Resource\": \"*\",\n      \"Condition\": { \"StringEquals\": { \"aws:username\": \""
        + Hostile.Replace("\"", "\\\"", StringComparison.Ordinal) + "\" } }\n    }\n  ]\n}";

    // Confirms the console's own "are you sure?" questions; any other dialog (an injected alert) is recorded.
    private static List<string> Track(IPage page)
    {
        var dialogs = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            if (dialog.Type != "confirm")
            {
                dialogs.Add(dialog.Message);
            }

            await dialog.AcceptAsync();
        };
        return dialogs;
    }
}
