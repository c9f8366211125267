using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// The repositories pages in IAM mode, signed in with a password: what a principal sees and may do is what its
/// policies allow through the API — a ReadOnly user lists but is refused a delete with AWS's reason, and a user
/// allowed one repository sees only that one.
/// </summary>
public sealed class RepositoryAccessTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Account = "123456789012";
    private const string Region = "us-east-1";
    private const string Password = "Correct-Horse-42";
    private const string Base = "/console/123456789012/us-east-1";

    [Fact]
    public async Task A_read_only_user_lists_but_is_refused_a_delete_and_a_user_allowed_one_repository_sees_only_it()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, args);
        foreach (var name in new[] { "team/one", "team/two", "team/three" })
        {
            (await Aws("ecr", "create-repository", "--repository-name", name)).EnsureSuccess();
        }

        async Task UserAsync(string name)
        {
            (await Aws("iam", "create-user", "--user-name", name)).EnsureSuccess();
            (await Aws("iam", "create-login-profile", "--user-name", name, "--password", Password)).EnsureSuccess();
        }

        await UserAsync("reader");
        (await Aws("iam", "attach-user-policy", "--user-name", "reader", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        await UserAsync("one");
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:DescribeRepositories","ecr:DescribeImages"],"Resource":"arn:aws:ecr:{{Region}}:{{Account}}:repository/team/two"}]}""";
        (await Aws("iam", "put-user-policy", "--user-name", "one", "--policy-name", "team-two", "--policy-document", policy)).EnsureSuccess();

        await using (var browser = await ConsoleBrowser.OpenAsync(chromium, server))
        {
            var page = browser.Page;
            page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
            await browser.SignInAsync(Account, "reader", Password);
            await browser.GotoAsync(Base + "/repositories");
            await Expect(page.Locator("table.list tbody th[scope=row] a")).ToHaveTextAsync(["team/one", "team/three", "team/two"]);
            await Expect(page.GetByText("This list is filtered")).ToHaveCountAsync(0);

            await browser.GotoAsync(Base + "/repository/team/one");
            await page.GetByText("Delete repository", new() { Exact = true }).First.ClickAsync();
            await page.GetByLabel("Type the repository name to confirm").FillAsync("team/one");
            await page.GetByLabel("Also delete its images (force)").CheckAsync();
            var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Delete repository" }).ClickAsync(), r => r.Request.Method == "POST");
            Assert.Equal(403, refused.Status);
            await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("You are not allowed to do this.");
            await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"User: arn:aws:iam::{Account}:user/reader is not authorized to perform: ecr:DeleteRepository on resource: arn:aws:ecr:{Region}:{Account}:repository/team/one");
            await browser.CaptureAsync("repository-denied");

            var create = await browser.GotoAsync(Base + "/repositories/new");
            await page.GetByLabel("Repository name").FillAsync("team/four");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("ecr:CreateRepository");
            await Expect(page.GetByLabel("Repository name")).ToHaveValueAsync("team/four");
            Assert.Equal(200, create.Status);
            browser.AssertNoProblems();
        }

        await using (var browser = await ConsoleBrowser.OpenAsync(chromium, server))
        {
            var page = browser.Page;
            await browser.SignInAsync(Account, "one", Password);
            await browser.GotoAsync(Base + "/repositories");
            await Expect(page.Locator("table.list tbody th[scope=row] a")).ToHaveTextAsync(["team/two"]);
            await Expect(page.GetByText("This list is filtered")).ToBeVisibleAsync();
            await browser.CaptureAsync("repositories-filtered");

            var other = await browser.GotoAsync(Base + "/repository/team/one");
            Assert.Equal(403, other.Status);
            await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("is not authorized to perform: ecr:DescribeRepositories");
            var own = await browser.GotoAsync(Base + "/repository/team/two");
            Assert.Equal(200, own.Status);
            await Expect(page.GetByText("No images yet.")).ToBeVisibleAsync();

            await browser.GotoAsync("/console/registries");
            await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = Region }).Locator("td[data-label='Repositories']")).ToHaveTextAsync("not listed");
            browser.AssertNoProblems();
        }
    }
}
