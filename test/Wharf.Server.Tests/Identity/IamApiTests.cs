using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// The IAM and STS Query APIs with <c>aws iam</c> and <c>aws sts</c>: users, keys and policies that take effect at once.
/// The tests that take <c>postgres</c> run on both metadata stores. With those of <see cref="RolesAndGroupsTests"/>,
/// <see cref="StsBoto3Tests"/>, <see cref="SigV4BindingTests"/> and <see cref="IamModeTests"/>, they are the IAM matrix
/// on PostgreSQL: users, groups, roles, access keys, inline, AWS managed and customer managed policies, AssumeRole
/// and session tokens, /v2 passwords and token-key rotation, each end to end once rather than every test twice.
/// </summary>
public sealed class IamApiTests
{
    private const string Region = "us-east-1";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Users_keys_and_policies_managed_with_aws_iam_take_effect_immediately(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = Root(server);
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);

        using (var me = JsonDocument.Parse((await Aws(root, "sts", "get-caller-identity")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("arn:aws:iam::123456789012:root", me.RootElement.GetProperty("Arn").GetString());
            Assert.Equal("123456789012", me.RootElement.GetProperty("Account").GetString());
        }

        using (var user = JsonDocument.Parse((await Aws(root, "iam", "create-user", "--user-name", "alice")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("arn:aws:iam::123456789012:user/alice", user.RootElement.GetProperty("User").GetProperty("Arn").GetString());
            Assert.StartsWith("AIDA", user.RootElement.GetProperty("User").GetProperty("UserId").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("(EntityAlreadyExists)", (await Aws(root, "iam", "create-user", "--user-name", "alice")).StandardError, StringComparison.Ordinal);
        Dictionary<string, string> alice;
        string aliceKey;
        using (var key = JsonDocument.Parse((await Aws(root, "iam", "create-access-key", "--user-name", "alice")).EnsureSuccess().StandardOutput))
        {
            var k = key.RootElement.GetProperty("AccessKey");
            aliceKey = k.GetProperty("AccessKeyId").GetString()!;
            alice = new() { ["AWS_ACCESS_KEY_ID"] = aliceKey, ["AWS_SECRET_ACCESS_KEY"] = k.GetProperty("SecretAccessKey").GetString()! };
        }

        using (var me = JsonDocument.Parse((await Aws(alice, "sts", "get-caller-identity")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("arn:aws:iam::123456789012:user/alice", me.RootElement.GetProperty("Arn").GetString());
        }

        // No policy: denied. ReadOnly attached: allowed. Detached: denied again, on the next call.
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "attach-user-policy", "--user-name", "alice", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        (await Aws(alice, "ecr", "describe-repositories")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "create-repository", "--repository-name", "alice/app")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "own", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"arn:aws:ecr:*:123456789012:repository/${aws:username}/*"}]}""")).EnsureSuccess();
        (await Aws(alice, "ecr", "create-repository", "--repository-name", "alice/app")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "create-repository", "--repository-name", "bob/app")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "detach-user-policy", "--user-name", "alice", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);

        // Users cannot manage IAM without an IAM policy.
        Assert.Contains("(AccessDenied)", (await Aws(alice, "iam", "create-user", "--user-name", "mallory")).StandardError, StringComparison.Ordinal);

        Assert.Contains("(MalformedPolicyDocument)", (await Aws(root, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "bad", "--policy-document", """{"Statement":[{"Effect":"Nope"}]}""")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(NoSuchEntity)", (await Aws(root, "iam", "get-user", "--user-name", "nobody")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(DeleteConflict)", (await Aws(root, "iam", "delete-user", "--user-name", "alice")).StandardError, StringComparison.Ordinal);

        using (var keys = JsonDocument.Parse((await Aws(root, "iam", "list-access-keys", "--user-name", "alice")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(aliceKey, Assert.Single(keys.RootElement.GetProperty("AccessKeyMetadata").EnumerateArray()).GetProperty("AccessKeyId").GetString());
        }

        // An inactive key fails; reactivated, it works.
        (await Aws(root, "iam", "update-access-key", "--user-name", "alice", "--access-key-id", aliceKey, "--status", "Inactive")).EnsureSuccess();
        Assert.Contains("(UnrecognizedClientException)", (await Aws(alice, "ecr", "list-images", "--repository-name", "alice/app")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "update-access-key", "--user-name", "alice", "--access-key-id", aliceKey, "--status", "Active")).EnsureSuccess();
        (await Aws(alice, "sts", "get-caller-identity")).EnsureSuccess();

        // A deleted key is refused at once.
        (await Aws(root, "iam", "delete-access-key", "--user-name", "alice", "--access-key-id", aliceKey)).EnsureSuccess();
        Assert.Contains("(UnrecognizedClientException)", (await Aws(alice, "ecr", "list-images", "--repository-name", "alice/app")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(InvalidClientTokenId)", (await Aws(alice, "sts", "get-caller-identity")).StandardError, StringComparison.Ordinal);

        (await Aws(root, "iam", "delete-user-policy", "--user-name", "alice", "--policy-name", "own")).EnsureSuccess();
        (await Aws(root, "iam", "delete-user", "--user-name", "alice")).EnsureSuccess();
        using var users = JsonDocument.Parse((await Aws(root, "iam", "list-users")).EnsureSuccess().StandardOutput);
        Assert.Empty(users.RootElement.GetProperty("Users").EnumerateArray());
    }

    [Fact]
    public async Task Query_api_signature_failures_use_query_error_codes()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var wrong = Root(server);
        wrong["AWS_SECRET_ACCESS_KEY"] += "x";
        var result = await AwsClients.CliAsync(server.BaseAddress, Region, wrong, "iam", "list-users");
        Assert.Contains("(SignatureDoesNotMatch)", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Boto3_reads_back_policies_groups_roles_managed_policies_and_tags_as_iam_answers_them(bool postgres)
    {
        // ControlPlane/Scripts/iam_reads.py: the reads Terraform makes after each write, paged by
        // boto3's paginators, customer managed policies and their versions taking effect in ECR, tags,
        // and DeleteUser's conflicts.
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "iam_reads.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, Region, Root(server));
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("ok", result.StandardOutput.Trim());
    }

    private static Dictionary<string, string> Root(WharfTestServer server) =>
        AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
}
