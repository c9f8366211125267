using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Replication;
using Wharf.Testing;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// The pull-through cache as a user meets it: Wharf in IAM mode, the upstream's credentials stored with
/// <c>aws secretsmanager create-secret</c>, the rule written with <c>aws ecr create-pull-through-cache-rule</c>,
/// and real clients (podman, skopeo, containerd) pulling <c>&lt;wharf&gt;/&lt;prefix&gt;/&lt;upstream repo&gt;</c>
/// from a real CNCF Distribution upstream: anonymous, htpasswd (Basic) or Docker-token auth.
/// </summary>
public sealed class PullThroughClientTests
{
    private const string Region = "us-east-1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Podman_skopeo_and_containerd_pull_through_Wharf_the_upstreams_exact_digest(bool anonymousUpstream)
    {
        await using var upstream = await DistributionRegistry.CreateAsync(anonymous: anonymousUpstream);
        await upstream.StartAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [(1 << 20) + 3, 40_000], 1600, Ct);
        string[] upstreamCreds = anonymousUpstream ? [] : ["--dest-creds", $"{DistributionRegistry.User}:{upstream.Password}"];
        (await ContainerTools.Instance.SkopeoAsync(["copy", "--dest-tls-verify=false", .. upstreamCreds, image.SkopeoReference, $"docker://{upstream.HostAndPort}/library/app:v1"])).EnsureSuccess();

        await using var wharf = await IamWharf.StartAsync();
        var credentialArn = anonymousUpstream ? null : await wharf.CreateSecretAsync("ecr-pullthroughcache/dist", DistributionRegistry.User, upstream.Password);
        await wharf.CreateRuleAsync("dist", upstream.Endpoint, credentialArn);
        var validation = await wharf.ValidateRuleAsync("dist");
        Assert.True(validation.GetProperty("isValid").GetBoolean(), validation.ToString());

        var remote = $"{wharf.Server.HostAndPort}/dist/library/app:v1";
        var password = await wharf.PasswordAsync();

        // podman first: its pull creates the repository and imports the image.
        var tools = ContainerTools.Instance;
        (await tools.PodmanAsync("pull", "--tls-verify=false", "--creds", "AWS:" + password, remote)).EnsureSuccess();
        var podmanDigest = (await tools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(image.Manifest.Digest, podmanDigest);

        var pulled = NewDirectory();
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", "AWS:" + password, "docker://" + remote, $"oci:{pulled}:v1")).EnsureSuccess();
        Assert.Equal(image.Manifest.Digest, LayoutManifestDigest(pulled));
        foreach (var blob in image.Layers.Append(image.Config))
        {
            Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(Path.Combine(pulled, "blobs", "sha256", blob.Digest["sha256:".Length..]), Ct));
        }

        await using (var containerd = await ContainerdDaemon.StartAsync(Ct))
        {
            (await containerd.CtrAsync("images", "pull", "--plain-http", "--snapshotter", "native", "--user", "AWS:" + password, remote)).EnsureSuccess();
            var listed = (await containerd.CtrAsync("images", "ls")).EnsureSuccess().StandardOutput;
            var line = listed.Split('\n').Single(l => l.StartsWith(remote + " ", StringComparison.Ordinal));
            Assert.Contains(image.Manifest.Digest, line, StringComparison.Ordinal);
        }

        // The cached image is an ordinary image of the repository the first pull created.
        Assert.Equal(new HashSet<string?> { image.Manifest.Digest }, await wharf.ImportedAsync("dist/library/app", 1));
    }

    [Fact]
    public async Task A_multi_arch_index_pulled_by_tag_and_by_digest_lists_its_children_in_describe_images_and_each_platform_pulls_with_the_upstream_down()
    {
        await using var upstream = await DistributionRegistry.CreateAsync(anonymous: true);
        await upstream.StartAsync();
        var (index, amd64, arm64) = await WriteIndexLayoutAsync();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", $"oci:{index.Directory}:multi", $"docker://{upstream.HostAndPort}/team/multi:v1")).EnsureSuccess();

        await using var wharf = await IamWharf.StartAsync();
        await wharf.CreateRuleAsync("dist", upstream.Endpoint, null);
        var password = await wharf.PasswordAsync();
        var tools = ContainerTools.Instance;

        // By tag into one repository, by digest into another: each first pull imports the index and both children.
        var byTag = NewDirectory();
        (await tools.SkopeoAsync("copy", "--all", "--src-tls-verify=false", "--src-creds", "AWS:" + password, $"docker://{wharf.Server.HostAndPort}/dist/team/multi:v1", $"oci:{byTag}:v1")).EnsureSuccess();
        Assert.Equal(index.Digest, LayoutManifestDigest(byTag));
        var byDigest = NewDirectory();
        (await tools.SkopeoAsync("copy", "--all", "--src-tls-verify=false", "--src-creds", "AWS:" + password, $"docker://{wharf.Server.HostAndPort}/dist/team/multi@{index.Digest}", $"oci:{byDigest}:v1")).EnsureSuccess();
        Assert.Equal(index.Digest, LayoutManifestDigest(byDigest));

        Assert.Equal(new HashSet<string?> { index.Digest, amd64.Manifest.Digest, arm64.Manifest.Digest }, await wharf.ImportedAsync("dist/team/multi", 3));

        // Children cached: with the upstream gone, each platform still pulls (its manifest and blobs from Wharf).
        upstream.Stop();
        foreach (var (arch, child) in new[] { ("amd64", amd64), ("arm64", arm64) })
        {
            var dir = NewDirectory();
            (await tools.SkopeoAsync("copy", "--override-arch", arch, "--override-os", "linux", "--src-tls-verify=false", "--src-creds", "AWS:" + password, $"docker://{wharf.Server.HostAndPort}/dist/team/multi@{index.Digest}", $"oci:{dir}:v1")).EnsureSuccess();
            Assert.Equal(child.Manifest.Digest, LayoutManifestDigest(dir));
            Assert.Equal(child.Layers[0].Digest, await OciLayout.Sha256FileAsync(Path.Combine(dir, "blobs", "sha256", child.Layers[0].Digest["sha256:".Length..]), Ct));
        }
    }

    [Fact]
    public async Task A_token_auth_upstream_is_pulled_through_with_the_secrets_username_and_accessToken()
    {
        await using var tokens = await TokenServer.StartAsync("robot", Guid.NewGuid().ToString("N"));
        await using var upstream = await DistributionRegistry.CreateAsync((tokens.Realm, TokenServer.Service, TokenServer.Issuer, tokens.CertificatePem));
        await upstream.StartAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [70_000, 5000], 1610, Ct);
        var pushToken = await tokens.TokenAsync("repository:org/app:pull,push", Ct);
        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-registry-token", pushToken, image.SkopeoReference, $"docker://{upstream.HostAndPort}/org/app:v1")).EnsureSuccess();
        lock (tokens.Requests)
        {
            tokens.Requests.Clear();
        }

        await using var wharf = await IamWharf.StartAsync();
        var arn = await wharf.CreateSecretAsync("ecr-pullthroughcache/token-upstream", tokens.User, tokens.Password);
        await wharf.CreateRuleAsync("tok", upstream.Endpoint, arn);
        var password = await wharf.PasswordAsync();

        var pulled = NewDirectory();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", "AWS:" + password, $"docker://{wharf.Server.HostAndPort}/tok/org/app:v1", $"oci:{pulled}:v1")).EnsureSuccess();
        Assert.Equal(image.Manifest.Digest, LayoutManifestDigest(pulled));

        // Wharf asked the realm for a pull token of the upstream repository, with the secret's username and accessToken.
        lock (tokens.Requests)
        {
            Assert.Contains(tokens.Requests, r => r.Scope is { } s && s.StartsWith("repository:org/app:pull", StringComparison.Ordinal) && r.Authenticated);
            Assert.DoesNotContain(tokens.Requests, r => !r.Authenticated);
        }
    }

    [Fact]
    public async Task A_wrong_secret_makes_Validate_report_it_and_the_pull_fail_saying_the_upstream_refused_the_credentials()
    {
        await using var upstream = await DistributionRegistry.CreateAsync();
        await upstream.StartAsync();
        var image = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [30_000], 1620, Ct);
        (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"{DistributionRegistry.User}:{upstream.Password}", image.SkopeoReference, $"docker://{upstream.HostAndPort}/library/app:v1")).EnsureSuccess();

        await using var wharf = await IamWharf.StartAsync();
        const string wrong = "not-the-upstream-password-4c1d";
        var arn = await wharf.CreateSecretAsync("ecr-pullthroughcache/wrong", DistributionRegistry.User, wrong);
        await wharf.CreateRuleAsync("dist", upstream.Endpoint, arn);

        var validation = await wharf.ValidateRuleAsync("dist");
        Assert.False(validation.GetProperty("isValid").GetBoolean(), validation.ToString());
        var failure = validation.GetProperty("failure").GetString();
        Assert.False(string.IsNullOrWhiteSpace(failure));
        Assert.Contains("credential", failure, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(wrong, validation.ToString(), StringComparison.Ordinal);

        var password = await wharf.PasswordAsync();
        var pull = await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", "AWS:" + password, $"docker://{wharf.Server.HostAndPort}/dist/library/app:v1", $"oci:{NewDirectory()}:v1");
        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains("credentials", pull.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(wrong, pull.StandardError, StringComparison.Ordinal);

        // The API says the same in BatchGetImage's failure code.
        var batch = await wharf.CliJsonAsync("ecr", "batch-get-image", "--repository-name", "dist/library/app", "--image-ids", "imageTag=v1");
        var failed = Assert.Single(batch.GetProperty("failures").EnumerateArray());
        Assert.Equal("UpstreamAccessDenied", failed.GetProperty("failureCode").GetString());
        Assert.Empty(batch.GetProperty("images").EnumerateArray());
    }

    /// <summary>Wharf in IAM mode (http:// upstreams allowed), driven with its root key through the AWS CLI.</summary>
    private sealed class IamWharf : IAsyncDisposable
    {
        private IamWharf(WharfTestServer server, Dictionary<string, string> root)
        {
            Server = server;
            Root = root;
        }

        public WharfTestServer Server { get; }

        public Dictionary<string, string> Root { get; }

        public static async Task<IamWharf> StartAsync()
        {
            var server = await WharfTestServer.StartAsync(new Dictionary<string, string?>
            {
                ["Auth"] = "Iam",
                ["PullThroughCache:AllowInsecureUpstreams"] = "true",
            });
            return new IamWharf(server, AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials")));
        }

        public async Task<JsonElement> CliJsonAsync(params string[] args)
        {
            var output = (await AwsClients.CliAsync(Server.BaseAddress, Region, Root, args)).EnsureSuccess().StandardOutput;
            using var json = JsonDocument.Parse(output);
            return json.RootElement.Clone();
        }

        /// <summary>
        /// The digests <c>describe-images</c> lists in <paramref name="repository"/> once it lists <paramref name="count"/>
        /// (the import that writes them ends just after the client's last blob; 30 s at most).
        /// </summary>
        public async Task<HashSet<string?>> ImportedAsync(string repository, int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var result = await AwsClients.CliAsync(Server.BaseAddress, Region, Root, "ecr", "describe-images", "--repository-name", repository);
                if (result.ExitCode == 0)
                {
                    using var json = JsonDocument.Parse(result.StandardOutput);
                    var digests = json.RootElement.GetProperty("imageDetails").EnumerateArray().Select(i => i.GetProperty("imageDigest").GetString()).ToHashSet();
                    if (digests.Count >= count || DateTime.UtcNow > deadline)
                    {
                        return digests;
                    }
                }
                else if (DateTime.UtcNow > deadline)
                {
                    result.EnsureSuccess();
                }

                await Task.Delay(250, Ct);
            }
        }

        /// <summary><c>aws secretsmanager create-secret</c> with the upstream's <c>username</c>/<c>accessToken</c>; its ARN.</summary>
        public async Task<string> CreateSecretAsync(string name, string username, string accessToken)
        {
            var secret = JsonSerializer.Serialize(new Dictionary<string, string> { ["username"] = username, ["accessToken"] = accessToken });
            var created = await CliJsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", secret);
            return created.GetProperty("ARN").GetString()!;
        }

        /// <summary>
        /// <c>aws ecr create-pull-through-cache-rule</c>. The input goes as <c>--cli-input-json</c>: AWS CLI v1 reads a
        /// parameter that starts with <c>http://</c> as a URL to fetch the value from (<c>cli_follow_urlparam</c>).
        /// </summary>
        public Task<JsonElement> CreateRuleAsync(string prefix, Uri upstream, string? credentialArn)
        {
            var input = new Dictionary<string, string> { ["ecrRepositoryPrefix"] = prefix, ["upstreamRegistryUrl"] = upstream.ToString().TrimEnd('/') };
            if (credentialArn is not null)
            {
                input["credentialArn"] = credentialArn;
            }

            return CliJsonAsync("ecr", "create-pull-through-cache-rule", "--cli-input-json", JsonSerializer.Serialize(input));
        }

        public Task<JsonElement> ValidateRuleAsync(string prefix) =>
            CliJsonAsync("ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", prefix);

        /// <summary>The root's <c>get-login-password</c>: the /v2 password of user <c>AWS</c>.</summary>
        public async Task<string> PasswordAsync() =>
            (await AwsClients.CliAsync(Server.BaseAddress, Region, Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    private sealed record IndexLayout(string Directory, string Digest);

    /// <summary>
    /// One OCI layout holding an index of two single-layer images (amd64, arm64) under the tag <c>multi</c>,
    /// as <c>skopeo copy --all</c> reads it.
    /// </summary>
    private static async Task<(IndexLayout Index, LayoutImage Amd64, LayoutImage Arm64)> WriteIndexLayoutAsync()
    {
        var amd64 = await OciLayout.WriteImageAsync(NewDirectory(), "amd64", [50_000], 1630, Ct);
        var arm64 = await OciLayout.WriteImageAsync(NewDirectory(), "arm64", [60_000], 1635, Ct);
        var layout = NewDirectory();
        var blobs = Path.Combine(layout, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        foreach (var image in new[] { amd64, arm64 })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(image.Directory, "blobs", "sha256")))
            {
                File.Copy(file, Path.Combine(blobs, Path.GetFileName(file)), overwrite: true);
            }
        }

        var index = OciLayout.PlatformIndex((amd64, "amd64"), (arm64, "arm64"));
        var hex = Convert.ToHexStringLower(SHA256.HashData(index));
        await File.WriteAllBytesAsync(Path.Combine(blobs, hex), index, Ct);
        await File.WriteAllTextAsync(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""", Ct);
        await File.WriteAllTextAsync(Path.Combine(layout, "index.json"), $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{{{hex}}}","size":{{{index.Length}}},"annotations":{"org.opencontainers.image.ref.name":"multi"}}]}""", Ct);
        return (new IndexLayout(layout, "sha256:" + hex), amd64, arm64);
    }

    /// <summary>The digest of the one manifest (or index) an OCI layout written by skopeo holds.</summary>
    private static string LayoutManifestDigest(string layout)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        return Assert.Single(json.RootElement.GetProperty("manifests").EnumerateArray()).GetProperty("digest").GetString()!;
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-ptc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
