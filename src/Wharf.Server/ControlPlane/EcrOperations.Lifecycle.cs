using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;

namespace Wharf.Server.ControlPlane;

/// <summary>Lifecycle policies, their previews, and image storage classes (ECR-NOTES §1.7, §3).</summary>
internal sealed partial class EcrOperations
{
    private async Task<JsonObject> PutLifecyclePolicyAsync(EcrCall call)
    {
        var text = await lifecycle.PutPolicyAsync(call.Caller, call.Repository, call.String("lifecyclePolicyText")!, call.Aborted);
        return RepositoryShape(call, text);
    }

    private async Task<JsonObject> GetLifecyclePolicyAsync(EcrCall call) =>
        PolicyRecordShape(call, await lifecycle.GetPolicyAsync(call.Caller, call.Repository, call.Aborted));

    private async Task<JsonObject> DeleteLifecyclePolicyAsync(EcrCall call) =>
        PolicyRecordShape(call, await lifecycle.DeletePolicyAsync(call.Caller, call.Repository, call.Aborted));

    private async Task<JsonObject> StartLifecyclePolicyPreviewAsync(EcrCall call)
    {
        var (text, status) = await lifecycle.StartPreviewAsync(call.Caller, call.Repository, call.String("lifecyclePolicyText"), call.Aborted);
        var shape = RepositoryShape(call, text);
        shape["status"] = status;
        return shape;
    }

    /// <summary>The preview's results: filtered by tag status or image ids, paged (1–100), with a summary of all of them.</summary>
    private async Task<JsonObject> GetLifecyclePolicyPreviewAsync(EcrCall call)
    {
        var (preview, results) = await lifecycle.GetPreviewAsync(call.Caller, call.Repository, call.Aborted);
        var ids = ReadImageIds(call);
        if (ids.Count > 0)
        {
            RefusePagingWith(call, "imageIds");
        }

        var status = ReadTagStatus(call);
        var matching = results.Where(r => status switch
        {
            TagStatus.Tagged => r.Tags.Count > 0,
            TagStatus.Untagged => r.Tags.Count == 0,
            _ => true,
        }).Where(r => ids.Count == 0 || ids.Any(id => (id.Digest is null || id.Digest == r.Digest) && (id.Tag is null || r.Tags.Contains(id.Tag)))).ToList();

        // The cursor is an offset into this preview's results; the filter binds it to this preview.
        var filter = $"{status}|{preview.StartedAt.ToUnixTimeMilliseconds()}|{string.Join(',', ids)}";
        var offset = await CursorAsync(call, filter) is { } cursor ? int.Parse(cursor, CultureInfo.InvariantCulture) : 0;
        var limit = PageSize(call);
        var shape = RepositoryShape(call, preview.Policy);
        shape["status"] = preview.Status;
        shape["previewResults"] = Json.Array(matching.Skip(offset).Take(limit), PreviewShape);
        if (offset + limit < matching.Count)
        {
            shape["nextToken"] = await NextTokenAsync(call, filter, (offset + limit).ToString(CultureInfo.InvariantCulture));
        }

        var summary = new JsonObject { ["expiringImageTotalCount"] = results.Count(r => r.Action == "EXPIRE") };
        var transitioning = results.Count(r => r.Action == "TRANSITION");
        if (transitioning > 0)
        {
            summary["transitioningImageTotalCounts"] = new JsonArray(new JsonObject { ["targetStorageClass"] = "ARCHIVE", ["imageTotalCount"] = transitioning });
        }

        shape["summary"] = summary;
        return shape;
    }

    private async Task<JsonObject> UpdateImageStorageClassAsync(EcrCall call)
    {
        var imageRef = ReadImageId(call);
        var target = call.String("targetStorageClass") == "ARCHIVE" ? StorageClass.Archive : StorageClass.Standard;
        var (digest, status) = await lifecycle.UpdateStorageClassAsync(call.Caller, call.Repository, imageRef, target, call.Aborted);
        var shape = new JsonObject
        {
            ["registryId"] = call.Repository.Registry.Account.Value,
            ["repositoryName"] = call.Repository.Name.Value,
            ["imageId"] = IdShape(new ImageId(digest, imageRef.Tag)),
            ["imageStatus"] = status,
        };
        return shape;
    }

    private static JsonObject RepositoryShape(EcrCall call, string policy) => new()
    {
        ["registryId"] = call.Repository.Registry.Account.Value,
        ["repositoryName"] = call.Repository.Name.Value,
        ["lifecyclePolicyText"] = policy,
    };

    private static JsonObject PolicyRecordShape(EcrCall call, LifecyclePolicyRecord record)
    {
        // ECR always answers lastEvaluatedAt; before the policy's first evaluation it is the epoch (0).
        var shape = RepositoryShape(call, record.Text);
        shape["lastEvaluatedAt"] = Json.Time(record.LastEvaluatedAt ?? DateTimeOffset.UnixEpoch);
        return shape;
    }

    private static JsonObject PreviewShape(LifecyclePreviewEntry entry)
    {
        var action = new JsonObject { ["type"] = entry.Action };
        if (entry.Action == "TRANSITION")
        {
            action["targetStorageClass"] = "ARCHIVE";
        }

        var shape = new JsonObject();
        if (entry.Tags.Count > 0)
        {
            shape["imageTags"] = Json.Array(entry.Tags, t => JsonValue.Create(t));
        }

        shape["imageDigest"] = entry.Digest;
        shape["imagePushedAt"] = Json.Time(entry.PushedAt);
        shape["action"] = action;
        shape["appliedRulePriority"] = entry.RulePriority;
        shape["storageClass"] = entry.StorageClass;
        return shape;
    }
}
