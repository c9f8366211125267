using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrPublicOperations
{
    // ECR Public's TagList allows 200 in the model, yet its TooManyTagsException says 50, as ECR's
    // limit (ECR-NOTES §8): RepositoryService holds every repository to 50.
    private async Task<JsonObject> TagResourceAsync(EcrPublicCall call)
    {
        await repositories.TagResourceAsync(call.Caller, ResourceRepository(call), ReadTags(call), call.Aborted);
        return [];
    }

    private async Task<JsonObject> UntagResourceAsync(EcrPublicCall call)
    {
        await repositories.UntagResourceAsync(call.Caller, ResourceRepository(call), call.Call.Strings("tagKeys"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> ListTagsForResourceAsync(EcrPublicCall call)
    {
        var tags = await repositories.ListResourceTagsAsync(call.Caller, ResourceRepository(call), call.Aborted);
        return new JsonObject { ["tags"] = Json.Array(tags, t => new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value }) };
    }

    /// <summary>
    /// The <c>tags</c> of a call. ECR Public's model, unlike ECR's, does not require a tag's <c>Key</c> and
    /// <c>Value</c>: a tag without a key is refused, and one without a value has the empty one (as AWS's tag
    /// editors write it).
    /// </summary>
    private static List<ResourceTag> ReadTags(EcrPublicCall call) =>
        call.Get("tags") is { } tags
            ? [.. tags.EnumerateArray().Select(t => new ResourceTag(
                t.TryGetProperty("Key", out var key) && key.ValueKind == System.Text.Json.JsonValueKind.String
                    ? key.GetString()!
                    : throw new WharfException(WharfErrorCode.InvalidTagParameter, "Invalid parameter at 'tags' failed to satisfy constraint: 'every tag must have a Key'"),
                t.TryGetProperty("Value", out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString()! : string.Empty))]
            : [];

    /// <summary>
    /// The public repository a <c>resourceArn</c> names: <c>arn:aws:ecr-public::&lt;account&gt;:repository/&lt;name&gt;</c>.
    /// A private repository's ARN is ECR's API's to tag, not this one's.
    /// </summary>
    private static RepositoryKey ResourceRepository(EcrPublicCall call)
    {
        var arn = call.String("resourceArn") ?? string.Empty;
        if (RepositoryKey.FromArn(arn) is { Registry.IsPublic: true } key)
        {
            return key;
        }

        throw new WharfException(WharfErrorCode.InvalidParameter, $"Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN: {arn}'");
    }
}
