using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrOperations
{
    private async Task<JsonObject> GetDownloadUrlForLayerAsync(EcrCall call)
    {
        var key = call.Repository;
        var text = call.String("layerDigest")!;
        var digest = Digest.TryParse(text, out var parsed) ? parsed : throw EcrCall.Invalid("layerDigest", "must be a valid digest such as sha256:<64 hex digits>");
        await layers.CheckDownloadableAsync(call.Caller, key, digest, call.Aborted);
        return new JsonObject
        {
            ["downloadUrl"] = await downloads.CreateUrlAsync(call.Context, call.Caller, key, digest, call.Aborted),
            ["layerDigest"] = digest.ToString(),
        };
    }
}
