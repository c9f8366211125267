using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Replication;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// A plain OCI registry as a replication destination: Distribution (Debian's docker-registry) with htpasswd
/// basic auth, the credentials stored sealed by <c>wharf replication credentials set</c>, the copy made by the
/// region's target over <c>/v2</c> from images on disk.
/// </summary>
public sealed class OciDestinationTests
{
    private const string Region = "eu-oci-1";
    private static readonly RepositoryKey Source = new(new RegistryKey(AccountId.Parse("123456789012"), "us-east-1"), RepositoryName.Parse("team/app"));

    [Fact]
    public async Task Image_arrives_byte_identical_in_Distribution_under_the_prefix_with_sealed_basic_credentials()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [(1 << 20) + 3, 4096], 900, TestContext.Current.CancellationToken);
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci", prefix: "mirror");
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();

        // Sealed: the password is nowhere in the database file.
        var database = await File.ReadAllBytesAsync(Path.Combine(server.DataDirectory, "wharf.db"), TestContext.Current.CancellationToken);
        Assert.Equal(-1, database.AsSpan().IndexOf(Encoding.UTF8.GetBytes(registry.Password)));

        await ReplicateAsync(server, image, ["v1", "stable"]);

        foreach (var tag in new[] { "v1", "stable" })
        {
            var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/mirror/team/app:{tag}")).EnsureSuccess().StandardOutput;
            Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), TestContext.Current.CancellationToken), raw.TrimEnd('\n'));
        }

        // Every blob pulled back from Distribution has the bytes it was pushed with.
        var pulled = NewDirectory();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/mirror/team/app:v1", $"oci:{pulled}:v1")).EnsureSuccess();
        foreach (var blob in image.Layers.Append(image.Config))
        {
            Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(Path.Combine(pulled, "blobs", "sha256", blob.Digest["sha256:".Length..]), TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task A_second_image_sharing_layers_uploads_only_its_new_blobs()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var first = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [(1 << 20) + 5, (1 << 20) + 6], 910, TestContext.Current.CancellationToken);
        var second = await OciLayout.WriteImageAsync(NewDirectory(), "v2", [(1 << 20) + 5, (1 << 20) + 6, 70_000], 910, TestContext.Current.CancellationToken);
        Assert.Equal(first.Layers.Select(l => l.Digest), second.Layers.Take(2).Select(l => l.Digest));
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci");
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();

        await ReplicateAsync(server, first, ["v1"]);
        Assert.Equal(3, registry.BlobUploads("team/app")); // two layers and the config

        await ReplicateAsync(server, second, ["v2"]);
        Assert.Equal(5, registry.BlobUploads("team/app")); // + the new layer and the new config, nothing shared

        // A repeat (a retry after a crash) sends no blob at all.
        await ReplicateAsync(server, second, ["v2"]);
        Assert.Equal(5, registry.BlobUploads("team/app"));
    }

    [Fact]
    public async Task A_destination_that_is_down_is_retryable_and_unreachable_and_the_copy_completes_once_it_is_up()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [50_000], 920, TestContext.Current.CancellationToken);
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci");
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();

        var down = await Assert.ThrowsAsync<ReplicationException>(() => ReplicateAsync(server, image, ["v1"]));
        Assert.Equal("DESTINATION_UNREACHABLE", down.FailureCode);
        Assert.True(down.Retryable);

        await registry.StartAsync();
        await ReplicateAsync(server, image, ["v1"]);
        var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/team/app:v1")).EnsureSuccess().StandardOutput;
        Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), TestContext.Current.CancellationToken), raw.TrimEnd('\n'));
    }

    [Fact]
    public async Task Refused_or_missing_credentials_fail_with_DESTINATION_AUTH_FAILED_and_are_not_retried()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [10_000], 930, TestContext.Current.CancellationToken);
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci");
        await using var server = await WharfTestServer.StartAsync(settings);

        var none = await Assert.ThrowsAsync<ReplicationException>(() => ReplicateAsync(server, image, ["v1"]));
        Assert.Equal("DESTINATION_AUTH_FAILED", none.FailureCode);
        Assert.False(none.Retryable);

        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, "not-the-password")).EnsureSuccess();
        var wrong = await Assert.ThrowsAsync<ReplicationException>(() => ReplicateAsync(server, image, ["v1"]));
        Assert.Equal("DESTINATION_AUTH_FAILED", wrong.FailureCode);
        Assert.False(wrong.Retryable);
        Assert.DoesNotContain("not-the-password", wrong.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, registry.BlobUploads("team/app"));
    }

    [Fact]
    public async Task A_registry_with_bearer_token_auth_gets_the_image_with_a_token_asked_for_the_repository_scope()
    {
        await using var tokens = await TokenServer.StartAsync("robot", Guid.NewGuid().ToString("N"));
        await using var registry = await DistributionRegistry.CreateAsync((tokens.Realm, TokenServer.Service, TokenServer.Issuer, tokens.CertificatePem));
        await registry.StartAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [60_000, 5000], 980, TestContext.Current.CancellationToken);
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci", prefix: "mirror");
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", tokens.User, tokens.Password)).EnsureSuccess();

        await ReplicateAsync(server, image, ["v1"]);

        Assert.Contains(tokens.Requests, r => r is ("repository:mirror/team/app:pull,push", true));
        Assert.DoesNotContain(tokens.Requests, r => !r.Authenticated);
        Assert.Equal(3, registry.BlobUploads("mirror/team/app"));
        var token = await tokens.TokenAsync("repository:mirror/team/app:pull", TestContext.Current.CancellationToken);
        var raw = (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--registry-token", token, $"docker://{registry.HostAndPort}/mirror/team/app:v1")).EnsureSuccess().StandardOutput;
        Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), TestContext.Current.CancellationToken), raw.TrimEnd('\n'));
    }

    [Fact]
    public async Task Layers_already_sent_to_another_repository_are_mounted_there_not_sent_again()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var first = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [(1 << 20) + 7, 200_000], 990, TestContext.Current.CancellationToken);
        var second = await OciLayout.WriteImageAsync(NewDirectory(), "v2", [(1 << 20) + 7, 200_000, 30_000], 990, TestContext.Current.CancellationToken);
        var settings = RemoteRegions.Settings(Region, registry.Endpoint, "oci");
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, "--username", DistributionRegistry.User, registry.Password)).EnsureSuccess();

        await ReplicateAsync(server, first, ["v1"]);
        await ReplicateAsync(server, second, ["v2"], "team/other");

        // team/other received only its new layer and config; the two shared layers were mounted from team/app.
        Assert.Equal(2, registry.BlobUploads("team/other"));
        Assert.Equal(2, registry.Log.Split('\n').Count(l => l.Contains("\"POST /v2/team/other/blobs/uploads/?mount=", StringComparison.Ordinal) && l.Contains("\" 201 ", StringComparison.Ordinal)));
        var pulled = NewDirectory();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"{DistributionRegistry.User}:{registry.Password}", $"docker://{registry.HostAndPort}/team/other:v2", $"oci:{pulled}:v2")).EnsureSuccess();
        foreach (var blob in second.Layers.Append(second.Config))
        {
            Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(Path.Combine(pulled, "blobs", "sha256", blob.Digest["sha256:".Length..]), TestContext.Current.CancellationToken));
        }
    }

    private static Task ReplicateAsync(WharfTestServer server, LayoutImage image, IReadOnlyList<string> tags, string? repository = null)
    {
        var destination = new ReplicationDestination(Region, "123456789012");
        var target = server.App.Services.GetRequiredService<IReplicationSites>().Find(destination)
            ?? throw new InvalidOperationException($"region {Region} is not remote");
        Assert.IsType<OciRegistryTarget>(target);
        var source = repository is null ? Source : Source with { Name = RepositoryName.Parse(repository) };
        return target.ReplicateAsync(new ReplicationItem(source, Digest.Parse(image.Manifest.Digest), tags, destination), new OciLayoutSource(image.Directory), TestContext.Current.CancellationToken);
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-repl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
