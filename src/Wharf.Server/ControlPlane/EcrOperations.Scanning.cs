using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
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

    private static JsonObject ScanStatusShape(ImageScanRecord scan)
    {
        var shape = new JsonObject { ["status"] = scan.Status };
        if (scan.Description is not null)
        {
            shape["description"] = scan.Description;
        }

        return shape;
    }

    /// <summary>ECR's <c>ImageScanFindingsSummary</c>: when, with which database, and the non-zero severity counts.</summary>
    private static JsonObject ScanSummaryShape(ImageScanRecord scan)
    {
        var counts = new JsonObject();
        foreach (var (severity, count) in scan.SeverityCounts.Where(c => c.Value > 0))
        {
            counts[severity] = count;
        }

        var shape = new JsonObject { ["imageScanCompletedAt"] = Json.Time(scan.CompletedAt!.Value) };
        if (scan.SourceUpdatedAt is { } updated)
        {
            shape["vulnerabilitySourceUpdatedAt"] = Json.Time(updated);
        }

        shape["findingSeverityCounts"] = counts;
        return shape;
    }

    /// <summary>A basic finding: ECR's attributes (<c>package_name</c>, <c>package_version</c>, CVSS) and Wharf's few additions.</summary>
    private static JsonObject BasicFindingShape(ScanFinding finding)
    {
        var attributes = new List<(string, string)> { ("package_version", finding.Version), ("package_name", finding.Package) };
        if (finding.Cvss2Vector is { } v2)
        {
            attributes.Add(("CVSS2_VECTOR", v2));
        }

        if (finding.Cvss2Score is { } s2)
        {
            attributes.Add(("CVSS2_SCORE", s2.ToString("0.0", CultureInfo.InvariantCulture)));
        }

        if (finding.Cvss3Vector is { } v3)
        {
            attributes.Add(("CVSS3_VECTOR", v3));
        }

        if (finding.Cvss3Score is { } s3)
        {
            attributes.Add(("CVSS3_SCORE", s3.ToString("0.0", CultureInfo.InvariantCulture)));
        }

        if (finding.FixedInVersion is { } fixedIn)
        {
            attributes.Add(("fixed_in_version", fixedIn));
        }

        if (finding.Platform is { } platform)
        {
            attributes.Add(("platform", platform));
        }

        var shape = new JsonObject { ["name"] = finding.Name };
        if (finding.Description is { } description)
        {
            shape["description"] = Truncate(description, 65535);
        }

        if (finding.Uri is { } uri)
        {
            shape["uri"] = uri;
        }

        shape["severity"] = finding.Severity;
        shape["attributes"] = Json.Array(attributes, a => new JsonObject { ["key"] = a.Item1, ["value"] = Truncate(a.Item2, 256) });
        return shape;
    }

    /// <summary>An Inspector-shaped finding: the vulnerable package with its fixed version, file and the layer that brought it in.</summary>
    private static JsonObject EnhancedFindingShape(RepositoryKey key, ImageSummary image, ImageScanRecord scan, ScanFinding finding)
    {
        var package = new JsonObject
        {
            ["name"] = finding.Package,
            ["version"] = finding.Version,
            ["packageManager"] = finding.PackageManager,
            ["sourceLayerHash"] = finding.LayerDigest,
        };
        if (finding.FilePath is { } path)
        {
            package["filePath"] = path;
        }

        if (finding.FixedInVersion is { } fixedIn)
        {
            package["fixedInVersion"] = fixedIn;
        }

        var details = new JsonObject
        {
            ["source"] = finding.Source,
            ["vulnerabilityId"] = finding.Name,
            ["vendorSeverity"] = finding.Severity,
            ["referenceUrls"] = Json.Array(finding.ReferenceUrls.Take(100), u => JsonValue.Create(u)),
            ["relatedVulnerabilities"] = Json.Array(finding.AdvisoryId is null ? [] : new[] { finding.AdvisoryId }, r => JsonValue.Create(r)),
            ["cvss"] = Json.Array(Cvss(finding), c => new JsonObject { ["baseScore"] = c.Score, ["scoringVector"] = c.Vector, ["source"] = finding.Source, ["version"] = c.Version }),
            ["vulnerablePackages"] = new JsonArray(package),
        };
        if (finding.Uri is { } uri)
        {
            details["sourceUrl"] = uri;
        }

        var best = Cvss(finding).FirstOrDefault();
        var container = new JsonObject
        {
            ["imageHash"] = scan.Digest.ToString(),
            ["imageTags"] = Json.Array(image.Tags, t => JsonValue.Create(t)),
            ["pushedAt"] = Json.Time(image.PushedAt),
            ["registry"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
        };
        if (finding.Platform is { } platform)
        {
            container["platform"] = platform;
        }

        var shape = new JsonObject
        {
            ["awsAccountId"] = key.Registry.Account.Value,
            ["findingArn"] = $"arn:aws:ecr:{key.Registry.Region}:{key.Registry.Account}:finding/{scan.Digest.Hex}/{finding.Name}/{finding.Package}",
            ["firstObservedAt"] = Json.Time(scan.CompletedAt!.Value),
            ["lastObservedAt"] = Json.Time(scan.CompletedAt.Value),
            ["updatedAt"] = Json.Time(scan.CompletedAt.Value),
            ["packageVulnerabilityDetails"] = details,
            ["resources"] = new JsonArray(new JsonObject
            {
                ["id"] = $"{key.Arn}/{scan.Digest}",
                ["type"] = "AWS_ECR_CONTAINER_IMAGE",
                ["details"] = new JsonObject { ["awsEcrContainerImage"] = container },
            }),
            ["severity"] = finding.Severity,
            ["status"] = "ACTIVE",
            ["title"] = $"{finding.Name} - {finding.Package}",
            ["type"] = "PACKAGE_VULNERABILITY",
            ["fixAvailable"] = finding.FixedInVersion is null ? "NO" : "YES",
        };
        if (finding.Description is { } description)
        {
            shape["description"] = Truncate(description, 65535);
        }

        if (finding.FixedInVersion is { } version)
        {
            shape["remediation"] = new JsonObject { ["recommendation"] = new JsonObject { ["text"] = $"Upgrade {finding.Package} to {version} or later." } };
        }

        if (best is not null)
        {
            shape["score"] = best.Score;
            shape["scoreDetails"] = new JsonObject
            {
                ["cvss"] = new JsonObject { ["score"] = best.Score, ["scoreSource"] = finding.Source, ["scoringVector"] = best.Vector, ["version"] = best.Version, ["adjustments"] = new JsonArray() },
            };
        }

        return shape;
    }

    private sealed record CvssEntry(double Score, string Vector, string Version);

    /// <summary>The finding's CVSS scores, v3 first.</summary>
    private static List<CvssEntry> Cvss(ScanFinding finding)
    {
        var list = new List<CvssEntry>();
        if (finding is { Cvss3Score: { } s3, Cvss3Vector: { } v3 })
        {
            list.Add(new CvssEntry(s3, v3, v3.StartsWith("CVSS:3.0", StringComparison.Ordinal) ? "3.0" : "3.1"));
        }

        if (finding is { Cvss2Score: { } s2, Cvss2Vector: { } v2 })
        {
            list.Add(new CvssEntry(s2, v2, "2.0"));
        }

        return list;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

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
