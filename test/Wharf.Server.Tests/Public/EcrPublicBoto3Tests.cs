using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Public;

/// <summary>
/// boto3's <c>ecr-public</c> client against a live Wharf, on SQLite and on PostgreSQL: every ECR Public
/// operation with its error paths, the layer-upload API and <c>PutImage</c> end to end, registry aliases as
/// <c>registryId</c>, and ECR's API blind to public repositories (<c>ControlPlane/Scripts/ecr_public.py</c>).
/// </summary>
public sealed class EcrPublicBoto3Tests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Ecr_public_script_passes(string backend)
    {
        await using var server = backend == "postgres" ? await WharfTestServer.StartOnPostgresAsync() : await WharfTestServer.StartAsync();
        var path = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", "ecr_public.py");

        // Any region: ECR Public's registries are not regional (AWS serves the API from us-east-1).
        var result = await AwsClients.Boto3Async(path, server.BaseAddress, "eu-central-1", new Dictionary<string, string>
        {
            ["WHARF_PREFIX"] = "pub",
            ["WHARF_PUBLIC"] = server.PublicHostAndPort,
        });
        Assert.True(result.ExitCode == 0, $"ecr_public.py on {backend} failed:\n{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("all checks passed", result.StandardOutput, StringComparison.Ordinal);
    }
}
