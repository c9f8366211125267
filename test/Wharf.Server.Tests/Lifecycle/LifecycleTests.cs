using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Images;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Jobs;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Lifecycle;

/// <summary>
/// Lifecycle policies end to end, on both metadata backends: images pushed with skopeo over days of a
/// fake clock, the policy and its preview through the AWS CLI (with its waiter), the job, then podman
/// pulls of expired tags failing and kept ones working, events in the event log, and GC reclaiming the
/// expired images' blobs only. Archive and restore, and the CLI's <c>wharf lifecycle run</c>.
/// </summary>
public sealed class LifecycleTests
{
    private const string Region = "us-east-1";
    private const string Repo = "life/app";

    // The scheduler's timers run on the fake clock: keep them from firing while the test moves it (a
    // PeriodicTimer takes at most about 49 days).
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Lifecycle:Interval"] = "40.00:00:00",
        ["Gc:Interval"] = "40.00:00:00",
        ["Uploads:SweepInterval"] = "40.00:00:00",
        ["Images:PullTimeFlushInterval"] = "40.00:00:00",
    };

    public static TheoryData<string> Backends => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task The_job_expires_what_the_policy_says_pulls_fail_for_those_only_and_gc_reclaims_their_blobs(string backend)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(backend, time);
        var tools = ContainerTools.Instance;
        (await Aws(server, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();

        // Five release builds a day apart, a dev build, and two untagged images (old and fresh).
        var layouts = new Dictionary<string, LayoutImage>();
        async Task PushAsync(string tag, ulong seed)
        {
            var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layouts", tag), "v1", [2048], seed, Oci.Ct);
            layouts[tag] = image;
            (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/{Repo}:{tag}")).EnsureSuccess();
        }

        for (var i = 1; i <= 5; i++)
        {
            await PushAsync($"release-{i}", (ulong)i);
            time.Advance(TimeSpan.FromDays(1));
        }

        await PushAsync("dev-1", 10);
        await PushAsync("untagged-old", 11);
        await UntagAsync(server, "untagged-old");
        time.Advance(TimeSpan.FromDays(3));
        await PushAsync("untagged-new", 12);
        await UntagAsync(server, "untagged-new");

        // Keep the 3 newest releases; untagged images go after 2 days; dev builds after 30.
        var policyFile = Path.Combine(server.DataDirectory, "policy.json");
        await File.WriteAllTextAsync(policyFile, """
            {"rules":[
              {"rulePriority":1,"description":"keep 3 releases","selection":{"tagStatus":"tagged","tagPrefixList":["release"],"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}},
              {"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":2},"action":{"type":"expire"}},
              {"rulePriority":3,"selection":{"tagStatus":"tagged","tagPatternList":["dev-*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}
            """, Oci.Ct);
        (await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text", $"file://{policyFile}")).EnsureSuccess();
        using (var got = JsonDocument.Parse((await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", Repo)).EnsureSuccess().StandardOutput))
        {
            Assert.Contains("keep 3 releases", got.RootElement.GetProperty("lifecyclePolicyText").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, got.RootElement.GetProperty("lastEvaluatedAt").GetDouble()); // not evaluated yet
        }

        // The preview, with the CLI's waiter.
        using (var started = JsonDocument.Parse((await Aws(server, "ecr", "start-lifecycle-policy-preview", "--repository-name", Repo)).EnsureSuccess().StandardOutput))
        {
            Assert.Contains(started.RootElement.GetProperty("status").GetString(), new[] { "IN_PROGRESS", "COMPLETE" });
        }

        (await Aws(server, "ecr", "wait", "lifecycle-policy-preview-complete", "--repository-name", Repo)).EnsureSuccess();
        var untaggedOld = layouts["untagged-old"].Manifest.Digest;
        using (var preview = JsonDocument.Parse((await Aws(server, "ecr", "get-lifecycle-policy-preview", "--repository-name", Repo)).EnsureSuccess().StandardOutput))
        {
            var results = preview.RootElement.GetProperty("previewResults").EnumerateArray()
                .Select(r => (Digest: r.GetProperty("imageDigest").GetString(), Rule: r.GetProperty("appliedRulePriority").GetInt32(), Action: r.GetProperty("action").GetProperty("type").GetString()))
                .ToHashSet();
            Assert.Equal(
                new HashSet<(string?, int, string?)>
                {
                    (layouts["release-1"].Manifest.Digest, 1, "EXPIRE"),
                    (layouts["release-2"].Manifest.Digest, 1, "EXPIRE"),
                    (untaggedOld, 2, "EXPIRE"),
                },
                results);
            Assert.Equal(3, preview.RootElement.GetProperty("summary").GetProperty("expiringImageTotalCount").GetInt32());
            Assert.Equal("COMPLETE", preview.RootElement.GetProperty("status").GetString());
        }

        using (var untaggedOnly = JsonDocument.Parse((await Aws(server, "ecr", "get-lifecycle-policy-preview", "--repository-name", Repo, "--filter", "tagStatus=UNTAGGED")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(untaggedOld, Assert.Single(untaggedOnly.RootElement.GetProperty("previewResults").EnumerateArray()).GetProperty("imageDigest").GetString());
        }

        // The job, on demand: what the preview said happens; lastEvaluatedAt moves; one event per image.
        Assert.True(await RunJobAsync<LifecycleJob>(server));
        using (var got = JsonDocument.Parse((await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", Repo)).EnsureSuccess().StandardOutput))
        {
            Assert.True(got.RootElement.GetProperty("lastEvaluatedAt").GetDouble() > 0);
        }

        foreach (var (tag, expired) in new[] { ("release-1", true), ("release-2", true), ("release-3", false), ("release-5", false), ("dev-1", false) })
        {
            var pull = await tools.PodmanAsync("pull", "--tls-verify=false", $"{server.HostAndPort}/{Repo}:{tag}");
            Assert.True(expired ? pull.ExitCode != 0 : pull.ExitCode == 0, $"{tag}: {pull.StandardError}");
        }

        var untaggedNew = layouts["untagged-new"].Manifest.Digest;
        Assert.NotEqual(0, (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{server.HostAndPort}/{Repo}@{untaggedOld}")).ExitCode);
        (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{server.HostAndPort}/{Repo}@{untaggedNew}")).EnsureSuccess();

        var events = await server.GetService<IMetadataStore>().Events.ListAsync(0, 100, DateTimeOffset.MaxValue, Oci.Ct);
        var allDeletes = events.Select(e => JsonDocument.Parse(e.Payload).RootElement).Where(e => e.GetProperty("detail").GetProperty("action-type").GetString() == "DELETE").ToList();

        // The two /v2 untags recorded theirs; the job's three carry the rule that decided.
        Assert.Equal(["untagged-old", "untagged-new"], allDeletes.Where(e => !e.GetProperty("detail").TryGetProperty("lifecycle-rule-priority", out _)).Select(e => e.GetProperty("detail").GetProperty("image-tag").GetString()));
        var deletes = allDeletes.Where(e => e.GetProperty("detail").TryGetProperty("lifecycle-rule-priority", out _)).ToList();
        Assert.Equal(3, deletes.Count);
        Assert.All(deletes, e => Assert.Equal(("ECR Image Action", "aws.ecr", Repo), (e.GetProperty("detail-type").GetString(), e.GetProperty("source").GetString(), e.GetProperty("detail").GetProperty("repository-name").GetString())));
        Assert.Contains(deletes, e => e.GetProperty("detail").GetProperty("image-tag").GetString() == "release-1" && e.GetProperty("detail").GetProperty("lifecycle-rule-priority").GetInt32() == 1);

        // A second run finds nothing more to do.
        Assert.True(await RunJobAsync<LifecycleJob>(server));
        Assert.Equal(events.Count, (await server.GetService<IMetadataStore>().Events.ListAsync(0, 100, DateTimeOffset.MaxValue, Oci.Ct)).Count);

        // GC, past its grace window, reclaims the expired images' blobs and only theirs.
        time.Advance(TimeSpan.FromHours(2));
        await server.GetService<GarbageCollector>().RunOnceAsync(Oci.Ct);
        time.Advance(TimeSpan.FromHours(2));
        await server.GetService<GarbageCollector>().RunOnceAsync(Oci.Ct);
        using var client = server.CreateClient();
        foreach (var (tag, gone) in new[] { ("release-1", true), ("release-2", true), ("untagged-old", true), ("release-3", false), ("dev-1", false), ("untagged-new", false) })
        {
            using var blob = await client.GetAsync($"/v2/{Repo}/blobs/{layouts[tag].Layers[0].Digest}", Oci.Ct);
            Assert.True(gone ? blob.StatusCode == HttpStatusCode.NotFound : blob.StatusCode == HttpStatusCode.OK, $"{tag}'s layer: {blob.StatusCode}");
        }
    }

    [Fact]
    public async Task Archived_images_do_not_pull_until_restored_and_a_pull_based_rule_archives_or_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync("sqlite", time);
        var tools = ContainerTools.Instance;
        (await Aws(server, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        foreach (var (tag, seed) in new[] { ("hot", 1UL), ("cold", 2UL), ("stale-a", 3UL), ("stale-b", 4UL) })
        {
            var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layouts", tag), "v1", [1024], seed, Oci.Ct);
            (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/{Repo}:{tag}")).EnsureSuccess();
        }

        // Archive by hand: not pullable, hidden from the default listing, shown when asked.
        using (var archived = JsonDocument.Parse((await Aws(server, "ecr", "update-image-storage-class", "--repository-name", Repo, "--image-id", "imageTag=cold", "--target-storage-class", "ARCHIVE")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("ARCHIVED", archived.RootElement.GetProperty("imageStatus").GetString());
        }

        var refused = await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{server.HostAndPort}/{Repo}:cold");
        Assert.Contains("manifest unknown", refused.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("cold", Tags(await Aws(server, "ecr", "describe-images", "--repository-name", Repo)));
        using (var listed = JsonDocument.Parse((await Aws(server, "ecr", "describe-images", "--repository-name", Repo, "--filter", "imageStatus=ARCHIVED")).EnsureSuccess().StandardOutput))
        {
            var detail = Assert.Single(listed.RootElement.GetProperty("imageDetails").EnumerateArray());
            Assert.Equal(("ARCHIVED", true), (detail.GetProperty("imageStatus").GetString(), detail.TryGetProperty("lastArchivedAt", out _)));
        }

        (await Aws(server, "ecr", "update-image-storage-class", "--repository-name", Repo, "--image-id", "imageTag=cold", "--target-storage-class", "STANDARD")).EnsureSuccess();
        (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{server.HostAndPort}/{Repo}:cold")).EnsureSuccess();
        Assert.Contains("(ImageNotFoundException)", (await Aws(server, "ecr", "update-image-storage-class", "--repository-name", Repo, "--image-id", "imageTag=nope", "--target-storage-class", "ARCHIVE")).StandardError, StringComparison.Ordinal);

        // 100 days on, with "hot" pulled lately: the ECR rule archives what nobody pulled for 90 days, and
        // Wharf's extension (expire by last pull) deletes the stale ones outright.
        time.Advance(TimeSpan.FromDays(100));
        (await tools.PodmanAsync("pull", "--tls-verify=false", $"{server.HostAndPort}/{Repo}:hot")).EnsureSuccess();
        await server.GetService<PullRecorder>().FlushAsync(Oci.Ct);
        (await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text", """
            {"rules":[
              {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["stale"],"countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"expire"}},
              {"rulePriority":2,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}}]}
            """)).EnsureSuccess();
        Assert.True(await RunJobAsync<LifecycleJob>(server));
        (await tools.PodmanAsync("pull", "--tls-verify=false", $"{server.HostAndPort}/{Repo}:hot")).EnsureSuccess();
        Assert.Contains("manifest unknown", (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{server.HostAndPort}/{Repo}:cold")).StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["cold"], Tags(await Aws(server, "ecr", "describe-images", "--repository-name", Repo, "--filter", "imageStatus=ARCHIVED")));
        Assert.Equal(["cold", "hot"], Tags(await Aws(server, "ecr", "describe-images", "--repository-name", Repo, "--filter", "imageStatus=ANY")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Policies_are_validated_with_ecrs_messages_and_missing_ones_have_ecrs_errors()
    {
        await using var server = await StartAsync("sqlite", new FakeTimeProvider(DateTimeOffset.UtcNow));
        (await Aws(server, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        Assert.Contains("(LifecyclePolicyNotFoundException)", (await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", Repo)).StandardError, StringComparison.Ordinal);
        Assert.Contains("(LifecyclePolicyNotFoundException)", (await Aws(server, "ecr", "delete-lifecycle-policy", "--repository-name", Repo)).StandardError, StringComparison.Ordinal);
        Assert.Contains("(LifecyclePolicyNotFoundException)", (await Aws(server, "ecr", "start-lifecycle-policy-preview", "--repository-name", Repo)).StandardError, StringComparison.Ordinal);
        Assert.Contains("(LifecyclePolicyPreviewNotFoundException)", (await Aws(server, "ecr", "get-lifecycle-policy-preview", "--repository-name", Repo)).StandardError, StringComparison.Ordinal);
        Assert.Contains("(RepositoryNotFoundException)", (await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", "no/such")).StandardError, StringComparison.Ordinal);

        var tagged = await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text",
            """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""");
        Assert.Contains(
            "(InvalidParameterException) when calling the PutLifecyclePolicy operation: Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.'",
            tagged.StandardError,
            StringComparison.Ordinal);
        var anyFirst = await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text",
            """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""");
        Assert.Contains("Rule for tagStatus=ANY must have the lowest priority per storage class", anyFirst.StandardError, StringComparison.Ordinal);

        // The model's length bounds, which the CLI checks before sending: Wharf checks them too.
        using (var client = server.CreateClient())
        {
            var message = ControlPlane.EcrHttp.AssertError(
                await ControlPlane.EcrHttp.CallAsync(client, "PutLifecyclePolicy", $$"""{"repositoryName":"{{Repo}}","lifecyclePolicyText":"{}"}"""),
                "InvalidParameterException");
            Assert.Equal("Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length greater than or equal to 100'", message);
        }

        const string Good = """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}""";
        (await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text", Good)).EnsureSuccess();
        using var deleted = JsonDocument.Parse((await Aws(server, "ecr", "delete-lifecycle-policy", "--repository-name", Repo)).EnsureSuccess().StandardOutput);
        Assert.Equal(Good, deleted.RootElement.GetProperty("lifecyclePolicyText").GetString());
        Assert.Contains("(LifecyclePolicyNotFoundException)", (await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", Repo)).StandardError, StringComparison.Ordinal);

        // A preview of a policy given inline, without saving it.
        using var started = JsonDocument.Parse((await Aws(server, "ecr", "start-lifecycle-policy-preview", "--repository-name", Repo, "--lifecycle-policy-text", Good)).EnsureSuccess().StandardOutput);
        Assert.Equal(Good, started.RootElement.GetProperty("lifecyclePolicyText").GetString());
        Assert.Contains("(LifecyclePolicyNotFoundException)", (await Aws(server, "ecr", "get-lifecycle-policy", "--repository-name", Repo)).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wharf_lifecycle_run_shows_the_plan_on_a_dry_run_and_applies_it_otherwise()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        for (var i = 1; i <= 4; i++)
        {
            await Oci.PushImageAsync(client, Repo, $"build-{i}");
        }

        (await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text",
            """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["build"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}""")).EnsureSuccess();
        Task<ProcessResult> CliAsync(params string[] args) =>
            WharfCommand.RunAsync(["lifecycle", "run", .. args, "--data-dir", server.DataDirectory], TimeSpan.FromMinutes(1));

        var dry = (await CliAsync("--dry-run", "--repository", Repo)).EnsureSuccess().StandardOutput;
        Assert.Equal(2, dry.Split('\n').Count(l => l.TrimStart().StartsWith("expire ", StringComparison.Ordinal)));
        Assert.Contains("dry run: nothing changed", dry, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/{Repo}/manifests/build-1", Oci.Ct)).StatusCode);

        var applied = (await CliAsync()).EnsureSuccess().StandardOutput;
        Assert.Contains("2 expired, 0 archived, 0 skipped", applied, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v2/{Repo}/manifests/build-1", Oci.Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v2/{Repo}/manifests/build-2", Oci.Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/{Repo}/manifests/build-4", Oci.Ct)).StatusCode);
        Assert.NotEqual(0, (await CliAsync("--repository", "no/policy")).ExitCode);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_repository_of_several_pages_keeps_exactly_its_newest_and_expires_the_rest_oldest_first(string backend)
    {
        // More images than a page of the evaluation (LifecycleService.PageSize), pushed a second apart on the fake
        // clock: 1,202 untagged and 4 tagged; the policy keeps the 150 newest untagged.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(backend, time);
        using var client = server.CreateClient();
        (await Aws(server, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        var layer = Oci.RandomBytes(512);
        await Oci.PushBlobAsync(client, Repo, config);
        await Oci.PushBlobAsync(client, Repo, layer);
        var untagged = new List<string>();
        for (var i = 0; i < 1206; i++)
        {
            var manifest = Oci.Manifest(config, [layer], annotations: new JsonObject { ["n"] = i.ToString(CultureInfo.InvariantCulture) });
            var digest = Oci.Sha256(manifest);
            var tagged = i % 400 == 0;
            using var put = await Oci.PutManifestAsync(client, Repo, tagged ? $"keep-{i}" : digest, manifest);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            if (!tagged)
            {
                untagged.Add(digest);
            }

            time.Advance(TimeSpan.FromSeconds(1));
        }

        (await Aws(server, "ecr", "put-lifecycle-policy", "--repository-name", Repo, "--lifecycle-policy-text",
            """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":150},"action":{"type":"expire"}}]}""")).EnsureSuccess();
        var service = server.GetService<LifecycleService>();
        var key = new RepositoryKey(ServiceStack.Registry, RepositoryName.Parse(Repo));
        var dry = Assert.Single(await service.RunAsync(key, dryRun: true, Oci.Ct));
        Assert.Equal((1206, 1052, 0), (dry.Evaluated, dry.Planned, dry.Expired));

        var acted = new List<string>();
        var report = Assert.Single(await service.RunAsync(key, dryRun: false, null, (_, d) => acted.Add(d.Image.Digest.ToString()), Oci.Ct));
        Assert.Equal((1206, 1052, 1052, 0), (report.Evaluated, report.Planned, report.Expired, report.Skipped));
        Assert.Equal(untagged.Take(1052), acted); // oldest first

        var left = await server.GetService<IMetadataStore>().Images.ListImageIdsAsync(
            (await server.GetService<IMetadataStore>().Repositories.GetAsync(key, Oci.Ct))!.Id, TagStatus.Any, null, 2000, Oci.Ct);
        Assert.Equal(untagged.Skip(1052).Order(StringComparer.Ordinal), left.Where(i => i.Tag is null).Select(i => i.Digest.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(["keep-0", "keep-1200", "keep-400", "keep-800"], left.Select(i => i.Tag).OfType<string>().Order(StringComparer.Ordinal));
    }

    private static async Task<WharfTestServer> StartAsync(string backend, FakeTimeProvider time)
    {
        void Services(IServiceCollection s) => s.AddSingleton<TimeProvider>(time);
        return backend == "postgres"
            ? await WharfTestServer.StartOnPostgresAsync(Settings, Services)
            : await WharfTestServer.StartAsync(Settings, services: Services);
    }

    private static async Task<bool> RunJobAsync<TJob>(WharfTestServer server) where TJob : IBackgroundJob =>
        await server.GetService<JobScheduler>().RunOnceAsync(server.GetService<IEnumerable<IBackgroundJob>>().OfType<TJob>().Single(), Oci.Ct);

    private static async Task UntagAsync(WharfTestServer server, string tag)
    {
        using var client = server.CreateClient();
        using var response = await client.DeleteAsync($"/v2/{Repo}/manifests/{tag}", Oci.Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static List<string> Tags(ProcessResult describe)
    {
        using var json = JsonDocument.Parse(describe.EnsureSuccess().StandardOutput);
        return json.RootElement.GetProperty("imageDetails").EnumerateArray()
            .SelectMany(d => d.TryGetProperty("imageTags", out var tags) ? tags.EnumerateArray().Select(t => t.GetString()!) : [])
            .ToList();
    }

    private static Task<ProcessResult> Aws(WharfTestServer server, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);
}
