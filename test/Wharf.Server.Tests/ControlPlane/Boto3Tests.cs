using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// boto3 against a live Wharf, on SQLite and on PostgreSQL: every ECR operation of the API issue with
/// its error paths (<c>Scripts/*.py</c> assert each call and exit non-zero on the first failure). The
/// region comes from the credential scope, so the scripts run in a non-default region.
/// </summary>
public sealed class Boto3Tests
{
    public static TheoryData<string, string> Scripts => new()
    {
        { "ecr_repositories.py", "sqlite" },
        { "ecr_repositories.py", "postgres" },
        { "ecr_images.py", "sqlite" },
        { "ecr_images.py", "postgres" },
        { "ecr_pagination.py", "sqlite" },
        { "ecr_pagination.py", "postgres" },
        { "ecr_exact_answers.py", "sqlite" },
        { "ecr_referrers_exclusions.py", "sqlite" },
        { "ecr_referrers_exclusions.py", "postgres" },
        { "ecr_creation_templates.py", "sqlite" },
        { "ecr_creation_templates.py", "postgres" },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Boto3_script_passes(string script, string backend)
    {
        await using var server = backend == "postgres" ? await WharfTestServer.StartOnPostgresAsync() : await WharfTestServer.StartAsync();
        var path = Path.Combine(AppContext.BaseDirectory, "ControlPlane", "Scripts", script);
        var result = await AwsClients.Boto3Async(path, server.BaseAddress, "eu-west-1", new Dictionary<string, string> { ["WHARF_PREFIX"] = "boto" });
        Assert.True(result.ExitCode == 0, $"{script} on {backend} failed:\n{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("all checks passed", result.StandardOutput, StringComparison.Ordinal);
    }
}
