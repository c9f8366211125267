using System.Text.Json;
using System.Text.Json.Serialization;
using Wharf.Core.Events;
using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>ECR's scan statuses that Wharf sets (ECR-NOTES §5.4).</summary>
public static class ScanStatuses
{
    public const string InProgress = "IN_PROGRESS";
    public const string Complete = "COMPLETE";
    public const string Failed = "FAILED";
    public const string Unsupported = "UNSUPPORTED_IMAGE";
}

/// <summary>
/// One vulnerability found in one package of an image: what ECR's basic <c>findings</c> and
/// <c>enhancedFindings</c> are both rendered from.
/// </summary>
/// <remarks>
/// <c>Name</c> is the vulnerability's id as ECR names it (a CVE when the advisory has one) and
/// <c>AdvisoryId</c> the advisory it came from when that differs (<c>DSA-5540-1</c>, <c>GHSA-…</c>);
/// <c>Package</c> is the installed (binary) package, <c>PackageManager</c> Inspector's name for its
/// kind (<c>OS</c>, <c>NPM</c>, <c>PYTHONPKG</c>, …), <c>LayerDigest</c> the layer that last wrote
/// <c>FilePath</c>, and <c>Platform</c> the platform of an index's child it was found in.
/// </remarks>
public sealed record ScanFinding(
    string Name,
    string? AdvisoryId,
    string? Description,
    string? Uri,
    string Severity,
    string Package,
    string Version,
    string? SourcePackage,
    string PackageManager,
    string? FilePath,
    string LayerDigest,
    string? FixedInVersion,
    string? Cvss2Vector,
    double? Cvss2Score,
    string? Cvss3Vector,
    double? Cvss3Score,
    string Source,
    IReadOnlyList<string> ReferenceUrls,
    string? Platform = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, TypeInfoResolver = CoreJsonContext.Default };

    public static string Serialize(IReadOnlyList<ScanFinding> findings) => JsonSerializer.Serialize(findings, Json.TypeInfo<IReadOnlyList<ScanFinding>>());

    public static IReadOnlyList<ScanFinding> Deserialize(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize(json, Json.TypeInfo<List<ScanFinding>>()) ?? [];

    /// <summary>Severity counts with only the non-zero ones (ECR leaves zero counts out).</summary>
    public static IReadOnlyDictionary<string, int> Counts(IEnumerable<ScanFinding> findings) =>
        findings.GroupBy(f => f.Severity, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}

/// <summary>
/// An image's scan: its status (<see cref="ScanStatuses"/>) and description, when it was last
/// requested (ECR allows one a day) and completed, the vulnerability database it used (its newest
/// advisory change, and its import time for continuous rescans), and its findings.
/// </summary>
public sealed record ImageScanRecord(
    Digest Digest,
    string Status,
    string? Description,
    DateTimeOffset RequestedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? SourceUpdatedAt,
    DateTimeOffset? DatabaseAt,
    IReadOnlyDictionary<string, int> SeverityCounts,
    string? FindingsJson);

/// <summary>A requested scan waiting for the scan job.</summary>
public sealed record PendingScan(long RepositoryId, RepositoryKey Key, Digest Digest, DateTimeOffset RequestedAt);

/// <summary>The result of a scan, to record.</summary>
public sealed record ScanOutcome(
    string Status,
    string? Description,
    DateTimeOffset CompletedAt,
    DateTimeOffset? SourceUpdatedAt,
    DateTimeOffset? DatabaseAt,
    IReadOnlyList<ScanFinding> Findings);

/// <summary>How a scan request went.</summary>
public enum ScanRequestResult
{
    Requested,

    /// <summary>A scan was requested at or after the limit's start (ECR's once a day).</summary>
    TooSoon,

    ImageNotFound,
}

/// <summary>Image scans: requested by pushes, <c>StartImageScan</c> and database changes; run by the scan job.</summary>
public interface IScanStore
{
    /// <summary>How many scans are requested and not finished (<c>IN_PROGRESS</c>; <c>wharf status</c>, from the pending scans' index).</summary>
    Task<long> CountPendingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Marks the image's scan <c>IN_PROGRESS</c> as requested at <paramref name="now"/>, unless a scan was
    /// requested at or after <paramref name="limitStart"/> (null: no limit).
    /// </summary>
    Task<ScanRequestResult> RequestAsync(long repositoryId, Digest digest, DateTimeOffset now, DateTimeOffset? limitStart, CancellationToken cancellationToken);

    /// <summary>Scans in progress, oldest request first.</summary>
    Task<IReadOnlyList<PendingScan>> ListPendingAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records a scan's outcome, with <paramref name="evt"/> in the event log, if the scan is still the one
    /// requested at <paramref name="requestedAt"/> (not re-requested, image not deleted). False otherwise.
    /// </summary>
    Task<bool> CompleteAsync(long repositoryId, Digest digest, DateTimeOffset requestedAt, ScanOutcome outcome, OutboxEvent? evt, CancellationToken cancellationToken);

    Task<ImageScanRecord?> GetAsync(long repositoryId, Digest digest, CancellationToken cancellationToken);

    /// <summary>The scans of these images that exist (without their findings).</summary>
    Task<IReadOnlyList<ImageScanRecord>> GetSummariesAsync(long repositoryId, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    /// <summary>
    /// The repository's active images whose scan is missing or finished with a database imported before
    /// <paramref name="databaseAt"/>, after <paramref name="after"/> by digest (continuous rescans).
    /// </summary>
    Task<IReadOnlyList<Digest>> ListStaleAsync(long repositoryId, DateTimeOffset databaseAt, Digest? after, int limit, CancellationToken cancellationToken);
}
