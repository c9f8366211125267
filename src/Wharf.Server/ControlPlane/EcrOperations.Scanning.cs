using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Primitives;
using Wharf.Core.Services;

namespace Wharf.Server.ControlPlane;

/// <summary>The registry scanning configuration (ECR-NOTES §5.2).</summary>
internal sealed partial class EcrOperations
{
    private async Task<JsonObject> PutRegistryScanningConfigurationAsync(EcrCall call)
    {
        var rules = call.Get("rules") is { } array
            ? array.EnumerateArray().Select(r => new ScanningRule(
                r.GetProperty("scanFrequency").GetString()!,
                r.GetProperty("repositoryFilters").EnumerateArray().Select(f => new ScanningFilter(f.GetProperty("filter").GetString()!, f.GetProperty("filterType").GetString()!)).ToList())).ToList()
            : [];
        var configuration = await repositories.PutScanningConfigurationAsync(call.Caller, call.Registry, new ScanningConfiguration(call.String("scanType") ?? "BASIC", rules), call.Aborted);
        return new JsonObject { ["registryScanningConfiguration"] = ConfigurationShape(configuration) };
    }

    private async Task<JsonObject> GetRegistryScanningConfigurationAsync(EcrCall call) => new()
    {
        ["registryId"] = call.Registry.Account.Value,
        ["scanningConfiguration"] = ConfigurationShape(await repositories.GetScanningConfigurationAsync(call.Caller, call.Registry, call.Aborted)),
    };

    private async Task<JsonObject> BatchGetRepositoryScanningConfigurationAsync(EcrCall call)
    {
        var names = new List<RepositoryName>();
        foreach (var name in call.Strings("repositoryNames"))
        {
            names.Add(RepositoryName.TryParse(name, out var parsed) ? parsed : throw EcrCall.Invalid("repositoryNames", $"'{name}' is not a valid repository name"));
        }

        var (found, missing) = await repositories.GetRepositoryScanningAsync(call.Caller, call.Registry, names, call.Aborted);
        return new JsonObject
        {
            ["scanningConfigurations"] = Json.Array(found, f => new JsonObject
            {
                ["repositoryArn"] = f.Repository.Key.Arn,
                ["repositoryName"] = f.Repository.Key.Name.Value,
                ["scanOnPush"] = f.Scanning.ScanOnPush,
                ["scanFrequency"] = f.Scanning.ScanFrequency,
                ["appliedScanFilters"] = Json.Array(f.Scanning.AppliedFilters, FilterShape),
            }),
            ["failures"] = Json.Array(missing, m => new JsonObject
            {
                ["repositoryName"] = m,
                ["failureCode"] = "REPOSITORY_NOT_FOUND",
                ["failureReason"] = $"The repository with name '{m}' does not exist in the registry with id '{call.Registry.Account}'",
            }),
        };
    }

    private static JsonObject ConfigurationShape(ScanningConfiguration configuration) => new()
    {
        ["scanType"] = configuration.ScanType,
        ["rules"] = Json.Array(configuration.Rules, r => new JsonObject
        {
            ["scanFrequency"] = r.ScanFrequency,
            ["repositoryFilters"] = Json.Array(r.RepositoryFilters, FilterShape),
        }),
    };

    private static JsonObject FilterShape(ScanningFilter filter) => new() { ["filter"] = filter.Filter, ["filterType"] = filter.FilterType };
}
