using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// IAM mode end to end: users made with <c>wharf admin</c>, managed and inline policies, a repository
/// policy, two accounts — API calls through the AWS CLI and /v2 requests with tokens are allowed or
/// denied as AWS decides, with AWS's messages.
/// </summary>
public sealed class PolicyTests : IAsyncLifetime
{
    private const string Region = "us-east-1";
    private const string A = "123456789012";
    private const string B = "222222222222";
    private const string RepoArn = $"arn:aws:ecr:{Region}:{A}:repository/team/app";

    private WharfTestServer server = null!;
    private Dictionary<string, string> root = null!;

    public async ValueTask InitializeAsync()
    {
        server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        (await CliAsync(root, "ecr", "create-repository", "--repository-name", "team/app")).EnsureSuccess();
        using var client = await V2ClientAsync(root);
        await Oci.PushImageAsync(client, "team/app", "v1");
    }

    public async ValueTask DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Pull_only_user_pulls_but_cannot_push_or_list()
    {
        var alice = await UserAsync("alice", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly");
        using var client = await V2ClientAsync(alice);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/team/app/manifests/v1", Oci.Ct)).StatusCode);

        using var push = await client.PostAsync("/v2/team/app/blobs/uploads/", null, Oci.Ct);
        var (code, error) = await Oci.ErrorAsync(push);
        Assert.Equal(HttpStatusCode.Forbidden, push.StatusCode);
        Assert.Equal("DENIED", code);
        Assert.Equal(
            $"User: arn:aws:iam::{A}:user/alice is not authorized to perform: ecr:InitiateLayerUpload on resource: {RepoArn} because no identity-based policy allows the ecr:InitiateLayerUpload action",
            error.GetProperty("message").GetString());

        var list = await CliAsync(alice, "ecr", "describe-repositories");
        Assert.Contains("(AccessDeniedException)", list.StandardError, StringComparison.Ordinal);
        Assert.Contains("is not authorized to perform: ecr:DescribeRepositories", list.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Power_user_pushes_but_cannot_delete_and_an_explicit_deny_wins_over_full_access()
    {
        var carol = await UserAsync("carol", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser");
        using (var client = await V2ClientAsync(carol))
        {
            await Oci.PushImageAsync(client, "team/app", "from-carol");
        }

        // Pushing to a repository that does not exist would create it: that needs ecr:CreateRepository.
        using (var client = await V2ClientAsync(carol))
        {
            using var create = await client.PostAsync("/v2/carol/new/blobs/uploads/", null, Oci.Ct);
            var (_, createError) = await Oci.ErrorAsync(create);
            Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
            Assert.Contains("ecr:CreateRepository", createError.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var delete = await CliAsync(carol, "ecr", "batch-delete-image", "--repository-name", "team/app", "--image-ids", "imageTag=from-carol");
        Assert.Contains("(AccessDeniedException)", delete.StandardError, StringComparison.Ordinal);

        var erin = await UserAsync("erin", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess");
        await AdminAsync("put-user-policy", "--user", "erin", "--policy-name", "no-deletes", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:BatchDeleteImage","Resource":"*"}]}""");
        (await CliAsync(erin, "ecr", "describe-images", "--repository-name", "team/app")).EnsureSuccess();
        var denied = await CliAsync(erin, "ecr", "batch-delete-image", "--repository-name", "team/app", "--image-ids", "imageTag=from-carol");
        Assert.Contains("with an explicit deny in an identity-based policy", denied.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Same_account_repository_policy_alone_grants_but_tokens_need_an_identity_policy()
    {
        var dave = await UserAsync("dave");
        var token = await CliAsync(dave, "ecr", "get-login-password");
        Assert.Contains("(AccessDeniedException)", token.StandardError, StringComparison.Ordinal);

        // A repository policy cannot grant GetAuthorizationToken, even naming dave.
        await SetPolicyAsync($$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{A}}:user/dave"},"Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}""");
        Assert.Contains("(AccessDeniedException)", (await CliAsync(dave, "ecr", "get-login-password")).StandardError, StringComparison.Ordinal);

        await AdminAsync("put-user-policy", "--user", "dave", "--policy-name", "login", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}""");
        using var client = await V2ClientAsync(dave);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/team/app/manifests/v1", Oci.Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v2/team/app/tags/list", Oci.Ct)).StatusCode);
    }

    [Fact]
    public async Task Cross_account_needs_the_repository_policy_and_the_callers_identity_policy()
    {
        (await AdminAsync("create-account", B)).EnsureSuccess();
        var bob = await UserAsync("bob", account: B);
        await AdminAsync("put-user-policy", "--account", B, "--user", "bob", "--policy-name", "pull", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:DescribeImages"],"Resource":"*"}]}""");

        var before = await CliAsync(bob, "ecr", "describe-images", "--registry-id", A, "--repository-name", "team/app");
        Assert.Contains("because no resource-based policy allows the ecr:DescribeImages action", before.StandardError, StringComparison.Ordinal);

        await SetPolicyAsync($$"""{"Version":"2012-10-17","Statement":[{"Sid":"b-reads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{B}}:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:DescribeImages"]}]}""");
        (await CliAsync(bob, "ecr", "describe-images", "--registry-id", A, "--repository-name", "team/app")).EnsureSuccess();

        // /v2 on account A's registry host, with bob's token.
        using var client = await V2ClientAsync(bob);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/team/app/manifests/v1");
        request.Headers.Host = $"{A}.dkr.ecr.{Region}.localhost:{server.BaseAddress.Port}";
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request, Oci.Ct)).StatusCode);

        // The policy is read on every request: removing it stops the next pull.
        (await CliAsync(root, "ecr", "delete-repository-policy", "--repository-name", "team/app")).EnsureSuccess();
        using var again = new HttpRequestMessage(HttpMethod.Get, "/v2/team/app/manifests/v1");
        again.Headers.Host = $"{A}.dkr.ecr.{Region}.localhost:{server.BaseAddress.Port}";
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(again, Oci.Ct)).StatusCode);
    }

    [Fact]
    public async Task Registry_policy_applies_to_every_repository_of_the_registry()
    {
        (await AdminAsync("create-account", B)).EnsureSuccess();
        var bob = await UserAsync("bob", account: B);
        await AdminAsync("put-user-policy", "--account", B, "--user", "bob", "--policy-name", "read", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeImages","Resource":"*"}]}""");
        Assert.Contains("(AccessDeniedException)", (await CliAsync(bob, "ecr", "describe-images", "--registry-id", A, "--repository-name", "team/app")).StandardError, StringComparison.Ordinal);

        const string Grant = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"{{B}}"},"Action":"ecr:DescribeImages","Resource":"arn:aws:ecr:{{Region}}:{{A}}:repository/*"},{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository","Resource":"*"}]}""";
        (await CliAsync(root, "ecr", "put-registry-policy", "--policy-text", Grant)).EnsureSuccess();
        (await CliAsync(bob, "ecr", "describe-images", "--registry-id", A, "--repository-name", "team/app")).EnsureSuccess();

        // In the legacy V1 scope the registry policy only governs replication, imports and creation.
        (await CliAsync(root, "ecr", "put-account-setting", "--name", "REGISTRY_POLICY_SCOPE", "--value", "V1")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await CliAsync(bob, "ecr", "describe-images", "--registry-id", A, "--repository-name", "team/app")).StandardError, StringComparison.Ordinal);
        (await CliAsync(root, "ecr", "put-account-setting", "--name", "REGISTRY_POLICY_SCOPE", "--value", "V2")).EnsureSuccess();

        // Its explicit deny binds even the account's root.
        var delete = await CliAsync(root, "ecr", "delete-repository", "--repository-name", "team/app", "--force");
        Assert.Contains("with an explicit deny in a resource-based policy", delete.StandardError, StringComparison.Ordinal);

        using (var got = System.Text.Json.JsonDocument.Parse((await CliAsync(root, "ecr", "get-registry-policy")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(Grant, got.RootElement.GetProperty("policyText").GetString());
        }

        (await CliAsync(root, "ecr", "delete-registry-policy")).EnsureSuccess();
        Assert.Contains("(RegistryPolicyNotFoundException)", (await CliAsync(root, "ecr", "get-registry-policy")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(AccessDeniedException)", (await CliAsync(bob, "ecr", "describe-images", "--registry-id", A, "--repository-name", "team/app")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(InvalidParameterException)", (await CliAsync(root, "ecr", "put-registry-policy", "--policy-text", "{}")).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registry_policy_governs_operations_on_the_registry_itself_in_v2_scope()
    {
        // Operations not scoped to one repository (DescribeRegistry, registry settings, listing all
        // repositories) are ECR requests in the registry too: its policy's allow and deny count.
        var dora = await UserAsync("dora");
        Assert.Contains("because no identity-based policy allows the ecr:DescribeRegistry action", (await CliAsync(dora, "ecr", "describe-registry")).StandardError, StringComparison.Ordinal);

        const string Policy = $$"""
            {"Version":"2012-10-17","Statement":[
              {"Sid":"DoraReads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{A}}:user/dora"},"Action":"ecr:DescribeRegistry","Resource":"*"},
              {"Sid":"NoOne","Effect":"Deny","Principal":"*","Action":["ecr:GetRegistryScanningConfiguration","ecr:DescribeRepositories"],"Resource":"*"}]}
            """;
        (await CliAsync(root, "ecr", "put-registry-policy", "--policy-text", Policy)).EnsureSuccess();
        using (var registry = System.Text.Json.JsonDocument.Parse((await CliAsync(dora, "ecr", "describe-registry")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(A, registry.RootElement.GetProperty("registryId").GetString());
        }

        foreach (string[] denied in (string[][])[["get-registry-scanning-configuration"], ["describe-repositories"]])
        {
            var result = await CliAsync(root, ["ecr", .. denied]);
            Assert.Contains("(AccessDeniedException)", result.StandardError, StringComparison.Ordinal);
            Assert.Contains("with an explicit deny in a resource-based policy", result.StandardError, StringComparison.Ordinal);
        }

        // /v2/_catalog lists the registry's repositories: ecr:DescribeRepositories, denied alike.
        using (var client = await V2ClientAsync(root))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v2/_catalog", Oci.Ct)).StatusCode);
        }

        // In V1 scope the registry policy governs only replication, imports and creation.
        (await CliAsync(root, "ecr", "put-account-setting", "--name", "REGISTRY_POLICY_SCOPE", "--value", "V1")).EnsureSuccess();
        (await CliAsync(root, "ecr", "describe-repositories")).EnsureSuccess();
        (await CliAsync(root, "ecr", "get-registry-scanning-configuration")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await CliAsync(dora, "ecr", "describe-registry")).StandardError, StringComparison.Ordinal);
        (await CliAsync(root, "ecr", "put-account-setting", "--name", "REGISTRY_POLICY_SCOPE", "--value", "V2")).EnsureSuccess();
        (await CliAsync(root, "ecr", "delete-registry-policy")).EnsureSuccess();
        (await CliAsync(root, "ecr", "describe-repositories")).EnsureSuccess();
    }

    [Fact]
    public async Task Request_tags_and_tag_keys_are_condition_keys_of_create_tag_and_untag()
    {
        var tess = await UserAsync("tess");
        await AdminAsync("put-user-policy", "--user", "tess", "--policy-name", "tagged", "--policy-document",
            """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*",
               "Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:username}"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}},
              {"Effect":"Allow","Action":["ecr:TagResource","ecr:UntagResource"],"Resource":"*"},
              {"Effect":"Deny","Action":["ecr:TagResource","ecr:UntagResource"],"Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}}]}
            """);

        (await CliAsync(tess, "ecr", "create-repository", "--repository-name", "tess/one", "--tags", "Key=team,Value=tess", "Key=env,Value=dev")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await CliAsync(tess, "ecr", "create-repository", "--repository-name", "tess/two", "--tags", "Key=team,Value=bob")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(AccessDeniedException)", (await CliAsync(tess, "ecr", "create-repository", "--repository-name", "tess/three", "--tags", "Key=team,Value=tess", "Key=cost,Value=1")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(AccessDeniedException)", (await CliAsync(tess, "ecr", "create-repository", "--repository-name", "tess/four")).StandardError, StringComparison.Ordinal);

        // Changing the team tag is denied, adding or removing others is not.
        var arn = $"arn:aws:ecr:{Region}:{A}:repository/tess/one";
        (await CliAsync(tess, "ecr", "tag-resource", "--resource-arn", arn, "--tags", "Key=owner,Value=tess")).EnsureSuccess();
        (await CliAsync(tess, "ecr", "untag-resource", "--resource-arn", arn, "--tag-keys", "owner")).EnsureSuccess();
        Assert.Contains("with an explicit deny", (await CliAsync(tess, "ecr", "tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=other")).StandardError, StringComparison.Ordinal);
        Assert.Contains("with an explicit deny", (await CliAsync(tess, "ecr", "untag-resource", "--resource-arn", arn, "--tag-keys", "team", "env")).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repository_policies_are_validated_and_round_trip()
    {
        var invalid = await CliAsync(root, "ecr", "set-repository-policy", "--repository-name", "team/app", "--policy-text", """{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}""");
        Assert.Contains("(InvalidParameterException)", invalid.StandardError, StringComparison.Ordinal);
        Assert.Contains("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'", invalid.StandardError, StringComparison.Ordinal);
        var missing = await CliAsync(root, "ecr", "get-repository-policy", "--repository-name", "team/app");
        Assert.Contains("(RepositoryPolicyNotFoundException)", missing.StandardError, StringComparison.Ordinal);

        const string Policy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}""";
        await SetPolicyAsync(Policy);
        var got = (await CliAsync(root, "ecr", "get-repository-policy", "--repository-name", "team/app")).EnsureSuccess();
        using var json = System.Text.Json.JsonDocument.Parse(got.StandardOutput);
        Assert.Equal(Policy, json.RootElement.GetProperty("policyText").GetString());
    }

    private async Task SetPolicyAsync(string policy) =>
        (await CliAsync(root, "ecr", "set-repository-policy", "--repository-name", "team/app", "--policy-text", policy)).EnsureSuccess();

    private async Task<Dictionary<string, string>> UserAsync(string name, string? managedPolicy = null, string account = A)
    {
        (await AdminAsync("create-user", "--account", account, name)).EnsureSuccess();
        if (managedPolicy is not null)
        {
            (await AdminAsync("attach-user-policy", "--account", account, "--user", name, "--policy-arn", managedPolicy)).EnsureSuccess();
        }

        return IamTestAccess.AdminKey(await AdminAsync("create-access-key", "--account", account, "--user", name));
    }

    private Task<ProcessResult> AdminAsync(params string[] args) => IamTestAccess.AdminAsync(server, args);

    private Task<ProcessResult> CliAsync(Dictionary<string, string> credentials, params string[] args) =>
        AwsClients.CliAsync(server.BaseAddress, Region, credentials, args);

    private Task<HttpClient> V2ClientAsync(Dictionary<string, string> credentials) => IamTestAccess.V2ClientAsync(server, Region, credentials);
}
