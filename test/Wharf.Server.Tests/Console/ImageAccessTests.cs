using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// The image page in IAM mode, signed in with a password: each part is read as the signed-in user, so a
/// user without <c>ecr:BatchGetImage</c> sees AWS's reason instead of the image, and a user who may pull
/// but not describe or scan sees the image with AWS's reason in place of each part it may not read.
/// </summary>
public sealed class ImageAccessTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private const string Password = "Correct-Horse-42";

    [Fact]
    public async Task Each_part_of_the_page_is_read_as_the_signed_in_user_and_a_refusal_shows_AWSs_reason()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key"));
        var password = (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var oci = new RawOci(() =>
        {
            var client = server.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)));
            return client;
        });
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "create-repository", "--repository-name", "console/guarded")).EnsureSuccess();
        var image = await oci.PushImageAsync("console/guarded", "1", ImagePageTests.Config("amd64", null), "guarded layer");

        // "lister" may list and describe images but not read them; "puller" may pull but neither describe nor scan.
        await UserAsync(server, root, "lister", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages"],"Resource":"*"}]}""");
        await UserAsync(server, root, "puller", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}""");
        var path = $"/console/{Account}/{Region}/image/{image.Digest}/console/guarded";

        await using (var browser = await ConsoleBrowser.OpenAsync(chromium, server))
        {
            await browser.SignInAsync(Account, "lister", Password);
            var response = await browser.GotoAsync(path);
            Assert.Equal(403, response.Status);
            var alert = browser.Page.GetByRole(AriaRole.Alert);
            await Expect(alert).ToContainTextAsync("You are not allowed to do this.");
            await Expect(alert).ToContainTextAsync($"User: arn:aws:iam::{Account}:user/lister is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:{Region}:{Account}:repository/console/guarded");
            Assert.DoesNotContain(image.Digest, await browser.Page.ContentAsync(), StringComparison.Ordinal);
            browser.AssertNoProblems();
        }

        await using (var browser = await ConsoleBrowser.OpenAsync(chromium, server))
        {
            await browser.SignInAsync(Account, "puller", Password);
            var response = await browser.GotoAsync(path);
            Assert.Equal(200, response.Status);
            var page = browser.Page;
            await Expect(page.Locator("section[aria-labelledby=layers] tbody tr")).ToHaveCountAsync(1);
            await Expect(page.Locator("section[aria-labelledby=config]")).ToContainTextAsync("linux/amd64");
            await Expect(page.Locator("section[aria-labelledby=details] [role=alert]")).ToContainTextAsync("is not authorized to perform: ecr:DescribeImages");
            await Expect(page.Locator("section[aria-labelledby=findings] [role=alert]")).ToContainTextAsync("is not authorized to perform: ecr:DescribeImageScanFindings");
            await page.GetByRole(AriaRole.Button, new() { Name = "Scan now" }).ClickAsync();
            await Expect(page.Locator(".page-head + [role=alert]")).ToContainTextAsync("is not authorized to perform: ecr:StartImageScan");
            browser.AssertNoProblems();
        }
    }

    private static async Task UserAsync(WharfTestServer server, Dictionary<string, string> root, string name, string policy)
    {
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", name)).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "put-user-policy", "--user-name", name, "--policy-name", "console", "--policy-document", policy)).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-login-profile", "--user-name", name, "--password", Password)).EnsureSuccess();
    }
}
