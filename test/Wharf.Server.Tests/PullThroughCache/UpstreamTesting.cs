using System.Text.Json;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>What the upstream client tests share: a cache server, its secrets (made with the AWS CLI), rules, test images pushed upstream.</summary>
internal static class UpstreamTesting
{
    public const string Region = "us-east-1";
    public static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), Region);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A Wharf that may reach http:// upstreams (loopback), with a short request timeout.</summary>
    public static Task<WharfTestServer> StartCacheAsync(bool allowInsecure = true, TimeSpan? timeout = null, IDictionary<string, string?>? settings = null) =>
        WharfTestServer.StartAsync(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["PullThroughCache:AllowInsecureUpstreams"] = allowInsecure ? "true" : "false",
            ["PullThroughCache:RequestTimeout"] = (timeout ?? TimeSpan.FromSeconds(10)).ToString(),
        });

    public static PullThroughCacheRule Rule(string url, string? credentialArn = null, string? upstreamRegistry = null, string? roleArn = null, string prefix = "up") =>
        new(prefix, url, upstreamRegistry, credentialArn, roleArn, PullThroughCacheRule.Root, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    /// <summary><c>aws secretsmanager create-secret</c> on the cache: the secret's ARN.</summary>
    public static async Task<string> CreateSecretAsync(WharfTestServer server, string name, string value)
    {
        var result = (await AwsClients.CliAsync(server.BaseAddress, Region, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/" + name, "--secret-string", value)).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.GetProperty("ARN").GetString()!;
    }

    public static string Login(string user, string token) => JsonSerializer.Serialize(new { username = user, accessToken = token });

    public static async Task<LayoutImage> ImageAsync(ulong seed, params long[] layers) =>
        await OciLayout.WriteImageAsync(Path.Combine(Path.GetTempPath(), "wharf-upstream-" + Guid.NewGuid().ToString("N")), "v1", layers, seed, Ct);

    /// <summary>skopeo copies the image to <c>&lt;host&gt;/&lt;repository&gt;:v1</c> over plain HTTP.</summary>
    public static async Task PushAsync(LayoutImage image, string hostAndPort, string repository, string? creds = null, string tag = "v1")
    {
        string[] auth = creds is null ? [] : ["--dest-creds", creds];
        (await ContainerTools.Instance.SkopeoAsync(["copy", "--dest-tls-verify=false", .. auth, image.SkopeoReference, $"docker://{hostAndPort}/{repository}:{tag}"])).EnsureSuccess();
    }

    /// <summary>The blob's bytes, all read, as their sha256 digest.</summary>
    public static async Task<(Digest Digest, long Length)> ReadAllAsync(UpstreamBlob blob)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await blob.Content.ReadAsync(buffer, Ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        return (Digest.FromHash(DigestAlgorithm.Sha256, hash.GetHashAndReset()), total);
    }
}
