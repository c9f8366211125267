using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>IAM's login profiles through the AWS CLI: shapes, AWS's default password policy, IAM's errors, and who may call them.</summary>
public sealed class LoginProfileTests
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private static readonly Dictionary<string, string?> Iam = new() { ["Auth"] = "Iam" };

    [Fact]
    public async Task Create_get_update_and_delete_a_login_profile_with_IAMs_shapes_and_errors()
    {
        await using var server = await WharfTestServer.StartAsync(Iam);
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> IamAsync(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["iam", .. args]);
        (await IamAsync("create-user", "--user-name", "alice")).EnsureSuccess();

        var weak = await IamAsync("create-login-profile", "--user-name", "alice", "--password", "alllowercase");
        Assert.NotEqual(0, weak.ExitCode);
        Assert.Contains("(PasswordPolicyViolation)", weak.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("alllowercase", weak.StandardError, StringComparison.Ordinal);
        Assert.Contains("(PasswordPolicyViolation)", (await IamAsync("create-login-profile", "--user-name", "alice", "--password", "Sh0rt!")).StandardError, StringComparison.Ordinal);

        var created = (await IamAsync("create-login-profile", "--user-name", "alice", "--password", "Correct-Horse-42", "--password-reset-required")).EnsureSuccess();
        using (var json = JsonDocument.Parse(created.StandardOutput))
        {
            var profile = json.RootElement.GetProperty("LoginProfile");
            Assert.Equal("alice", profile.GetProperty("UserName").GetString());
            Assert.True(profile.GetProperty("PasswordResetRequired").GetBoolean());
            Assert.True(profile.TryGetProperty("CreateDate", out _));
        }

        var again = await IamAsync("create-login-profile", "--user-name", "alice", "--password", "Correct-Horse-43");
        Assert.Contains("(EntityAlreadyExists)", again.StandardError, StringComparison.Ordinal);
        Assert.Contains("Login Profile for user alice already exists.", again.StandardError, StringComparison.Ordinal);

        (await IamAsync("update-login-profile", "--user-name", "alice", "--no-password-reset-required")).EnsureSuccess();
        using (var json = JsonDocument.Parse((await IamAsync("get-login-profile", "--user-name", "alice")).EnsureSuccess().StandardOutput))
        {
            Assert.False(json.RootElement.GetProperty("LoginProfile").GetProperty("PasswordResetRequired").GetBoolean());
        }

        Assert.Contains("(PasswordPolicyViolation)", (await IamAsync("update-login-profile", "--user-name", "alice", "--password", "12345678")).StandardError, StringComparison.Ordinal);
        (await IamAsync("update-login-profile", "--user-name", "alice", "--password", "Another-Horse-7")).EnsureSuccess();

        var conflict = await IamAsync("delete-user", "--user-name", "alice");
        Assert.Contains("(DeleteConflict)", conflict.StandardError, StringComparison.Ordinal);
        Assert.Contains("Cannot delete entity, must delete login profile first.", conflict.StandardError, StringComparison.Ordinal);

        (await IamAsync("delete-login-profile", "--user-name", "alice")).EnsureSuccess();
        var gone = await IamAsync("get-login-profile", "--user-name", "alice");
        Assert.Contains("(NoSuchEntity)", gone.StandardError, StringComparison.Ordinal);
        Assert.Contains("Login Profile for User alice cannot be found.", gone.StandardError, StringComparison.Ordinal);
        Assert.Contains("(NoSuchEntity)", (await IamAsync("delete-login-profile", "--user-name", "alice")).StandardError, StringComparison.Ordinal);
        Assert.Contains("(NoSuchEntity)", (await IamAsync("update-login-profile", "--user-name", "alice", "--password", "Another-Horse-8")).StandardError, StringComparison.Ordinal);

        var nobody = await IamAsync("create-login-profile", "--user-name", "nobody", "--password", "Correct-Horse-42");
        Assert.Contains("(NoSuchEntity)", nobody.StandardError, StringComparison.Ordinal);
        Assert.Contains("The user with name nobody cannot be found.", nobody.StandardError, StringComparison.Ordinal);

        (await IamAsync("delete-user", "--user-name", "alice")).EnsureSuccess();
    }

    [Fact]
    public async Task A_user_changes_its_own_password_only_when_allowed_and_with_the_old_one()
    {
        await using var server = await WharfTestServer.StartAsync(Iam);
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> AsRootAsync(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["iam", .. args]);
        (await AsRootAsync("create-user", "--user-name", "alice")).EnsureSuccess();
        (await AsRootAsync("create-user", "--user-name", "bob")).EnsureSuccess();
        (await AsRootAsync("create-login-profile", "--user-name", "alice", "--password", "Correct-Horse-42", "--password-reset-required")).EnsureSuccess();
        var alice = IamTestAccess.CliKey(await AsRootAsync("create-access-key", "--user-name", "alice"));
        Task<ProcessResult> AsAliceAsync(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, alice, ["iam", .. args]);

        // Without a policy, alice may neither change her password nor manage anyone's.
        var denied = await AsAliceAsync("change-password", "--old-password", "Correct-Horse-42", "--new-password", "Better-Horse-43");
        Assert.Contains("(AccessDenied)", denied.StandardError, StringComparison.Ordinal);
        Assert.Contains($"is not authorized to perform: iam:ChangePassword on resource: arn:aws:iam::{Account}:user/alice", denied.StandardError, StringComparison.Ordinal);
        var manage = await AsAliceAsync("create-login-profile", "--user-name", "bob", "--password", "Correct-Horse-42");
        Assert.Contains("(AccessDenied)", manage.StandardError, StringComparison.Ordinal);
        Assert.Contains("iam:CreateLoginProfile", manage.StandardError, StringComparison.Ordinal);
        Assert.Contains("(AccessDenied)", (await AsAliceAsync("get-login-profile", "--user-name", "alice")).StandardError, StringComparison.Ordinal);

        // AWS's IAMUserChangePassword: ChangePassword on the user's own ARN.
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"arn:aws:iam::{{Account}}:user/${aws:username}"}]}""";
        (await AsRootAsync("put-user-policy", "--user-name", "alice", "--policy-name", "change-password", "--policy-document", policy)).EnsureSuccess();

        var wrongOld = await AsAliceAsync("change-password", "--old-password", "Wrong-Horse-42", "--new-password", "Better-Horse-43");
        Assert.NotEqual(0, wrongOld.ExitCode);
        Assert.Contains("The old password is not correct.", wrongOld.StandardError, StringComparison.Ordinal);
        Assert.Contains("(PasswordPolicyViolation)", (await AsAliceAsync("change-password", "--old-password", "Correct-Horse-42", "--new-password", "weakweak")).StandardError, StringComparison.Ordinal);
        (await AsAliceAsync("change-password", "--old-password", "Correct-Horse-42", "--new-password", "Better-Horse-43")).EnsureSuccess();

        using var json = JsonDocument.Parse((await AsRootAsync("get-login-profile", "--user-name", "alice")).EnsureSuccess().StandardOutput);
        Assert.False(json.RootElement.GetProperty("LoginProfile").GetProperty("PasswordResetRequired").GetBoolean());
        var oldAgain = await AsAliceAsync("change-password", "--old-password", "Correct-Horse-42", "--new-password", "Better-Horse-44");
        Assert.Contains("The old password is not correct.", oldAgain.StandardError, StringComparison.Ordinal);

        // Bob has no login profile: nothing to change.
        var bob = IamTestAccess.CliKey(await AsRootAsync("create-access-key", "--user-name", "bob"));
        (await AsRootAsync("put-user-policy", "--user-name", "bob", "--policy-name", "change-password", "--policy-document", policy)).EnsureSuccess();
        var none = await AwsClients.CliAsync(server.BaseAddress, Region, bob, "iam", "change-password", "--old-password", "Correct-Horse-42", "--new-password", "Better-Horse-43");
        Assert.Contains("(NoSuchEntity)", none.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wharf_admin_set_password_reads_the_password_from_standard_input_and_checks_the_policy()
    {
        await using var server = await WharfTestServer.StartAsync(Iam);
        var weak = await SetPasswordAsync(server, "password\n");
        Assert.NotEqual(0, weak.ExitCode);
        Assert.Contains("Password should have", weak.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("password\n", weak.StandardOutput + weak.StandardError, StringComparison.Ordinal);

        var set = (await SetPasswordAsync(server, "Root-Horse-42\n")).EnsureSuccess();
        Assert.Contains($"password set for arn:aws:iam::{Account}:root", set.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Root-Horse-42", set.StandardOutput + set.StandardError, StringComparison.Ordinal);

        var missing = await SetPasswordAsync(server, "Root-Horse-42\n", "--user", "nobody");
        Assert.Contains($"arn:aws:iam::{Account}:user/nobody does not exist", missing.StandardError, StringComparison.Ordinal);
    }

    internal static Task<ProcessResult> SetPasswordAsync(WharfTestServer server, string standardInput, params string[] args) =>
        WharfCommand.RunAsync(["admin", "set-password", .. args, .. server.StoreArguments], TimeSpan.FromMinutes(1), standardInput: standardInput);
}
