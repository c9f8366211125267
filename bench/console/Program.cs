using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Bench;
using Wharf.Server.Hosting;

// The console benchmark: one Wharf (in this process, on SQLite in a temporary directory, --auth open) with
// --repositories repositories in the default registry and one more, big/images, holding --images images
// (half tagged), all written straight through the metadata store (as a push would leave them, without the
// blob bytes the pages never read). Then each console page is fetched over loopback with one keep-alive
// client: --warmup unmeasured requests, then --requests timed ones; the table gives the median and the 99th
// percentile of the time from sending the request to the last byte of the page, its size and the target.
//   [--repositories 10000] [--images 10000] [--requests 200] [--warmup 20] [--target-ms 50]
var invariant = CultureInfo.InvariantCulture;
var repositoryCount = int.Parse(PageBench.Option(args, "--repositories", "10000"), invariant);
var imageCount = int.Parse(PageBench.Option(args, "--images", "10000"), invariant);
var requests = int.Parse(PageBench.Option(args, "--requests", "200"), invariant);
var warmup = int.Parse(PageBench.Option(args, "--warmup", "20"), invariant);
var targetMs = double.Parse(PageBench.Option(args, "--target-ms", "50"), invariant);

var dir = Path.Combine(Path.GetTempPath(), "wharf-bench-console-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
var port = PageBench.FreePort();
var app = WharfHost.CreateApp([], c => c.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Address"] = "127.0.0.1",
    ["Port"] = port.ToString(invariant),
    ["Public:Enabled"] = "false",
    ["DataDirectory"] = dir,
    ["Auth"] = "Open",
    ["Logging:LogLevel:Default"] = "Warning",
}));
try
{
    await WharfHost.StartAsync(app, CancellationToken.None);
    var ct = CancellationToken.None;
    var store = app.Services.GetRequiredService<IMetadataStore>();
    var registry = new RegistryKey(AccountId.Parse("123456789012"), "us-east-1");
    var t0 = DateTimeOffset.UtcNow.AddDays(-30);
    string[] teams = ["web", "data", "ops", "ml", "edge", "core", "tools", "infra"];

    var seed = Stopwatch.StartNew();
    var repositories = new List<Repository>(repositoryCount);
    for (var i = 0; i < repositoryCount; i++)
    {
        var name = RepositoryName.Parse($"{teams[i % teams.Length]}/app-{i:D5}");
        repositories.Add((await store.Repositories.CreateAsync(new RepositoryKey(registry, name), t0.AddSeconds(i), ct))!);
    }

    // Every repository of the list's first pages gets an image or two, so the counts and sizes have rows to read.
    var layer = await BlobAsync(store, "shared layer", 3_000_000, t0, ct);
    foreach (var repository in repositories.Where((_, i) => i % 50 < 3 || i >= repositoryCount - 60))
    {
        await store.Blobs.LinkBlobAsync(repository.Id, layer, t0, ct);
        await ImageAsync(store, repository.Id, $"{repository.Key.Name}", [layer], "latest", t0, ct);
    }

    var big = (await store.Repositories.CreateAsync(new RepositoryKey(registry, RepositoryName.Parse("big/images")), t0, ct))!;
    await store.Blobs.LinkBlobAsync(big.Id, layer, t0, ct);
    for (var i = 0; i < imageCount; i++)
    {
        var blob = await BlobAsync(store, $"layer {i}", 1000 + i, t0, ct);
        await store.Blobs.LinkBlobAsync(big.Id, blob, t0, ct);
        await ImageAsync(store, big.Id, $"image {i}", [layer, blob], i % 2 == 0 ? $"v{i / 1000}.{i % 1000}" : null, t0.AddSeconds(i), ct);
    }

    var seedSeconds = seed.Elapsed.TotalSeconds;

    using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    const string Base = "/console/123456789012/us-east-1";
    var second = NextLink(await (await client.GetAsync(Base + "/repositories", ct)).Content.ReadAsStringAsync(ct));
    var older = NextLink(await (await client.GetAsync(Base + "/repository/big/images", ct)).Content.ReadAsStringAsync(ct));
    var pages = new (string Name, string Path)[]
    {
        ("registries", "/console/registries"),
        ("repositories, first page by name", Base + "/repositories"),
        ("repositories, second page", second),
        ("repositories, newest first", Base + "/repositories?sort=created"),
        ("repositories, name search", Base + "/repositories?q=app-042"),
        ("repositories, search matching none", Base + "/repositories?q=nothing-matches"),
        ("repository, newest images", Base + "/repository/big/images"),
        ("repository, older images", older),
        ("repository, untagged", Base + "/repository/big/images?tagged=untagged"),
        ("repository, tag prefix", Base + "/repository/big/images?prefix=v9."),
        ("repository, prefix matching none", Base + "/repository/big/images?prefix=nope"),
    };

    // Warm-up over every page first (the JIT's tiers settle across the shared code), then each page's own.
    for (var round = 0; round < 3; round++)
    {
        foreach (var (_, path) in pages)
        {
            for (var i = 0; i < warmup; i++)
            {
                await PageBench.GetAsync(client, path, ct);
            }
        }
    }

    Console.WriteLine(string.Create(invariant,
        $"Console benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores: {repositoryCount:N0} repositories and one of {imageCount:N0} images (SQLite, Console:PageSize 50), seeded in {seedSeconds:F1} s; {requests} requests per page after {warmup} unmeasured, one keep-alive client on loopback."));
    Console.WriteLine();
    await PageBench.PrintTableAsync(client, pages, warmup, requests, 99, targetMs, ct);
}
finally
{
    await app.StopAsync();
    await app.DisposeAsync();
    Directory.Delete(dir, recursive: true);
}

return 0;

static async Task<Digest> BlobAsync(IMetadataStore store, string seed, long size, DateTimeOffset now, CancellationToken ct)
{
    var digest = Digest.Sha256Of(Encoding.UTF8.GetBytes(seed));
    await store.Blobs.ReserveBlobAsync(digest, size, now, ct);
    return digest;
}

static async Task ImageAsync(IMetadataStore store, long repositoryId, string seed, IReadOnlyList<Digest> blobs, string? tag, DateTimeOffset now, CancellationToken ct)
{
    var content = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"seed\":\"{seed}\"}}");
    var result = await store.Images.PutManifestAsync(new ManifestWrite(repositoryId, Digest.Sha256Of(content), MediaTypes.OciManifest, null, null, content, null, blobs, [], tag, now), ct);
    if (!result.Succeeded)
    {
        throw new InvalidOperationException($"seeding {seed} failed");
    }
}

static string NextLink(string html) =>
    WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "<a href=\"([^\"]+)\" rel=\"next\"").Groups[1].Value);
