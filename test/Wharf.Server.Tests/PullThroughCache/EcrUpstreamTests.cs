using System.Text.Json;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Replication;
using Wharf.Testing;
using static Wharf.Server.Tests.PullThroughCache.UpstreamTesting;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// Another Wharf (IAM mode) as an <c>ecr</c> upstream, reached through the rule's role as ECR reaches one: STS
/// <c>AssumeRole</c> there with the access key in the rule's secret, ECR <c>GetAuthorizationToken</c> with the
/// session, then <c>/v2</c>. A role the caller may assume but that may not pull is AccessDenied, and so is a rule
/// with no key to assume the role with.
/// </summary>
public sealed class EcrUpstreamTests
{
    private const string Account = "123456789012";

    [Fact]
    public async Task A_manifest_and_its_blobs_come_through_the_role_and_a_role_without_ECR_permissions_is_AccessDenied()
    {
        await using var other = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (cache, image) = await PrepareAsync(other, Region, 1605);

        await using var server = await StartCacheAsync();
        var upstreams = server.GetService<IUpstreamRegistries>();
        var secret = await CreateSecretAsync(server, "other-wharf", JsonSerializer.Serialize(new { accessKeyId = cache["AWS_ACCESS_KEY_ID"], secretAccessKey = cache["AWS_SECRET_ACCESS_KEY"] }));

        var upstream = await upstreams.ConnectAsync(Registry, Rule(other.BaseAddress.ToString(), secret, "ecr", $"arn:aws:iam::{Account}:role/puller"), Ct);
        await upstream.CheckAsync("team/app", Ct);
        var manifest = await upstream.GetManifestAsync("team/app", "v1", Ct);
        Assert.Equal(Digest.Parse(image.Manifest.Digest), manifest.Digest);
        Assert.Equal(await File.ReadAllBytesAsync(image.BlobPath(image.Manifest.Digest), Ct), manifest.Content.ToArray());
        Assert.Equal(manifest.Digest, await upstream.HeadManifestAsync("team/app", "v1", Ct));
        foreach (var blob in image.Layers.Append(image.Config))
        {
            await using var opened = await upstream.OpenBlobAsync("team/app", Digest.Parse(blob.Digest), Ct);
            Assert.Equal((Digest.Parse(blob.Digest), blob.Size), await ReadAllAsync(opened));
        }

        // The role may be assumed but grants nothing: ECR refuses its session.
        var powerless = await upstreams.ConnectAsync(Registry, Rule(other.BaseAddress.ToString(), secret, "ecr", $"arn:aws:iam::{Account}:role/nothing", prefix: "nothing"), Ct);
        var denied = await Assert.ThrowsAsync<UpstreamException>(() => powerless.GetManifestAsync("team/app", "v1", Ct));
        Assert.Equal(UpstreamFailure.AccessDenied, denied.Failure);
        Assert.Contains("role/nothing", denied.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(cache["AWS_SECRET_ACCESS_KEY"], denied.ToString(), StringComparison.Ordinal);
        Assert.Equal(UpstreamFailure.AccessDenied, (await Assert.ThrowsAsync<UpstreamException>(() => powerless.CheckAsync("team/app", Ct))).Failure);

        // A role the key may not assume.
        var foreign = await upstreams.ConnectAsync(Registry, Rule(other.BaseAddress.ToString(), secret, "ecr", $"arn:aws:iam::{Account}:role/absent", prefix: "absent"), Ct);
        Assert.Equal(UpstreamFailure.AccessDenied, (await Assert.ThrowsAsync<UpstreamException>(() => foreign.CheckAsync("team/app", Ct))).Failure);

        // No key at all (no secret, no remote region at that address): the message says how to give one.
        var keyless = await Assert.ThrowsAsync<UpstreamException>(() => upstreams.ConnectAsync(Registry, Rule(other.BaseAddress.ToString(), null, "ecr", $"arn:aws:iam::{Account}:role/puller", prefix: "keyless"), Ct));
        Assert.Equal(UpstreamFailure.AccessDenied, keyless.Failure);
        Assert.Contains("accessKeyId", keyless.Message, StringComparison.Ordinal);
        Assert.Contains("wharf replication credentials set", keyless.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_key_in_the_secret_the_credentials_of_the_remote_region_at_the_upstream_s_address_assume_the_role()
    {
        const string RemoteRegion = "eu-other-1";
        await using var other = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam", ["Registry:DefaultRegion"] = RemoteRegion });
        var (cache, image) = await PrepareAsync(other, RemoteRegion, 1606);
        var settings = RemoteRegions.Settings(RemoteRegion, other.BaseAddress, "wharf");
        await using var server = await StartCacheAsync(settings: settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, RemoteRegion, "--access-key-id", cache["AWS_ACCESS_KEY_ID"], cache["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();

        var upstream = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(other.BaseAddress.ToString(), null, "ecr", $"arn:aws:iam::{Account}:role/puller"), Ct);
        var manifest = await upstream.GetManifestAsync("team/app", "v1", Ct);
        Assert.Equal(Digest.Parse(image.Manifest.Digest), manifest.Digest);
    }

    /// <summary>
    /// In the other Wharf: a user <c>cache</c> with a key, a role <c>puller</c> it may assume with ECR's read-only
    /// policy, a role <c>nothing</c> it may assume that grants nothing, and an image in <c>team/app:v1</c>.
    /// </summary>
    private static async Task<(Dictionary<string, string> CacheKey, LayoutImage Image)> PrepareAsync(WharfTestServer other, string region, ulong seed)
    {
        var root = AwsClients.ReadCredentialsFile(Path.Combine(other.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(other.BaseAddress, region, who, args);
        (await Aws(root, "iam", "create-user", "--user-name", "cache")).EnsureSuccess();
        var cache = IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", "cache"));
        var trust = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{Account}}:user/cache"},"Action":"sts:AssumeRole"}]}""";
        (await Aws(root, "iam", "create-role", "--role-name", "puller", "--assume-role-policy-document", trust)).EnsureSuccess();
        (await Aws(root, "iam", "attach-role-policy", "--role-name", "puller", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        (await Aws(root, "iam", "create-role", "--role-name", "nothing", "--assume-role-policy-document", trust)).EnsureSuccess();

        (await Aws(root, "ecr", "create-repository", "--repository-name", "team/app")).EnsureSuccess();
        var password = (await Aws(root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var image = await ImageAsync(seed, 120_000, 3000);
        await PushAsync(image, other.HostAndPort, "team/app", "AWS:" + password);
        return (cache, image);
    }
}
