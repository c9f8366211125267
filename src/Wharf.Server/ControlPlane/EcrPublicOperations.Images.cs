using System.Text;
using System.Text.Json.Nodes;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrPublicOperations
{
    /// <summary>ECR Public's <c>DescribeImages</c>: ECR's without filters, scans or storage classes (its <c>ImageDetail</c> has none).</summary>
    private async Task<JsonObject> DescribeImagesAsync(EcrPublicCall call)
    {
        var key = call.Repository;
        var ids = EcrOperations.ReadImageIds(call.Call);
        if (ids.Count > 0)
        {
            RefusePagingWith(call, "imageIds");
            var found = await images.DescribeAsync(call.Caller, key, ids, call.Aborted);
            return new JsonObject { ["imageDetails"] = Json.Array(found, i => DetailShape(key, i)) };
        }

        var limit = PageSize(call);
        var after = await CursorAsync(call) is { } cursor ? Digest.Parse(cursor) : (Digest?)null;
        var page = await images.DescribeAsync(call.Caller, key, TagStatus.Any, ImageStatusFilter.Active, after, limit + 1, call.Aborted);
        var result = new JsonObject { ["imageDetails"] = Json.Array(page.Take(limit), i => DetailShape(key, i)) };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, page[limit - 1].Digest.ToString());
        }

        return result;
    }

    /// <summary>
    /// ECR Public's <c>DescribeImageTags</c>: each tag with the image it names. Wharf keeps no time per tag,
    /// so a tag's <c>createdAt</c> is its image's push time.
    /// </summary>
    private async Task<JsonObject> DescribeImageTagsAsync(EcrPublicCall call)
    {
        var key = call.Repository;
        var limit = PageSize(call);
        ImageId? after = null;
        if (await CursorAsync(call) is { } cursor)
        {
            // The cursor is "digest tag"; it was MAC'd when issued.
            var space = cursor.IndexOf(' ', StringComparison.Ordinal);
            after = new ImageId(Digest.Parse(cursor[..space]), cursor[(space + 1)..]);
        }

        var page = await images.DescribeTagsAsync(call.Caller, key, EcrPublicActions.DescribeImageTags, after, limit + 1, call.Aborted);
        var result = new JsonObject
        {
            ["imageTagDetails"] = Json.Array(page.Take(limit), t => new JsonObject
            {
                ["imageTag"] = t.Id.Tag,
                ["createdAt"] = Json.Time(t.Image.PushedAt),
                ["imageDetail"] = ReferencedShape(t.Image),
            }),
        };
        if (page.Count > limit)
        {
            var last = page[limit - 1].Id;
            result["nextToken"] = await NextTokenAsync(call, $"{last.Digest} {last.Tag}");
        }

        return result;
    }

    private Task<JsonObject> BatchDeleteImageAsync(EcrPublicCall call) => EcrOperations.BatchDeleteImageAsync(images, call.Call, call.Repository);

    private Task<JsonObject> PutImageAsync(EcrPublicCall call) => EcrOperations.PutImageAsync(images, call.Call, call.Repository);

    /// <summary>ECR Public's <c>ImageDetail</c> (also the start of ECR's).</summary>
    internal static JsonObject DetailShape(RepositoryKey key, ImageSummary image)
    {
        var shape = new JsonObject
        {
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["imageDigest"] = image.Digest.ToString(),
        };
        if (image.Tags.Count > 0)
        {
            shape["imageTags"] = Json.Array(image.Tags, t => JsonValue.Create(t));
        }

        shape["imageSizeInBytes"] = image.Size;
        shape["imagePushedAt"] = Json.Time(image.PushedAt);
        shape["imageManifestMediaType"] = image.MediaType;
        if (image.ArtifactType is not null)
        {
            shape["artifactMediaType"] = image.ArtifactType;
        }

        return shape;
    }

    /// <summary>ECR Public's <c>ReferencedImageDetail</c> (an image as a tag names it).</summary>
    private static JsonObject ReferencedShape(ImageSummary image)
    {
        var shape = new JsonObject
        {
            ["imageDigest"] = image.Digest.ToString(),
            ["imageSizeInBytes"] = image.Size,
            ["imagePushedAt"] = Json.Time(image.PushedAt),
            ["imageManifestMediaType"] = image.MediaType,
        };
        if (image.ArtifactType is not null)
        {
            shape["artifactMediaType"] = image.ArtifactType;
        }

        return shape;
    }
}
