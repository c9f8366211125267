using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Replication;
using Wharf.Testing;
using static Wharf.Server.Tests.PullThroughCache.UpstreamTesting;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// The pull-through cache's upstream client against real CNCF Distribution: anonymous, htpasswd (Basic) and
/// token auth (the Docker token flow with a token server Distribution trusts), an image pushed there by skopeo
/// and read back through <see cref="IUpstreamRegistries"/> by tag and by digest, HEAD and blobs.
/// </summary>
public sealed class UpstreamClientTests
{
    [Fact]
    public async Task Anonymous_Distribution_serves_the_manifest_by_tag_and_digest_its_HEAD_and_identical_blobs()
    {
        await using var registry = await DistributionRegistry.CreateAsync(anonymous: true);
        await registry.StartAsync();
        var image = await ImageAsync(1601, 300_000, 4096);
        await PushAsync(image, registry.HostAndPort, "library/app");
        await using var server = await StartCacheAsync();

        var upstream = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(registry.Endpoint.ToString()), Ct);
        await AssertServesAsync(upstream, image, "library/app");
        await upstream.CheckAsync("library/app", Ct);
    }

    [Fact]
    public async Task Htpasswd_Distribution_is_read_with_the_secret_s_credentials_and_a_wrong_password_is_AccessDenied()
    {
        await using var registry = await DistributionRegistry.CreateAsync();
        await registry.StartAsync();
        var image = await ImageAsync(1602, 70_000);
        await PushAsync(image, registry.HostAndPort, "team/app", $"{DistributionRegistry.User}:{registry.Password}");
        await using var server = await StartCacheAsync();
        var upstreams = server.GetService<IUpstreamRegistries>();

        var good = await CreateSecretAsync(server, "good", Login(DistributionRegistry.User, registry.Password));
        var upstream = await upstreams.ConnectAsync(Registry, Rule(registry.Endpoint.ToString(), good), Ct);
        await AssertServesAsync(upstream, image, "team/app");
        await upstream.CheckAsync("team/app", Ct);

        var wrong = await CreateSecretAsync(server, "wrong", Login(DistributionRegistry.User, "not-the-password"));
        var refused = await upstreams.ConnectAsync(Registry, Rule(registry.Endpoint.ToString(), wrong, prefix: "other"), Ct);
        var denied = await Assert.ThrowsAsync<UpstreamException>(() => refused.GetManifestAsync("team/app", "v1", Ct));
        Assert.Equal(UpstreamFailure.AccessDenied, denied.Failure);
        Assert.Contains(registry.HostAndPort, denied.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", denied.ToString(), StringComparison.Ordinal);
        Assert.Equal(UpstreamFailure.AccessDenied, (await Assert.ThrowsAsync<UpstreamException>(() => refused.CheckAsync("team/app", Ct))).Failure);

        // The secret corrected (the rule unchanged): the next connect reads it, with no stale header kept.
        (await AwsClients.CliAsync(server.BaseAddress, Region, "secretsmanager", "put-secret-value", "--secret-id", wrong, "--secret-string", Login(DistributionRegistry.User, registry.Password))).EnsureSuccess();
        var corrected = await upstreams.ConnectAsync(Registry, Rule(registry.Endpoint.ToString(), wrong, prefix: "other"), Ct);
        Assert.Equal(Digest.Parse(image.Manifest.Digest), (await corrected.GetManifestAsync("team/app", "v1", Ct)).Digest);

        // No secret at all: the upstream's Basic challenge cannot be answered.
        var anonymous = await upstreams.ConnectAsync(Registry, Rule(registry.Endpoint.ToString(), prefix: "none"), Ct);
        var none = await Assert.ThrowsAsync<UpstreamException>(() => anonymous.OpenBlobAsync("team/app", Digest.Parse(image.Config.Digest), Ct));
        Assert.Equal(UpstreamFailure.AccessDenied, none.Failure);
        Assert.Contains("credentialArn", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_auth_Distribution_is_read_with_a_pull_scoped_token_asked_with_the_secret_s_credentials()
    {
        await using var tokens = await TokenServer.StartAsync("robot", Guid.NewGuid().ToString("N"));
        await using var registry = await DistributionRegistry.CreateAsync((tokens.Realm, TokenServer.Service, TokenServer.Issuer, tokens.CertificatePem));
        await registry.StartAsync();
        var image = await ImageAsync(1603, 90_000, 5000);
        await PushAsync(image, registry.HostAndPort, "team/app", $"{tokens.User}:{tokens.Password}");
        lock (tokens.Requests)
        {
            tokens.Requests.Clear();
        }

        await using var server = await StartCacheAsync();
        var secret = await CreateSecretAsync(server, "robot", Login(tokens.User, tokens.Password));
        var upstream = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(registry.Endpoint.ToString(), secret), Ct);

        await AssertServesAsync(upstream, image, "team/app");

        lock (tokens.Requests)
        {
            Assert.Contains(tokens.Requests, r => r is ("repository:team/app:pull", true));
            Assert.All(tokens.Requests, r => Assert.Equal(("repository:team/app:pull", true), r));

            // The token is kept: one token for the manifest GETs, the HEAD and the blobs.
            Assert.Single(tokens.Requests);
        }

        // A wrong access token: the token service refuses it.
        var wrong = await CreateSecretAsync(server, "wrong", Login(tokens.User, "nope"));
        var refused = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(registry.Endpoint.ToString(), wrong, prefix: "other"), Ct);
        Assert.Equal(UpstreamFailure.AccessDenied, (await Assert.ThrowsAsync<UpstreamException>(() => refused.CheckAsync("team/app", Ct))).Failure);
    }

    [Fact]
    public async Task A_missing_repository_manifest_or_blob_is_NotFound()
    {
        await using var registry = await DistributionRegistry.CreateAsync(anonymous: true);
        await registry.StartAsync();
        var image = await ImageAsync(1604, 1000);
        await PushAsync(image, registry.HostAndPort, "team/app");
        await using var server = await StartCacheAsync();
        var upstream = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(registry.Endpoint.ToString()), Ct);

        Assert.Equal(UpstreamFailure.NotFound, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("team/none", "v1", Ct))).Failure);
        Assert.Equal(UpstreamFailure.NotFound, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("team/app", "v2", Ct))).Failure);
        Assert.Equal(UpstreamFailure.NotFound, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.HeadManifestAsync("team/app", "v2", Ct))).Failure);
        Assert.Equal(UpstreamFailure.NotFound, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.OpenBlobAsync("team/app", Digest.Sha256Of("absent"u8), Ct))).Failure);
    }

    [Fact]
    public async Task A_stopped_upstream_is_Unavailable_and_names_the_upstream()
    {
        await using var registry = await DistributionRegistry.CreateAsync(anonymous: true);
        await registry.StartAsync();
        await using var server = await StartCacheAsync();
        var upstream = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(registry.Endpoint.ToString()), Ct);
        registry.Stop();

        var down = await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("team/app", "v1", Ct));
        Assert.Equal(UpstreamFailure.Unavailable, down.Failure);
        Assert.Contains(registry.HostAndPort, down.Message, StringComparison.Ordinal);
        Assert.Equal(UpstreamFailure.Unavailable, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.CheckAsync(null, Ct))).Failure);
    }

    [Fact]
    public async Task An_http_upstream_is_refused_unless_insecure_upstreams_are_allowed()
    {
        await using var server = await StartCacheAsync(allowInsecure: false);
        var refused = await Assert.ThrowsAsync<UpstreamException>(() => server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule("http://127.0.0.1:5000"), Ct));
        Assert.Equal(UpstreamFailure.Unavailable, refused.Failure);
        Assert.Contains("PullThroughCache:AllowInsecureUpstreams", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_that_is_not_username_and_accessToken_JSON_is_UnableToDecryptSecretValue_without_its_value()
    {
        await using var server = await StartCacheAsync();
        var secret = await CreateSecretAsync(server, "plain", "hunter2-not-json");
        var failure = await Assert.ThrowsAsync<WharfException>(() => server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule("http://127.0.0.1:5000", secret), Ct));
        Assert.Equal(WharfErrorCode.UnableToDecryptSecretValue, failure.Code);
        Assert.Contains("username", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure.ToString(), StringComparison.Ordinal);
    }

    /// <summary>By tag and by digest the manifest is the pushed bytes, HEAD agrees, and each blob's bytes hash to its digest.</summary>
    private static async Task AssertServesAsync(IUpstreamRegistry upstream, LayoutImage image, string repository)
    {
        var pushed = await File.ReadAllBytesAsync(image.BlobPath(image.Manifest.Digest), Ct);
        var digest = Digest.Parse(image.Manifest.Digest);
        foreach (var reference in new[] { "v1", image.Manifest.Digest })
        {
            var manifest = await upstream.GetManifestAsync(repository, reference, Ct);
            Assert.Equal(digest, manifest.Digest);
            Assert.Equal(image.Manifest.MediaType, manifest.MediaType);
            Assert.Equal(pushed, manifest.Content.ToArray());
            Assert.Equal(digest, await upstream.HeadManifestAsync(repository, reference, Ct));
        }

        foreach (var blob in image.Layers.Append(image.Config))
        {
            await using var opened = await upstream.OpenBlobAsync(repository, Digest.Parse(blob.Digest), Ct);
            Assert.Equal(blob.Size, opened.Length);
            Assert.Equal((Digest.Parse(blob.Digest), blob.Size), await ReadAllAsync(opened));
        }
    }
}
