using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Secrets;

/// <summary>boto3's Secrets Manager client against Wharf on each metadata engine (ControlPlane/Scripts/secretsmanager.py).</summary>
public sealed class SecretsManagerBoto3Tests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Boto3_creates_reads_stages_lists_deletes_and_restores_secrets(bool postgres)
    {
        await using var server = await WharfTestServer.StartAsync(postgres, new Dictionary<string, string?>());
        var script = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "secretsmanager.py");
        var result = await AwsClients.Boto3Async(script, server.BaseAddress, SecretsCli.Region);
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("ok", result.StandardOutput.Trim());
    }
}
