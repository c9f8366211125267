using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// What a signature and a <c>/v2</c> password are bound to, driven by botocore-signed requests
/// (<c>ControlPlane/Scripts/sigv4_replay.py</c>, <c>token_binding.py</c>).
/// </summary>
public sealed class SigV4BindingTests
{
    [Fact]
    public async Task Signed_requests_replayed_with_another_body_unsigned_payload_or_an_unsigned_target_are_refused()
    {
        await RunAsync("sigv4_replay.py", postgres: false);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Registry_passwords_end_with_their_key_their_user_and_their_role(bool postgres)
    {
        await RunAsync("token_binding.py", postgres);
    }

    private static async Task RunAsync(string name, bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", name);
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, "us-east-1", root);
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("ok", result.StandardOutput.Trim());
    }
}
