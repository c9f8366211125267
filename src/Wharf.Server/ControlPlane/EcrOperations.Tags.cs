using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrOperations
{
    private async Task<JsonObject> TagResourceAsync(EcrCall call)
    {
        await repositories.TagResourceAsync(call.Caller, ResourceRepository(call), RepositoryRequests.ReadResourceTags(call.Input), call.Aborted);
        return [];
    }

    private async Task<JsonObject> UntagResourceAsync(EcrCall call)
    {
        await repositories.UntagResourceAsync(call.Caller, ResourceRepository(call), call.Strings("tagKeys"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> ListTagsForResourceAsync(EcrCall call)
    {
        var tags = await repositories.ListResourceTagsAsync(call.Caller, ResourceRepository(call), call.Aborted);
        return new JsonObject { ["tags"] = Json.Array(tags, t => new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value }) };
    }

    /// <summary>
    /// The repository a <c>resourceArn</c> names: <c>arn:aws:ecr:&lt;region&gt;:&lt;account&gt;:repository/&lt;name&gt;</c>
    /// (repositories are ECR's only taggable resource).
    /// </summary>
    private static RepositoryKey ResourceRepository(EcrCall call)
    {
        var arn = call.String("resourceArn") ?? string.Empty;
        // An ECR Public ARN names a public repository: the ECR Public API's to tag, not this one's.
        if (RepositoryKey.FromArn(arn) is { Registry.IsPublic: false } key)
        {
            return key;
        }

        throw new WharfException(WharfErrorCode.InvalidParameter, $"Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN: {arn}'");
    }
}
