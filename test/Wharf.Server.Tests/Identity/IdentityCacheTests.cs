using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// IAM mode's caches of verified <c>/v2</c> passwords and of a principal's identity policies, and their bound
/// (docs/identity.md "Caches and their bounds"): a write through this node's IAM API ends a permission or a
/// password on the next request; a write this node did not make (another node, <c>wharf admin</c>; here
/// written to the store directly) within <see cref="IdentityChanges.MaxAge"/>. Deny still wins throughout.
/// </summary>
public sealed class IdentityCacheTests
{
    private const string Region = "us-east-1";
    private const string Repo = "cache/app";
    private const string ReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

    private delegate Task<ProcessResult> IamCall(params string[] args);

    [Fact]
    public async Task Detaching_a_policy_denying_or_deleting_a_key_through_the_api_takes_effect_on_the_next_request()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var (iam, user, pull) = await SetUpAsync(server);
        Assert.Equal(HttpStatusCode.OK, await pull());
        Assert.Equal(HttpStatusCode.OK, await pull()); // served from the caches

        (await iam("detach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await iam("attach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());

        // An explicit deny beside the allow wins, at once.
        const string deny = """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}]}""";
        (await iam("put-user-policy", "--user-name", "puller", "--policy-name", "deny", "--policy-document", deny)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await iam("delete-user-policy", "--user-name", "puller", "--policy-name", "deny")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());

        (await iam("update-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"], "--status", "Inactive")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
        (await iam("update-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"], "--status", "Active")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());
        (await iam("delete-access-key", "--user-name", "puller", "--access-key-id", user["AWS_ACCESS_KEY_ID"])).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
    }

    [Fact]
    public async Task Writes_this_node_did_not_make_take_effect_within_the_stated_bound()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var (_, user, pull) = await SetUpAsync(server);
        var identities = server.GetService<IMetadataStore>().Identities;
        var userArn = (await identities.GetAccessKeyAsync(user["AWS_ACCESS_KEY_ID"], Oci.Ct))!.PrincipalArn;
        Assert.Equal(HttpStatusCode.OK, await pull());

        // Another node detaches the policy: this node may serve its cached allow until the bound, not after.
        Assert.True(await identities.DetachManagedPolicyAsync(userArn, ReadOnly, Oci.Ct));
        time.Advance(IdentityChanges.MaxAge - TimeSpan.FromMilliseconds(1));
        Assert.Equal(HttpStatusCode.OK, await pull());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(HttpStatusCode.Forbidden, await pull());

        Assert.True(await identities.AttachManagedPolicyAsync(userArn, ReadOnly, Oci.Ct));
        time.Advance(IdentityChanges.MaxAge);
        Assert.Equal(HttpStatusCode.OK, await pull());

        // Another node deactivates the key: its password is refused once the bound has passed.
        Assert.True(await identities.SetAccessKeyActiveAsync(user["AWS_ACCESS_KEY_ID"], false, Oci.Ct));
        time.Advance(IdentityChanges.MaxAge);
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
        Assert.True(await identities.SetAccessKeyActiveAsync(user["AWS_ACCESS_KEY_ID"], true, Oci.Ct));
        time.Advance(IdentityChanges.MaxAge);
        Assert.Equal(HttpStatusCode.OK, await pull());

        // ... or deletes it.
        Assert.True(await identities.DeleteAccessKeyAsync(user["AWS_ACCESS_KEY_ID"], Oci.Ct));
        time.Advance(IdentityChanges.MaxAge);
        Assert.Equal(HttpStatusCode.Unauthorized, await pull());
    }

    [Fact]
    public async Task A_cached_password_still_expires_with_its_token()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var (_, _, pull) = await SetUpAsync(server);
        Assert.Equal(HttpStatusCode.OK, await pull());

        // Just before its end the password works (and is cached); at its end it is refused as expired, not served from memory.
        time.Advance(TimeSpan.FromHours(12) - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, await pull());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
    }

    [Fact]
    public async Task Resource_tag_conditions_in_identity_and_repository_policies_still_see_the_tags()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var (iam, _, pull) = await SetUpAsync(server);
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Ecr(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["ecr", .. args]);
        var arn = (await Ecr("describe-repositories", "--repository-names", Repo, "--query", "repositories[0].repositoryArn", "--output", "text")).EnsureSuccess().StandardOutput.Trim().Trim('"');

        // Only an identity policy with a tag condition allows: untagged, the pull is refused; tagged, allowed.
        (await iam("detach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        const string byTag = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}""";
        (await iam("put-user-policy", "--user-name", "puller", "--policy-name", "by-tag", "--policy-document", byTag)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
        (await Ecr("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=blue")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());

        // A repository policy's deny on a tag wins over the identity's allow.
        (await iam("delete-user-policy", "--user-name", "puller", "--policy-name", "by-tag")).EnsureSuccess();
        (await iam("attach-user-policy", "--user-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        const string denyByTag = """{"Version":"2012-10-17","Statement":[{"Sid":"frozen","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"ecr:ResourceTag/frozen":"yes"}}}]}""";
        (await Ecr("set-repository-policy", "--repository-name", Repo, "--policy-text", denyByTag)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, await pull());
        (await Ecr("tag-resource", "--resource-arn", arn, "--tags", "Key=frozen,Value=yes")).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, await pull());
    }

    // The root pushes an image; a user with ECR's read-only policy gets a password and pulls it (one manifest GET per call).
    private static async Task<(IamCall Iam, Dictionary<string, string> User, Func<Task<HttpStatusCode>> Pull)> SetUpAsync(WharfTestServer server)
    {
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Iam(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["iam", .. args]);
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

        return (Iam, user, Pull);
    }
}
