using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Replication;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// Another Wharf as a remote region, reached as a remote ECR client reaches it: the destination account's
/// access key (sealed in the source), SigV4 ECR calls, the auth token on <c>/v2</c>. The destination runs in
/// IAM mode in its own data directory; the copy is driven through the region's target.
/// </summary>
public sealed class RemoteWharfTargetTests
{
    private const string Region = "eu-west-1";
    private const string DestinationAccount = "210987654321";
    private static readonly RepositoryKey Source = new(new RegistryKey(AccountId.Parse("123456789012"), "us-east-1"), RepositoryName.Parse("team/app"));

    [Fact]
    public async Task An_index_replicates_to_a_remote_Wharf_which_creates_the_repository_and_records_replication_actions_not_pushes()
    {
        await using var destination = await StartDestinationAsync();
        var root = AwsClients.ReadCredentialsFile(Path.Combine(destination.DataDirectory, "root-credentials"));
        var settings = RemoteRegions.Settings(Region, destination.BaseAddress, "wharf");
        await using var source = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(source.StoreArguments, settings, Region, "--access-key-id", root["AWS_ACCESS_KEY_ID"], root["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();

        var (index, layouts) = await WriteIndexAsync();
        await ReplicateAsync(source, index, ["v1"], layouts);

        // The repository was created, and the index is there under its tag with its digest.
        var images = (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "describe-images", "--repository-name", "team/app", "--image-ids", "imageTag=v1")).EnsureSuccess().StandardOutput;
        using (var json = JsonDocument.Parse(images))
        {
            Assert.Equal(index.ToString(), json.RootElement.GetProperty("imageDetails")[0].GetProperty("imageDigest").GetString());
        }

        var password = (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", "AWS:" + password, $"docker://{destination.HostAndPort}/team/app:v1")).EnsureSuccess().StandardOutput;
        Assert.Equal(index.ToString(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw.TrimEnd('\n')))));

        // Every manifest written is an ECR Replication Action naming the source registry; none is a PUSH,
        // so the destination's own replication would not send it on (or back).
        var events = await destination.GetService<IMetadataStore>().Events.ListAsync(0, 1000, DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);
        var replicated = events.Where(e => e.Type == EcrEvents.ReplicationAction).ToList();
        Assert.Equal(3, replicated.Count); // two children by digest, the index by its tag
        Assert.All(replicated, e => Assert.Contains(Source.Registry.Account.Value, e.Payload, StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Payload.Contains("\"PUSH\"", StringComparison.Ordinal));

        // A repeat sends nothing new and changes nothing.
        await ReplicateAsync(source, index, ["v1"], layouts);
    }

    [Fact]
    public async Task The_replication_marker_needs_ecr_ReplicateImage_at_the_destination()
    {
        await using var destination = await StartDestinationAsync();
        var root = AwsClients.ReadCredentialsFile(Path.Combine(destination.DataDirectory, "root-credentials"));
        (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "create-repository", "--repository-name", "team/app")).EnsureSuccess();

        // A pusher (the managed PowerUser policy: uploads and PutImage, not ReplicateImage).
        (await IamTestAccess.AdminAsync(destination, "create-user", "pusher", "--account", DestinationAccount)).EnsureSuccess();
        (await IamTestAccess.AdminAsync(destination, "attach-user-policy", "--user", "pusher", "--account", DestinationAccount, "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")).EnsureSuccess();
        var pusher = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(destination, "create-access-key", "--user", "pusher", "--account", DestinationAccount));

        var settings = RemoteRegions.Settings(Region, destination.BaseAddress, "wharf");
        await using var source = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(source.StoreArguments, settings, Region, "--access-key-id", pusher["AWS_ACCESS_KEY_ID"], pusher["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [20_000], 950, TestContext.Current.CancellationToken);

        var refused = await Assert.ThrowsAsync<ReplicationException>(() => ReplicateAsync(source, Digest.Parse(image.Manifest.Digest), ["v1"], [image.Directory]));
        Assert.Equal("DESTINATION_AUTH_FAILED", refused.FailureCode);
        Assert.False(refused.Retryable);
        Assert.Contains("DENIED", refused.Message, StringComparison.Ordinal);
        var listed = (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "list-images", "--repository-name", "team/app")).EnsureSuccess().StandardOutput;
        Assert.DoesNotContain(image.Manifest.Digest, listed, StringComparison.Ordinal);

        // Granted, the same copy goes through.
        (await IamTestAccess.AdminAsync(destination, "put-user-policy", "--user", "pusher", "--account", DestinationAccount, "--policy-name", "replicate", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:ReplicateImage","Resource":"*"}]}""")).EnsureSuccess();
        await ReplicateAsync(source, Digest.Parse(image.Manifest.Digest), ["v1"], [image.Directory]);
        listed = (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "list-images", "--repository-name", "team/app")).EnsureSuccess().StandardOutput;
        Assert.Contains(image.Manifest.Digest, listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_the_remote_does_not_know_fails_with_DESTINATION_AUTH_FAILED_and_an_unreachable_remote_is_retried()
    {
        await using var destination = await StartDestinationAsync();
        var settings = RemoteRegions.Settings(Region, destination.BaseAddress, "wharf");
        foreach (var (key, value) in RemoteRegions.Settings("ap-south-9", new Uri($"http://127.0.0.1:{Ports.Free()}"), "wharf"))
        {
            settings[key] = value;
        }

        await using var source = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(source.StoreArguments, settings, Region, "--access-key-id", "AKIAUNKNOWNUNKNOWN00", "not-a-secret")).EnsureSuccess();
        (await RemoteRegions.SetCredentialsAsync(source.StoreArguments, settings, "ap-south-9", "--access-key-id", "AKIAUNKNOWNUNKNOWN00", "not-a-secret")).EnsureSuccess();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [1000], 960, TestContext.Current.CancellationToken);

        var refused = await Assert.ThrowsAsync<ReplicationException>(() => ReplicateAsync(source, Digest.Parse(image.Manifest.Digest), ["v1"], [image.Directory]));
        Assert.Equal("DESTINATION_AUTH_FAILED", refused.FailureCode);
        Assert.False(refused.Retryable);
        Assert.DoesNotContain("not-a-secret", refused.ToString(), StringComparison.Ordinal);

        var down = await Assert.ThrowsAsync<ReplicationException>(() => ReplicateAsync(source, Digest.Parse(image.Manifest.Digest), ["v1"], [image.Directory], "ap-south-9"));
        Assert.Equal("DESTINATION_UNREACHABLE", down.FailureCode);
        Assert.True(down.Retryable);
    }

    [Fact]
    public async Task A_missing_repository_is_created_through_the_remote_REPLICATION_template_with_its_policies_and_mutability()
    {
        await using var destination = await StartDestinationAsync();
        var root = AwsClients.ReadCredentialsFile(Path.Combine(destination.DataDirectory, "root-credentials"));
        const string policy = """{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage"]}]}""";
        const string lifecycle = """{"rules":[{"rulePriority":1,"description":"expire untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}""";
        (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "create-repository-creation-template", "--prefix", "team", "--applied-for", "REPLICATION",
            "--image-tag-mutability", "IMMUTABLE", "--repository-policy", policy, "--lifecycle-policy", lifecycle)).EnsureSuccess();
        // A template for another purpose, and a shorter ROOT one, are not the one that applies.
        (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "create-repository-creation-template", "--prefix", "ROOT", "--applied-for", "REPLICATION", "--image-tag-mutability", "MUTABLE")).EnsureSuccess();
        (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "create-repository-creation-template", "--prefix", "team/app", "--applied-for", "CREATE_ON_PUSH", "--image-tag-mutability", "MUTABLE")).EnsureSuccess();

        var settings = RemoteRegions.Settings(Region, destination.BaseAddress, "wharf");
        await using var source = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(source.StoreArguments, settings, Region, "--access-key-id", root["AWS_ACCESS_KEY_ID"], root["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [15_000], 970, TestContext.Current.CancellationToken);
        await ReplicateAsync(source, Digest.Parse(image.Manifest.Digest), ["v1"], [image.Directory]);

        using var repository = JsonDocument.Parse((await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "describe-repositories", "--repository-names", "team/app")).EnsureSuccess().StandardOutput);
        Assert.Equal("IMMUTABLE", repository.RootElement.GetProperty("repositories")[0].GetProperty("imageTagMutability").GetString());
        using var storedPolicy = JsonDocument.Parse((await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "get-repository-policy", "--repository-name", "team/app")).EnsureSuccess().StandardOutput);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(policy), System.Text.Json.Nodes.JsonNode.Parse(storedPolicy.RootElement.GetProperty("policyText").GetString()!)));
        using var storedLifecycle = JsonDocument.Parse((await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "get-lifecycle-policy", "--repository-name", "team/app")).EnsureSuccess().StandardOutput);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(lifecycle), System.Text.Json.Nodes.JsonNode.Parse(storedLifecycle.RootElement.GetProperty("lifecyclePolicyText").GetString()!)));
    }

    private static Task<WharfTestServer> StartDestinationAsync() =>
        WharfTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth"] = "Iam",
            ["Registry:DefaultAccount"] = DestinationAccount,
            ["Registry:DefaultRegion"] = Region,
        });

    /// <summary>An index of two single-layer images (amd64, arm64), each in a layout of its own.</summary>
    private static async Task<(Digest Index, string[] Layouts)> WriteIndexAsync()
    {
        var amd64 = await OciLayout.WriteImageAsync(NewDirectory(), "amd64", [30_000], 940, TestContext.Current.CancellationToken);
        var arm64 = await OciLayout.WriteImageAsync(NewDirectory(), "arm64", [40_000], 945, TestContext.Current.CancellationToken);
        var index = OciLayout.PlatformIndex((amd64, "amd64"), (arm64, "arm64"));
        var hex = Convert.ToHexStringLower(SHA256.HashData(index));
        var layout = NewDirectory();
        Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256"));
        await File.WriteAllBytesAsync(Path.Combine(layout, "blobs", "sha256", hex), index, TestContext.Current.CancellationToken);
        return (Digest.Parse("sha256:" + hex), [layout, amd64.Directory, arm64.Directory]);
    }

    private static Task ReplicateAsync(WharfTestServer server, Digest digest, IReadOnlyList<string> tags, string[] layouts, string region = Region)
    {
        var destination = new ReplicationDestination(region, DestinationAccount);
        var target = server.App.Services.GetRequiredService<IReplicationSites>().Find(destination)
            ?? throw new InvalidOperationException($"region {region} is not remote");
        Assert.IsType<RemoteWharfTarget>(target);
        return target.ReplicateAsync(new ReplicationItem(Source, digest, tags, destination), new OciLayoutSource(layouts), TestContext.Current.CancellationToken);
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-repl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
