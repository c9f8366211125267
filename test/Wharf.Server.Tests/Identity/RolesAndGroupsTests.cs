using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// IAM groups and roles and STS <c>AssumeRole</c> with the AWS CLI: a group's policies reach its users,
/// a role's trust policy decides who may assume it, and the temporary credentials act with the role's
/// policies, on the API and (through <c>get-login-password</c>) on /v2, until the session ends.
/// </summary>
public sealed class RolesAndGroupsTests
{
    private const string Region = "us-east-1";
    private const string A = "123456789012";
    private const string B = "222222222222";
    private const string ReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

    [Fact]
    public async Task A_groups_policies_apply_to_its_members_while_they_are_members()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        var alice = await UserAsync(server, root, "alice");

        using (var group = JsonDocument.Parse((await Aws(root, "iam", "create-group", "--group-name", "readers")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal($"arn:aws:iam::{A}:group/readers", group.RootElement.GetProperty("Group").GetProperty("Arn").GetString());
            Assert.StartsWith("AGPA", group.RootElement.GetProperty("Group").GetProperty("GroupId").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("(EntityAlreadyExists)", (await Aws(root, "iam", "create-group", "--group-name", "readers")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "put-group-policy", "--group-name", "readers", "--policy-name", "list", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}""")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);

        (await Aws(root, "iam", "add-user-to-group", "--group-name", "readers", "--user-name", "alice")).EnsureSuccess();
        (await Aws(alice, "ecr", "describe-repositories")).EnsureSuccess();
        using (var group = JsonDocument.Parse((await Aws(root, "iam", "get-group", "--group-name", "readers")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("alice", Assert.Single(group.RootElement.GetProperty("Users").EnumerateArray()).GetProperty("UserName").GetString());
        }

        // A managed policy attached to the group, and a deny in another group the user is in.
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "describe-images", "--repository-name", "none")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "attach-group-policy", "--group-name", "readers", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Contains("(RepositoryNotFoundException)", (await Aws(alice, "ecr", "describe-images", "--repository-name", "none")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "create-group", "--group-name", "no-listing")).EnsureSuccess();
        (await Aws(root, "iam", "put-group-policy", "--group-name", "no-listing", "--policy-name", "deny", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:DescribeRepositories","Resource":"*"}]}""")).EnsureSuccess();
        (await Aws(root, "iam", "add-user-to-group", "--group-name", "no-listing", "--user-name", "alice")).EnsureSuccess();
        Assert.Contains("with an explicit deny in an identity-based policy", (await Aws(alice, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "remove-user-from-group", "--group-name", "no-listing", "--user-name", "alice")).EnsureSuccess();
        (await Aws(alice, "ecr", "describe-repositories")).EnsureSuccess();

        // Leaving the group takes its permissions away on the next call.
        (await Aws(root, "iam", "remove-user-from-group", "--group-name", "readers", "--user-name", "alice")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);

        Assert.Contains("(NoSuchEntity)", (await Aws(root, "iam", "add-user-to-group", "--group-name", "readers", "--user-name", "nobody")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(NoSuchEntity)", (await Aws(root, "iam", "get-group", "--group-name", "nobody")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(DeleteConflict)", (await Aws(root, "iam", "delete-group", "--group-name", "readers")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "delete-group-policy", "--group-name", "readers", "--policy-name", "list")).EnsureSuccess();
        (await Aws(root, "iam", "detach-group-policy", "--group-name", "readers", "--policy-arn", ReadOnly)).EnsureSuccess();
        (await Aws(root, "iam", "delete-group", "--group-name", "readers")).EnsureSuccess();
        Assert.Contains("(NoSuchEntity)", (await Aws(root, "iam", "get-group", "--group-name", "readers")).StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assumed_role_credentials_act_with_the_roles_policies_until_the_session_ends()
    {
        // The CLI signs with the real time; the server's clock is fake and moves past the session's end at
        // the close (an expired session token is reported as such whatever the request's clock).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        (await Aws(root, "ecr", "create-repository", "--repository-name", "team/app")).EnsureSuccess();
        using (var push = await V2ClientAsync(server, root))
        {
            await Oci.PushImageAsync(push, "team/app", "v1");
        }

        var alice = await UserAsync(server, root, "alice");
        var bob = await UserAsync(server, root, "bob");
        const string RoleArn = $"arn:aws:iam::{A}:role/puller";
        using (var role = JsonDocument.Parse((await Aws(root, "iam", "create-role", "--role-name", "puller", "--assume-role-policy-document",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{A}}:user/alice"},"Action":"sts:AssumeRole"}]}""")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(RoleArn, role.RootElement.GetProperty("Role").GetProperty("Arn").GetString());
            Assert.StartsWith("AROA", role.RootElement.GetProperty("Role").GetProperty("RoleId").GetString(), StringComparison.Ordinal);
            Assert.Equal(3600, role.RootElement.GetProperty("Role").GetProperty("MaxSessionDuration").GetInt32());
        }

        using (var role = JsonDocument.Parse((await Aws(root, "iam", "get-role", "--role-name", "puller")).EnsureSuccess().StandardOutput))
        {
            // The CLI decodes the URL-encoded document IAM returns.
            Assert.Equal("sts:AssumeRole", role.RootElement.GetProperty("Role").GetProperty("AssumeRolePolicyDocument").GetProperty("Statement")[0].GetProperty("Action").GetString());
        }

        (await Aws(root, "iam", "attach-role-policy", "--role-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Contains("(MalformedPolicyDocument)", (await Aws(root, "iam", "create-role", "--role-name", "bad", "--assume-role-policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}""")).StandardError, StringComparison.Ordinal);

        // The trust policy names alice: she may assume the role without an identity policy; bob may not,
        // the account's root may not, and no session outlives the role's maximum.
        Assert.Contains(
            $"User: arn:aws:iam::{A}:user/bob is not authorized to perform: sts:AssumeRole on resource: {RoleArn}",
            (await Aws(bob, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "s1")).StandardError,
            StringComparison.Ordinal);
        Assert.Contains("(AccessDenied)", (await Aws(root, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "s1")).StandardError, StringComparison.Ordinal);
        Assert.Contains("MaxSessionDuration", (await Aws(alice, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "s1", "--duration-seconds", "7200")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(AccessDenied)", (await Aws(alice, "sts", "assume-role", "--role-arn", $"arn:aws:iam::{A}:role/none", "--role-session-name", "s1")).StandardError, StringComparison.Ordinal);

        Dictionary<string, string> session;
        DateTimeOffset sessionEnd;
        using (var assumed = JsonDocument.Parse((await Aws(alice, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "ci-run", "--duration-seconds", "900")).EnsureSuccess().StandardOutput))
        {
            var credentials = assumed.RootElement.GetProperty("Credentials");
            Assert.StartsWith("ASIA", credentials.GetProperty("AccessKeyId").GetString(), StringComparison.Ordinal);
            Assert.Equal($"arn:aws:sts::{A}:assumed-role/puller/ci-run", assumed.RootElement.GetProperty("AssumedRoleUser").GetProperty("Arn").GetString());
            Assert.EndsWith(":ci-run", assumed.RootElement.GetProperty("AssumedRoleUser").GetProperty("AssumedRoleId").GetString(), StringComparison.Ordinal);
            sessionEnd = DateTimeOffset.Parse(credentials.GetProperty("Expiration").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(sessionEnd.ToUnixTimeSeconds() - time.GetUtcNow().ToUnixTimeSeconds(), 899, 900);
            session = new()
            {
                ["AWS_ACCESS_KEY_ID"] = credentials.GetProperty("AccessKeyId").GetString()!,
                ["AWS_SECRET_ACCESS_KEY"] = credentials.GetProperty("SecretAccessKey").GetString()!,
                ["AWS_SESSION_TOKEN"] = credentials.GetProperty("SessionToken").GetString()!,
            };
        }

        using (var me = JsonDocument.Parse((await Aws(session, "sts", "get-caller-identity")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal($"arn:aws:sts::{A}:assumed-role/puller/ci-run", me.RootElement.GetProperty("Arn").GetString());
            Assert.StartsWith("AROA", me.RootElement.GetProperty("UserId").GetString(), StringComparison.Ordinal);
        }

        // The role's policy (read-only) decides, and the denial names the session.
        (await Aws(session, "ecr", "describe-images", "--repository-name", "team/app")).EnsureSuccess();
        Assert.Contains(
            $"User: arn:aws:sts::{A}:assumed-role/puller/ci-run is not authorized to perform: ecr:CreateRepository",
            (await Aws(session, "ecr", "create-repository", "--repository-name", "other")).StandardError,
            StringComparison.Ordinal);

        // A tampered session token or a secret that does not match is refused. (The first character is
        // replaced by another one: a token that already began with the replacement would be unchanged.)
        var sessionToken = session["AWS_SESSION_TOKEN"];
        var tampered = (sessionToken[0] == 'x' ? 'y' : 'x') + sessionToken[1..];
        Assert.Contains("(UnrecognizedClientException)", (await Aws(new Dictionary<string, string>(session) { ["AWS_SESSION_TOKEN"] = tampered }, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(InvalidSignatureException)", (await Aws(new Dictionary<string, string>(session) { ["AWS_SECRET_ACCESS_KEY"] = new string('x', 40) }, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);

        // The session's /v2 token pulls, and ends with the session, not 12 hours later.
        var login = (await Aws(session, "ecr", "get-authorization-token")).EnsureSuccess().StandardOutput;
        using (var token = JsonDocument.Parse(login))
        {
            var value = token.RootElement.GetProperty("authorizationData")[0].GetProperty("expiresAt");
            var expires = value.ValueKind == JsonValueKind.Number
                ? DateTimeOffset.FromUnixTimeMilliseconds((long)(value.GetDouble() * 1000))
                : DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(sessionEnd.ToUnixTimeSeconds(), expires.ToUnixTimeSeconds());
        }

        using var v2 = await V2ClientAsync(server, session);
        Assert.Equal(HttpStatusCode.OK, (await v2.GetAsync("/v2/team/app/manifests/v1", Oci.Ct)).StatusCode);
        using (var push = await v2.PostAsync("/v2/team/app/blobs/uploads/", null, Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, push.StatusCode);
        }

        // Detaching the role's policy stops the session's next pull.
        (await Aws(root, "iam", "detach-role-policy", "--role-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.Forbidden, (await v2.GetAsync("/v2/team/app/manifests/v1", Oci.Ct)).StatusCode);
        (await Aws(root, "iam", "attach-role-policy", "--role-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        Assert.Equal(HttpStatusCode.OK, (await v2.GetAsync("/v2/team/app/manifests/v1", Oci.Ct)).StatusCode);

        // Past the session's end: the credentials are expired on the API, the token on /v2.
        time.Advance(TimeSpan.FromMinutes(16));
        var expired = await Aws(session, "ecr", "describe-repositories");
        Assert.Contains("(ExpiredTokenException)", expired.StandardError, StringComparison.Ordinal);
        Assert.Contains("The security token included in the request is expired", expired.StandardError, StringComparison.Ordinal);
        Assert.Contains("(ExpiredToken)", (await Aws(session, "sts", "get-caller-identity")).StandardError, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await v2.GetAsync("/v2/team/app/manifests/v1", Oci.Ct)).StatusCode);
    }

    [Fact]
    public async Task A_role_with_policies_cannot_be_deleted_and_a_deleted_role_cannot_be_assumed()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        var alice = await UserAsync(server, root, "alice");
        const string RoleArn = $"arn:aws:iam::{A}:role/puller";
        (await Aws(root, "iam", "create-role", "--role-name", "puller", "--assume-role-policy-document",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{A}}:user/alice"},"Action":"sts:AssumeRole"}]}""")).EnsureSuccess();
        (await Aws(root, "iam", "attach-role-policy", "--role-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        (await Aws(alice, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "s1")).EnsureSuccess();

        Assert.Contains("(DeleteConflict)", (await Aws(root, "iam", "delete-role", "--role-name", "puller")).StandardError, StringComparison.Ordinal);
        (await Aws(root, "iam", "detach-role-policy", "--role-name", "puller", "--policy-arn", ReadOnly)).EnsureSuccess();
        (await Aws(root, "iam", "delete-role", "--role-name", "puller")).EnsureSuccess();
        Assert.Contains("(NoSuchEntity)", (await Aws(root, "iam", "get-role", "--role-name", "puller")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(AccessDenied)", (await Aws(alice, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "s2")).StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_role_trusting_another_account_needs_that_accounts_identity_policy_too(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        (await Aws(root, "ecr", "create-repository", "--repository-name", "shared/app")).EnsureSuccess();
        const string RoleArn = $"arn:aws:iam::{A}:role/cross";
        (await Aws(root, "iam", "create-role", "--role-name", "cross", "--max-session-duration", "7200", "--assume-role-policy-document",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{B}}:root"},"Action":"sts:AssumeRole"}]}""")).EnsureSuccess();
        (await Aws(root, "iam", "put-role-policy", "--role-name", "cross", "--policy-name", "pull", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:DescribeImages","ecr:BatchGetImage"],"Resource":"*"}]}""")).EnsureSuccess();

        (await IamTestAccess.AdminAsync(server, "create-account", B)).EnsureSuccess();
        (await IamTestAccess.AdminAsync(server, "create-user", "--account", B, "dave")).EnsureSuccess();
        var dave = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--account", B, "--user", "dave"));

        // The trust policy names B's account: B must also allow dave to assume the role.
        Assert.Contains(
            "because no identity-based policy allows the sts:AssumeRole action",
            (await Aws(dave, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "dave")).StandardError,
            StringComparison.Ordinal);
        (await IamTestAccess.AdminAsync(server, "put-user-policy", "--account", B, "--user", "dave", "--policy-name", "assume", "--policy-document",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{{RoleArn}}"}]}""")).EnsureSuccess();
        var assumed = JsonDocument.Parse((await Aws(dave, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "dave", "--duration-seconds", "7200")).EnsureSuccess().StandardOutput);
        var credentials = assumed.RootElement.GetProperty("Credentials");
        var session = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = credentials.GetProperty("AccessKeyId").GetString()!,
            ["AWS_SECRET_ACCESS_KEY"] = credentials.GetProperty("SecretAccessKey").GetString()!,
            ["AWS_SESSION_TOKEN"] = credentials.GetProperty("SessionToken").GetString()!,
        };

        // The session is a principal of account A: it reads A's repositories with the role's policy.
        using (var me = JsonDocument.Parse((await Aws(session, "sts", "get-caller-identity")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(A, me.RootElement.GetProperty("Account").GetString());
        }

        (await Aws(session, "ecr", "describe-images", "--repository-name", "shared/app")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(session, "ecr", "delete-repository", "--repository-name", "shared/app")).StandardError, StringComparison.Ordinal);

        // Role chaining: a session assuming a role gets at most an hour.
        Assert.Contains("role chaining", (await Aws(session, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "again", "--duration-seconds", "7200")).StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_customer_managed_policy_attached_to_a_group_or_role_acts_with_its_default_version(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        var alice = await UserAsync(server, root, "alice");
        const string PolicyArn = $"arn:aws:iam::{A}:policy/list-repos";
        (await Aws(root, "iam", "create-policy", "--policy-name", "list-repos", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}""")).EnsureSuccess();

        // Through a group: alice may list while she is a member, and the group lists the policy.
        (await Aws(root, "iam", "create-group", "--group-name", "listers")).EnsureSuccess();
        (await Aws(root, "iam", "attach-group-policy", "--group-name", "listers", "--policy-arn", PolicyArn)).EnsureSuccess();
        (await Aws(root, "iam", "add-user-to-group", "--group-name", "listers", "--user-name", "alice")).EnsureSuccess();
        (await Aws(alice, "ecr", "describe-repositories")).EnsureSuccess();
        using (var attached = JsonDocument.Parse((await Aws(root, "iam", "list-attached-group-policies", "--group-name", "listers")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal(PolicyArn, Assert.Single(attached.RootElement.GetProperty("AttachedPolicies").EnumerateArray()).GetProperty("PolicyArn").GetString());
        }

        using (var groups = JsonDocument.Parse((await Aws(root, "iam", "list-groups-for-user", "--user-name", "alice")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("listers", Assert.Single(groups.RootElement.GetProperty("Groups").EnumerateArray()).GetProperty("GroupName").GetString());
        }

        Assert.Contains("must remove users from group first", (await Aws(root, "iam", "delete-user", "--user-name", "alice")).StandardError, StringComparison.Ordinal);

        // Through a role: its sessions act with the policy's default version, changed at once.
        (await Aws(root, "iam", "create-role", "--role-name", "lister", "--assume-role-policy-document",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{A}}:user/alice"},"Action":"sts:AssumeRole"}]}""")).EnsureSuccess();
        (await Aws(root, "iam", "attach-role-policy", "--role-name", "lister", "--policy-arn", PolicyArn)).EnsureSuccess();
        (await Aws(root, "iam", "remove-user-from-group", "--group-name", "listers", "--user-name", "alice")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(alice, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);
        using var assumed = JsonDocument.Parse((await Aws(alice, "sts", "assume-role", "--role-arn", $"arn:aws:iam::{A}:role/lister", "--role-session-name", "s1")).EnsureSuccess().StandardOutput);
        var credentials = assumed.RootElement.GetProperty("Credentials");
        var session = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = credentials.GetProperty("AccessKeyId").GetString()!,
            ["AWS_SECRET_ACCESS_KEY"] = credentials.GetProperty("SecretAccessKey").GetString()!,
            ["AWS_SESSION_TOKEN"] = credentials.GetProperty("SessionToken").GetString()!,
        };
        (await Aws(session, "ecr", "describe-repositories")).EnsureSuccess();
        (await Aws(root, "iam", "create-policy-version", "--policy-arn", PolicyArn, "--set-as-default", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRegistry","Resource":"*"}]}""")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(session, "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);
        (await Aws(session, "ecr", "describe-registry")).EnsureSuccess();

        Assert.Contains("(DeleteConflict)", (await Aws(root, "iam", "delete-policy", "--policy-arn", PolicyArn)).StandardError, StringComparison.Ordinal);
        using (var roles = JsonDocument.Parse((await Aws(root, "iam", "list-roles")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("lister", Assert.Single(roles.RootElement.GetProperty("Roles").EnumerateArray()).GetProperty("RoleName").GetString());
        }
    }

    private static async Task<Dictionary<string, string>> UserAsync(WharfTestServer server, Dictionary<string, string> root, string name)
    {
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-user", "--user-name", name)).EnsureSuccess();
        return IamTestAccess.CliKey(await AwsClients.CliAsync(server.BaseAddress, Region, root, "iam", "create-access-key", "--user-name", name));
    }

    private static Task<HttpClient> V2ClientAsync(WharfTestServer server, Dictionary<string, string> credentials) => IamTestAccess.V2ClientAsync(server, Region, credentials);
}
