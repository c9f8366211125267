using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Wharf.Server.Tests.Replication.ReplicationTests;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// Cross-account replication in IAM mode (the destination registry's policy decides, as in ECR), and
/// backfill of images pushed before the configuration with <c>wharf replication backfill</c>.
/// </summary>
public sealed class CrossAccountAndBackfillTests
{
    private const string A = "123456789012";
    private const string B = "210987654321";
    private const string Region = "us-east-1";
    private const string West = "eu-west-1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cross_account_copies_fail_naming_the_missing_permission_until_the_destination_registry_policy_grants_it()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam", ["Replication:Interval"] = "00:00:00.200" });
        var rootA = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        (await IamTestAccess.AdminAsync(server, "create-account", B)).EnsureSuccess();
        var rootB = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--account", B));
        var source = new RegistryKey(AccountId.Parse(A), Region);
        await ConfigureAsync(server, source, new ReplicationConfiguration([new ReplicationRule([new ReplicationDestination(Region, B)], [])]));
        var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout"), "v1", [2048, 3000], 9, Ct);
        var password = (await AwsClients.CliAsync(server.BaseAddress, Region, rootA, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var digest = image.Manifest.Digest;

        async Task<JsonElement> PushAndWaitAsync(string tag)
        {
            (await ContainerTools.Instance.SkopeoAsync(
                "copy", "--dest-tls-verify=false", "--dest-creds", "AWS:" + password, image.SkopeoReference, $"docker://{server.HostAndPort}/shared/app:{tag}")).EnsureSuccess();
            await WaitAsync(async () => (await server.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(source, "shared/app"), Digest.Parse(digest), Ct))
                is [{ Status: not ReplicationStatuses.InProgress } row] && row.Request.Tags.Contains(tag));
            var status = (await AwsClients.CliAsync(server.BaseAddress, Region, rootA, "ecr", "describe-image-replication-status", "--repository-name", "shared/app", "--image-id", $"imageTag={tag}"))
                .EnsureSuccess().StandardOutput;
            using var json = JsonDocument.Parse(status);
            return json.RootElement.GetProperty("replicationStatuses")[0].Clone();
        }

        // No registry policy in B: refused, naming the permission and who lacks it.
        var refused = await PushAndWaitAsync("v1");
        Assert.Equal(("FAILED", B, Region), (refused.GetProperty("status").GetString(), refused.GetProperty("registryId").GetString(), refused.GetProperty("region").GetString()));
        var reason = refused.GetProperty("failureCode").GetString()!;
        Assert.StartsWith(ReplicationFailureCodes.NotAuthorized + ": ", reason, StringComparison.Ordinal);
        Assert.Contains($"arn:aws:iam::{A}:root is not authorized to perform: ecr:ReplicateImage", reason, StringComparison.Ordinal);

        // ReplicateImage alone: the missing repository needs CreateRepository too.
        (await AwsClients.CliAsync(server.BaseAddress, Region, rootB, "ecr", "put-registry-policy", "--policy-text", Grant("ecr:ReplicateImage"))).EnsureSuccess();
        var noCreate = await PushAndWaitAsync("v2");
        Assert.Equal("FAILED", noCreate.GetProperty("status").GetString());
        Assert.Contains("ecr:CreateRepository", noCreate.GetProperty("failureCode").GetString(), StringComparison.Ordinal);
        Assert.Contains("RepositoryNotFoundException", (await AwsClients.CliAsync(server.BaseAddress, Region, rootB, "ecr", "describe-repositories", "--repository-names", "shared/app")).StandardError, StringComparison.Ordinal);

        // Both granted: the next push goes through into B's registry.
        (await AwsClients.CliAsync(server.BaseAddress, Region, rootB, "ecr", "put-registry-policy", "--policy-text", Grant("ecr:ReplicateImage", "ecr:CreateRepository"))).EnsureSuccess();
        var allowed = await PushAndWaitAsync("v3");
        Assert.Equal("COMPLETE", allowed.GetProperty("status").GetString());
        Assert.False(allowed.TryGetProperty("failureCode", out _));
        using var copied = JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, Region, rootB, "ecr", "describe-images", "--repository-name", "shared/app")).EnsureSuccess().StandardOutput);
        var copy = copied.RootElement.GetProperty("imageDetails")[0];
        Assert.Equal((digest, B), (copy.GetProperty("imageDigest").GetString(), copy.GetProperty("registryId").GetString()));
        Assert.Equal(["v3"], copy.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()));

        // The statuses are the source repository's: B's root may not read them without A's permission.
        var denied = await AwsClients.CliAsync(server.BaseAddress, Region, rootB, "ecr", "describe-image-replication-status", "--registry-id", A, "--repository-name", "shared/app", "--image-id", "imageTag=v3");
        Assert.Contains("ecr:DescribeImageReplicationStatus", denied.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backfill_arms_the_images_pushed_before_the_configuration_resumes_after_its_cursor_and_a_dry_run_changes_nothing()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Replication:Interval"] = "00:00:00.200" });
        var source = new RegistryKey(AccountId.Parse(A), Region);
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var a1 = OciPusher.Sha256(await PushSmallImageAsync(pusher, "old/a", "1", 11));
        var a2 = OciPusher.Sha256(await PushSmallImageAsync(pusher, "old/a", "2", 12));
        var b1 = OciPusher.Sha256(await PushSmallImageAsync(pusher, "old/b", "1", 13));
        await PushSmallImageAsync(pusher, "other/c", "1", 14);

        // Pushed before replication was configured: not replicated (ECR replicates later pushes only).
        await WaitFeedPassedAsync(server);
        var unconfigured = await BackfillAsync(server);
        Assert.Equal(1, unconfigured.ExitCode);
        Assert.Contains("has no replication configuration", unconfigured.StandardError, StringComparison.Ordinal);
        await ConfigureAsync(server, source, new ReplicationConfiguration([new ReplicationRule([new ReplicationDestination(West, A)], [new ReplicationRepositoryFilter("old/")])]));
        await WaitFeedPassedAsync(server);
        var store = server.GetService<IMetadataStore>();
        Assert.Empty(await store.Replications.CountByStatusAsync(Ct));

        var dryRun = (await BackfillAsync(server, "--dry-run")).EnsureSuccess().StandardOutput;
        Assert.Contains($"would replicate old/a@{a1} 1 -> {West}/{A}", dryRun, StringComparison.Ordinal);
        Assert.Contains($"old/b@{b1}", dryRun, StringComparison.Ordinal);
        Assert.DoesNotContain("other/c", dryRun, StringComparison.Ordinal);
        Assert.Empty(await store.Replications.CountByStatusAsync(Ct));

        // With --json: one document on stdout, the per-image lines on stderr.
        var json = (await BackfillAsync(server, "--dry-run", "--json")).EnsureSuccess();
        using (var document = System.Text.Json.JsonDocument.Parse(json.StandardOutput))
        {
            var report = document.RootElement;
            Assert.True(report.GetProperty("dryRun").GetBoolean());
            Assert.Equal(source.Region, report.GetProperty("region").GetString());
            Assert.Equal(dryRun.Split('\n').Count(l => l.StartsWith("would replicate ", StringComparison.Ordinal)), report.GetProperty("replications").GetInt32());
            Assert.Contains($"would replicate old/a@{a1} 1 -> {West}/{A}", json.StandardError, StringComparison.Ordinal);
        }

        // A run that stopped after old/a's first image left its cursor there: the next one goes on after it.
        var first = a1.CompareTo(a2, StringComparison.Ordinal) < 0 ? a1 : a2;
        var second = first == a1 ? a2 : a1;
        await store.Repositories.SetRegistrySettingAsync(source, ReplicationService.BackfillCursorSetting, $$"""{"Prefix":"","Repository":"old/a","Digest":"{{first}}"}""", Ct);
        var resumed = (await BackfillAsync(server, "--rate", "20")).EnsureSuccess().StandardOutput;
        Assert.DoesNotContain(first, resumed, StringComparison.Ordinal);
        Assert.Contains($"armed old/a@{second}", resumed, StringComparison.Ordinal);
        Assert.Contains($"armed old/b@{b1}", resumed, StringComparison.Ordinal);
        Assert.DoesNotContain(ReplicationService.BackfillCursorSetting, (await store.Repositories.GetRegistrySettingsAsync(source, Ct)).Keys);

        // The workers copy what it armed; a full rerun arms every image (again, idempotently).
        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "old/b", b1, 1)).Status);
        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "old/a", second, 1)).Status);
        Assert.Contains("3 replications armed", (await BackfillAsync(server)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "old/a", first, 1)).Status);
        using var copied = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "old/a");
        Assert.Equal(new[] { a1, a2 }.Order(StringComparer.Ordinal), Digests(copied));
        Assert.Contains("RepositoryNotFoundException", (await AwsClients.CliAsync(server.BaseAddress, West, "ecr", "describe-repositories", "--repository-names", "other/c")).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutReplicationConfiguration_with_wharfBackfill_from_boto3_replicates_the_images_that_already_exist()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Replication:Interval"] = "00:00:00.200" });
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var existing = OciPusher.Sha256(await PushSmallImageAsync(pusher, "api/app", "1", 21));
        var elsewhere = OciPusher.Sha256(await PushSmallImageAsync(pusher, "other/app", "1", 22));
        await WaitFeedPassedAsync(server);

        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "wharf_backfill.py");
        var configuration = $$"""{"rules":[{"destinations":[{"region":"{{West}}","registryId":"{{A}}"}],"repositoryFilters":[{"filter":"api/","filterType":"PREFIX_MATCH"}]}]}""";
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, Region, new Dictionary<string, string> { ["WHARF_REPLICATION"] = configuration });
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Contains("\"wharfBackfill\": \"REQUESTED\"", result.StandardOutput, StringComparison.Ordinal);

        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "api/app", existing, 1)).Status);
        using var copied = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "api/app");
        Assert.Equal([existing], Digests(copied));
        var source = new RegistryKey(AccountId.Parse(A), Region);
        await WaitAsync(async () => !(await server.GetService<IMetadataStore>().Repositories.GetRegistrySettingsAsync(source, Ct)).ContainsKey(ReplicationService.BackfillRequestSetting));
        Assert.Empty(await server.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(source, "other/app"), Digest.Parse(elsewhere), Ct));
    }

    private static string Grant(params string[] actions) => $$"""
        {"Version":"2012-10-17","Statement":[{"Sid":"replication-from-a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{A}}:root"},
          "Action":{{JsonSerializer.Serialize(actions)}},"Resource":"arn:aws:ecr:{{Region}}:{{B}}:repository/*"}]}
        """;

    private static Task<ProcessResult> BackfillAsync(WharfTestServer server, params string[] args) =>
        WharfCommand.RunAsync(["replication", "backfill", .. args, .. server.StoreArguments], TimeSpan.FromMinutes(2));
}
