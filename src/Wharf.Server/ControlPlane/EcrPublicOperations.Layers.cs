using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// ECR Public's layer-upload API: ECR's, on a public repository. A push never creates a public repository
/// (ECR Public's <c>CreateRepository</c> does, with the registry's alias), so a missing one is <c>RepositoryNotFoundException</c>.
/// </summary>
internal sealed partial class EcrPublicOperations
{
    private async Task<JsonObject> BatchCheckLayerAvailabilityAsync(EcrPublicCall call)
    {
        var (found, failures) = await layers.CheckAvailabilityAsync(call.Caller, call.Repository, call.Call.Strings("layerDigests"), call.Aborted);
        return new JsonObject
        {
            ["layers"] = Json.Array(found, l =>
            {
                var layer = new JsonObject { ["layerDigest"] = l.Digest, ["layerAvailability"] = l.Blob is null ? "UNAVAILABLE" : "AVAILABLE" };
                if (l.Blob is { } blob)
                {
                    layer["layerSize"] = blob.Size;
                }

                return layer;
            }),
            ["failures"] = Json.Array(failures, f => new JsonObject { ["layerDigest"] = f.Digest, ["failureCode"] = f.Code, ["failureReason"] = f.Reason }),
        };
    }

    private async Task<JsonObject> InitiateLayerUploadAsync(EcrPublicCall call)
    {
        using var slot = await uploadLimits.AdmitAsync(call.Context, call.Caller, call.Registry, call.Aborted);
        var id = await layers.InitiateAsync(call.Caller, call.Repository, call.Aborted);
        slot.Opened(id);
        return new JsonObject { ["uploadId"] = EcrOperations.ApiUploadId(id), ["partSize"] = LayerService.PartSize };
    }

    private async Task<JsonObject> UploadLayerPartAsync(EcrPublicCall call)
    {
        var key = call.Repository;
        var apiId = call.String("uploadId")!;
        var part = call.Get("layerPartBlob")!.Value.GetBytesFromBase64();
        long last;
        try
        {
            last = await layers.UploadPartAsync(
                call.Caller, key, EcrOperations.StoreUploadId(apiId), call.Call.Long("partFirstByte")!.Value, call.Call.Long("partLastByte")!.Value, part, call.Aborted);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.InvalidLayerPart && e.Detail is LayerPartRejected rejected)
        {
            // As ECR's, the exception carries where the upload stands, so that the client can resume.
            throw new WharfException(e.Code, e.Message, new JsonObject
            {
                ["registryId"] = key.Registry.Account.Value,
                ["repositoryName"] = key.Name.Value,
                ["uploadId"] = apiId,
                ["lastValidByteReceived"] = rejected.LastValidByteReceived,
            });
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.BlobUploadUnknown)
        {
            throw EcrOperations.UploadNotFound(key, apiId);
        }

        return new JsonObject
        {
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["uploadId"] = apiId,
            ["lastByteReceived"] = last,
        };
    }

    private async Task<JsonObject> CompleteLayerUploadAsync(EcrPublicCall call)
    {
        var key = call.Repository;
        var apiId = call.String("uploadId")!;
        var digests = call.Call.Strings("layerDigests");
        if (digests.Count != 1)
        {
            throw EcrCall.Invalid("layerDigests", "must contain exactly one digest: Wharf completes one layer per upload");
        }

        var digest = Digest.TryParse(digests[0], out var parsed) ? parsed : throw EcrCall.Invalid("layerDigests.1.member", "must be a valid digest such as sha256:<64 hex digits>");
        try
        {
            await layers.CompleteAsync(call.Caller, key, EcrOperations.StoreUploadId(apiId), digest, call.Aborted);
            uploadLimits.Ended(EcrOperations.StoreUploadId(apiId));
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.BlobUploadUnknown)
        {
            throw EcrOperations.UploadNotFound(key, apiId);
        }

        return new JsonObject
        {
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["uploadId"] = apiId,
            ["layerDigest"] = digest.ToString(),
        };
    }
}
