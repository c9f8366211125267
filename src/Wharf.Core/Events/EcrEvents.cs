using System.Globalization;
using System.Text.Json.Nodes;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Events;

/// <summary>Outbox events in EventBridge's shape, as ECR emits them (ECR-NOTES §11).</summary>
public static class EcrEvents
{
    public const string ImageAction = "ECR Image Action";
    public const string ImageScan = "ECR Image Scan";
    public const string ReplicationAction = "ECR Replication Action";

    /// <summary>
    /// An <c>ECR Image Action</c>: <c>DELETE</c>, or <c>UPDATE_STORAGE_CLASS</c> with its target. A lifecycle
    /// action adds <c>lifecycle-rule-priority</c> (a Wharf addition; ECR only logs these to CloudTrail).
    /// </summary>
    public static OutboxEvent Image(RepositoryKey key, Digest digest, IReadOnlyList<string> tags, string actionType, DateTimeOffset at, string? targetStorageClass = null, int? rulePriority = null)
    {
        var detail = new JsonObject
        {
            ["result"] = "SUCCESS",
            ["repository-name"] = key.Name.Value,
            ["image-digest"] = digest.ToString(),
            ["action-type"] = actionType,
        };
        if (tags.Count > 0)
        {
            detail["image-tag"] = tags[0];
            detail["image-tags"] = new JsonArray([.. tags.Select(t => JsonValue.Create(t))]);
        }

        if (targetStorageClass is not null)
        {
            detail["target-storage-class"] = targetStorageClass;
        }

        if (rulePriority is { } priority)
        {
            detail["lifecycle-rule-priority"] = priority;
        }

        return Envelope(ImageAction, key, [], detail, at);
    }

    /// <summary>
    /// An <c>ECR Replication Action</c>: a copy that replication wrote into this registry from
    /// <paramref name="origin"/>. Replication consumes only <c>PUSH</c> actions, so a copy is never replicated again.
    /// </summary>
    public static OutboxEvent Replication(RepositoryKey key, Digest digest, IReadOnlyList<string> tags, RegistryKey origin, DateTimeOffset at)
    {
        var detail = new JsonObject
        {
            ["result"] = "SUCCESS",
            ["repository-name"] = key.Name.Value,
            ["image-digest"] = digest.ToString(),
            ["source-account"] = origin.Account.Value,
            ["source-region"] = origin.Region,
            ["action-type"] = "REPLICATE",
        };
        if (tags.Count > 0)
        {
            detail["image-tag"] = tags[0];
        }

        return Envelope(ReplicationAction, key, [key.Arn], detail, at);
    }

    /// <summary>An <c>ECR Image Scan</c>: a scan finished, with the non-zero severity counts and the image's tags.</summary>
    public static OutboxEvent Scan(RepositoryKey key, Digest digest, IReadOnlyList<string> tags, string status, IReadOnlyDictionary<string, int> counts, DateTimeOffset at)
    {
        var severities = new JsonObject();
        foreach (var (severity, count) in counts.Where(c => c.Value > 0))
        {
            severities[severity] = count;
        }

        var detail = new JsonObject
        {
            ["scan-status"] = status,
            ["repository-name"] = key.Name.Value,
            ["finding-severity-counts"] = severities,
            ["image-digest"] = digest.ToString(),
            ["image-tags"] = new JsonArray([.. tags.Select(t => JsonValue.Create(t))]),
        };
        return Envelope(ImageScan, key, [key.Arn], detail, at);
    }

    private static OutboxEvent Envelope(string type, RepositoryKey key, IReadOnlyList<string> resources, JsonObject detail, DateTimeOffset at)
    {
        var envelope = new JsonObject
        {
            ["version"] = "0",
            ["id"] = Guid.NewGuid().ToString(),
            ["detail-type"] = type,
            ["source"] = "aws.ecr",
            ["account"] = key.Registry.Account.Value,
            ["time"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["region"] = key.Registry.Region,
            ["resources"] = new JsonArray([.. resources.Select(r => JsonValue.Create(r))]),
            ["detail"] = detail,
        };
        return new OutboxEvent(type, envelope.ToJsonString(), at);
    }
}
