using Microsoft.Playwright;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Microsoft.Playwright.Assertions;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// The registries and repositories pages in open mode, in Chromium against real Kestrel: creating a repository
/// with every setting, pushing with podman, the images table's filters and actions, deleting with force, the
/// push commands run as shown, and search, sort and paging over more repositories than a page.
/// </summary>
public sealed class RepositoryPagesTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Account = "123456789012";
    private const string Base = "/console/123456789012/us-east-1";
    private static readonly RegistryKey Registry = new(AccountId.Parse(Account), "us-east-1");

    /// <summary>The one-time notice a form leaves on the next page.</summary>
    private static ILocator Notice(IPage page) => page.Locator("div.alert.ok[role=status]");

    [Fact]
    public async Task A_repository_created_with_every_setting_is_listed_with_them_and_its_pushed_images_are_filtered_archived_restored_and_deleted()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();

        await browser.GotoAsync(Base + "/repositories/new");
        await browser.CaptureAsync("repository-create");
        await page.GetByLabel("Repository name").FillAsync("team/web");
        await page.GetByLabel("Tag mutability").SelectOptionAsync("IMMUTABLE_WITH_EXCLUSION");
        await page.GetByLabel("Mutability exclusion filters").FillAsync("latest\ndev-*");
        await page.GetByLabel("Scan on push").CheckAsync();
        await page.GetByLabel("Encryption type").SelectOptionAsync("KMS");
        // No key named: the account's AWS-managed aws/ecr key, made on first use (a named key must exist in the key service).
        await page.GetByLabel("Tag 1 key").FillAsync("team");
        await page.GetByLabel("Tag 1 value").FillAsync("web <b>ops</b>");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Uri(server.BaseAddress, Base + "/repository/team/web").ToString());
        await Expect(Notice(page)).ToContainTextAsync("Repository team/web created.");

        var key = new RepositoryKey(Registry, RepositoryName.Parse("team/web"));
        var repositories = server.GetService<RepositoryService>();
        Assert.Equal([new ResourceTag("team", "web <b>ops</b>")], await repositories.ListResourceTagsAsync(Caller.Root(Registry.Account), key, TestContext.Current.CancellationToken));

        await browser.GotoAsync(Base + "/repositories");
        var row = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "team/web" }) });
        await Expect(row).ToContainTextAsync("IMMUTABLE_WITH_EXCLUSION (except latest, dev-*)");
        await Expect(row).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"KMS \(arn:aws:kms:us-east-1:123456789012:key/[0-9a-f-]{36}\)"));
        await Expect(row.Locator("td[data-label='Scan on push']")).ToHaveTextAsync("Enabled");
        await Expect(row.Locator("td[data-label='URI'] code")).ToHaveTextAsync($"{server.HostAndPort}/team/web");

        // Pushes: busybox as v1.0; a second image as dev-1, then busybox takes dev-1 (dev-* is mutable), leaving it untagged.
        var tools = ContainerTools.Instance;
        await TestImages.BusyboxArchiveAsync();
        var layout = await TestImages.MultiLayerAsync();
        var remote = $"{server.HostAndPort}/team/web";
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{remote}:v1.0")).EnsureSuccess();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", layout.SkopeoReference, $"docker://{remote}:dev-1")).EnsureSuccess();
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{remote}:dev-1")).EnsureSuccess();

        await browser.GotoAsync(Base + "/repository/team/web");
        var images = page.Locator("table.images tbody tr");
        await Expect(images).ToHaveCountAsync(2);
        var busybox = images.Filter(new() { HasText = "v1.0" });
        await Expect(busybox.Locator("td[data-label='Tags']")).ToContainTextAsync("dev-1");
        await Expect(busybox.Locator("td[data-label='Size']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^[0-9.]+ (KB|MB)$"));
        await Expect(busybox.Locator("td[data-label='Status']")).ToHaveTextAsync("active");
        await browser.CaptureAsync("repository");

        await page.GetByLabel("Tags", new() { Exact = true }).SelectOptionAsync("untagged");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(images).ToHaveCountAsync(1);
        await Expect(images.First.Locator("td[data-label='Tags']")).ToHaveTextAsync("untagged");
        await Expect(images.First.Locator("td[data-label='Size']")).ToHaveTextAsync("6.3 MB");

        await browser.GotoAsync(Base + "/repository/team/web?prefix=v1");
        await Expect(images).ToHaveCountAsync(1);
        await Expect(images.First).ToContainTextAsync("v1.0");
        await browser.GotoAsync(Base + "/repository/team/web?prefix=nope");
        await Expect(page.GetByText("No images match.")).ToBeVisibleAsync();

        // Archive and restore the untagged image, then delete it.
        await browser.GotoAsync(Base + "/repository/team/web?tagged=untagged");
        await images.First.GetByRole(AriaRole.Checkbox).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Archive selected" }).ClickAsync();
        await Expect(Notice(page)).ToContainTextAsync("1 image archived.");
        await Expect(images.First.Locator("td[data-label='Status']")).ToHaveTextAsync("archived");
        await images.First.GetByRole(AriaRole.Checkbox).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore selected" }).ClickAsync();
        await Expect(Notice(page)).ToContainTextAsync("1 image restored.");
        await Expect(images.First.Locator("td[data-label='Status']")).ToHaveTextAsync("active");
        await images.First.GetByRole(AriaRole.Checkbox).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete selected" }).ClickAsync();
        await Expect(Notice(page)).ToContainTextAsync("1 image deleted.");
        await Expect(page.GetByText("No images match.")).ToBeVisibleAsync();

        // A repository with images goes only with force, and only when its name is typed.
        await browser.GotoAsync(Base + "/repository/team/web");
        await page.GetByText("Delete repository", new() { Exact = true }).First.ClickAsync();
        await page.GetByLabel("Type the repository name to confirm").FillAsync("team/web");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete repository" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The repository still has images.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("cannot be deleted because it still contains images");
        await page.GetByText("Delete repository", new() { Exact = true }).First.ClickAsync();
        await page.GetByLabel("Type the repository name to confirm").FillAsync("team/wrong");
        await page.GetByLabel("Also delete its images (force)").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete repository" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Type the repository's name, team/web, to confirm.");
        await page.GetByText("Delete repository", new() { Exact = true }).First.ClickAsync();
        await page.GetByLabel("Type the repository name to confirm").FillAsync("team/web");
        await page.GetByLabel("Also delete its images (force)").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete repository" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Uri(server.BaseAddress, Base + "/repositories").ToString());
        await Expect(Notice(page)).ToContainTextAsync("Repository team/web deleted.");
        Assert.Null(await server.GetService<IMetadataStore>().Repositories.GetAsync(key, TestContext.Current.CancellationToken));
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task The_push_commands_name_this_server_and_work_as_shown()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        await server.GetService<RepositoryService>().CreateAsync(Caller.Root(Registry.Account), new RepositoryKey(Registry, RepositoryName.Parse("shown/app")), RepositorySettings.Default, [], TestContext.Current.CancellationToken);

        await browser.GotoAsync(Base + "/repository/shown/app");
        await page.GetByText("View push commands").ClickAsync();
        async Task<string> CommandAsync(string label) => (await page.GetByRole(AriaRole.Group, new() { Name = label, Exact = true }).Locator("code").TextContentAsync())!;
        var endpoint = server.BaseAddress.ToString().TrimEnd('/');
        Assert.Equal($"aws ecr get-login-password --region us-east-1 --endpoint-url {endpoint} | podman login --tls-verify=false --username AWS --password-stdin {server.HostAndPort}", await CommandAsync("Log in with podman"));
        Assert.Equal($"podman push --tls-verify=false {server.HostAndPort}/shown/app:latest", await CommandAsync("Push with podman"));
        Assert.Contains($"--dest-tls-verify=false", await CommandAsync("Copy an image with skopeo"), StringComparison.Ordinal);
        await browser.CaptureAsync("repository-push-commands");

        // Run what the page says (the local image standing in for my-image): podman tags and pushes, the AWS CLI lists it.
        var tools = ContainerTools.Instance;
        await TestImages.BusyboxArchiveAsync();
        var tag = (await CommandAsync("Tag the image with podman")).Replace("my-image:latest", TestImages.BusyboxLocalName, StringComparison.Ordinal).Split(' ');
        (await tools.PodmanAsync(tag[1..])).EnsureSuccess();
        (await tools.PodmanAsync((await CommandAsync("Push with podman")).Split(' ')[1..])).EnsureSuccess();
        var describe = (await CommandAsync("List the images with the AWS CLI")).Split(' ');
        var listed = (await AwsClients.CliAsync(new Uri(describe[^1]), describe[^3], describe[1..^4])).EnsureSuccess().StandardOutput;
        Assert.Contains("\"latest\"", listed, StringComparison.Ordinal);

        await browser.GotoAsync(Base + "/repository/shown/app");
        await Expect(page.Locator("table.images tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("table.images tbody tr td[data-label='Tags']")).ToContainTextAsync("latest");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Repositories_are_searched_sorted_and_paged_on_the_server()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Console:PageSize"] = "5" });
        var repositories = server.GetService<RepositoryService>();
        for (var i = 1; i <= 13; i++)
        {
            var name = i % 2 == 0 ? $"even/r{i:D2}" : $"odd/r{i:D2}";
            await repositories.CreateAsync(Caller.Root(Registry.Account), new RepositoryKey(Registry, RepositoryName.Parse(name)), RepositorySettings.Default, [], TestContext.Current.CancellationToken);
        }

        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        var names = page.Locator("table.list tbody th[scope=row] a");
        await browser.GotoAsync(Base + "/repositories");
        await Expect(names).ToHaveTextAsync(["even/r02", "even/r04", "even/r06", "even/r08", "even/r10"]);
        await browser.CaptureAsync("repositories");
        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Expect(names).ToHaveTextAsync(["even/r12", "odd/r01", "odd/r03", "odd/r05", "odd/r07"]);
        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Expect(names).ToHaveTextAsync(["odd/r09", "odd/r11", "odd/r13"]);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Next page" })).ToHaveCountAsync(0);

        await page.GetByLabel("Search repositories").FillAsync("ODD/R1");
        await page.GetByLabel("Order").SelectOptionAsync("desc");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(names).ToHaveTextAsync(["odd/r13", "odd/r11"]);
        await Expect(page.GetByLabel("Search repositories")).ToHaveValueAsync("ODD/R1");

        // Newest first is the default of the created order (all were created within the test; ids break ties).
        await browser.GotoAsync(Base + "/repositories?sort=created");
        await Expect(names).ToHaveTextAsync(["odd/r13", "even/r12", "odd/r11", "even/r10", "odd/r09"]);
        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Expect(names).ToHaveTextAsync(["even/r08", "odd/r07", "even/r06", "odd/r05", "even/r04"]);

        await browser.GotoAsync("/console/registries");
        var registryRow = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "us-east-1" });
        await Expect(registryRow.Locator("td[data-label='Repositories']")).ToHaveTextAsync("13");
        await browser.CaptureAsync("registries");
        await page.GetByLabel("Region").FillAsync("eu-west-3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Uri(server.BaseAddress, "/console/123456789012/eu-west-3/repositories").ToString());
        await Expect(page.GetByText("No repositories here yet.")).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Hostile_and_odd_inputs_get_readable_pages_and_never_a_500()
    {
        await using var server = await WharfTestServer.StartAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(chromium, server);
        var page = browser.Page;
        var dialogs = 0;
        page.Dialog += async (_, dialog) =>
        {
            dialogs++;
            await dialog.DismissAsync();
        };

        var longName = new string('a', 300);
        (string Path, int Status, string Text)[] cases =
        [
            (Base + "/repository/" + longName, 404, "There is no such repository."),
            (Base + "/repository/Upper/Case", 404, "There is no such repository."),
            ("/console/123456789012/NOT_A_REGION/repositories", 404, "There is no such registry."),
            ("/console/12345/us-east-1/repositories", 404, "There is no such registry."),
            ("/console/123456789012/_public/repositories", 404, "There is no such registry."),
            (Base + "/repositories?after=%00zz", 400, "This page link is not valid."),
            (Base + "/repositories?sort=created&after=abc", 400, "This page link is not valid."),
            (Base + "/repositories?sort=size", 400, "The list cannot be shown this way."),
            (Base + "/repositories?q=" + new string('x', 300), 400, "The list cannot be shown this way."),
            (Base + "/repository/team/none", 404, "That repository does not exist"),
            ("/console/registries?account=abc&region=x", 200, "That is not a registry."),
        ];
        foreach (var (path, status, text) in cases)
        {
            var response = await browser.GotoAsync(path);
            Assert.True(status == response.Status, $"{path}: {response.Status}");
            await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(text);
        }

        await server.GetService<RepositoryService>().CreateAsync(Caller.Root(Registry.Account), new RepositoryKey(Registry, RepositoryName.Parse("team/app")), RepositorySettings.Default, [], TestContext.Current.CancellationToken);
        foreach (var path in new[] { "?after=1.sha256:zz", "?after=99999999999999999999.sha256:" + new string('0', 64), "?tagged=maybe", "?prefix=%3Cscript%3E", "?status=frozen" })
        {
            var response = await browser.GotoAsync(Base + "/repository/team/app" + path);
            Assert.True(response.Status == 400, $"{path}: {response.Status}");
        }

        // A script in the search box is text: the page shows it back encoded, and nothing runs.
        var search = await browser.GotoAsync(Base + "/repositories?q=" + Uri.EscapeDataString("<script>alert(1)</script>\"><img src=x onerror=alert(2)>"));
        Assert.Equal(200, search.Status);
        await Expect(page.GetByLabel("Search repositories")).ToHaveValueAsync("<script>alert(1)</script>\"><img src=x onerror=alert(2)>");
        await Expect(page.GetByText("No repositories match.")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());

        // A 300-character name gets the API's own refusal, and the form keeps what was typed.
        await browser.GotoAsync(Base + "/repositories/new");
        await page.EvaluateAsync("() => document.getElementById('name').removeAttribute('maxlength')");
        await page.GetByLabel("Repository name").FillAsync(longName);
        await page.GetByLabel("Tag mutability").SelectOptionAsync("IMMUTABLE_WITH_EXCLUSION");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Something in the form is not valid.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("repositoryName");
        await Expect(page.GetByLabel("Repository name")).ToHaveValueAsync(longName);

        // The model's checks pass, the API's own rule refuses: a *_WITH_EXCLUSION mode without filters.
        await page.GetByLabel("Repository name").FillAsync("team/excluded");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("imageTagMutabilityExclusionFilters must be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION");
        await Expect(page.GetByLabel("Tag mutability")).ToHaveValueAsync("IMMUTABLE_WITH_EXCLUSION");
        await page.GetByLabel("Tag mutability").SelectOptionAsync("MUTABLE");
        await page.GetByLabel("Encryption type").SelectOptionAsync("AES256");
        await page.GetByLabel("KMS key").FillAsync("arn:aws:kms:us-east-1:123456789012:key/x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("kmsKey can only be specified when encryptionType is KMS or KMS_DSSE");
        await page.GetByLabel("KMS key").FillAsync(string.Empty);
        await page.GetByLabel("Tag 1 key").FillAsync("aws:reserved");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("the aws: prefix is reserved for AWS use");
        await page.GetByLabel("Tag 1 key").FillAsync(string.Empty);
        await page.GetByLabel("Repository name").FillAsync("team/app");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create repository" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("A repository with this name already exists.");

        Assert.Equal(0, dialogs);
        browser.AssertNoProblems();
    }
}
