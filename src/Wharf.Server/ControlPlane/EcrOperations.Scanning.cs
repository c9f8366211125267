using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Scanning;

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

    private async Task<JsonObject> StartImageScanAsync(EcrCall call)
    {
        var id = ReadImageId(call);
        var (digest, status) = await images.StartScanAsync(call.Caller, call.Repository, id, call.Aborted);
        return new JsonObject
        {
            ["registryId"] = call.Repository.Registry.Account.Value,
            ["repositoryName"] = call.Repository.Name.Value,
            ["imageId"] = IdShape(new ImageId(digest, id.Tag)),
            ["imageScanStatus"] = new JsonObject { ["status"] = status },
        };
    }

    /// <summary>
    /// The scan's status and, once it finished, its findings in both of ECR's shapes: basic <c>findings</c>
    /// and Inspector's <c>enhancedFindings</c>, one entry per vulnerability and package in each, most
    /// severe first, paged together (<c>maxResults</c> entries of each per page).
    /// </summary>
    private async Task<JsonObject> DescribeImageScanFindingsAsync(EcrCall call)
    {
        var key = call.Repository;
        var id = ReadImageId(call);
        var (image, scan) = await images.GetScanAsync(call.Caller, key, id, call.Aborted);
        var result = new JsonObject
        {
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["imageId"] = IdShape(new ImageId(scan.Digest, id.Tag)),
            ["imageScanStatus"] = ScanStatusShape(scan),
        };
        if (scan.CompletedAt is not { } completedAt)
        {
            return result;
        }

        // A token names a position in one scan's findings; after a rescan it no longer applies.
        var filter = $"{scan.Digest} {completedAt.ToUnixTimeMilliseconds()}";
        var offset = 0;
        if (await CursorAsync(call, filter) is { } cursor && !int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            throw EcrCall.Invalid("nextToken", "is not a token this operation returned");
        }

        var limit = PageSize(call);
        var findings = ScanFinding.Deserialize(scan.FindingsJson);
        var page = findings.Skip(offset).Take(limit).ToList();
        var shape = ScanSummaryShape(scan);
        shape["findings"] = Json.Array(page, BasicFindingShape);
        shape["enhancedFindings"] = Json.Array(page, f => EnhancedFindingShape(key, image, scan, f));
        result["imageScanFindings"] = shape;
        if (offset + limit < findings.Count)
        {
            result["nextToken"] = await NextTokenAsync(call, filter, (offset + limit).ToString(CultureInfo.InvariantCulture));
        }

        return result;
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
