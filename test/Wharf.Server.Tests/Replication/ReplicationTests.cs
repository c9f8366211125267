using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// Replication within one Wharf (ECR-NOTES §6): pushes with skopeo and podman, copies into other regions
/// and accounts of the same Wharf, checked with the AWS CLI in the destination region
/// (<c>describe-images --region …</c>, <c>describe-image-replication-status</c>) and by reading the copies'
/// blobs over <c>/v2</c> on the destination registry's host name.
/// </summary>
public sealed class ReplicationTests
{
    private const string Account = "123456789012";
    private const string Source = "us-east-1";
    private const string West = "eu-west-1";
    private const string South = "ap-southeast-2";

    private static readonly RegistryKey SourceRegistry = new(AccountId.Parse(Account), Source);

    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Replication:Interval"] = "00:00:00.200",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_push_to_a_matching_repository_is_copied_to_every_destination_with_identical_digests_and_a_non_matching_one_is_not()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        (await AwsClients.CliAsync(server.BaseAddress, Source, "ecr", "put-replication-configuration", "--replication-configuration", $$"""
            {"rules":[{"destinations":[{"region":"{{West}}","registryId":"{{Account}}"},{"region":"{{South}}","registryId":"{{Account}}"}],
                       "repositoryFilters":[{"filter":"prod/","filterType":"PREFIX_MATCH"}]}]}
            """)).EnsureSuccess();
        var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout"), "v1", [4096, 70_000], 5, Ct);
        var tools = ContainerTools.Instance;

        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/prod/app:v1")).EnsureSuccess();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/dev/app:v1")).EnsureSuccess();
        var statuses = await WaitSettledAsync(server, "prod/app", image.Manifest.Digest, 2);

        Assert.All(statuses, s => Assert.Equal(ReplicationStatuses.Complete, s.Status));
        foreach (var region in new[] { West, South })
        {
            using var described = await CliJsonAsync(server, region, "ecr", "describe-images", "--repository-name", "prod/app");
            var copy = Assert.Single(described.RootElement.GetProperty("imageDetails").EnumerateArray());
            Assert.Equal(image.Manifest.Digest, copy.GetProperty("imageDigest").GetString());
            Assert.Equal(["v1"], copy.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()));

            // The destination's own host name serves the copy's blobs, byte for byte.
            foreach (var blob in image.Layers.Append(image.Config))
            {
                var bytes = await PullBlobAsync(server, region, "prod/app", blob.Digest);
                Assert.Equal(blob.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
            }

            // No creation template: ECR's defaults.
            using var repository = await CliJsonAsync(server, region, "ecr", "describe-repositories", "--repository-names", "prod/app");
            var created = repository.RootElement.GetProperty("repositories")[0];
            Assert.Equal("MUTABLE", created.GetProperty("imageTagMutability").GetString());
            Assert.Equal("AES256", created.GetProperty("encryptionConfiguration").GetProperty("encryptionType").GetString());
            Assert.False(created.GetProperty("imageScanningConfiguration").GetProperty("scanOnPush").GetBoolean());
        }

        using var status = await CliJsonAsync(server, Source, "ecr", "describe-image-replication-status", "--repository-name", "prod/app", "--image-id", "imageTag=v1");
        Assert.Equal(image.Manifest.Digest, status.RootElement.GetProperty("imageId").GetProperty("imageDigest").GetString());
        Assert.Equal(
            [(South, Account, "COMPLETE"), (West, Account, "COMPLETE")],
            status.RootElement.GetProperty("replicationStatuses").EnumerateArray()
                .Select(s => (s.GetProperty("region").GetString(), s.GetProperty("registryId").GetString(), s.GetProperty("status").GetString())));

        // dev/ matches no rule: no copy, no status.
        await WaitFeedPassedAsync(server);
        var missing = await AwsClients.CliAsync(server.BaseAddress, West, "ecr", "describe-repositories", "--repository-names", "dev/app");
        Assert.Contains("RepositoryNotFoundException", missing.StandardError, StringComparison.Ordinal);
        using var none = await CliJsonAsync(server, Source, "ecr", "describe-image-replication-status", "--repository-name", "dev/app", "--image-id", "imageTag=v1");
        Assert.Empty(none.RootElement.GetProperty("replicationStatuses").EnumerateArray());

        // ECR's errors for what does not exist.
        Assert.Contains("(RepositoryNotFoundException)", (await AwsClients.CliAsync(server.BaseAddress, Source, "ecr", "describe-image-replication-status", "--repository-name", "no/such", "--image-id", "imageTag=v1")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(ImageNotFoundException)", (await AwsClients.CliAsync(server.BaseAddress, Source, "ecr", "describe-image-replication-status", "--repository-name", "prod/app", "--image-id", "imageTag=v9")).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_index_pushed_by_podman_is_copied_with_all_its_children_under_identical_digests()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        await ConfigureAsync(server, SourceRegistry, Rule(["prod/"], (West, Account)));
        await TestImages.BusyboxArchiveAsync();
        var multi = await TestImages.MultiLayerAsync();
        var tools = ContainerTools.Instance;
        (await tools.PodmanAsync("pull", multi.SkopeoReference)).EnsureSuccess();
        var list = "localhost/wharf-test/replicated-" + Guid.NewGuid().ToString("N")[..8] + ":1";
        (await tools.PodmanAsync("manifest", "create", list)).EnsureSuccess();
        (await tools.PodmanAsync("manifest", "add", "--arch", "amd64", "--os", "linux", list, "containers-storage:" + TestImages.BusyboxLocalName)).EnsureSuccess();
        (await tools.PodmanAsync("manifest", "add", "--arch", "arm64", "--os", "linux", list, multi.SkopeoReference)).EnsureSuccess();
        var remote = $"{server.HostAndPort}/prod/multi:1";
        (await tools.PodmanAsync("manifest", "push", "--all", "--tls-verify=false", list, "docker://" + remote)).EnsureSuccess();
        var indexDigest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + remote)).EnsureSuccess().StandardOutput.Trim();

        var status = Assert.Single(await WaitSettledAsync(server, "prod/multi", indexDigest, 1));

        Assert.Equal(ReplicationStatuses.Complete, status.Status);
        using var source = await CliJsonAsync(server, Source, "ecr", "describe-images", "--repository-name", "prod/multi");
        using var copied = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "prod/multi");
        var sourceDigests = Digests(source);
        Assert.Equal(3, sourceDigests.Count); // the index and its two children
        Assert.Equal(sourceDigests, Digests(copied));
        using var index = await CliJsonAsync(server, West, "ecr", "batch-get-image", "--repository-name", "prod/multi", "--image-ids", "imageTag=1");
        var manifest = index.RootElement.GetProperty("images")[0].GetProperty("imageManifest").GetString()!;
        Assert.Equal(indexDigest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(manifest))));

        // podman pushes the children first, each as an untagged push: one the consumer read before the index
        // came is copied on its own, harmlessly (the index finds it there); none is left behind or failed.
        foreach (var child in sourceDigests.Where(d => d != indexDigest))
        {
            var rows = await server.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(SourceRegistry, "prod/multi"), Digest.Parse(child), Ct);
            Assert.All(rows, r => Assert.Equal(ReplicationStatuses.Complete, r.Status));
        }
    }

    [Fact]
    public async Task A_delete_is_not_replicated_and_a_copy_is_not_replicated_onward_from_a_region_that_replicates()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        await ConfigureAsync(server, SourceRegistry, Rule([], (West, Account)));
        // The destination region replicates onward: a copy into it must not go on (ECR: no chaining).
        await ConfigureAsync(server, new RegistryKey(AccountId.Parse(Account), West), Rule([], (South, Account)));
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var manifest = await PushSmallImageAsync(pusher, "chain/app", "v1", 1);
        var digest = OciPusher.Sha256(manifest);

        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "chain/app", digest, 1)).Status);
        await WaitFeedPassedAsync(server);
        Assert.Empty(await server.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(new RegistryKey(AccountId.Parse(Account), West), "chain/app"), Digest.Parse(digest), Ct));
        var onward = await AwsClients.CliAsync(server.BaseAddress, South, "ecr", "describe-repositories", "--repository-names", "chain/app");
        Assert.Contains("RepositoryNotFoundException", onward.StandardError, StringComparison.Ordinal);

        (await AwsClients.CliAsync(server.BaseAddress, Source, "ecr", "batch-delete-image", "--repository-name", "chain/app", "--image-ids", "imageTag=v1")).EnsureSuccess();
        await WaitFeedPassedAsync(server);
        using var kept = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "chain/app");
        Assert.Equal([digest], Digests(kept));
        using var gone = await CliJsonAsync(server, Source, "ecr", "describe-images", "--repository-name", "chain/app");
        Assert.Empty(Digests(gone));
    }

    [Fact]
    public async Task A_tag_the_destination_keeps_immutable_fails_the_copy_with_TAG_IMMUTABLE_and_an_archived_copy_is_restored()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        await ConfigureAsync(server, SourceRegistry, Rule([], (West, Account)));
        (await AwsClients.CliAsync(server.BaseAddress, West, "ecr", "create-repository", "--repository-name", "locked/app", "--image-tag-mutability", "IMMUTABLE")).EnsureSuccess();
        using var westClient = server.CreateClient();
        westClient.DefaultRequestHeaders.Host = $"{Account}.dkr.ecr.{West}.localhost";
        await PushSmallImageAsync(new OciPusher(westClient), "locked/app", "v1", 2); // the destination's own v1
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);

        var refused = OciPusher.Sha256(await PushSmallImageAsync(pusher, "locked/app", "v1", 3));
        var failed = Assert.Single(await WaitSettledAsync(server, "locked/app", refused, 1));

        Assert.Equal((ReplicationStatuses.Failed, ReplicationFailureCodes.TagImmutable), (failed.Status, failed.FailureCode));
        using var status = await CliJsonAsync(server, Source, "ecr", "describe-image-replication-status", "--repository-name", "locked/app", "--image-id", $"imageDigest={refused}");
        var shown = status.RootElement.GetProperty("replicationStatuses")[0];
        Assert.Equal("FAILED", shown.GetProperty("status").GetString());
        Assert.StartsWith("TAG_IMMUTABLE: ", shown.GetProperty("failureCode").GetString(), StringComparison.Ordinal);

        // A copy archived in the destination is restored by the next copy of it (ECR-NOTES §6).
        var archived = OciPusher.Sha256(await PushSmallImageAsync(pusher, "locked/app", "v2", 4));
        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "locked/app", archived, 1)).Status);
        (await AwsClients.CliAsync(server.BaseAddress, West, "ecr", "update-image-storage-class", "--repository-name", "locked/app", "--image-id", "imageTag=v2", "--target-storage-class", "ARCHIVE")).EnsureSuccess();
        await PushTagAsync(client, "locked/app", archived, "v3");
        await WaitAsync(async () => ImageStatus(await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "locked/app", "--image-ids", $"imageDigest={archived}")) == "ACTIVE");
        using var restored = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "locked/app", "--image-ids", $"imageDigest={archived}");
        Assert.Equal(["v2", "v3"], restored.RootElement.GetProperty("imageDetails")[0].GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()).Order());
    }

    [Fact]
    public async Task A_destination_repository_created_by_replication_takes_the_destination_regions_REPLICATION_template()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        await ConfigureAsync(server, SourceRegistry, Rule([], (West, Account)));
        const string lifecycle = """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}""";
        const string policy = """{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"ecr:BatchGetImage"}]}""";
        (await AwsClients.CliAsync(server.BaseAddress, West, "ecr", "create-repository-creation-template", "--prefix", "templated",
            "--applied-for", "REPLICATION", "--image-tag-mutability", "IMMUTABLE", "--resource-tags", "Key=team,Value=replicated",
            "--lifecycle-policy", lifecycle, "--repository-policy", policy)).EnsureSuccess();
        using var client = server.CreateClient();

        var digest = OciPusher.Sha256(await PushSmallImageAsync(new OciPusher(client), "templated/app", "v1", 8));

        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(server, "templated/app", digest, 1)).Status);
        using var created = await CliJsonAsync(server, West, "ecr", "describe-repositories", "--repository-names", "templated/app");
        var repository = created.RootElement.GetProperty("repositories")[0];
        Assert.Equal("IMMUTABLE", repository.GetProperty("imageTagMutability").GetString());
        using var tags = await CliJsonAsync(server, West, "ecr", "list-tags-for-resource", "--resource-arn", repository.GetProperty("repositoryArn").GetString()!);
        Assert.Equal([("team", "replicated")], tags.RootElement.GetProperty("tags").EnumerateArray().Select(t => (t.GetProperty("Key").GetString(), t.GetProperty("Value").GetString())));
        using var lifecycleSet = await CliJsonAsync(server, West, "ecr", "get-lifecycle-policy", "--repository-name", "templated/app");
        Assert.Equal(JsonNode.Parse(lifecycle)!.ToJsonString(), JsonNode.Parse(lifecycleSet.RootElement.GetProperty("lifecyclePolicyText").GetString()!)!.ToJsonString());
        using var policySet = await CliJsonAsync(server, West, "ecr", "get-repository-policy", "--repository-name", "templated/app");
        Assert.Contains("arn:aws:iam::210987654321:root", policySet.RootElement.GetProperty("policyText").GetString(), StringComparison.Ordinal);

        // The source repository was not created through it (the template is the destination region's, and for replication only).
        using var source = await CliJsonAsync(server, Source, "ecr", "describe-repositories", "--repository-names", "templated/app");
        Assert.Equal("MUTABLE", source.RootElement.GetProperty("repositories")[0].GetProperty("imageTagMutability").GetString());
    }

    [Fact]
    public async Task An_image_restored_from_the_archive_in_the_source_is_replicated_as_a_push_is()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        using var client = server.CreateClient();
        var digest = OciPusher.Sha256(await PushSmallImageAsync(new OciPusher(client), "cold/app", "v1", 7));
        await WaitFeedPassedAsync(server); // pushed before the configuration: not replicated
        await ConfigureAsync(server, SourceRegistry, Rule([], (West, Account)));
        (await AwsClients.CliAsync(server.BaseAddress, Source, "ecr", "update-image-storage-class", "--repository-name", "cold/app", "--image-id", "imageTag=v1", "--target-storage-class", "ARCHIVE")).EnsureSuccess();
        await WaitFeedPassedAsync(server);
        Assert.Empty(await server.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(SourceRegistry, "cold/app"), Digest.Parse(digest), Ct)); // archiving is not replicated

        (await AwsClients.CliAsync(server.BaseAddress, Source, "ecr", "update-image-storage-class", "--repository-name", "cold/app", "--image-id", "imageTag=v1", "--target-storage-class", "STANDARD")).EnsureSuccess();

        var row = Assert.Single(await WaitSettledAsync(server, "cold/app", digest, 1));
        Assert.Equal((ReplicationStatuses.Complete, "v1"), (row.Status, Assert.Single(row.Request.Tags)));
        using var copied = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "cold/app");
        Assert.Equal([digest], Digests(copied));
    }

    [Fact]
    public async Task Rows_armed_before_the_server_stopped_are_copied_after_it_restarts_on_the_same_data()
    {
        var first = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Replication:Interval"] = "01:00:00" });
        var directory = first.DataDirectory;
        await ConfigureAsync(first, SourceRegistry, Rule([], (West, Account)));
        string digest;
        using (var client = first.CreateClient())
        {
            digest = OciPusher.Sha256(await PushSmallImageAsync(new OciPusher(client), "pending/app", "v1", 5));
        }

        // The consumer arms the row; no worker runs before the stop (its interval is an hour).
        Assert.Equal(1, await first.GetService<ReplicationFeed>().RunAsync(Ct));
        var pending = Assert.Single(await first.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(SourceRegistry, "pending/app"), Digest.Parse(digest), Ct));
        Assert.Equal(ReplicationStatuses.InProgress, pending.Status);

        // Stopped without deleting its data directory (the wrapper's dispose would).
        await first.App.StopAsync(Ct);
        await first.App.DisposeAsync();
        await using var second = await WharfTestServer.StartAsync(Fast, dataDirectory: directory);
        Assert.Equal(ReplicationStatuses.Complete, Assert.Single(await WaitSettledAsync(second, "pending/app", digest, 1)).Status);
        using var copied = await CliJsonAsync(second, West, "ecr", "describe-images", "--repository-name", "pending/app");
        Assert.Equal([digest], Digests(copied));
    }

    [Fact]
    public async Task A_tag_filtered_rule_copies_only_pushes_of_matching_tags_and_only_those_tags()
    {
        await using var server = await WharfTestServer.StartAsync(Fast);
        await ConfigureAsync(server, SourceRegistry, new ReplicationConfiguration([new ReplicationRule([new ReplicationDestination(West, Account)], [], ["release-*"])]));
        using var client = server.CreateClient();
        var digest = OciPusher.Sha256(await PushSmallImageAsync(new OciPusher(client), "tags/app", "latest", 6));
        await WaitFeedPassedAsync(server);
        Assert.Empty(await server.GetService<IMetadataStore>().Replications.ListForImageAsync(Key(SourceRegistry, "tags/app"), Digest.Parse(digest), Ct));

        await PushTagAsync(client, "tags/app", digest, "release-1");

        var row = Assert.Single(await WaitSettledAsync(server, "tags/app", digest, 1));
        Assert.Equal((ReplicationStatuses.Complete, "release-1"), (row.Status, Assert.Single(row.Request.Tags)));
        using var copied = await CliJsonAsync(server, West, "ecr", "describe-images", "--repository-name", "tags/app");
        Assert.Equal(["release-1"], copied.RootElement.GetProperty("imageDetails")[0].GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()));
    }

    internal static ReplicationConfiguration Rule(string[] prefixes, params (string Region, string Account)[] destinations) =>
        new([new ReplicationRule([.. destinations.Select(d => new ReplicationDestination(d.Region, d.Account))], [.. prefixes.Select(p => new ReplicationRepositoryFilter(p))])]);

    /// <summary>Writes the configuration as <c>PutReplicationConfiguration</c> stores it (that operation is another part's).</summary>
    internal static Task ConfigureAsync(WharfTestServer server, RegistryKey registry, ReplicationConfiguration configuration) =>
        server.GetService<IMetadataStore>().Repositories.SetRegistrySettingAsync(registry, ReplicationConfiguration.SettingName, configuration.ToSetting(), Ct);

    internal static RepositoryKey Key(RegistryKey registry, string name) => new(registry, RepositoryName.Parse(name));

    /// <summary>Waits until the image has <paramref name="count"/> rows and none is in progress; returns them.</summary>
    internal static async Task<IReadOnlyList<ReplicationRecord>> WaitSettledAsync(WharfTestServer server, string repository, string digest, int count, RegistryKey? registry = null)
    {
        var store = server.GetService<IMetadataStore>();
        IReadOnlyList<ReplicationRecord> rows = [];
        await WaitAsync(async () =>
        {
            rows = await store.Replications.ListForImageAsync(Key(registry ?? SourceRegistry, repository), Digest.Parse(digest), Ct);
            return rows.Count == count && rows.All(r => r.Status != ReplicationStatuses.InProgress);
        });
        return rows;
    }

    /// <summary>Waits until the replication consumer has read every event recorded so far.</summary>
    internal static async Task WaitFeedPassedAsync(WharfTestServer server)
    {
        var store = server.GetService<IMetadataStore>();
        var events = await store.Events.ListAsync(0, 100_000, DateTimeOffset.UtcNow.AddHours(1), Ct);
        var last = events.Count == 0 ? 0 : events[^1].Id;
        await WaitAsync(async () => await store.Events.GetCursorAsync(ReplicationFeed.Consumer, Ct) >= last);
    }

    internal static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for replication");
            await Task.Delay(100, Ct);
        }
    }

    internal static async Task<JsonDocument> CliJsonAsync(WharfTestServer server, string region, params string[] args) =>
        JsonDocument.Parse((await AwsClients.CliAsync(server.BaseAddress, region, args)).EnsureSuccess().StandardOutput);

    internal static List<string> Digests(JsonDocument described) =>
        [.. described.RootElement.GetProperty("imageDetails").EnumerateArray().Select(i => i.GetProperty("imageDigest").GetString()!).Order(StringComparer.Ordinal)];

    private static string? ImageStatus(JsonDocument described)
    {
        using (described)
        {
            return described.RootElement.GetProperty("imageDetails")[0].GetProperty("imageStatus").GetString();
        }
    }

    /// <summary>A one-layer image unique to <paramref name="seed"/>, pushed over /v2; returns the manifest's bytes.</summary>
    internal static async Task<byte[]> PushSmallImageAsync(OciPusher pusher, string repository, string tag, int seed)
    {
        var layer = new byte[1024 + seed];
        new Random(seed).NextBytes(layer);
        var config = System.Text.Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}""");
        await pusher.PushBlobMonolithicAsync(repository, layer, Ct);
        await pusher.PushBlobMonolithicAsync(repository, config, Ct);
        return await pusher.PushManifestAsync(repository, tag, config, [layer], Ct);
    }

    /// <summary>Tags an existing image again over /v2 (a new tag is a push, as ECR records it).</summary>
    private static async Task PushTagAsync(HttpClient client, string repository, string digest, string tag)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{digest}");
        get.Headers.Accept.ParseAdd(OciPusher.OciManifest);
        using var got = await client.SendAsync(get, Ct);
        var bytes = await got.Content.ReadAsByteArrayAsync(Ct);
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = new(OciPusher.OciManifest);
        using var put = await client.PutAsync($"/v2/{repository}/manifests/{tag}", body, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    /// <summary>A blob of <paramref name="repository"/> in <paramref name="region"/>'s registry, over /v2 on that registry's host name.</summary>
    internal static async Task<byte[]> PullBlobAsync(WharfTestServer server, string region, string repository, string digest)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/blobs/{digest}");
        request.Headers.Host = $"{Account}.dkr.ecr.{region}.localhost:{server.BaseAddress.Port}";
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync(Ct);
    }
}
