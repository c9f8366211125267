using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Metadata;
using Wharf.Scanning.Vulnerabilities;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;
using Wharf.Server.Scanning;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Scanning;

/// <summary>
/// StartImageScan's rules, continuous rescans when the database changes, and the database download for
/// connected installs — on a fake clock, running the scan job by hand.
/// </summary>
public sealed class ScanApiTests
{
    private const string Region = "us-east-1";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Scanning:Interval"] = "40.00:00:00",
        ["Lifecycle:Interval"] = "40.00:00:00",
        ["Gc:Interval"] = "40.00:00:00",
        ["Uploads:SweepInterval"] = "40.00:00:00",
        ["Images:PullTimeFlushInterval"] = "40.00:00:00",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartImageScan_scans_an_image_once_a_day_and_refuses_archived_images_artifacts_and_absent_ones_on_postgres()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartOnPostgresAsync(Settings, s => s.AddSingleton<TimeProvider>(time));
        await ImportAsync(server, "Alpine", ScanTestImages.FixtureDirectory("Alpine"));
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);
        await ScanTestImages.PushAsync(await ScanTestImages.AlpineAsync(), $"{server.HostAndPort}/manual/alpine:1");
        await RunScanJobAsync(server);

        // BASIC with no rules is manual: nothing was scanned on push...
        var missing = await Aws("ecr", "describe-image-scan-findings", "--repository-name", "manual/alpine", "--image-id", "imageTag=1");
        Assert.Contains("ScanNotFoundException", missing.StandardError, StringComparison.Ordinal);

        // ...except in a repository whose own (deprecated) scanOnPush is on.
        (await Aws("ecr", "create-repository", "--repository-name", "legacy/alpine", "--image-scanning-configuration", "scanOnPush=true")).EnsureSuccess();
        await ScanTestImages.PushAsync(await ScanTestImages.AlpineAsync(), $"{server.HostAndPort}/legacy/alpine:1");
        await RunScanJobAsync(server);
        var legacy = Findings(await Aws("ecr", "describe-image-scan-findings", "--repository-name", "legacy/alpine", "--image-id", "imageTag=1"));
        Assert.Equal("COMPLETE", legacy.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.Equal(4, legacy.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());

        var started = JsonDocument.Parse((await Aws("ecr", "start-image-scan", "--repository-name", "manual/alpine", "--image-id", "imageTag=1")).EnsureSuccess().StandardOutput).RootElement;
        Assert.Equal("IN_PROGRESS", started.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.Equal("1", started.GetProperty("imageId").GetProperty("imageTag").GetString());
        var digest = started.GetProperty("imageId").GetProperty("imageDigest").GetString()!;
        var inProgress = JsonDocument.Parse((await Aws("ecr", "describe-image-scan-findings", "--repository-name", "manual/alpine", "--image-id", $"imageDigest={digest}")).EnsureSuccess().StandardOutput).RootElement;
        Assert.Equal("IN_PROGRESS", inProgress.GetProperty("imageScanStatus").GetProperty("status").GetString());
        // No findings yet (the CLI's paginator prints the absent member as null).
        Assert.True(!inProgress.TryGetProperty("imageScanFindings", out var none) || none.ValueKind == JsonValueKind.Null, inProgress.GetRawText());

        await RunScanJobAsync(server);
        var first = Findings(await Aws("ecr", "describe-image-scan-findings", "--repository-name", "manual/alpine", "--image-id", "imageTag=1"));
        Assert.Equal("COMPLETE", first.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.Equal(4, first.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());
        (await Aws("ecr", "wait", "image-scan-complete", "--repository-name", "manual/alpine", "--image-id", "imageTag=1")).EnsureSuccess();

        // Once a day, as in ECR.
        time.Advance(TimeSpan.FromHours(23));
        var again = await Aws("ecr", "start-image-scan", "--repository-name", "manual/alpine", "--image-id", "imageTag=1");
        Assert.Contains("LimitExceededException", again.StandardError, StringComparison.Ordinal);
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        (await Aws("ecr", "start-image-scan", "--repository-name", "manual/alpine", "--image-id", "imageTag=1")).EnsureSuccess();
        await RunScanJobAsync(server);
        var second = Findings(await Aws("ecr", "describe-image-scan-findings", "--repository-name", "manual/alpine", "--image-id", "imageTag=1"));
        Assert.True(second.GetProperty("imageScanFindings").GetProperty("imageScanCompletedAt").GetDouble() > first.GetProperty("imageScanFindings").GetProperty("imageScanCompletedAt").GetDouble());

        Assert.Contains("ImageNotFoundException", (await Aws("ecr", "start-image-scan", "--repository-name", "manual/alpine", "--image-id", "imageTag=absent")).StandardError, StringComparison.Ordinal);
        Assert.Contains("ImageNotFoundException", (await Aws("ecr", "describe-image-scan-findings", "--repository-name", "manual/alpine", "--image-id", "imageTag=absent")).StandardError, StringComparison.Ordinal);
        Assert.Contains("RepositoryNotFoundException", (await Aws("ecr", "start-image-scan", "--repository-name", "manual/absent", "--image-id", "imageTag=1")).StandardError, StringComparison.Ordinal);

        // An archived image is not scanned until restored.
        (await Aws("ecr", "update-image-storage-class", "--repository-name", "manual/alpine", "--image-id", $"imageDigest={digest}", "--target-storage-class", "ARCHIVE")).EnsureSuccess();
        time.Advance(TimeSpan.FromDays(2));
        Assert.Contains("ImageArchivedException", (await Aws("ecr", "start-image-scan", "--repository-name", "manual/alpine", "--image-id", $"imageDigest={digest}")).StandardError, StringComparison.Ordinal);

        // An artifact that is not a container image is refused.
        using var client = server.CreateClient();
        var config = (Digest: await Oci.PushBlobAsync(client, "manual/artifact", "{}"u8.ToArray()), Size: 2);
        var artifact = $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{{config.Digest}}","size":{{config.Size}}},"layers":[]}""";
        (await Aws("ecr", "put-image", "--repository-name", "manual/artifact", "--image-tag", "sbom", "--image-manifest", artifact)).EnsureSuccess();
        var refused = await Aws("ecr", "start-image-scan", "--repository-name", "manual/artifact", "--image-id", "imageTag=sbom");
        Assert.Contains("UnsupportedImageTypeException", refused.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_push_to_a_scan_on_push_repository_is_IN_PROGRESS_at_once_and_the_CLI_waiter_waits_for_its_scan(bool postgres)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = postgres
            ? await WharfTestServer.StartOnPostgresAsync(Settings, s => s.AddSingleton<TimeProvider>(time))
            : await WharfTestServer.StartAsync(Settings, services: s => s.AddSingleton<TimeProvider>(time));
        await ImportAsync(server, "Alpine", ScanTestImages.FixtureDirectory("Alpine"));
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);
        (await Aws("ecr", "create-repository", "--repository-name", "ci/alpine", "--image-scanning-configuration", "scanOnPush=true")).EnsureSuccess();
        await ScanTestImages.PushAsync(await ScanTestImages.AlpineAsync(), $"{server.HostAndPort}/ci/alpine:1");

        // Before the scan job has run, the push already has its scan, in progress, in both APIs.
        var pending = Findings(await Aws("ecr", "describe-image-scan-findings", "--repository-name", "ci/alpine", "--image-id", "imageTag=1"));
        Assert.Equal("IN_PROGRESS", pending.GetProperty("imageScanStatus").GetProperty("status").GetString());
        var detail = Findings(await Aws("ecr", "describe-images", "--repository-name", "ci/alpine")).GetProperty("imageDetails")[0];
        Assert.Equal("IN_PROGRESS", detail.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.False(detail.TryGetProperty("imageScanFindingsSummary", out _), detail.GetRawText());

        // The CI step: the waiter keeps polling (every 5 s) while the scan is in progress, and succeeds once it completes.
        var waiter = Aws("ecr", "wait", "image-scan-complete", "--repository-name", "ci/alpine", "--image-id", "imageTag=1");
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        Assert.False(waiter.IsCompleted, waiter.IsCompleted ? (await waiter).StandardError : null);
        await RunScanJobAsync(server);
        (await waiter).EnsureSuccess();
        var done = Findings(await Aws("ecr", "describe-image-scan-findings", "--repository-name", "ci/alpine", "--image-id", "imageTag=1"));
        Assert.Equal("COMPLETE", done.GetProperty("imageScanStatus").GetProperty("status").GetString());
        Assert.Equal(4, done.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());
        Assert.Equal(
            "COMPLETE",
            Findings(await Aws("ecr", "describe-images", "--repository-name", "ci/alpine")).GetProperty("imageDetails")[0].GetProperty("imageScanStatus").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_database_change_rescans_continuous_repositories_only()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(Settings, services: s => s.AddSingleton<TimeProvider>(time));
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);
        (await Aws(
            "ecr", "put-registry-scanning-configuration", "--scan-type", "ENHANCED",
            "--rules", """[{"scanFrequency":"CONTINUOUS_SCAN","repositoryFilters":[{"filter":"cont/*","filterType":"WILDCARD"}]},{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"push/*","filterType":"WILDCARD"}]}]""")).EnsureSuccess();

        // The first database knows one of the two openssl advisories.
        var partial = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "exports", "Alpine")).FullName;
        File.Copy(Path.Combine(ScanTestImages.FixtureDirectory("Alpine"), "ALPINE-CVE-2023-0286.json"), Path.Combine(partial, "ALPINE-CVE-2023-0286.json"));
        await ImportAsync(server, "Alpine", partial);
        var image = await ScanTestImages.AlpineAsync();
        await ScanTestImages.PushAsync(image, $"{server.HostAndPort}/cont/alpine:1");
        await ScanTestImages.PushAsync(image, $"{server.HostAndPort}/push/alpine:1");
        await ScanTestImages.PushAsync(image, $"{server.HostAndPort}/other/alpine:1");
        await RunScanJobAsync(server);

        async Task<JsonElement> FindingsOf(string repository) =>
            Findings(await Aws("ecr", "describe-image-scan-findings", "--repository-name", repository, "--image-id", "imageTag=1"));
        var continuousBefore = await FindingsOf("cont/alpine");
        Assert.Equal(2, continuousBefore.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());
        var onPushBefore = await FindingsOf("push/alpine");
        Assert.Equal(2, onPushBefore.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());
        Assert.Contains("ScanNotFoundException", (await Aws("ecr", "describe-image-scan-findings", "--repository-name", "other/alpine", "--image-id", "imageTag=1")).StandardError, StringComparison.Ordinal);

        // A new export adds the second advisory: the continuous repository's image is rescanned, the other is not.
        time.Advance(TimeSpan.FromHours(1));
        await ImportAsync(server, "Alpine", ScanTestImages.FixtureDirectory("Alpine"));
        await RunScanJobAsync(server);
        var continuousAfter = await FindingsOf("cont/alpine");
        Assert.Equal(4, continuousAfter.GetProperty("imageScanFindings").GetProperty("findings").GetArrayLength());
        Assert.True(continuousAfter.GetProperty("imageScanFindings").GetProperty("imageScanCompletedAt").GetDouble() > continuousBefore.GetProperty("imageScanFindings").GetProperty("imageScanCompletedAt").GetDouble());
        Assert.Equal(onPushBefore.GetRawText(), (await FindingsOf("push/alpine")).GetRawText());

        // Nothing changes without a new import; each completed scan recorded its event.
        await RunScanJobAsync(server);
        Assert.Equal(continuousAfter.GetRawText(), (await FindingsOf("cont/alpine")).GetRawText());
        var events = await server.GetService<IMetadataStore>().Events.ListAsync(0, 1000, DateTimeOffset.MaxValue, Ct);
        var scans = events.Where(e => e.Type == "ECR Image Scan").Select(e => JsonDocument.Parse(e.Payload).RootElement.GetProperty("detail")).ToList();
        Assert.Equal(2, scans.Count(d => d.GetProperty("repository-name").GetString() == "cont/alpine"));
        Assert.Equal(1, scans.Count(d => d.GetProperty("repository-name").GetString() == "push/alpine"));
    }

    [Fact]
    public async Task Scan_on_push_waits_for_a_push_still_committing_on_postgres_and_passes_a_rolled_back_one()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartOnPostgresAsync(Settings, s => s.AddSingleton<TimeProvider>(time));
        await ImportAsync(server, "Alpine", ScanTestImages.FixtureDirectory("Alpine"));
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);
        var image = await ScanTestImages.AlpineAsync();
        var store = server.GetService<IMetadataStore>();
        async Task<bool> ScannedAsync(string repository) =>
            !(await Aws("ecr", "describe-image-scan-findings", "--repository-name", repository, "--image-id", "imageTag=1")).StandardError.Contains("ScanNotFoundException", StringComparison.Ordinal);

        // scan/a is pushed while nothing scans on push; then scanning is turned on.
        await ScanTestImages.PushAsync(image, $"{server.HostAndPort}/scan/a:1");
        await RunScanJobAsync(server);
        (await Aws("ecr", "put-registry-scanning-configuration", "--scan-type", "BASIC",
            "--rules", """[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"scan/*","filterType":"WILDCARD"}]}]""")).EnsureSuccess();
        var pushA = (await store.Events.ListAsync(0, 100, DateTimeOffset.MaxValue, Ct)).Single(e => e.Payload.Contains("scan/a", StringComparison.Ordinal));

        // A push of scan/a's image whose transaction has taken its event id but not committed yet...
        var connectionString = server.GetService<Microsoft.Extensions.Options.IOptions<WharfOptions>>().Value.Metadata.ConnectionString;
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        var inFlight = await connection.BeginTransactionAsync(Ct);
        await InsertEventAsync(connection, inFlight, pushA.Payload, time.GetUtcNow());

        // ...and a later push that commits first: it is scanned, and the cursor stops before the gap.
        await ScanTestImages.PushAsync(image, $"{server.HostAndPort}/scan/b:1");
        await RunScanJobAsync(server);
        Assert.True(await ScannedAsync("scan/b"));
        Assert.False(await ScannedAsync("scan/a"));
        Assert.True(await store.Events.GetCursorAsync("scan-on-push", Ct) < (await store.Events.ListAsync(0, 1000, DateTimeOffset.MaxValue, Ct)).Max(e => e.Id));

        // Once it commits, the next run sees it.
        await inFlight.CommitAsync(Ct);
        await RunScanJobAsync(server);
        Assert.True(await ScannedAsync("scan/a"));

        // A write that rolls back leaves a gap no event fills: after a minute it is passed.
        var rolledBack = await connection.BeginTransactionAsync(Ct);
        await InsertEventAsync(connection, rolledBack, pushA.Payload, time.GetUtcNow());
        await rolledBack.RollbackAsync(Ct);
        await ScanTestImages.PushAsync(image, $"{server.HostAndPort}/scan/c:1");
        await RunScanJobAsync(server);
        Assert.True(await ScannedAsync("scan/c"));
        var stuck = await store.Events.GetCursorAsync("scan-on-push", Ct);
        time.Advance(TimeSpan.FromMinutes(2));
        await RunScanJobAsync(server);
        Assert.True(await store.Events.GetCursorAsync("scan-on-push", Ct) > stuck);
        Assert.Equal((await store.Events.ListAsync(0, 1000, DateTimeOffset.MaxValue, Ct)).Max(e => e.Id), await store.Events.GetCursorAsync("scan-on-push", Ct));
    }

    private static async Task InsertEventAsync(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction, string payload, DateTimeOffset at)
    {
        await using var command = new Npgsql.NpgsqlCommand("INSERT INTO events (type, payload, created_at) VALUES ('ECR Image Action', @payload, @at)", connection, transaction);
        command.Parameters.AddWithValue("payload", payload);
        command.Parameters.AddWithValue("at", at.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(Ct);
    }

    [Fact]
    public async Task Connected_installs_download_the_database_at_start_and_import_it_again_only_when_it_changed()
    {
        // A real HTTP server publishing an OSV export, honouring If-Modified-Since as static hosting does.
        var zip = Path.Combine(Path.GetTempPath(), $"wharf-osv-{Guid.NewGuid():N}.zip");
        ZipFile.CreateFromDirectory(ScanTestImages.FixtureDirectory("GitHub"), zip);
        var published = DateTimeOffset.UtcNow.AddDays(-1);
        var requests = new List<string?>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var feed = builder.Build();
        feed.MapGet("/osv/{ecosystem}/all.zip", (HttpContext context) =>
        {
            requests.Add(context.Request.Headers.IfModifiedSince.ToString());
            return Results.File(zip, "application/zip", lastModified: published);
        });
        feed.MapGet("/broken/all.zip", () => Results.Bytes("not a zip"u8.ToArray(), "application/zip"));
        await feed.StartAsync(Ct);
        var address = feed.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        try
        {
            var settings = new Dictionary<string, string?>(Settings)
            {
                ["Scanning:DatabaseUrls:0"] = $"{address}/osv/GitHub/all.zip",
                ["Scanning:DatabaseUrls:1"] = $"{address}/broken/all.zip",
                ["Scanning:DatabaseRefreshInterval"] = "40.00:00:00",
            };
            await using var server = await WharfTestServer.StartAsync(settings);
            var store = server.GetService<IMetadataStore>();
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while ((await store.Vulnerabilities.ListSourcesAsync(Ct)).Count == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, Ct);
            }

            // The start-up run imported the export under its source name; the broken one changed nothing.
            var source = Assert.Single(await store.Vulnerabilities.ListSourcesAsync(Ct));
            Assert.Equal("GitHub", source.Name);
            Assert.Equal(4, source.AdvisoryCount);
            Assert.Single(await store.Vulnerabilities.FindAsync("npm", "lodash", Ct));

            // Unchanged since: the next run asks with If-Modified-Since and imports nothing.
            var job = server.GetService<IEnumerable<IBackgroundJob>>().OfType<VulnerabilityDownloadJob>().Single();
            var outcome = await job.RunAsync(Ct);
            Assert.Contains("GitHub: not modified since the last import", outcome, StringComparison.Ordinal);
            Assert.Contains("broken: import failed, the previous advisories stay in service", outcome, StringComparison.Ordinal);
            Assert.Equal(source, Assert.Single(await store.Vulnerabilities.ListSourcesAsync(Ct)));
            Assert.Equal(string.Empty, requests[0]);
            Assert.NotEqual(string.Empty, requests[^1]);

            // Republished: imported again.
            published = DateTimeOffset.UtcNow.AddMinutes(1);
            Assert.Contains("GitHub: 4 advisories imported", await job.RunAsync(Ct), StringComparison.Ordinal);
            Assert.True(Assert.Single(await store.Vulnerabilities.ListSourcesAsync(Ct)).ImportedAt > source.ImportedAt);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    [Fact]
    public async Task In_IAM_mode_ReadOnly_reads_findings_but_only_a_StartImageScan_permission_starts_a_scan()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?>(Settings) { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        (await Aws(root, "ecr", "create-repository", "--repository-name", "iam/app")).EnsureSuccess();
        using var client = await IamTestAccess.V2ClientAsync(server, Region, root);
        var config = (Digest: await Oci.PushBlobAsync(client, "iam/app", "{}"u8.ToArray()), Size: 2);
        var manifest = $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config.Digest}}","size":{{config.Size}}},"layers":[]}""";
        (await Aws(root, "ecr", "put-image", "--repository-name", "iam/app", "--image-tag", "1", "--image-manifest", manifest)).EnsureSuccess();

        (await Aws(root, "iam", "create-user", "--user-name", "reader")).EnsureSuccess();
        (await Aws(root, "iam", "attach-user-policy", "--user-name", "reader", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        var reader = IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", "reader"));
        Assert.Contains("(AccessDeniedException)", (await Aws(reader, "ecr", "start-image-scan", "--repository-name", "iam/app", "--image-id", "imageTag=1")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(ScanNotFoundException)", (await Aws(reader, "ecr", "describe-image-scan-findings", "--repository-name", "iam/app", "--image-id", "imageTag=1")).StandardError, StringComparison.Ordinal);

        (await Aws(root, "iam", "create-user", "--user-name", "scanner")).EnsureSuccess();
        (await Aws(root, "iam", "put-user-policy", "--user-name", "scanner", "--policy-name", "scan", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:StartImageScan","Resource":"arn:aws:ecr:us-east-1:123456789012:repository/iam/*"}]}""")).EnsureSuccess();
        var scanner = IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", "scanner"));
        Assert.Contains("(AccessDeniedException)", (await Aws(scanner, "ecr", "describe-image-scan-findings", "--repository-name", "iam/app", "--image-id", "imageTag=1")).StandardError, StringComparison.Ordinal);
        (await Aws(scanner, "ecr", "start-image-scan", "--repository-name", "iam/app", "--image-id", "imageTag=1")).EnsureSuccess();
        await RunScanJobAsync(server);
        var scanned = Findings(await Aws(reader, "ecr", "describe-image-scan-findings", "--repository-name", "iam/app", "--image-id", "imageTag=1"));
        Assert.Equal("UNSUPPORTED_IMAGE", scanned.GetProperty("imageScanStatus").GetProperty("status").GetString());
    }

    [Fact]
    public void A_download_url_names_its_source_as_a_file_would()
    {
        Assert.Equal("Debian", VulnerabilityDownloader.SourceName(new Uri("https://mirror.example/osv/Debian/all.zip")));
        Assert.Equal("npm", VulnerabilityDownloader.SourceName(new Uri("https://mirror.example/exports/npm.zip")));
        Assert.Equal("Alpine Linux", VulnerabilityDownloader.SourceName(new Uri("https://mirror.example/Alpine%20Linux/all.zip")));
    }

    private static async Task ImportAsync(WharfTestServer server, string source, string directory)
    {
        var count = await server.GetService<IMetadataStore>().Vulnerabilities.ReplaceSourceAsync(source, OsvImport.ReadAsync(directory, Ct), server.GetService<TimeProvider>().GetUtcNow(), Ct);
        Assert.True(count > 0);
    }

    private static async Task RunScanJobAsync(WharfTestServer server) =>
        Assert.True(await server.GetService<JobScheduler>().RunOnceAsync(server.GetService<IEnumerable<IBackgroundJob>>().OfType<ScanJob>().Single(), Ct));

    private static JsonElement Findings(ProcessResult result) => JsonDocument.Parse(result.EnsureSuccess().StandardOutput).RootElement.Clone();
}
