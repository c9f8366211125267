using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Server.Identity;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// IAM mode's caches — verified <c>/v2</c> passwords with their principal and key checks, a principal's identity
/// policies, the registry policy, a repository's policy and tags — and their bound (docs/identity.md "Caches and their
/// bounds"): each is valid only while the store's authorization generation is unchanged, so a change made through this
/// node's API applies to the very next request, and one made through another node on the same store or by
/// <c>wharf admin</c> in another process to every request that starts <see cref="TokenRequestIdentity.GenerationMaxAge"/>
/// after it returned (the age of the generation's reading a /v2 request may use); and a cached password still ends with its token. Every scenario pulls twice first, so the second pull
/// is served from the caches.
/// </summary>
public sealed class IdentityCacheTests
{
    private const string Region = "us-east-1";
    private const string Repo = "cache/app";
    private const string ReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    private const string DenyPull = """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}]}""";
    private const string DenyPullToAll = """{"Version":"2012-10-17","Statement":[{"Sid":"closed","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}""";

    // A change made elsewhere (another node, another process) applies to requests that start this long after it returned.
    private static Task AfterGenerationMaxAgeAsync() => Task.Delay(TokenRequestIdentity.GenerationMaxAge, Oci.Ct);

    private delegate Task<ProcessResult> AwsCall(params string[] args);

    [Fact]
    public async Task Changes_through_the_api_take_effect_on_the_next_request()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (iam, ecr, user, pull) = await SetUpAsync(server);
        await AssertCachedPullAsync(pull);

        (await iam("detach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await iam("attach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());

        // An explicit deny beside the allow wins, at once: inline, then in a group the user joins.
        (await iam("put-user-policy", "--user-name", "puller", "--policy-name", "deny", "--policy-document", DenyPull)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await iam("delete-user-policy", "--user-name", "puller", "--policy-name", "deny")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());
        (await iam("create-group", "--group-name", "frozen")).EnsureSuccess();
        (await iam("put-group-policy", "--group-name", "frozen", "--policy-name", "deny", "--policy-document", DenyPull)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());
        (await iam("add-user-to-group", "--group-name", "frozen", "--user-name", "puller")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await iam("remove-user-from-group", "--group-name", "frozen", "--user-name", "puller")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());

        // The repository policy and the registry policy (both resource policies, kept per repository and registry).
        (await ecr("set-repository-policy", "--repository-name", Repo, "--policy-text", DenyPullToAll)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await ecr("delete-repository-policy", "--repository-name", Repo)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());
        var account = (await AwsClients.CliAsync(server.BaseAddress, Region, Root(server), "sts", "get-caller-identity", "--query", "Account")).EnsureSuccess().StandardOutput.Trim().Trim('"');
        var registryDeny = $$"""{"Version":"2012-10-17","Statement":[{"Sid":"closed","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:{{Region}}:{{account}}:repository/*"}]}""";
        (await ecr("put-registry-policy", "--policy-text", registryDeny)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await ecr("delete-registry-policy")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());

        // The key that signed the password: deactivated, then active again, then deleted.
        (await iam("update-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"], "--status", "Inactive")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
        (await iam("update-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"], "--status", "Active")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());
        (await iam("delete-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"])).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Changes_made_through_another_node_on_the_same_store_take_effect_within_the_generations_age(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (_, _, user, pull) = await SetUpAsync(server);

        // A second server on the same data directory and metadata store: another node (or process) of the registry.
        var settings = new Dictionary<string, string?> { ["Auth"] = "Iam" };
        if (postgres)
        {
            settings["Metadata:Backend"] = "Postgres";
            settings["Metadata:ConnectionString"] = server.StoreArguments[server.StoreArguments.ToList().IndexOf("--metadata-connection") + 1];
        }

        await using var other = await WharfTestServer.StartAsync(settings, dataDirectory: server.DataDirectory);
        Task<ProcessResult> Iam(params string[] args) => AwsClients.CliAsync(other.BaseAddress, Region, Root(server), ["iam", .. args]);
        Task<ProcessResult> Ecr(params string[] args) => AwsClients.CliAsync(other.BaseAddress, Region, Root(server), ["ecr", .. args]);
        await AssertCachedPullAsync(pull);

        (await Iam("detach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await Iam("attach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        await AssertCachedPullAsync(pull);

        (await Ecr("set-repository-policy", "--repository-name", Repo, "--policy-text", DenyPullToAll)).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await Ecr("delete-repository-policy", "--repository-name", Repo)).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        await AssertCachedPullAsync(pull);

        (await Iam("update-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"], "--status", "Inactive")).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
        (await Iam("update-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"], "--status", "Active")).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        await AssertCachedPullAsync(pull);
        (await Iam("delete-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"])).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
    }

    [Fact]
    public async Task Changes_made_by_wharf_admin_in_another_process_take_effect_within_the_generations_age()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (_, _, _, pull) = await SetUpAsync(server);
        await AssertCachedPullAsync(pull);

        (await IamTestAccess.AdminAsync(server, "put-user-policy", "--user", "puller", "--policy-name", "deny", "--policy-document", DenyPull)).EnsureSuccess();
        await AfterGenerationMaxAgeAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());

        // A second user made by wharf admin, with the read-only policy it attaches: its password works at once.
        (await IamTestAccess.AdminAsync(server, "create-user", "second")).EnsureSuccess();
        (await IamTestAccess.AdminAsync(server, "attach-user-policy", "--user", "second", "--policy-arn", ReadOnly)).EnsureSuccess();
        var key = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--user", "second"));
        using var second = await IamTestAccess.V2ClientAsync(server, Region, key);
        using var response = await second.GetAsync($"/v2/{Repo}/manifests/v1", Oci.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_cached_password_still_expires_with_its_token()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var (_, _, _, pull) = await SetUpAsync(server);
        await AssertCachedPullAsync(pull);

        // Just before its end the password works (from the cache); at its end it is refused as expired, not served from memory.
        time.Advance(TimeSpan.FromHours(12) - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, await pull());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
    }

    [Fact]
    public async Task An_allow_that_depends_on_the_requests_time_is_evaluated_again_on_every_request()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var (iam, _, _, pull) = await SetUpAsync(server);

        // Only a policy with a time condition allows: no write happens when the time passes, yet the next pull is refused.
        (await iam("detach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        var until = (time.GetUtcNow() + TimeSpan.FromMinutes(10)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var byTime = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":""" + "\"" + until + "\"" + "}}}]}";
        (await iam("put-user-policy", "--user-name", "puller", "--policy-name", "by-time", "--policy-document", byTime)).EnsureSuccess();
        await AssertCachedPullAsync(pull);
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
    }

    [Fact]
    public async Task Resource_tag_conditions_in_identity_and_repository_policies_see_a_tag_change_on_the_next_request()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (iam, ecr, _, pull) = await SetUpAsync(server);
        var arn = (await ecr("describe-repositories", "--repository-names", Repo, "--query", "repositories[0].repositoryArn", "--output", "text")).EnsureSuccess().StandardOutput.Trim().Trim('"');

        // Only an identity policy with a tag condition allows: untagged, the pull is refused; tagged, allowed.
        (await iam("detach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        const string byTag = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}""";
        (await iam("put-user-policy", "--user-name", "puller", "--policy-name", "by-tag", "--policy-document", byTag)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await ecr("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=blue")).EnsureSuccess();
        await AssertCachedPullAsync(pull);
        (await ecr("untag-resource", "--resource-arn", arn, "--tag-keys", "team")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());

        // A repository policy's deny on a tag wins over the identity's allow.
        (await iam("delete-user-policy", "--user-name", "puller", "--policy-name", "by-tag")).EnsureSuccess();
        (await iam("attach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        const string denyByTag = """{"Version":"2012-10-17","Statement":[{"Sid":"frozen","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"ecr:ResourceTag/frozen":"yes"}}}]}""";
        (await ecr("set-repository-policy", "--repository-name", Repo, "--policy-text", denyByTag)).EnsureSuccess();
        await AssertCachedPullAsync(pull);
        (await ecr("tag-resource", "--resource-arn", arn, "--tags", "Key=frozen,Value=yes")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
    }

    [Fact]
    public async Task A_keep_alive_connection_is_answered_for_the_password_each_request_carries()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (iam, _, user, _) = await SetUpAsync(server);
        (await iam("create-user", "--user-name", "nobody")).EnsureSuccess();
        const string tokenOnly = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}""";
        (await iam("put-user-policy", "--user-name", "nobody", "--policy-name", "token", "--policy-document", tokenOnly)).EnsureSuccess();
        var nobody = IamTestAccess.CliKey(await iam("create-access-key", "--user-name", "nobody"));
        async Task<string> BasicAsync(Dictionary<string, string> key) =>
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("AWS:" + (await AwsClients.CliAsync(server.BaseAddress, Region, key, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim()));
        var puller = await BasicAsync(user);
        var other = await BasicAsync(nobody);

        // One connection, requests one after another: the identity it resolved last is kept on it, and must follow the header.
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = server.BaseAddress };
        async Task<HttpStatusCode> PullAsync(string? basic)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{Repo}/manifests/v1");
            if (basic is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", basic);
            }

            using var response = await client.SendAsync(request, Oci.Ct);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await PullAsync(puller));
        Assert.Equal(HttpStatusCode.OK, await PullAsync(puller));
        Assert.Equal(HttpStatusCode.Forbidden, await PullAsync(other));
        Assert.Equal(HttpStatusCode.OK, await PullAsync(puller));
        Assert.Equal(HttpStatusCode.Unauthorized, await PullAsync(Convert.ToBase64String("AWS:not-a-token"u8.ToArray())));
        Assert.Equal(HttpStatusCode.Unauthorized, await PullAsync(null));
        Assert.Equal(HttpStatusCode.OK, await PullAsync(puller));

        // The user deleted (its key first): the connection's kept identity ends with the next request.
        (await iam("delete-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"])).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Unauthorized, await PullAsync(puller));
    }

    private static Dictionary<string, string> Root(WharfTestServer server) =>
        AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));

    // Twice: the first fills the caches, the second is served from them.
    private static async Task AssertCachedPullAsync(Func<Task<HttpStatusCode>> pull)
    {
        Assert.Equal(HttpStatusCode.OK, await pull());
        Assert.Equal(HttpStatusCode.OK, await pull());
    }

    // The root pushes an image; a user with ECR's read-only policy gets a password and pulls it (one manifest GET per call).
    private static async Task<(AwsCall Iam, AwsCall Ecr, Dictionary<string, string> User, Func<Task<HttpStatusCode>> Pull)> SetUpAsync(WharfTestServer server)
    {
        var root = Root(server);
        Task<ProcessResult> Iam(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["iam", .. args]);
        Task<ProcessResult> Ecr(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["ecr", .. args]);
        using (var rootClient = await IamTestAccess.V2ClientAsync(server, Region, root))
        {
            await Oci.PushImageAsync(rootClient, Repo, "v1");
        }

        (await Iam("create-user", "--user-name", "puller")).EnsureSuccess();
        (await Iam("attach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        var user = IamTestAccess.CliKey(await Iam("create-access-key", "--user-name", "puller"));
        var client = await IamTestAccess.V2ClientAsync(server, Region, user);
        async Task<HttpStatusCode> Pull()
        {
            using var response = await client.GetAsync($"/v2/{Repo}/manifests/v1", Oci.Ct);
            return response.StatusCode;
        }

        return (Iam, Ecr, user, Pull);
    }
}
