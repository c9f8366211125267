using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wharf.Core.Images;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Core.Uploads;
using Wharf.Bench;
using Wharf.Server.Hosting;

// The gallery benchmark: one Wharf (in this process, on SQLite in a temporary directory) with --repositories
// public repositories across --registries registries, seeded through PublicRegistryService (what
// ECR Public's CreateRepository runs), one of them with an image under 30 tags and a two-platform index.
// Then each gallery page is fetched over loopback on the public listener with one keep-alive client:
// --warmup unmeasured requests, then --requests timed ones; the table gives the median and the 95th
// percentile of the time from sending the request to the last byte of the page (the client's share on
// loopback is tens of microseconds), the page's size, and the target. See bench/README.md.
//   [--repositories 10000] [--registries 100] [--requests 200] [--warmup 20] [--target-ms 50]
var invariant = CultureInfo.InvariantCulture;
var repositories = int.Parse(PageBench.Option(args, "--repositories", "10000"), invariant);
var registryCount = int.Parse(PageBench.Option(args, "--registries", "100"), invariant);
var requests = int.Parse(PageBench.Option(args, "--requests", "200"), invariant);
var warmup = int.Parse(PageBench.Option(args, "--warmup", "20"), invariant);
var targetMs = double.Parse(PageBench.Option(args, "--target-ms", "50"), invariant);

var dir = Path.Combine(Path.GetTempPath(), "wharf-bench-gallery-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
var publicPort = PageBench.FreePort();
var app = WharfHost.CreateApp([], c => c.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Address"] = "127.0.0.1",
    ["Port"] = "0",
    ["Public:Port"] = publicPort.ToString(invariant),
    ["DataDirectory"] = dir,
    ["Auth"] = "Open",
    ["Logging:LogLevel:Default"] = "Warning",
}));
try
{
    await WharfHost.StartAsync(app, CancellationToken.None);
    var ct = CancellationToken.None;
    var service = app.Services.GetRequiredService<PublicRegistryService>();

    // Descriptions draw 4 of 20 words, so one word matches about a fifth of the repositories: a search
    // has thousands of candidates, and the page is the first 20 of them.
    string[] vocabulary = ["web", "server", "database", "cache", "proxy", "queue", "python", "node", "golang", "rust",
        "java", "alpine", "debian", "ubuntu", "tool", "cli", "agent", "monitor", "metrics", "logging"];
    string[][] architectures = [["x86-64"], ["x86-64", "ARM 64"], ["ARM"], ["ARM 64"], ["x86"]];
    string[][] systems = [["Linux"], ["Linux"], ["Linux"], ["Windows"]];
    var about = "# About\n\nA benchmark repository.\n\n```sh\npodman run --rm it\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n" + string.Concat(Enumerable.Repeat("Some *text* with a [link](https://example.com) and `code`.\n\n", 100));
    var seed = Stopwatch.StartNew();
    var perRegistry = (repositories + registryCount - 1) / registryCount;
    for (var i = 0; i < repositories; i++)
    {
        var account = AccountId.Parse((100_000_000_000L + (i / perRegistry)).ToString(invariant));
        var words = string.Join(' ', Enumerable.Range(0, 4).Select(k => vocabulary[(i * 7 + k * 13 + (i / 20)) % vocabulary.Length]));
        await service.CreateRepositoryAsync(
            Caller.Root(account),
            RepositoryName.Parse($"{vocabulary[i % vocabulary.Length]}/app-{i:D5}"),
            new CatalogInput($"Benchmark image {i}: {words}", architectures[i % architectures.Length], systems[i % systems.Length], i % 10 == 0 ? about : null, null, null),
            [],
            ct);
        if (i % perRegistry == 0)
        {
            await service.SetAliasAsync(account, $"pub{i / perRegistry:D3}", ct);
        }
    }

    var seedSeconds = seed.Elapsed.TotalSeconds;
    var firstAccount = AccountId.Parse("100000000000");
    var key = new RepositoryKey(RegistryKey.Public(firstAccount), RepositoryName.Parse("web/app-00000"));
    await PushAsync(app.Services, key, ct);

    using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri($"http://127.0.0.1:{publicPort}/") };
    using var first = await client.GetAsync("/?q=database", ct);
    var page2 = System.Text.RegularExpressions.Regex.Match(await first.Content.ReadAsStringAsync(ct), "<a rel=\"next\" href=\"([^\"]+)\"").Groups[1].Value;
    var pages = new (string Name, string Path)[]
    {
        ("search, first page (no words)", "/"),
        ("search, one common word", "/?q=database"),
        ("search, two words", "/?q=data+cache"),
        ("search, a name", "/?q=app-04242"),
        ("search, badge filter", "/?arch=ARM%2064"),
        ("search, word and badges", "/?q=rust&arch=x86-64&os=Linux"),
        ("search, second page", WebUtility.HtmlDecode(page2)),
        ("registry page", "/pub000"),
        ("repository page (About, 25 tags)", "/pub000/web/app-00000"),
    };

    Console.WriteLine(string.Create(invariant,
        $"Gallery benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores: {repositories:N0} public repositories in {registryCount} registries (SQLite), seeded in {seedSeconds:F1} s; {requests} requests per page after {warmup} unmeasured, one keep-alive client on loopback."));
    Console.WriteLine();
    await PageBench.PrintTableAsync(client, pages, warmup, requests, 95, targetMs, ct);
}
finally
{
    await app.StopAsync();
    await app.DisposeAsync();
    Directory.Delete(dir, recursive: true);
}

return 0;


static async Task PushAsync(IServiceProvider services, RepositoryKey key, CancellationToken ct)
{
    var root = Caller.Root(key.Registry.Account);
    var uploads = services.GetRequiredService<UploadService>();
    var manifests = services.GetRequiredService<ManifestService>();
    var children = new List<string>();
    foreach (var arch in new[] { "amd64", "arm64" })
    {
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        var layer = Encoding.UTF8.GetBytes("layer " + arch);
        foreach (var blob in new[] { config, layer })
        {
            using var body = new MemoryStream(blob);
            await uploads.UploadMonolithicAsync(root, key, Digest.Sha256Of(blob), body, blob.Length, ct);
        }

        var manifest = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\",\"config\":{\"mediaType\":\"" + MediaTypes.OciImageConfig + "\",\"digest\":\""
            + Digest.Sha256Of(config) + "\",\"size\":" + config.Length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + Digest.Sha256Of(layer) + "\",\"size\":" + layer.Length + "}]}");
        for (var t = 0; t < 15; t++)
        {
            await manifests.PutAsync(root, key, Reference.Of(Tag.Parse($"{arch}-{t}")), MediaTypes.OciManifest, manifest, ct);
        }

        children.Add("{\"mediaType\":\"" + MediaTypes.OciManifest + "\",\"digest\":\"" + Digest.Sha256Of(manifest) + "\",\"size\":" + manifest.Length + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + arch + "\"}}");
    }

    var index = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciIndex + "\",\"manifests\":[" + string.Join(',', children) + "]}");
    await manifests.PutAsync(root, key, Reference.Of(Tag.Parse("latest")), MediaTypes.OciIndex, index, ct);
}
