using System.Text.Json;
using Wharf.Server.Jobs;
using Wharf.Server.Telemetry;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Telemetry;

/// <summary>
/// <c>/metrics</c> after real pushes and pulls (podman, skopeo), API calls, a job run and a GC that deletes something:
/// the series per surface, operation and status, the bytes, the store latencies, the job and GC counters, and nothing
/// a caller chose in any label. The counters are process-wide (other tests' servers add to them), so each assertion
/// compares two scrapes around its own requests and asks for at least what they did.
/// </summary>
public sealed class MetricsTests(MetricsTests.Fixture fixture) : IClassFixture<MetricsTests.Fixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ContainerTools tools = ContainerTools.Instance;

    [Fact]
    public async Task A_push_a_pull_and_api_calls_are_counted_by_surface_operation_and_status_without_caller_names()
    {
        var server = fixture.Server;
        using var client = server.CreateClient();
        var metrics = new Uri(server.BaseAddress, "metrics");
        var repository = "telemetry-secret-" + Guid.NewGuid().ToString("N")[..10] + "/app";
        const string Tag = "tagged-privately";
        var before = await Scrape.GetAsync(client, metrics, Ct);

        await TestImages.BusyboxArchiveAsync();
        var remote = $"{server.HostAndPort}/{repository}:{Tag}";
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, "docker://" + remote)).EnsureSuccess();
        var outDir = Path.Combine(server.DataDirectory, "pulled-" + Guid.NewGuid().ToString("N"));
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", "docker://" + remote, $"oci:{outDir}:x")).EnsureSuccess();
        var raw = (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "docker://" + remote)).EnsureSuccess().StandardOutput;
        long blobBytes;
        using (var manifest = JsonDocument.Parse(raw))
        {
            blobBytes = manifest.RootElement.GetProperty("config").GetProperty("size").GetInt64()
                + manifest.RootElement.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("size").GetInt64());
        }

        var (status, _, _) = await EcrHttp.CallAsync(client, "DescribeRepositories", "{}");
        Assert.Equal(200, status);
        (status, _, _) = await EcrHttp.CallAsync(client, "DescribeImages", $"{{\"repositoryName\":\"{repository}\"}}");
        Assert.Equal(200, status);
        (status, _, _) = await EcrHttp.CallAsync(client, "DescribeImages", "{\"repositoryName\":\"telemetry/none\"}");
        Assert.Equal(400, status);

        var after = await Scrape.GetAsync(client, metrics, Ct);
        double Grew(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);

        Assert.True(Grew("wharf_requests_total", ("surface", "v2"), ("operation", "PutManifest"), ("method", "PUT"), ("status", "201")) >= 1);
        Assert.True(Grew("wharf_requests_total", ("surface", "v2"), ("operation", "GetManifest"), ("method", "GET"), ("status", "200")) >= 1);
        Assert.True(Grew("wharf_requests_total", ("surface", "v2"), ("operation", "GetBlob"), ("method", "GET"), ("status", "200")) >= 2);
        Assert.True(Grew("wharf_requests_total", ("surface", "v2"), ("operation", "StartUpload"), ("method", "POST"), ("status", "202")) >= 2);
        Assert.True(Grew("wharf_requests_total", ("surface", "ecr"), ("operation", "DescribeRepositories"), ("method", "POST"), ("status", "200")) >= 1);
        Assert.True(Grew("wharf_requests_total", ("surface", "ecr"), ("operation", "DescribeImages"), ("method", "POST"), ("status", "400")) >= 1);
        Assert.True(Grew("wharf_request_duration_seconds_count", ("surface", "v2"), ("operation", "PutManifest"), ("status", "201")) >= 1);
        Assert.True(Grew("wharf_request_duration_seconds_bucket", ("surface", "ecr"), ("operation", "DescribeImages"), ("status", "200"), ("le", "+Inf")) >= 1);

        // Every blob byte pushed came in, and every one pulled went out.
        Assert.True(Grew("wharf_received_bytes_total", ("surface", "v2")) >= blobBytes, $"received grew by {Grew("wharf_received_bytes_total", ("surface", "v2"))}, blobs are {blobBytes} bytes");
        Assert.True(Grew("wharf_sent_bytes_total", ("surface", "v2"), ("operation", "GetBlob")) >= blobBytes, $"sent grew by {Grew("wharf_sent_bytes_total", ("surface", "v2"), ("operation", "GetBlob"))}, blobs are {blobBytes} bytes");

        // Store latencies, by operation.
        Assert.True(Grew("wharf_metadata_store_duration_seconds_count", ("operation", "ImageStore.PutManifest")) >= 1, "no metadata-store series for ImageStore.PutManifest");
        Assert.True(Grew("wharf_blob_store_duration_seconds_count", ("operation", "commit_upload")) >= 2);
        Assert.True(Grew("wharf_blob_store_duration_seconds_count", ("operation", "open_read")) >= 2);

        // Bounded labels only: no repository, tag, account or principal anywhere in the scrape.
        foreach (var secret in new[] { repository, repository.Split('/')[0], Tag, "123456789012", "arn:aws" })
        {
            Assert.DoesNotContain(secret, after.Text, StringComparison.Ordinal);
        }

        var labelNames = after.Samples.Where(s => s.Name.StartsWith("wharf_", StringComparison.Ordinal)).SelectMany(s => s.Labels.Keys).ToHashSet();
        Assert.Subset(new HashSet<string> { "otel_scope_name", "otel_scope_version", "surface", "operation", "method", "status", "le", "job", "result" }, labelNames);

        // Not on the public address.
        using var onPublic = await client.GetAsync(new Uri(server.PublicBaseAddress, "metrics"), Ct);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, onPublic.StatusCode);
    }

    [Fact]
    public async Task A_job_run_and_a_gc_that_deletes_are_counted()
    {
        var server = fixture.Server;
        using var client = server.CreateClient();
        var metrics = new Uri(server.BaseAddress, "metrics");

        // A blob no manifest references: with a grace window of zero, the GC deletes it.
        var orphan = new byte[300_000];
        Random.Shared.NextBytes(orphan);
        await new OciPusher(client).PushBlobMonolithicAsync("telemetry/gc", orphan, Ct);
        var before = await Scrape.GetAsync(client, metrics, Ct);

        // Untouched for the grace window means strictly older than now: a run a moment later claims and deletes it.
        await Task.Delay(50, Ct);
        var gc = server.GetService<IEnumerable<IBackgroundJob>>().OfType<GarbageCollectionJob>().Single();
        Assert.True(await server.GetService<JobScheduler>().RunOnceAsync(gc, Ct));

        var after = await Scrape.GetAsync(client, metrics, Ct);
        Assert.True(after.Sum("wharf_job_runs_total", ("job", "gc"), ("result", "success")) - before.Sum("wharf_job_runs_total", ("job", "gc"), ("result", "success")) >= 1);
        Assert.True(after.Sum("wharf_job_duration_seconds_count", ("job", "gc")) - before.Sum("wharf_job_duration_seconds_count", ("job", "gc")) >= 1);
        Assert.True(after.Sum("wharf_gc_reclaimed_bytes_total") - before.Sum("wharf_gc_reclaimed_bytes_total") >= orphan.Length);
        Assert.True(after.Sum("wharf_gc_blobs_deleted_total") - before.Sum("wharf_gc_blobs_deleted_total") >= 1);
    }

    [Fact]
    public async Task Request_series_keep_the_sdk_default_table_and_the_others_a_small_one_still_served()
    {
        // The SDK sizes each instrument's table of label combinations up front: the wide ones are the instruments whose
        // labels grow with the API; the rest (the runtime's, jobs, GC, gauges) have a few dozen at most.
        foreach (var wide in new System.Diagnostics.Metrics.Instrument[]
        {
            WharfMetrics.Requests, WharfMetrics.RequestDuration, WharfMetrics.Received, WharfMetrics.Sent,
            Wharf.Core.Telemetry.WharfInstrumentation.MetadataStoreDuration, Wharf.Core.Telemetry.WharfInstrumentation.BlobStoreDuration,
        })
        {
            Assert.Equal(2000, TelemetryRegistration.CardinalityLimit(wide));
        }

        using var runtime = new System.Diagnostics.Metrics.Meter("System.Runtime");
        foreach (var narrow in new System.Diagnostics.Metrics.Instrument[]
        {
            WharfMetrics.JobRuns, WharfMetrics.JobDuration, WharfMetrics.GcBlobsDeleted, runtime.CreateCounter<long>("dotnet.gc.collections"),
        })
        {
            Assert.Equal(100, TelemetryRegistration.CardinalityLimit(narrow));
        }

        // The view changes only the table's size: the runtime's series and the request series are all still served.
        using var client = fixture.Server.CreateClient();
        using (var answered = await client.GetAsync(new Uri(fixture.Server.BaseAddress, "v2/"), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, answered.StatusCode);
        }

        var scrape = await Scrape.GetAsync(client, new Uri(fixture.Server.BaseAddress, "metrics"), Ct);
        var served = scrape.Samples.Select(sample => sample.Name).ToHashSet();
        Assert.Subset(served, new HashSet<string> { "dotnet_gc_collections_total", "dotnet_process_cpu_time_seconds_total", "dotnet_thread_pool_thread_count", "wharf_requests_total", "wharf_request_duration_seconds_count" });
    }

    public sealed class Fixture : IAsyncLifetime
    {
        private WharfTestServer? server;

        public WharfTestServer Server => server ?? throw new InvalidOperationException("not started");

        public async ValueTask InitializeAsync() =>
            server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Gc:GraceWindow"] = "00:00:00" });

        public async ValueTask DisposeAsync()
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }
}
