using Microsoft.Playwright;
using Wharf.Core.Identity;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>Signing in and out in Chromium: passwords good and bad, an access key, throttling, a required password change, sign-out and its form token.</summary>
public sealed class SignInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Account = SignInTests.Account;
    private const string Password = SignInTests.Password;
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_wrong_password_is_refused_with_one_message_and_the_right_one_opens_the_page_asked_for()
    {
        await using var server = await WharfTestServer.StartAsync(SignInTests.Iam());
        await SignInTests.UserWithPasswordAsync(server, "alice");
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;

        await browser.GotoAsync("/console/password");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/sign-in\\?next=%2Fconsole%2Fpassword$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Wharf" })).ToBeVisibleAsync();
        await browser.CaptureAsync("sign-in");

        await page.GetByLabel("Account ID").FillAsync(Account);
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("Wrong-Horse-42");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(401, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The account ID, user name or password is not correct.");
        await Expect(page.GetByLabel("User name")).ToHaveValueAsync("alice");
        await Expect(page.GetByLabel("Password", new() { Exact = true })).ToHaveValueAsync(string.Empty);
        await browser.CaptureAsync("sign-in-refused");

        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/password$"));
        await Expect(page.Locator("header .principal")).ToHaveTextAsync("alice");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task An_access_key_pair_signs_in_and_the_header_shows_its_user()
    {
        await using var server = await WharfTestServer.StartAsync(SignInTests.Iam());
        var identities = server.GetService<IdentityService>();
        await identities.CreateUserAsync(AccountId.Parse(Account), "deployer", Ct);
        var key = await identities.CreateAccessKeyAsync(Wharf.Core.Security.Caller.Root(AccountId.Parse(Account)), "deployer", Ct);
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;

        await browser.GotoAsync("/console/sign-in");
        await page.GetByLabel("Access key ID").FillAsync(key.Record.Id);
        await page.GetByLabel("Secret access key").FillAsync(key.Secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with access key" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/console/sign-in", StringComparison.Ordinal));
        await Expect(page.Locator("header .principal")).ToHaveTextAsync("deployer");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task After_too_many_failures_the_page_says_when_to_try_again()
    {
        await using var server = await WharfTestServer.StartAsync(SignInTests.Iam(("Console:SignInFailures", "2")));
        await SignInTests.UserWithPasswordAsync(server, "alice");
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        await browser.GotoAsync("/console/sign-in");
        foreach (var (password, status) in new[] { ("Wrong-Horse-1", 401), ("Wrong-Horse-2", 401), (Password, 429) })
        {
            await page.GetByLabel("Account ID").FillAsync(Account);
            await page.GetByLabel("User name").FillAsync("alice");
            await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
            var response = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync(),
                r => r.Request.Method == "POST");
            Assert.Equal(status, response.Status);
        }

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Too many failed sign-ins.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("try again in 15 minutes");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task A_required_password_change_comes_first_then_the_user_goes_on()
    {
        await using var server = await WharfTestServer.StartAsync(SignInTests.Iam());
        await SignInTests.UserWithPasswordAsync(server, "alice", resetRequired: true);
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"arn:aws:iam::{{Account}}:user/${aws:username}"}]}""";
        await server.GetService<IdentityService>().PutInlinePolicyAsync($"arn:aws:iam::{Account}:user/alice", "change", policy, Ct);
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;

        await browser.SignInAsync(Account, "alice", Password);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/password"));
        await Expect(page.GetByText("Your password must be changed before you continue.")).ToBeVisibleAsync();
        await browser.CaptureAsync("password");

        // Any other page comes back here until it is done.
        await browser.GotoAsync("/console/registries");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/password\\?next=%2Fconsole%2Fregistries$"));

        await page.GetByLabel("Current password").FillAsync(Password);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("Better-Horse-43");
        await page.GetByLabel("Confirm new password").FillAsync("Better-Horse-43");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/registries$"));
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Your password has been changed." })).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Sign_out_without_its_token_is_refused_and_with_it_ends_the_session_for_good()
    {
        await using var server = await WharfTestServer.StartAsync(SignInTests.Iam());
        await SignInTests.UserWithPasswordAsync(server, "alice");
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        await browser.SignInAsync(Account, "alice", Password);
        await browser.GotoAsync("/console/password");

        // A sign-out form without its token (as another site would post it) changes nothing.
        await page.Locator("header form[action='/console/sign-out'] input[name='_csrf']").EvaluateAsync("e => e.remove()");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(403, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The form's security token is missing or out of date.");
        await Expect(page.Locator("header .principal")).ToHaveTextAsync("alice");

        await browser.GotoAsync("/console/password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/sign-in$"));
        await Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();
        Assert.DoesNotContain(await browser.Context.CookiesAsync(), c => c.Name == "wharf-console");

        // Back shows the sign-in page, not the signed-in page the history holds.
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/sign-in"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Wharf" })).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }
}
