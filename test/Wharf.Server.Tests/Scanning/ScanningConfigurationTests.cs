using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Scanning;

/// <summary>The registry scanning configuration with the AWS CLI: ECR's rules and filter semantics decide each repository's scan frequency.</summary>
public sealed class ScanningConfigurationTests
{
    private const string Region = "us-east-1";

    [Fact]
    public async Task Rules_and_the_repository_flag_decide_each_repositorys_scan_frequency()
    {
        await using var server = await WharfTestServer.StartAsync();
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, args);
        (await Aws("ecr", "create-repository", "--repository-name", "team/prod-app")).EnsureSuccess();
        (await Aws("ecr", "create-repository", "--repository-name", "team/dev", "--image-scanning-configuration", "scanOnPush=true")).EnsureSuccess();
        (await Aws("ecr", "create-repository", "--repository-name", "other/app-live")).EnsureSuccess();

        using (var initial = JsonDocument.Parse((await Aws("ecr", "get-registry-scanning-configuration")).EnsureSuccess().StandardOutput))
        {
            Assert.Equal("BASIC", initial.RootElement.GetProperty("scanningConfiguration").GetProperty("scanType").GetString());
            Assert.Empty(initial.RootElement.GetProperty("scanningConfiguration").GetProperty("rules").EnumerateArray());
        }

        // BASIC: a filter without '*' matches names containing it; the deprecated repository flag still counts.
        (await Aws("ecr", "put-registry-scanning-configuration", "--scan-type", "BASIC", "--rules",
            """[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"prod","filterType":"WILDCARD"}]}]""")).EnsureSuccess();
        var basic = await ScanningAsync(Aws, "team/prod-app", "team/dev", "other/app-live", "no/such");
        Assert.Equal(("SCAN_ON_PUSH", true, "prod"), basic["team/prod-app"]);
        Assert.Equal(("SCAN_ON_PUSH", true, (string?)null), basic["team/dev"]);
        Assert.Equal(("MANUAL", false, (string?)null), basic["other/app-live"]);
        Assert.Equal(("REPOSITORY_NOT_FOUND", false, (string?)null), basic["no/such"]);

        Assert.Contains("(InvalidParameterException)", (await Aws("ecr", "put-registry-scanning-configuration", "--scan-type", "BASIC", "--rules",
            """[{"scanFrequency":"CONTINUOUS_SCAN","repositoryFilters":[{"filter":"*","filterType":"WILDCARD"}]}]""")).StandardError, StringComparison.Ordinal);

        // ENHANCED: continuous wins over on-push; '*' is a wildcard; unmatched repositories are not scanned.
        (await Aws("ecr", "put-registry-scanning-configuration", "--scan-type", "ENHANCED", "--rules",
            """[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"team/*","filterType":"WILDCARD"},{"filter":"*-live","filterType":"WILDCARD"}]},{"scanFrequency":"CONTINUOUS_SCAN","repositoryFilters":[{"filter":"*-live","filterType":"WILDCARD"}]}]""")).EnsureSuccess();
        var enhanced = await ScanningAsync(Aws, "team/prod-app", "team/dev", "other/app-live");
        Assert.Equal(("SCAN_ON_PUSH", true, "team/*"), enhanced["team/prod-app"]);
        Assert.Equal(("CONTINUOUS_SCAN", false, "*-live"), enhanced["other/app-live"]);
        using var got = JsonDocument.Parse((await Aws("ecr", "get-registry-scanning-configuration")).EnsureSuccess().StandardOutput);
        Assert.Equal("ENHANCED", got.RootElement.GetProperty("scanningConfiguration").GetProperty("scanType").GetString());
        Assert.Equal(2, got.RootElement.GetProperty("scanningConfiguration").GetProperty("rules").GetArrayLength());
    }

    // Each repository's (frequency, scanOnPush, first applied filter), or (failure code, false, null).
    private static async Task<Dictionary<string, (string, bool, string?)>> ScanningAsync(Func<string[], Task<ProcessResult>> aws, params string[] names)
    {
        using var json = JsonDocument.Parse((await aws(["ecr", "batch-get-repository-scanning-configuration", "--repository-names", .. names])).EnsureSuccess().StandardOutput);
        var result = new Dictionary<string, (string, bool, string?)>();
        foreach (var c in json.RootElement.GetProperty("scanningConfigurations").EnumerateArray())
        {
            var filters = c.GetProperty("appliedScanFilters").EnumerateArray().ToList();
            result[c.GetProperty("repositoryName").GetString()!] = (c.GetProperty("scanFrequency").GetString()!, c.GetProperty("scanOnPush").GetBoolean(), filters.Count > 0 ? filters[0].GetProperty("filter").GetString() : null);
        }

        foreach (var f in json.RootElement.GetProperty("failures").EnumerateArray())
        {
            result[f.GetProperty("repositoryName").GetString()!] = (f.GetProperty("failureCode").GetString()!, false, null);
        }

        return result;
    }
}
