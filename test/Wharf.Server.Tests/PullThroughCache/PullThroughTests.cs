using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// Pulling through the cache from a real Distribution (anonymous) with real clients: skopeo through Wharf gets
/// the upstream's exact manifest and blobs, the image becomes an ordinary stored image, digests are never asked
/// upstream again, tags are revalidated after the freshness window (fake clock), and an upstream that is down
/// leaves cached images served and uncached ones refused with the OCI error shape.
/// </summary>
public sealed class PullThroughTests
{
    private const string Region = "us-east-1";
    private static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), Region);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_first_pull_serves_the_upstream_image_byte_identical_and_imports_it_as_an_ordinary_image()
    {
        await using var fixture = await Fixture.StartAsync(immutableTemplate: true);
        var image = await fixture.PushUpstreamAsync("team/app", "v1", [300_000, 4096], 1601);

        var pulled = NewDirectory();
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{fixture.Server.HostAndPort}/hub/team/app:v1", $"oci:{pulled}:v1")).EnsureSuccess();
        Assert.Equal(image.Manifest.Digest, await fixture.DigestThroughWharfAsync("hub/team/app:v1"));
        foreach (var blob in image.Layers.Append(image.Config))
        {
            Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(Path.Combine(pulled, "blobs", "sha256", blob.Digest["sha256:".Length..]), Ct));
        }

        // The background import stores it as any pushed image: listed, with its size, created through the template.
        var stored = await fixture.WaitStoredAsync("hub/team/app", "v1");
        Assert.Equal(image.Manifest.Digest, stored.Digest.ToString());
        var described = (await AwsClients.CliAsync(fixture.Server.BaseAddress, Region, "ecr", "describe-images", "--repository-name", "hub/team/app")).EnsureSuccess().StandardOutput;
        using (var json = JsonDocument.Parse(described))
        {
            var detail = Assert.Single(json.RootElement.GetProperty("imageDetails").EnumerateArray());
            Assert.Equal(image.Manifest.Digest, detail.GetProperty("imageDigest").GetString());
            Assert.Equal(["v1"], detail.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()));
            Assert.True(detail.GetProperty("imageSizeInBytes").GetInt64() > 300_000);
        }

        var repository = (await AwsClients.CliAsync(fixture.Server.BaseAddress, Region, "ecr", "describe-repositories", "--repository-names", "hub/team/app")).EnsureSuccess().StandardOutput;
        Assert.Contains("\"IMMUTABLE\"", repository, StringComparison.Ordinal); // the PULL_THROUGH_CACHE template's setting

        // By digest: never asked upstream again once cached, whatever the clock says.
        var before = fixture.UpstreamManifestRequests("team/app");
        fixture.Clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(image.Manifest.Digest, await fixture.DigestThroughWharfAsync($"hub/team/app@{image.Manifest.Digest}"));
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{fixture.Server.HostAndPort}/hub/team/app@{image.Manifest.Digest}", $"oci:{NewDirectory()}:x")).EnsureSuccess();
        Assert.Equal(before, fixture.UpstreamManifestRequests("team/app"));
    }

    [Fact]
    public async Task A_tag_moved_upstream_is_served_unchanged_inside_the_freshness_window_and_updated_after_it()
    {
        await using var fixture = await Fixture.StartAsync();
        using var scraper = fixture.Server.CreateClient();
        var metrics = new Uri(fixture.Server.BaseAddress, "metrics");
        var before = await Telemetry.Scrape.GetAsync(scraper, metrics, Ct);
        var first = await fixture.PushUpstreamAsync("team/moving", "latest", [20_000], 1602);
        Assert.Equal(first.Manifest.Digest, await fixture.DigestThroughWharfAsync("hub/team/moving:latest"));
        await fixture.WaitStoredAsync("hub/team/moving", "latest");
        var fetched = await Telemetry.Scrape.GetAsync(scraper, metrics, Ct);
        Assert.True(fetched.Sum("wharf_pull_through_cache_requests_total", ("result", "miss")) - before.Sum("wharf_pull_through_cache_requests_total", ("result", "miss")) >= 1);

        var second = await fixture.PushUpstreamAsync("team/moving", "latest", [20_001], 1603);
        Assert.NotEqual(first.Manifest.Digest, second.Manifest.Digest);
        var asked = fixture.UpstreamManifestRequests("team/moving");
        fixture.Clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal(first.Manifest.Digest, await fixture.DigestThroughWharfAsync("hub/team/moving:latest"));
        Assert.Equal(asked, fixture.UpstreamManifestRequests("team/moving")); // inside the window: the upstream is not asked
        var cached = await Telemetry.Scrape.GetAsync(scraper, metrics, Ct);
        Assert.True(cached.Sum("wharf_pull_through_cache_requests_total", ("result", "hit")) - fetched.Sum("wharf_pull_through_cache_requests_total", ("result", "hit")) >= 1);

        fixture.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(second.Manifest.Digest, await fixture.DigestThroughWharfAsync("hub/team/moving:latest"));
        var stored = await fixture.WaitStoredAsync("hub/team/moving", "latest", second.Manifest.Digest);
        Assert.Equal(second.Manifest.Digest, stored.Digest.ToString());
    }

    [Fact]
    public async Task With_the_upstream_down_cached_images_are_served_and_an_uncached_one_is_refused_as_unavailable()
    {
        await using var fixture = await Fixture.StartAsync();
        var image = await fixture.PushUpstreamAsync("team/app", "v1", [10_000], 1604);
        await fixture.PushUpstreamAsync("team/app", "v2", [10_001], 1605);
        Assert.Equal(image.Manifest.Digest, await fixture.DigestThroughWharfAsync("hub/team/app:v1"));
        await fixture.WaitStoredAsync("hub/team/app", "v1");

        fixture.Upstream.Stop();
        fixture.Clock.Advance(TimeSpan.FromDays(2)); // due for revalidation, and the upstream cannot answer
        (await ContainerTools.Instance.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{fixture.Server.HostAndPort}/hub/team/app:v1", $"oci:{NewDirectory()}:v1")).EnsureSuccess();

        using var client = fixture.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/hub/team/app/manifests/v2");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var refused = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct));
        Assert.Equal("UNAVAILABLE", body.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());

        // BatchGetImage: ECR's failure code, the cached tag still answered.
        var batch = (await AwsClients.CliAsync(fixture.Server.BaseAddress, Region, "ecr", "batch-get-image", "--repository-name", "hub/team/app", "--image-ids", "imageTag=v1", "imageTag=v2")).EnsureSuccess().StandardOutput;
        using var result = JsonDocument.Parse(batch);
        Assert.Equal(image.Manifest.Digest, Assert.Single(result.RootElement.GetProperty("images").EnumerateArray()).GetProperty("imageId").GetProperty("imageDigest").GetString());
        var failure = Assert.Single(result.RootElement.GetProperty("failures").EnumerateArray());
        Assert.Equal("UpstreamUnavailable", failure.GetProperty("failureCode").GetString());
    }

    [Fact]
    public async Task BatchGetImage_of_an_uncached_tag_imports_it_and_a_deleted_cached_image_is_fetched_again()
    {
        await using var fixture = await Fixture.StartAsync();
        var image = await fixture.PushUpstreamAsync("team/api", "v1", [12_345], 1606);

        var batch = (await AwsClients.CliAsync(fixture.Server.BaseAddress, Region, "ecr", "batch-get-image", "--repository-name", "hub/team/api", "--image-ids", "imageTag=v1")).EnsureSuccess().StandardOutput;
        using (var result = JsonDocument.Parse(batch))
        {
            var found = Assert.Single(result.RootElement.GetProperty("images").EnumerateArray());
            Assert.Equal(image.Manifest.Digest, found.GetProperty("imageId").GetProperty("imageDigest").GetString());
            Assert.Equal(await File.ReadAllTextAsync(image.BlobPath(image.Manifest.Digest), Ct), found.GetProperty("imageManifest").GetString());
        }

        await fixture.WaitStoredAsync("hub/team/api", "v1");
        (await AwsClients.CliAsync(fixture.Server.BaseAddress, Region, "ecr", "batch-delete-image", "--repository-name", "hub/team/api", "--image-ids", $"imageDigest={image.Manifest.Digest}")).EnsureSuccess();
        Assert.Equal(image.Manifest.Digest, await fixture.DigestThroughWharfAsync("hub/team/api:v1"));
        await fixture.WaitStoredAsync("hub/team/api", "v1");
    }

    [Fact]
    public async Task A_multi_arch_index_is_cached_with_its_children_by_tag_and_by_digest()
    {
        await using var fixture = await Fixture.StartAsync();
        var amd = await fixture.PushUpstreamAsync("team/multi", "amd64", [5_000], 1607);
        var arm = await fixture.PushUpstreamAsync("team/multi", "arm64", [5_001], 1608);
        var index = await fixture.PutUpstreamIndexAsync("team/multi", "v1", (amd, "amd64"), (arm, "arm64"));

        Assert.Equal(index, await fixture.DigestThroughWharfAsync("hub/team/multi:v1"));
        (await ContainerTools.Instance.SkopeoAsync("copy", "--all", "--src-tls-verify=false", $"docker://{fixture.Server.HostAndPort}/hub/team/multi:v1", $"oci:{NewDirectory()}:v1")).EnsureSuccess();
        var stored = await fixture.WaitStoredAsync("hub/team/multi", "v1");
        Assert.Equal(index, stored.Digest.ToString());
        var store = fixture.Server.GetService<IMetadataStore>();
        var repository = (await store.Repositories.GetAsync(new RepositoryKey(Registry, RepositoryName.Parse("hub/team/multi")), Ct))!;
        foreach (var child in new[] { amd, arm })
        {
            Assert.NotNull(await store.Images.GetManifestAsync(repository.Id, Digest.Parse(child.Manifest.Digest), Ct));
        }

        // By digest, in a repository that never saw it: the index and its children come with it.
        Assert.Equal(index, await fixture.DigestThroughWharfAsync($"hub/team/multi2@{await fixture.PutUpstreamIndexCopyAsync("team/multi2", amd, arm)}"));
        (await ContainerTools.Instance.SkopeoAsync("copy", "--all", "--src-tls-verify=false", $"docker://{fixture.Server.HostAndPort}/hub/team/multi2@{index}", $"oci:{NewDirectory()}:x")).EnsureSuccess();
    }

    [Fact]
    public async Task Without_BatchImportUpstreamImage_or_CreateRepository_a_pull_gets_ECRs_messages()
    {
        await using var fixture = await Fixture.StartAsync(iam: true);
        await fixture.PushUpstreamAsync("team/app", "v1", [1_000], 1609);
        var root = AwsClients.ReadCredentialsFile(Path.Combine(fixture.Server.DataDirectory, "root-credentials"));
        const string Pull = "\"ecr:GetAuthorizationToken\", \"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\", \"ecr:BatchCheckLayerAvailability\"";
        var noImport = await UserAsync(fixture.Server, root, "no-import", $"{Pull}, \"ecr:CreateRepository\"");
        var noCreate = await UserAsync(fixture.Server, root, "no-create", $"{Pull}, \"ecr:BatchImportUpstreamImage\"");
        var both = await UserAsync(fixture.Server, root, "both", $"{Pull}, \"ecr:CreateRepository\", \"ecr:BatchImportUpstreamImage\"");

        using (var client = await IamTestAccess.V2ClientAsync(fixture.Server, Region, noImport))
        {
            var (status, code, message) = await GetManifestAsync(client, "hub/team/app", "v1");
            Assert.Equal((HttpStatusCode.NotFound, "MANIFEST_UNKNOWN", "Requested image not found"), (status, code, message));
        }

        using (var client = await IamTestAccess.V2ClientAsync(fixture.Server, Region, noCreate))
        {
            var (status, code, message) = await GetManifestAsync(client, "hub/team/app", "v1");
            Assert.Equal((HttpStatusCode.NotFound, "NAME_UNKNOWN", "The repository with name 'hub/team/app' does not exist in the registry with id '123456789012'"), (status, code, message));
        }

        using (var client = await IamTestAccess.V2ClientAsync(fixture.Server, Region, both))
        {
            var (status, _, _) = await GetManifestAsync(client, "hub/team/app", "v1");
            Assert.Equal(HttpStatusCode.OK, status);
        }

        // Once the repository exists, the tag still needs the import permission.
        await fixture.PushUpstreamAsync("team/app", "v2", [1_001], 1610);
        using (var client = await IamTestAccess.V2ClientAsync(fixture.Server, Region, noImport))
        {
            var (status, code, message) = await GetManifestAsync(client, "hub/team/app", "v2");
            Assert.Equal((HttpStatusCode.NotFound, "MANIFEST_UNKNOWN", "Requested image not found"), (status, code, message));
        }
    }

    [Fact]
    public async Task Concurrent_first_pulls_of_a_tag_fetch_its_manifest_upstream_once()
    {
        await using var fixture = await Fixture.StartAsync();
        var image = await fixture.PushUpstreamAsync("team/busy", "v1", [64_000], 1611);
        var before = fixture.UpstreamManifestRequests("team/busy");

        var pulls = Enumerable.Range(0, 10).Select(async _ =>
        {
            using var client = fixture.Server.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/hub/team/busy/manifests/v1");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return DataPlane.Oci.Sha256(await response.Content.ReadAsByteArrayAsync(Ct));
        });

        Assert.All(await Task.WhenAll(pulls), digest => Assert.Equal(image.Manifest.Digest, digest));
        Assert.Equal(before + 1, fixture.UpstreamManifestRequests("team/busy"));
        await fixture.WaitStoredAsync("hub/team/busy", "v1");
    }

    private static async Task<Dictionary<string, string>> UserAsync(WharfTestServer server, Dictionary<string, string> root, string name, string actions)
    {
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", name)).EnsureSuccess();
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[{{actions}}],"Resource":"*"}]}""";
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "put-user-policy", "--user-name", name, "--policy-name", "pull", "--policy-document", policy)).EnsureSuccess();
        return IamTestAccess.CliKey(await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-access-key", "--user-name", name));
    }

    private static async Task<(HttpStatusCode Status, string? Code, string? Message)> GetManifestAsync(HttpClient client, string repository, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var response = await client.SendAsync(request, Ct);
        if (response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null, null);
        }

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var error = body.RootElement.GetProperty("errors")[0];
        return (response.StatusCode, error.GetProperty("code").GetString(), error.GetProperty("message").GetString());
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-ptc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>An anonymous Distribution upstream, a Wharf on a shifted clock, a <c>hub</c> rule to it, and (when asked) a PULL_THROUGH_CACHE template making repositories immutable.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly Dictionary<string, LayoutImage> images = [];

        private Fixture(DistributionRegistry upstream, WharfTestServer server, ShiftedClock clock)
        {
            Upstream = upstream;
            Server = server;
            Clock = clock;
        }

        public DistributionRegistry Upstream { get; }

        public WharfTestServer Server { get; }

        public ShiftedClock Clock { get; }

        public static async Task<Fixture> StartAsync(bool immutableTemplate = false, bool iam = false)
        {
            var upstream = await DistributionRegistry.CreateAsync(null, anonymous: true);
            await upstream.StartAsync();
            var clock = new ShiftedClock();
            var server = await WharfTestServer.StartAsync(
                new Dictionary<string, string?> { ["PullThroughCache:AllowInsecureUpstreams"] = "true", ["Auth"] = iam ? "Iam" : "Open" },
                services: s => s.AddSingleton<TimeProvider>(clock));
            IDictionary<string, string> credentials = iam ? AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials")) : new Dictionary<string, string>();
            (await AwsClients.CliAsync(server.BaseAddress, Region, credentials, "ecr", "create-pull-through-cache-rule", "--cli-input-json", Rule(upstream))).EnsureSuccess();
            if (immutableTemplate)
            {
                (await AwsClients.CliAsync(server.BaseAddress, Region, credentials, "ecr", "create-repository-creation-template", "--prefix", "hub", "--applied-for", "PULL_THROUGH_CACHE", "--image-tag-mutability", "IMMUTABLE")).EnsureSuccess();
            }

            return new Fixture(upstream, server, clock);
        }

        public async Task<LayoutImage> PushUpstreamAsync(string repository, string tag, long[] layers, ulong seed)
        {
            var image = await OciLayout.WriteImageAsync(NewDirectory(), tag, layers, seed, Ct);
            (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{Upstream.HostAndPort}/{repository}:{tag}")).EnsureSuccess();
            images[$"{repository}:{tag}"] = image;
            return image;
        }

        /// <summary>PUTs an OCI index of <paramref name="children"/> (already upstream) under <paramref name="tag"/>; its digest.</summary>
        public async Task<string> PutUpstreamIndexAsync(string repository, string tag, params (LayoutImage Image, string Architecture)[] children)
        {
            var index = IndexBytes(children);
            using var client = new HttpClient { BaseAddress = Upstream.Endpoint };
            using var content = new ByteArrayContent(index);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
            using var put = await client.PutAsync($"/v2/{repository}/manifests/{tag}", content, Ct);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            return DataPlane.Oci.Sha256(index);
        }

        /// <summary>The same index (same children, same bytes) in another upstream repository, without a tag; its digest.</summary>
        public async Task<string> PutUpstreamIndexCopyAsync(string repository, LayoutImage amd, LayoutImage arm)
        {
            foreach (var (image, arch) in new[] { (amd, "amd64"), (arm, "arm64") })
            {
                (await ContainerTools.Instance.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{Upstream.HostAndPort}/{repository}:{arch}")).EnsureSuccess();
            }

            return await PutUpstreamIndexAsync(repository, "index", (amd, "amd64"), (arm, "arm64"));
        }

        public async Task<string> DigestThroughWharfAsync(string reference) =>
            (await ContainerTools.Instance.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{Server.HostAndPort}/{reference}")).EnsureSuccess().StandardOutput is var raw
                ? DataPlane.Oci.Sha256(Encoding.UTF8.GetBytes(raw.TrimEnd('\n')))
                : throw new InvalidOperationException();

        /// <summary>Manifest requests the upstream received for <paramref name="repository"/> (GET and HEAD), from its access log.</summary>
        public int UpstreamManifestRequests(string repository) =>
            Upstream.Log.Split('\n').Count(l => l.Contains($" /v2/{repository}/manifests/", StringComparison.Ordinal) && (l.Contains("\"GET ", StringComparison.Ordinal) || l.Contains("\"HEAD ", StringComparison.Ordinal)));

        /// <summary>Waits for the background import to have stored the tag (at <paramref name="digest"/> when given).</summary>
        public async Task<ManifestRecord> WaitStoredAsync(string repository, string tag, string? digest = null)
        {
            var store = Server.GetService<IMetadataStore>();
            var key = new RepositoryKey(Registry, RepositoryName.Parse(repository));
            for (var attempt = 0; attempt < 300; attempt++)
            {
                if (await store.Repositories.GetAsync(key, Ct) is { } stored
                    && await store.Images.GetManifestByTagAsync(stored.Id, tag, Ct) is { } record
                    && (digest is null || record.Digest.ToString() == digest))
                {
                    return record;
                }

                await Task.Delay(100, Ct);
            }

            throw new TimeoutException($"{repository}:{tag} was not imported");
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Upstream.DisposeAsync();
        }

        // As JSON input: the AWS CLI fetches the content of a parameter given as an http:// URL.
        private static string Rule(DistributionRegistry upstream) =>
            JsonSerializer.Serialize(new { ecrRepositoryPrefix = "hub", upstreamRegistryUrl = upstream.Endpoint.ToString().TrimEnd('/') });

        private static byte[] IndexBytes((LayoutImage Image, string Architecture)[] children) =>
            JsonSerializer.SerializeToUtf8Bytes(new
            {
                schemaVersion = 2,
                mediaType = "application/vnd.oci.image.index.v1+json",
                manifests = children.Select(c => new
                {
                    mediaType = c.Image.Manifest.MediaType,
                    digest = c.Image.Manifest.Digest,
                    size = c.Image.Manifest.Size,
                    platform = new { architecture = c.Architecture, os = "linux" },
                }).ToArray(),
            });
    }
}
