using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// The public address in IAM mode with real clients (docs/public.md, "Pulling and pushing on the public
/// address"): anonymous pulls through ECR Public's Bearer flow (skopeo, podman, containerd), pushes only
/// with an ecr-public login and permission, private repositories out of reach, ECR Public's answers to
/// bad and expired tokens, and <c>Public:Host</c> on the main port. One server for the class.
/// </summary>
public sealed class PublicAddressTests(PublicAddressFixture fixture) : IClassFixture<PublicAddressFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ContainerTools tools = ContainerTools.Instance;

    private WharfTestServer Server => fixture.Server;

    private string Public => Server.PublicHostAndPort;

    private string App => $"{Public}/{fixture.Alias}/demo/app";

    [Fact]
    public async Task Anonymous_skopeo_inspects_and_copies_a_public_image()
    {
        var inspect = (await tools.SkopeoAsync("inspect", "--tls-verify=false", $"docker://{App}:v1")).EnsureSuccess();
        using (var doc = JsonDocument.Parse(inspect.StandardOutput))
        {
            Assert.Equal(fixture.Image.Manifest.Digest, doc.RootElement.GetProperty("Digest").GetString());
            Assert.Equal($"{App}", doc.RootElement.GetProperty("Name").GetString());
        }

        var outDir = Path.Combine(fixture.WorkDirectory, "anon-copy-" + Guid.NewGuid().ToString("N"));
        (await tools.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{App}:v1", $"oci:{outDir}:v1")).EnsureSuccess();
        Assert.Equal(fixture.Image.Manifest.Digest, Clients.ClientTests.ReadLayoutManifestDigest(outDir));
        foreach (var blob in fixture.Image.Layers.Append(fixture.Image.Config))
        {
            Assert.Equal(blob.Digest, await OciLayout.Sha256FileAsync(Path.Combine(outDir, "blobs", "sha256", blob.Digest["sha256:".Length..]), Ct));
        }

        // skopeo lists tags on the public address too (ECR Public answers tags/list).
        var tags = (await tools.SkopeoAsync("list-tags", "--tls-verify=false", $"docker://{App}")).EnsureSuccess();
        Assert.Contains("\"v1\"", tags.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anonymous_podman_pulls_a_public_image()
    {
        var authFile = Path.Combine(fixture.WorkDirectory, "none-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(authFile, "{}", Ct);
        (await tools.PodmanAsync("pull", "--tls-verify=false", "--authfile", authFile, $"{App}:v1")).EnsureSuccess();
        var digest = (await tools.PodmanAsync("image", "inspect", "--format", "{{.Digest}}", $"{App}:v1")).EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(fixture.Image.Manifest.Digest, digest);
    }

    [Fact]
    public async Task Anonymous_containerd_pulls_a_public_image()
    {
        await using var containerd = await ContainerdDaemon.StartAsync(Ct);
        (await containerd.CtrAsync("images", "pull", "--plain-http", "--snapshotter", "native", $"{App}:v1")).EnsureSuccess();
        var listed = (await containerd.CtrAsync("images", "ls")).EnsureSuccess().StandardOutput;
        var line = listed.Split('\n').Single(l => l.StartsWith($"{App}:v1 ", StringComparison.Ordinal));
        Assert.Contains(fixture.Image.Manifest.Digest, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bearer_flow_is_ECR_Publics_and_an_anonymous_token_reads()
    {
        using var client = Server.CreatePublicClient();
        using var challenge = await client.GetAsync("/v2/", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal(
            $"Bearer realm=\"http://{Public}/token/\",service=\"public.wharf.test\",scope=\"aws\"",
            challenge.Headers.WwwAuthenticate.ToString());
        Assert.Equal("UNAUTHORIZED", await ErrorCodeAsync(challenge));

        using var realm = await client.GetAsync("/token/?service=public.wharf.test&scope=aws", Ct);
        Assert.Equal(HttpStatusCode.OK, realm.StatusCode);
        using var json = JsonDocument.Parse(await realm.Content.ReadAsStringAsync(Ct));
        var token = json.RootElement.GetProperty("token").GetString()!;
        Assert.Equal(token, json.RootElement.GetProperty("access_token").GetString());
        Assert.InRange(json.RootElement.GetProperty("expires_in").GetInt32(), 60, 12 * 3600);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var root = await client.GetAsync("/v2/", Ct);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        using var manifest = await client.GetAsync($"/v2/{fixture.Alias}/demo/app/manifests/v1", Ct);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(fixture.Image.Manifest.Digest, manifest.Headers.GetValues("Docker-Content-Digest").Single());
        var config = fixture.Image.Config.Digest;
        using var blob = await client.GetAsync($"/v2/{fixture.Alias}/demo/app/blobs/{config}", Ct);
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(fixture.Image.BlobPath(config), Ct), await blob.Content.ReadAsByteArrayAsync(Ct));

        // An unknown alias is a missing repository, after authentication.
        using var unknown = await client.GetAsync("/v2/nosuchalias/demo/app/manifests/v1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("NAME_UNKNOWN", await ErrorCodeAsync(unknown));
    }

    [Fact]
    public async Task Anonymous_pushes_are_refused_with_the_challenge()
    {
        var refused = await tools.SkopeoAsync("copy", "--dest-tls-verify=false", fixture.Image.SkopeoReference, $"docker://{App}:anonymous");
        Assert.NotEqual(0, refused.ExitCode);

        using var client = Server.CreatePublicClient();
        using (var bare = await client.PostAsync($"/v2/{fixture.Alias}/demo/app/blobs/uploads/", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
            Assert.StartsWith("Bearer realm=", bare.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RealmTokenAsync(null));
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Post, $"/v2/{fixture.Alias}/demo/app/blobs/uploads/"),
            (HttpMethod.Put, $"/v2/{fixture.Alias}/demo/app/manifests/anonymous"),
            (HttpMethod.Delete, $"/v2/{fixture.Alias}/demo/app/manifests/{fixture.Image.Manifest.Digest}"),
        })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = method == HttpMethod.Delete ? null : new ByteArrayContent([]) }, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.StartsWith("Bearer realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain("anonymous", await TagsAsync("demo/app"));
    }

    [Fact]
    public async Task Get_login_password_piped_to_podman_login_then_podman_pushes_and_anyone_pulls()
    {
        await TestImages.BusyboxArchiveAsync();
        (await Aws(fixture.Root, "ecr-public", "create-repository", "--repository-name", "demo/podman")).EnsureSuccess();
        var authFile = Path.Combine(fixture.WorkDirectory, "auth-" + Guid.NewGuid().ToString("N") + ".json");
        var environment = new Dictionary<string, string>(fixture.Publisher)
        {
            ["AWS"] = Requires.Tool("aws"),
            ["PODMAN"] = Requires.Tool("podman"),
            ["ENDPOINT"] = Server.BaseAddress.ToString().TrimEnd('/'),
            ["AUTHFILE"] = authFile,
            ["PUBLIC"] = Public,
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_CONFIG_FILE"] = "/dev/null",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
            ["AWS_PAGER"] = string.Empty,
        };
        var login = await ProcessRunner.RunAsync(
            "bash",
            ["-c", """set -o pipefail; "$AWS" ecr-public get-login-password --endpoint-url "$ENDPOINT" --region us-east-1 | "$PODMAN" login --authfile "$AUTHFILE" --tls-verify=false --username AWS --password-stdin "$PUBLIC" """],
            TimeSpan.FromMinutes(2),
            environment);
        login.EnsureSuccess();
        Assert.Contains("Login Succeeded", login.StandardOutput, StringComparison.Ordinal);

        var remote = $"{Public}/{fixture.Alias}/demo/podman:1";
        (await tools.PodmanAsync("push", "--tls-verify=false", "--authfile", authFile, TestImages.BusyboxLocalName, "docker://" + remote)).EnsureSuccess();

        // Pushed into the public registry (the ECR Public API sees it), and anyone pulls it.
        var images = (await Aws(fixture.Root, "ecr-public", "describe-images", "--repository-name", "demo/podman")).EnsureSuccess();
        Assert.Contains("\"1\"", images.StandardOutput, StringComparison.Ordinal);
        var digest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + remote)).EnsureSuccess().StandardOutput.Trim();
        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);

        // No push creates a public repository: that is CreateRepository's.
        var uncreated = await tools.PodmanAsync("push", "--tls-verify=false", "--authfile", authFile, TestImages.BusyboxLocalName, $"docker://{Public}/{fixture.Alias}/demo/never-created:1");
        Assert.NotEqual(0, uncreated.ExitCode);
        Assert.Contains("(RepositoryNotFoundException)", (await Aws(fixture.Root, "ecr-public", "describe-repositories", "--repository-names", "demo/never-created")).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_principal_without_ecr_public_permissions_is_denied_a_push_and_uploads_say_where_they_are()
    {
        var readerPassword = (await Aws(fixture.Reader, "ecr-public", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        using var reader = Server.CreatePublicClient();
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RealmTokenAsync(readerPassword));
        using (var denied = await reader.PostAsync($"/v2/{fixture.Alias}/demo/app/blobs/uploads/", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("DENIED", await ErrorCodeAsync(denied));
        }

        // The same reader still pulls, as anyone does.
        using (var pull = await reader.GetAsync($"/v2/{fixture.Alias}/demo/app/manifests/v1", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        }

        // The publisher may: the upload's Location names the repository as the client does, alias first.
        var publisherPassword = (await Aws(fixture.Publisher, "ecr-public", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        using var publisher = Server.CreatePublicClient();
        publisher.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RealmTokenAsync(publisherPassword));
        using var started = await publisher.PostAsync($"/v2/{fixture.Alias}/demo/app/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.StartsWith($"/v2/{fixture.Alias}/demo/app/blobs/uploads/", started.Headers.Location!.OriginalString, StringComparison.Ordinal);
        using var cancelled = await publisher.DeleteAsync(started.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);

        // The ecr-public password itself is a bearer token too, as ECR Public accepts.
        publisher.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", publisherPassword);
        using var direct = await publisher.GetAsync($"/v2/{fixture.Alias}/demo/app/tags/list", Ct);
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);

        // A bad Basic login at the realm is 401.
        using var realm = Server.CreatePublicClient();
        using var bad = new HttpRequestMessage(HttpMethod.Get, "/token/?service=x&scope=aws");
        bad.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:not-a-password")));
        using (var badLogin = await realm.SendAsync(bad, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, badLogin.StatusCode);
        }

        foreach (var header in new[] { "Basic !!not-base64!!", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("root:" + publisherPassword)), "Bearer " + publisherPassword, "Negotiate abc" })
        {
            using var odd = new HttpRequestMessage(HttpMethod.Get, "/token/?service=x&scope=aws");
            odd.Headers.TryAddWithoutValidation("Authorization", header);
            using var refused = await realm.SendAsync(odd, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task A_mount_names_its_source_as_alias_and_repository_and_never_reaches_a_private_one()
    {
        (await Aws(fixture.Root, "ecr-public", "create-repository", "--repository-name", "demo/mounted")).EnsureSuccess();
        var password = (await Aws(fixture.Root, "ecr-public", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        using var client = Server.CreatePublicClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RealmTokenAsync(password));
        var layer = fixture.Image.Layers[0].Digest;

        // From the private repository that holds the same layer (by its private name, or with the alias): no mount, an upload session instead.
        foreach (var from in new[] { "private/secret", $"{fixture.Alias}/private/secret" })
        {
            using var refused = await client.PostAsync($"/v2/{fixture.Alias}/demo/mounted/blobs/uploads/?mount={layer}&from={from}", null, Ct);
            Assert.Equal(HttpStatusCode.Accepted, refused.StatusCode);
            using var cancelled = await client.DeleteAsync(refused.Headers.Location, Ct);
            Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
        }

        using var mounted = await client.PostAsync($"/v2/{fixture.Alias}/demo/mounted/blobs/uploads/?mount={layer}&from={fixture.Alias}/demo/app", null, Ct);
        Assert.Equal(HttpStatusCode.Created, mounted.StatusCode);
        Assert.Equal($"/v2/{fixture.Alias}/demo/mounted/blobs/{layer}", mounted.Headers.Location!.OriginalString);
        using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/{fixture.Alias}/demo/mounted/blobs/{layer}");
        using var present = await client.SendAsync(head, Ct);
        Assert.Equal(HttpStatusCode.OK, present.StatusCode);
    }

    [Fact]
    public async Task A_private_repository_is_unreachable_through_the_public_address()
    {
        var rootPassword = (await Aws(fixture.Root, "ecr-public", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        foreach (var token in new[] { await RealmTokenAsync(null), await RealmTokenAsync(rootPassword) })
        {
            using var client = Server.CreatePublicClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            foreach (var name in new[] { "private/secret", $"{fixture.Alias}/private/secret", $"{fixture.Alias}/secret" })
            {
                using var manifest = await client.GetAsync($"/v2/{name}/manifests/v1", Ct);
                Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
                Assert.Equal("NAME_UNKNOWN", await ErrorCodeAsync(manifest));
                using var tags = await client.GetAsync($"/v2/{name}/tags/list", Ct);
                Assert.Equal(HttpStatusCode.NotFound, tags.StatusCode);
            }

            using var catalog = await client.GetAsync("/v2/_catalog", Ct);
            Assert.False(catalog.IsSuccessStatusCode);
            Assert.DoesNotContain("secret", await catalog.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

            // The private endpoints are the main port's only.
            foreach (var path in new[] { "/health", "/health/live", "/health/ready" })
            {
                using var health = await client.GetAsync(path, Ct);
                Assert.DoesNotContain("{\"status\":", await health.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }

            using var api = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("{}", Encoding.UTF8, "application/x-amz-json-1.1") };
            api.Headers.TryAddWithoutValidation("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories");
            using var apiResponse = await client.SendAsync(api, Ct);
            Assert.NotEqual("application/x-amz-json-1.1", apiResponse.Content.Headers.ContentType?.MediaType);
        }

        var skopeo = await tools.SkopeoAsync("inspect", "--tls-verify=false", "--creds", "AWS:" + rootPassword, $"docker://{Public}/private/secret:v1");
        Assert.NotEqual(0, skopeo.ExitCode);

        // Still there on the main port, for its owner.
        var privatePassword = (await Aws(fixture.Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--creds", "AWS:" + privatePassword, $"docker://{Server.HostAndPort}/private/secret:v1")).EnsureSuccess();
    }

    [Fact]
    public async Task Bad_bearer_tokens_get_ECR_Publics_400_and_private_passwords_do_not_authenticate()
    {
        var privatePassword = (await Aws(fixture.Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        foreach (var token in new[] { "abc", privatePassword, (await RealmTokenAsync(null))[..^4] + "AAAA" })
        {
            using var client = Server.CreatePublicClient();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await client.GetAsync("/v2/", Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            var error = json.RootElement.GetProperty("errors")[0];
            Assert.Equal("DENIED", error.GetProperty("code").GetString());
            Assert.Equal("Your Authorization Token is invalid.", error.GetProperty("message").GetString());
        }

        // And an ecr-public password is no password on the private side.
        var publicPassword = (await Aws(fixture.Root, "ecr-public", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        using var main = Server.CreateClient();
        main.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + publicPassword)));
        using var refused = await main.GetAsync("/v2/private/secret/manifests/v1", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task An_expired_token_gets_the_challenge_again()
    {
        using var client = Server.CreatePublicClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RealmTokenAsync(null));
        fixture.Clock.Advance(TimeSpan.FromHours(13));
        try
        {
            using var response = await client.GetAsync($"/v2/{fixture.Alias}/demo/app/manifests/v1", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.StartsWith("Bearer realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

            // A fresh one reads again.
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RealmTokenAsync(null));
            using var again = await client.GetAsync($"/v2/{fixture.Alias}/demo/app/manifests/v1", Ct);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        finally
        {
            fixture.Clock.Advance(TimeSpan.FromHours(-13));
        }
    }

    [Fact]
    public async Task Public_host_on_the_main_port_is_the_public_address_and_other_hosts_stay_private()
    {
        using var client = Server.CreateClient();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v2/"))
        {
            request.Headers.Host = "PUBLIC.wharf.test:8443";
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer realm=\"http://PUBLIC.wharf.test:8443/token/\",service=\"public.wharf.test\",scope=\"aws\"", response.Headers.WwwAuthenticate.ToString());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/token/?scope=aws"))
        {
            request.Headers.Host = "public.wharf.test";
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var token = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("token").GetString();
            using var pull = new HttpRequestMessage(HttpMethod.Get, $"/v2/{fixture.Alias}/demo/app/manifests/v1");
            pull.Headers.Host = "public.wharf.test";
            pull.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var pulled = await client.SendAsync(pull, Ct);
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        }

        foreach (var host in new[] { Server.HostAndPort, "other.wharf.test", "public.wharf.test.example" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/");
            request.Headers.Host = host;
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        // On the public listener, a Host naming the main port changes nothing: the connection decides.
        using var publicClient = Server.CreatePublicClient();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v2/"))
        {
            request.Headers.Host = Server.HostAndPort;
            using var response = await publicClient.SendAsync(request, Ct);
            Assert.StartsWith("Bearer realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Hostile_requests_get_clear_answers_never_a_5xx()
    {
        var anonymous = await RealmTokenAsync(null);
        var authorizations = new[]
        {
            null, "Bearer", "Bearer ", "Bearer " + new string('A', 16_000), "Bearer " + anonymous + anonymous, "bearer " + anonymous,
            "Basic", "Basic " + new string('=', 100), "Bearer \u0000", "Bearer " + Convert.ToBase64String(Oci.RandomBytes(300)),
        };
        var paths = new[]
        {
            "/v2/", "/v2", "/v2/_catalog?n=-1", $"/v2/{fixture.Alias}", $"/v2/{fixture.Alias}/tags/list", $"/v2/{fixture.Alias}/manifests/v1",
            $"/v2/{fixture.Alias}/demo/app/manifests/..%2F..%2Fetc", $"/v2/{fixture.Alias}/../private/secret/manifests/v1", "/v2/%2e%2e/x/manifests/v1",
            $"/v2/{fixture.Alias}/demo/app/blobs/sha256:zz", $"/v2/{fixture.Alias}/demo/app/blobs/uploads/nope", $"/v2/{new string('a', 300)}/x/manifests/v1",
            $"/v2/{fixture.Alias}/demo/app/tags/list?n=abc&last=" + new string('z', 5000), "/token", "/token/?scope=" + new string('s', 8000), "/token/x",
        };
        using var client = Server.CreatePublicClient();
        foreach (var authorization in authorizations)
        {
            foreach (var path in paths)
            {
                foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head, HttpMethod.Post, HttpMethod.Patch })
                {
                    using var request = new HttpRequestMessage(method, path);
                    if (authorization is not null)
                    {
                        request.Headers.TryAddWithoutValidation("Authorization", authorization);
                    }

                    using var response = await client.SendAsync(request, Ct);
                    Assert.True((int)response.StatusCode < 500, $"{method} {path} with '{authorization?[..Math.Min(authorization.Length, 20)]}' answered {(int)response.StatusCode}");
                }
            }
        }
    }

    private Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) =>
        AwsClients.CliAsync(Server.BaseAddress, "us-east-1", who, args);

    /// <summary>A token from the realm: anonymous, or logged in with an ecr-public password.</summary>
    private async Task<string> RealmTokenAsync(string? password)
    {
        using var client = Server.CreatePublicClient();
        if (password is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)));
        }

        using var response = await client.GetAsync("/token/?service=x&scope=aws", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return json.RootElement.GetProperty("token").GetString()!;
    }

    private async Task<string[]> TagsAsync(string repository)
    {
        var result = (await Aws(fixture.Root, "ecr-public", "describe-image-tags", "--repository-name", repository)).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        return [.. json.RootElement.GetProperty("imageTagDetails").EnumerateArray().Select(t => t.GetProperty("imageTag").GetString()!)];
    }

    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return json.RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
    }
}

/// <summary>
/// One IAM-mode server with <c>Public:Host=public.wharf.test</c> and a shiftable clock: a public
/// repository <c>demo/app:v1</c> pushed by root over the public address, a private <c>private/secret:v1</c>,
/// a publisher (ECR Public's power-user policy) and a reader who may only log in.
/// </summary>
public sealed class PublicAddressFixture : IAsyncLifetime
{
    private WharfTestServer? server;

    internal ShiftedClock Clock { get; } = new();

    public WharfTestServer Server => server ?? throw new InvalidOperationException("not started");

    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "wharf-public-work-" + Guid.NewGuid().ToString("N"));

    public Dictionary<string, string> Root { get; private set; } = [];

    public Dictionary<string, string> Publisher { get; private set; } = [];

    public Dictionary<string, string> Reader { get; private set; } = [];

    public string Alias { get; private set; } = "";

    public LayoutImage Image { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(WorkDirectory);
        server = await WharfTestServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Auth"] = "Iam",
                ["Public:Host"] = "public.wharf.test",

                // Every client here is 127.0.0.1: ECR Public's anonymous rate (1/s) is the limits tests' subject, not this class's.
                ["Public:AnonymousPulls:RequestsPerSecond"] = "1000",
                ["Public:AnonymousPulls:Burst"] = "10000",
            },
            services: s => s.AddSingleton<TimeProvider>(Clock));
        Root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, "us-east-1", who, args);

        (await Aws(Root, "ecr-public", "create-repository", "--repository-name", "demo/app")).EnsureSuccess();
        using (var registries = JsonDocument.Parse((await Aws(Root, "ecr-public", "describe-registries")).EnsureSuccess().StandardOutput))
        {
            Alias = registries.RootElement.GetProperty("registries")[0].GetProperty("aliases")[0].GetProperty("name").GetString()!;
        }

        Image = await TestImages.MultiLayerAsync();
        var tools = ContainerTools.Instance;
        var publicPassword = (await Aws(Root, "ecr-public", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", "AWS:" + publicPassword, Image.SkopeoReference, $"docker://{server.PublicHostAndPort}/{Alias}/demo/app:v1")).EnsureSuccess();
        var privatePassword = (await Aws(Root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", "AWS:" + privatePassword, Image.SkopeoReference, $"docker://{server.HostAndPort}/private/secret:v1")).EnsureSuccess();

        (await Aws(Root, "iam", "create-user", "--user-name", "publisher")).EnsureSuccess();
        (await Aws(Root, "iam", "attach-user-policy", "--user-name", "publisher", "--policy-arn", "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicPowerUser")).EnsureSuccess();
        Publisher = IamTestAccess.CliKey(await Aws(Root, "iam", "create-access-key", "--user-name", "publisher"));
        (await Aws(Root, "iam", "create-user", "--user-name", "reader")).EnsureSuccess();
        (await Aws(Root, "iam", "put-user-policy", "--user-name", "reader", "--policy-name", "login", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"}]}""")).EnsureSuccess();
        Reader = IamTestAccess.CliKey(await Aws(Root, "iam", "create-access-key", "--user-name", "reader"));
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        Directory.Delete(WorkDirectory, recursive: true);
    }
}
