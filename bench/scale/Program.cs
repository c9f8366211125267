using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wharf.Bench;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Hosting;
using Wharf.Testing;

// The scale benchmark (issue 19, target 5). Two registries, each served by a Wharf in this process: "empty" holds
// only the probes and 300 repositories without images (pages as full as the big one's), "big" the same probes among --repositories repositories and --manifests images (written by
// Generator, set-based SQL). The probes: probe/app, one image pushed over HTTP (its manifest GET, blob HEAD and
// PUTs); probe/tags, --tags images with a tag each (tags/list, DescribeImages and ListImages pages); and
// probe/lifecycle, --lifecycle-images images in the big registry and a hundredth of that in the empty one (half
// untagged) under a lifecycle policy. Each row alternates
// the two servers in rounds, --requests timed requests each after --warmup; the table gives each median, big ÷
// empty and the 1.3× target. Then pages deep in the keyspace against first pages, in the big registry; then a GC
// pass (every blob referenced: nothing to delete, the whole scan) with PUTs running beside it, and a lifecycle
// evaluation (dry run) of probe/lifecycle in both registries, each with its time and memory.
//   [--repositories 2000] [--manifests 20000] [--tags 10000] [--lifecycle-images 5000] [--requests 200]
//   [--warmup 50] [--postgres] [--keep]
var invariant = CultureInfo.InvariantCulture;
var repositoryCount = long.Parse(PageBench.Option(args, "--repositories", "2000"), invariant);
var manifestCount = long.Parse(PageBench.Option(args, "--manifests", "20000"), invariant);
var tagCount = long.Parse(PageBench.Option(args, "--tags", "10000"), invariant);
var lifecycleCount = long.Parse(PageBench.Option(args, "--lifecycle-images", "5000"), invariant);
var smallLifecycleCount = Math.Max(1, lifecycleCount / 100);
var requests = int.Parse(PageBench.Option(args, "--requests", "200"), invariant);
var warmup = int.Parse(PageBench.Option(args, "--warmup", "50"), invariant);
var postgres = args.Contains("--postgres");
var keep = args.Contains("--keep");
const double Target = 1.3;

// The empty registry's repositories without images: enough for the catalog's and DescribeRepositories' pages to be
// as full as the big registry's, so the rows compare the same work.
const long EmptyFillers = 300;

var root = Path.Combine(Path.GetTempPath(), "wharf-bench-scale-" + Environment.ProcessId);
var t0 = DateTimeOffset.UtcNow.AddDays(-60).ToUnixTimeMilliseconds();
var servers = new List<Server>();
try
{
    var generated = Stopwatch.StartNew();
    foreach (var big in new[] { false, true })
    {
        var dir = Path.Combine(root, big ? "big" : "empty");
        Directory.CreateDirectory(dir);
        string? connectionString = null;
        IMetadataStore store;
        if (postgres)
        {
            connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
            store = new PostgresMetadataStore(connectionString);
        }
        else
        {
            store = new SqliteMetadataStore(Path.Combine(dir, "wharf.db"));
        }

        await store.MigrateAsync(CancellationToken.None);
        await store.DisposeAsync();
        DbConnection connection = postgres ? new NpgsqlConnection(connectionString) : new SqliteConnection($"Data Source={Path.Combine(dir, "wharf.db")};Pooling=False");
        var fillerCount = big ? repositoryCount : Math.Min(repositoryCount, EmptyFillers);
        await using (var generator = await Generator.OpenAsync(connection, postgres, Math.Max(Math.Max(manifestCount, repositoryCount), Math.Max(tagCount, lifecycleCount))))
        {
            // Fillers first ("fill-…" sorts before "probe/…"), so the probes' ids and names sit past them in every key.
            long image = 0;
            var fillers = await generator.RepositoriesAsync("fill-", fillerCount, t0);
            if (big)
            {
                await generator.ImagesAsync(image, manifestCount, fillers, repositoryCount, "v", 4, t0);
                image += manifestCount;
            }

            // The lifecycle probe: the full count in the big registry, a hundredth in the empty one (its baseline).
            var lifecycle = await generator.RepositoriesAsync("probe/lifecycle", 1, t0);
            await generator.ImagesAsync(image, big ? lifecycleCount : smallLifecycleCount, lifecycle, 1, "l", 2, t0);
            image += big ? lifecycleCount : smallLifecycleCount;

            var tags = await generator.RepositoriesAsync("probe/tags", 1, t0);
            await generator.ImagesAsync(image, tagCount, tags, 1, "t", 0, t0);
            await generator.CommitAsync();
        }

        servers.Add(await Server.StartAsync(dir, connectionString, fillerCount));
    }

    var (empty, full) = (servers[0], servers[1]);
    var generatedSeconds = generated.Elapsed.TotalSeconds;
    foreach (var server in servers)
    {
        await server.PushProbeAsync();
    }

    Console.WriteLine(string.Create(invariant,
        $"Scale benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {(postgres ? "PostgreSQL" : "SQLite")}: the big registry holds {repositoryCount:N0} repositories and {manifestCount + tagCount + lifecycleCount:N0} images (generated in {generatedSeconds:F1} s, both registries); the empty one only the probes ({tagCount:N0}-tag repository). Medians of {requests} requests per server after {warmup} unmeasured, alternating the servers in rounds; one keep-alive client each on loopback, time to the last byte."));
    Console.WriteLine();

    var midTag = "t" + (tagCount * 9 / 10).ToString("D7", invariant);
    var rows = new List<(string Name, Func<Server, int, Task> Request)>
    {
        ("manifest GET by tag", (s, _) => s.GetAsync("/v2/probe/app/manifests/latest")),
        ("blob HEAD", (s, _) => s.HeadLayerAsync()),
        ("PUT manifest (a new tag each)", (s, k) => s.PutManifestAsync("put-" + k.ToString(invariant))),
        ("tags/list, first page of 100", (s, _) => s.GetAsync($"/v2/probe/tags/tags/list?n=100")),
        ("tags/list, page of 100 at 90%", (s, _) => s.GetAsync($"/v2/probe/tags/tags/list?n=100&last={midTag}")),
        ("catalog, first page of 100", (s, _) => s.GetAsync("/v2/_catalog?n=100")),
        ("catalog, page of 100 from the middle", (s, _) => s.GetAsync("/v2/_catalog?n=100&last=fill-" + (s.Fillers / 2).ToString("D7", invariant))),
        ("DescribeRepositories, first page of 100", (s, _) => s.EcrAsync("DescribeRepositories", new JsonObject { ["maxResults"] = 100 })),
        ("DescribeImages, first page of 100", (s, _) => s.EcrAsync("DescribeImages", new JsonObject { ["repositoryName"] = "probe/tags", ["maxResults"] = 100 })),
        ("DescribeImages, page of 100 at 90%", (s, _) => s.EcrAsync("DescribeImages", s.Deep["DescribeImages"])),
        ("ListImages, first page of 100", (s, _) => s.EcrAsync("ListImages", new JsonObject { ["repositoryName"] = "probe/tags", ["maxResults"] = 100 })),
        ("ListImages, page of 100 at 90%", (s, _) => s.EcrAsync("ListImages", s.Deep["ListImages"])),
    };
    foreach (var server in servers)
    {
        await server.FindDeepPagesAsync(tagCount * 9 / 10 / 100);
    }

    var counter = 0;

    // Warm-up over every row first, three rounds (the JIT's tiers settle across the code the rows share: a row
    // measured while tier-1 compilation was still going on came out slower than the rows after it), then each row's own.
    for (var round = 0; round < 3; round++)
    {
        foreach (var (_, request) in rows)
        {
            for (var i = 0; i < warmup; i++)
            {
                await request(empty, counter++);
                await request(full, counter++);
            }
        }
    }

    var medians = new Dictionary<string, (double Empty, double Big)>();
    Console.WriteLine("| request | empty registry (ms) | big registry (ms) | big ÷ empty | target | |");
    Console.WriteLine("|---|---:|---:|---:|---|---|");
    foreach (var (name, request) in rows)
    {
        var times = new[] { new List<double>(), new List<double>() };
        for (var i = 0; i < warmup; i++)
        {
            await request(empty, counter++);
            await request(full, counter++);
        }

        const int Rounds = 10;
        for (var round = 0; round < Rounds; round++)
        {
            for (var s = 0; s < 2; s++)
            {
                for (var i = 0; i < requests / Rounds; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await request(servers[s], counter++);
                    times[s].Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        }

        var (e, b) = (Median(times[0]), Median(times[1]));
        medians[name] = (e, b);
        Console.WriteLine(string.Create(invariant, $"| {name} | {e:F3} | {b:F3} | {b / e:F2} | ≤ {Target:F1} | {(b / e <= Target ? "PASS" : "MISS")} |"));
    }

    Console.WriteLine();
    Console.WriteLine("Flat within the big registry: a page deep in the keyspace against the first page (same page size).");
    Console.WriteLine();
    Console.WriteLine("| listing | first page (ms) | deep page (ms) | deep ÷ first | target | |");
    Console.WriteLine("|---|---:|---:|---:|---|---|");
    foreach (var (first, deep) in new[]
    {
        ("tags/list, first page of 100", "tags/list, page of 100 at 90%"),
        ("DescribeImages, first page of 100", "DescribeImages, page of 100 at 90%"),
        ("ListImages, first page of 100", "ListImages, page of 100 at 90%"),
        ("catalog, first page of 100", "catalog, page of 100 from the middle"),
    })
    {
        var (f, d) = (medians[first].Big, medians[deep].Big);
        Console.WriteLine(string.Create(invariant, $"| {deep} | {f:F3} | {d:F3} | {d / f:F2} | ≤ {Target:F1} | {(d / f <= Target ? "PASS" : "MISS")} |"));
    }

    // A GC pass with nothing to delete reads every blob; pushes go on beside it and must not wait for it. Its memory is
    // judged on passes with nothing beside them (the PUTs' own garbage would count too): the same pass over the empty
    // registry (its probes' blobs only) and over the big one, compared.
    var blobs = manifestCount + tagCount + lifecycleCount + 2;
    var emptyBlobs = tagCount + smallLifecycleCount + 2;
    var putMedian = medians["PUT manifest (a new tag each)"].Big;
    async Task<(double Seconds, long Heap, GcReport Report, List<double> PushTimes, int Collections)> GcPassAsync(Server server, bool pushesBeside)
    {
        var times = new List<double>();
        using var stop = new CancellationTokenSource();
        var beside = Task.Run(async () =>
        {
            while (pushesBeside && !stop.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                await server.PutManifestAsync("gc-" + Interlocked.Increment(ref counter).ToString(invariant));
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        });
        var (seconds, heap, report, collections) = await Measured.RunAsync(() => server.Services.GetRequiredService<GarbageCollector>().RunOnceAsync(CancellationToken.None));
        await stop.CancelAsync();
        await beside;
        return (seconds, heap, report, times, collections);
    }

    var (emptyGcSeconds, emptyGcHeap, _, _, emptyGcCollections) = await GcPassAsync(empty, pushesBeside: false);
    var (aloneGcSeconds, aloneGcHeap, _, _, aloneGcCollections) = await GcPassAsync(full, pushesBeside: false);
    var (gcSeconds, gcHeap, gcReport, pushTimes, gcCollections) = await GcPassAsync(full, pushesBeside: true);

    // A lifecycle dry run over the probe (half its images untagged, the 100 newest of those kept): the same pass over
    // the empty registry's hundredth and the big one's whole count, compared.
    var lifecycleKey = new RepositoryKey(new RegistryKey(AccountId.Parse(Generator.Account), Generator.Region), RepositoryName.Parse("probe/lifecycle"));
    async Task<(double Seconds, long Heap, IReadOnlyList<LifecycleRunReport> Reports, int Collections)> LifecyclePassAsync(Server server)
    {
        var repository = await server.Store.Repositories.GetAsync(lifecycleKey, CancellationToken.None) ?? throw new InvalidOperationException("no probe/lifecycle");
        await server.Store.Lifecycle.SetPolicyAsync(
            repository.Id,
            """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}}]}""",
            CancellationToken.None);
        return await Measured.RunAsync(() => server.Services.GetRequiredService<LifecycleService>().RunAsync(lifecycleKey, dryRun: true, CancellationToken.None));
    }

    var (smallLifecycleSeconds, smallLifecycleHeap, smallLifecycleReports, smallLifecycleCollections) = await LifecyclePassAsync(empty);
    var (lifecycleSeconds, lifecycleHeap, lifecycleReports, lifecycleCollections) = await LifecyclePassAsync(full);

    Console.WriteLine();
    Console.WriteLine("| pass (big registry) | time (s) | peak live heap above the start (MiB) | its samples | result | target |");
    Console.WriteLine("|---|---:|---:|---:|---|---|");
    Console.WriteLine(string.Create(invariant,
        $"| GC alone, {emptyBlobs:N0} blobs (the empty registry) | {emptyGcSeconds:F2} | {emptyGcHeap / 1048576.0:F1} | {emptyGcCollections} | the baseline for the row below | |"));
    Console.WriteLine(string.Create(invariant,
        $"| GC alone, {blobs:N0} blobs | {aloneGcSeconds:F2} | {aloneGcHeap / 1048576.0:F1} | {aloneGcCollections} | heap {aloneGcHeap / 1048576.0 - emptyGcHeap / 1048576.0:F1} MiB more than the empty registry's pass | memory flat |"));
    Console.WriteLine(string.Create(invariant,
        $"| GC, {blobs:N0} blobs, nothing to delete | {gcSeconds:F2} | {gcHeap / 1048576.0:F1} | {gcCollections} | {gcReport.BlobsDeleted} deleted; {pushTimes.Count} PUTs beside it, median {Median(pushTimes):F2} ms, max {(pushTimes.Count == 0 ? 0 : pushTimes.Max()):F2} ms (alone: {putMedian:F2} ms); the heap column counts what the PUTs hold too | ≤ 60 s per 1,000,000 blobs ({gcSeconds / blobs * 1e6:F1} s per million here) |"));
    Console.WriteLine(string.Create(invariant,
        $"| lifecycle evaluation (dry run), {smallLifecycleCount:N0} images (the empty registry) | {smallLifecycleSeconds:F2} | {smallLifecycleHeap / 1048576.0:F1} | {smallLifecycleCollections} | {smallLifecycleReports.Sum(r => r.Evaluated)} images evaluated, {smallLifecycleReports.Sum(r => r.Planned)} would expire; the baseline for the row below | |"));
    Console.WriteLine(string.Create(invariant,
        $"| lifecycle evaluation (dry run), {lifecycleCount:N0} images | {lifecycleSeconds:F2} | {lifecycleHeap / 1048576.0:F1} | {lifecycleCollections} | {lifecycleReports.Sum(r => r.Evaluated)} images evaluated, {lifecycleReports.Sum(r => r.Planned)} would expire; heap {lifecycleHeap / 1048576.0 - smallLifecycleHeap / 1048576.0:F1} MiB more than the baseline's | ≤ 10 s at 100,000 images; memory flat |"));
}
finally
{
    foreach (var server in servers)
    {
        await server.DisposeAsync();
    }

    if (!keep && Directory.Exists(root))
    {
        Directory.Delete(root, recursive: true);
    }
    else if (keep)
    {
        Console.Error.WriteLine($"kept {root}");
    }
}

return 0;

static double Median(List<double> times)
{
    if (times.Count == 0)
    {
        return 0;
    }

    var sorted = times.Order().ToList();
    return sorted[sorted.Count / 2];
}

/// <summary>A pass's wall time and its peak live heap above the heap at its start.</summary>
internal static class Measured
{
    /// <summary>
    /// Runs the pass twice: once timed, and once with a full, blocking collection every 10 ms beside it, after which
    /// the heap holds only what is live: the peak of those, above the heap at the start, is what the pass holds (its
    /// garbage is not counted). Returns the first run's time and result, that peak and how many samples it took.
    /// </summary>
    public static async Task<(double Seconds, long PeakHeap, T Result, int Samples)> RunAsync<T>(Func<Task<T>> pass)
    {
        var watch = Stopwatch.StartNew();
        var result = await pass();
        var seconds = watch.Elapsed.TotalSeconds;

        var start = GC.GetTotalMemory(forceFullCollection: true);
        long peak = start;
        var samples = 0;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                samples++;
                try
                {
                    await Task.Delay(10, done.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        await pass();
        await done.CancelAsync();
        await sampler;
        return (seconds, peak - start, result, samples);
    }
}

/// <summary>One Wharf in this process on a generated data directory, with its keep-alive client and the probe image.</summary>
internal sealed class Server : IAsyncDisposable
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly WebApplication app;
    private readonly HttpClient client;
    private string config = "", layer = "";
    private long configSize;

    private Server(WebApplication app, int port)
    {
        this.app = app;
        client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public IServiceProvider Services => app.Services;

    public IMetadataStore Store => app.Services.GetRequiredService<IMetadataStore>();

    /// <summary>The request body of a page at about 90% of probe/tags, per ECR operation (its nextToken found by walking).</summary>
    public Dictionary<string, JsonObject> Deep { get; } = [];

    /// <summary>How many "fill-" repositories the registry holds.</summary>
    public long Fillers { get; private init; }

    public static async Task<Server> StartAsync(string dir, string? postgres, long fillers)
    {
        var port = PageBench.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["Address"] = "127.0.0.1",
            ["Port"] = port.ToString(Invariant),
            ["Public:Enabled"] = "false",
            ["DataDirectory"] = dir,
            ["Auth"] = "Open",
            ["Gc:Enabled"] = "false",
            ["Lifecycle:Interval"] = "1.00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (postgres is not null)
        {
            settings["Metadata:Backend"] = "Postgres";
            settings["Metadata:ConnectionString"] = postgres;
        }

        var app = WharfHost.CreateApp([], c => c.AddInMemoryCollection(settings));
        await WharfHost.StartAsync(app, CancellationToken.None);
        return new Server(app, port) { Fillers = fillers };
    }

    /// <summary>probe/app:latest, pushed as a client would (two blobs, then the manifest).</summary>
    public async Task PushProbeAsync()
    {
        var configBytes = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        configSize = configBytes.Length;
        config = await PushBlobAsync(configBytes);
        layer = await PushBlobAsync(RandomNumberGenerator.GetBytes(4096));
        await PutManifestAsync("latest");
    }

    public async Task PutManifestAsync(string tag)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciImageConfig, ["digest"] = config, ["size"] = configSize },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar", ["digest"] = layer, ["size"] = 4096 }),
            ["annotations"] = new JsonObject { ["bench"] = tag },
        }.ToJsonString();
        using var content = new StringContent(manifest, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await client.PutAsync($"/v2/probe/app/manifests/{tag}", content);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"PUT manifest {tag}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async Task GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(MediaTypes.OciManifest);
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        Expect(response, HttpStatusCode.OK);
    }

    public async Task HeadLayerAsync()
    {
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/probe/app/blobs/{layer}"));
        Expect(response, HttpStatusCode.OK);
    }

    public async Task<JsonObject> EcrAsync(string operation, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = content };
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921." + operation);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK
            ? JsonNode.Parse(text)!.AsObject()
            : throw new InvalidOperationException($"{operation}: {(int)response.StatusCode} {text}");
    }

    /// <summary>Walks <paramref name="pages"/> pages of 100 of probe/tags with each operation to hold the token of the page after them.</summary>
    public async Task FindDeepPagesAsync(long pages)
    {
        foreach (var operation in new[] { "DescribeImages", "ListImages" })
        {
            var body = new JsonObject { ["repositoryName"] = "probe/tags", ["maxResults"] = 100 };
            for (var i = 0; i < pages; i++)
            {
                var token = (await EcrAsync(operation, body))["nextToken"]?.GetValue<string>() ?? throw new InvalidOperationException($"{operation} ended early");
                body = new JsonObject { ["repositoryName"] = "probe/tags", ["maxResults"] = 100, ["nextToken"] = token };
            }

            Deep[operation] = body;
        }
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<string> PushBlobAsync(byte[] bytes)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var start = await client.PostAsync("/v2/probe/app/blobs/uploads/", null);
        Expect(start, HttpStatusCode.Accepted);
        var location = start.Headers.Location!.ToString();
        using var body = new ByteArrayContent(bytes);
        using var put = await client.PutAsync(location + (location.Contains('?') ? "&" : "?") + "digest=" + digest, body);
        Expect(put, HttpStatusCode.Created);
        return digest;
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode}, expected {(int)status}");
        }
    }
}
