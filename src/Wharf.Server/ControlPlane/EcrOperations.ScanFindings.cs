using System.Globalization;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Server.ControlPlane;

/// <summary>Scans and findings in ECR's shapes: the status, the summary, basic findings and Inspector-shaped enhanced findings.</summary>
internal sealed partial class EcrOperations
{
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

        var scores = Cvss(finding);
        var details = new JsonObject
        {
            ["source"] = finding.Source,
            ["vulnerabilityId"] = finding.Name,
            ["vendorSeverity"] = finding.Severity,
            ["referenceUrls"] = Json.Array(finding.ReferenceUrls.Take(100), u => JsonValue.Create(u)),
            ["relatedVulnerabilities"] = Json.Array(finding.AdvisoryId is null ? [] : new[] { finding.AdvisoryId }, r => JsonValue.Create(r)),
            ["cvss"] = Json.Array(scores, c => new JsonObject { ["baseScore"] = c.Score, ["scoringVector"] = c.Vector, ["source"] = finding.Source, ["version"] = c.Version }),
            ["vulnerablePackages"] = new JsonArray(package),
        };
        if (finding.Uri is { } uri)
        {
            details["sourceUrl"] = uri;
        }

        var best = scores.Count > 0 ? scores[0] : null;
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
}
