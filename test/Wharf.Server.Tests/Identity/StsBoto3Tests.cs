using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// IAM and STS driven by boto3 (<c>ControlPlane/Scripts/iam_sts.py</c>): roles assumed with a user's
/// key, temporary credentials signing ECR calls in headers and presigned STS URLs in the query string,
/// a session token bound to its key, a signature scoped to the wrong service.
/// </summary>
public sealed class StsBoto3Tests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Boto3_assumes_roles_and_presigns_sts_calls_with_permanent_and_temporary_keys(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "iam_sts.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, "us-east-1", root);
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("ok", result.StandardOutput.Trim());
    }
}
