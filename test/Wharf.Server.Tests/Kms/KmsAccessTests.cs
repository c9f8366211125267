using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Kms;

/// <summary>
/// The key service in IAM mode, driven by boto3 (<c>ControlPlane/Scripts/kms_access.py</c>): rotation keeps old ciphertext
/// decryptable; hostile ciphertext blobs (truncated, altered, garbage, another key's, too large) answer KMS's errors,
/// never a 500; a user without <c>kms:Decrypt</c> is refused; a key policy that denies (or does not delegate to IAM)
/// refuses even with an IAM allow; grants allow their grantee until retired or revoked; the <c>aws/ecr</c> key is made
/// on first use and cannot be changed or used directly; another account uses a key its key policy names it in.
/// </summary>
public sealed class KmsAccessTests
{
    private const string B = "210987654321";

    [Fact]
    public async Task Key_policies_iam_policies_grants_managed_keys_and_hostile_blobs_are_decided_as_kms_decides()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        (await IamTestAccess.AdminAsync(server, "create-account", B)).EnsureSuccess();
        var rootB = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--account", B));
        var environment = new Dictionary<string, string>(root)
        {
            ["ACCOUNT_B"] = B,
            ["B_ACCESS_KEY_ID"] = rootB["AWS_ACCESS_KEY_ID"],
            ["B_SECRET_ACCESS_KEY"] = rootB["AWS_SECRET_ACCESS_KEY"],
        };
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "kms_access.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, KmsCliTests.Region, environment);
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("ok", result.StandardOutput.Trim());
    }
}
