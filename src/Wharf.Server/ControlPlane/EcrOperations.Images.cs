using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrOperations
{
    private async Task<JsonObject> ListImagesAsync(EcrCall call)
    {
        var status = ReadTagStatus(call);
        var imageStatus = ReadImageStatus(call);
        var limit = PageSize(call);
        var filter = $"{status} {imageStatus}";
        ImageId? after = null;
        if (await CursorAsync(call, filter) is { } cursor)
        {
            // The cursor is "digest tag" (tag empty for an untagged entry); it was MAC'd when issued.
            var space = cursor.IndexOf(' ', StringComparison.Ordinal);
            after = new ImageId(Digest.Parse(cursor[..space]), space + 1 < cursor.Length ? cursor[(space + 1)..] : null);
        }

        var page = await images.ListAsync(call.Caller, call.Repository, status, imageStatus, after, limit + 1, call.Aborted);
        var result = new JsonObject { ["imageIds"] = Json.Array(page.Take(limit), IdShape) };
        if (page.Count > limit)
        {
            var last = page[limit - 1];
            result["nextToken"] = await NextTokenAsync(call, filter, $"{last.Digest} {last.Tag}");
        }

        return result;
    }

    private async Task<JsonObject> DescribeImagesAsync(EcrCall call)
    {
        var key = call.Repository;
        var ids = ReadImageIds(call);
        if (ids.Count > 0)
        {
            RefusePagingWith(call, "imageIds");
            var found = await images.DescribeAsync(call.Caller, key, ids, call.Aborted);
            return new JsonObject { ["imageDetails"] = Json.Array(found, i => DetailShape(key, i)) };
        }

        var status = ReadTagStatus(call);
        var imageStatus = ReadImageStatus(call);
        var limit = PageSize(call);
        var filter = $"{status} {imageStatus}";
        var after = await CursorAsync(call, filter) is { } cursor ? Digest.Parse(cursor) : (Digest?)null;
        var page = await images.DescribeAsync(call.Caller, key, status, imageStatus, after, limit + 1, call.Aborted);
        var result = new JsonObject { ["imageDetails"] = Json.Array(page.Take(limit), i => DetailShape(key, i)) };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, filter, page[limit - 1].Digest.ToString());
        }

        return result;
    }

    private async Task<JsonObject> BatchGetImageAsync(EcrCall call)
    {
        var key = call.Repository;
        var accepted = call.Strings("acceptedMediaTypes");
        var result = await images.BatchGetAsync(call.Caller, key, ReadImageIds(call), accepted, call.Aborted);
        return new JsonObject
        {
            ["images"] = Json.Array(result.Succeeded, i => ImageShape(key, i.Id, i.Manifest.Content, i.Manifest.MediaType)),
            ["failures"] = Json.Array(result.Failures, FailureShape),
        };
    }

    private Task<JsonObject> BatchDeleteImageAsync(EcrCall call) => BatchDeleteImageAsync(images, call, call.Repository);

    /// <summary><c>BatchDeleteImage</c> on <paramref name="key"/>: ECR's and ECR Public's are one operation.</summary>
    internal static async Task<JsonObject> BatchDeleteImageAsync(ImageService images, EcrCall call, RepositoryKey key)
    {
        var result = await images.BatchDeleteAsync(call.Caller, key, ReadImageIds(call), call.Aborted);
        return new JsonObject
        {
            ["imageIds"] = Json.Array(result.Succeeded, RefShape),
            ["failures"] = Json.Array(result.Failures, FailureShape),
        };
    }

    private Task<JsonObject> PutImageAsync(EcrCall call) => PutImageAsync(images, call, call.Repository);

    /// <summary><c>PutImage</c> on <paramref name="key"/>: ECR's and ECR Public's are one operation.</summary>
    internal static async Task<JsonObject> PutImageAsync(ImageService images, EcrCall call, RepositoryKey key)
    {
        Digest? digest = null;
        if (call.String("imageDigest") is { } digestText)
        {
            digest = Digest.TryParse(digestText, out var parsed) ? parsed : throw EcrCall.Invalid("imageDigest", "must be a valid digest such as sha256:<64 hex digits>");
        }

        var manifest = call.String("imageManifest")!;
        var tag = call.String("imageTag");
        var pushed = await images.PutAsync(call.Caller, key, manifest, call.String("imageManifestMediaType"), tag, digest, call.Aborted);
        return new JsonObject
        {
            ["image"] = ImageShape(key, new ImageRef(pushed.Digest.ToString(), tag), Encoding.UTF8.GetBytes(manifest), pushed.MediaType),
        };
    }

    /// <summary>Nothing is archived until the archive work lands: a filter for ARCHIVED or ACTIVATING images matches none.</summary>
    private static TagStatus ReadTagStatus(EcrCall call)
    {
        if (call.Get("filter") is not { } filter)
        {
            return TagStatus.Any;
        }

        return filter.TryGetProperty("tagStatus", out var tagStatus) ? tagStatus.GetString() switch
        {
            "TAGGED" => TagStatus.Tagged,
            "UNTAGGED" => TagStatus.Untagged,
            _ => TagStatus.Any,
        } : TagStatus.Any;
    }

    // Without a filter only active images are listed.
    private static ImageStatusFilter ReadImageStatus(EcrCall call) =>
        call.Get("filter") is { } filter && filter.TryGetProperty("imageStatus", out var imageStatus)
            ? imageStatus.GetString() switch
            {
                "ARCHIVED" => ImageStatusFilter.Archived,
                "ACTIVATING" => ImageStatusFilter.Activating,
                "ANY" => ImageStatusFilter.Any,
                _ => ImageStatusFilter.Active,
            }
            : ImageStatusFilter.Active;

    internal static List<ImageRef> ReadImageIds(EcrCall call) =>
        call.Get("imageIds") is { } ids
            ? ids.EnumerateArray().Select(i => new ImageRef(Member(i, "imageDigest"), Member(i, "imageTag"))).ToList()
            : [];

    /// <summary>The one <c>imageId</c> of a call, which must name a digest or a tag.</summary>
    private static ImageRef ReadImageId(EcrCall call)
    {
        var id = call.Get("imageId")!.Value;
        var imageRef = new ImageRef(Member(id, "imageDigest"), Member(id, "imageTag"));
        return imageRef.Digest is null && imageRef.Tag is null ? throw EcrCall.Invalid("imageId", "must have an imageDigest or an imageTag") : imageRef;
    }

    private static string? Member(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static JsonObject IdShape(ImageId id)
    {
        var shape = new JsonObject { ["imageDigest"] = id.Digest.ToString() };
        if (id.Tag is not null)
        {
            shape["imageTag"] = id.Tag;
        }

        return shape;
    }

    internal static JsonObject RefShape(ImageRef id)
    {
        var shape = new JsonObject();
        if (id.Digest is not null)
        {
            shape["imageDigest"] = id.Digest;
        }

        if (id.Tag is not null)
        {
            shape["imageTag"] = id.Tag;
        }

        return shape;
    }

    internal static JsonObject FailureShape(ImageFailure failure) => new()
    {
        ["imageId"] = RefShape(failure.Id),
        ["failureCode"] = failure.Code,
        ["failureReason"] = failure.Reason,
    };

    internal static JsonObject ImageShape(RepositoryKey key, ImageRef id, byte[] manifest, string mediaType) => new()
    {
        ["registryId"] = key.Registry.Account.Value,
        ["repositoryName"] = key.Name.Value,
        ["imageId"] = RefShape(id),
        ["imageManifest"] = Encoding.UTF8.GetString(manifest),
        ["imageManifestMediaType"] = mediaType,
    };

    private static JsonObject DetailShape(RepositoryKey key, ImageSummary image)
    {
        // ECR Public's ImageDetail is ECR's first members; ECR's adds pull, referrer, scan and archive ones.
        var shape = EcrPublicOperations.DetailShape(key, image);
        if (image.LastPulledAt is { } pulled)
        {
            shape["lastRecordedPullTime"] = Json.Time(pulled);
        }

        if (image.Subject is { } subject)
        {
            shape["subjectManifestDigest"] = subject.ToString();
        }

        if (image.Scan is { } scan)
        {
            shape["imageScanStatus"] = ScanStatusShape(scan);
            if (scan.CompletedAt is not null)
            {
                shape["imageScanFindingsSummary"] = ScanSummaryShape(scan);
            }
        }

        shape["imageStatus"] = image.Archived ? "ARCHIVED" : "ACTIVE";
        if (image.ArchivedAt is { } archived)
        {
            shape["lastArchivedAt"] = Json.Time(archived);
        }

        if (image.ActivatedAt is { } activated)
        {
            shape["lastActivatedAt"] = Json.Time(activated);
        }

        return shape;
    }
}
