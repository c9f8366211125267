using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// The layer-upload API (<c>BatchCheckLayerAvailability</c>, <c>InitiateLayerUpload</c>, <c>UploadLayerPart</c>,
/// <c>CompleteLayerUpload</c>) as ECR and ECR Public both speak it: the same members and shapes, on the
/// repository each API's call names (a private one, or a public one).
/// </summary>
internal sealed class LayerUploadApi(LayerService layers, UploadSessionLimits uploadLimits)
{
    public async Task<JsonObject> BatchCheckLayerAvailabilityAsync(EcrCall call, RepositoryKey key)
    {
        var (found, failures) = await layers.CheckAvailabilityAsync(call.Caller, key, call.Strings("layerDigests"), call.Aborted);
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

    public async Task<JsonObject> InitiateLayerUploadAsync(EcrCall call, RepositoryKey key)
    {
        using var slot = await uploadLimits.AdmitAsync(call.Context, call.Caller, key.Registry, call.Aborted);
        var id = await layers.InitiateAsync(call.Caller, key, call.Aborted);
        slot.Opened(id);
        return new JsonObject { ["uploadId"] = ApiUploadId(id), ["partSize"] = LayerService.PartSize };
    }

    public async Task<JsonObject> UploadLayerPartAsync(EcrCall call, RepositoryKey key)
    {
        var apiId = call.String("uploadId")!;
        var part = call.Get("layerPartBlob")!.Value.GetBytesFromBase64();
        long last;
        try
        {
            last = await layers.UploadPartAsync(
                call.Caller, key, StoreUploadId(apiId), call.Long("partFirstByte")!.Value, call.Long("partLastByte")!.Value, part, call.Aborted);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.InvalidLayerPart && e.Detail is LayerPartRejected rejected)
        {
            // ECR's exception carries where the upload stands, so that the client can resume.
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
            throw UploadNotFound(key, apiId);
        }

        return new JsonObject
        {
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["uploadId"] = apiId,
            ["lastByteReceived"] = last,
        };
    }

    public async Task<JsonObject> CompleteLayerUploadAsync(EcrCall call, RepositoryKey key)
    {
        var apiId = call.String("uploadId")!;
        var digests = call.Strings("layerDigests");
        if (digests.Count != 1)
        {
            throw EcrCall.Invalid("layerDigests", "must contain exactly one digest: Wharf completes one layer per upload");
        }

        var digest = Digest.TryParse(digests[0], out var parsed) ? parsed : throw EcrCall.Invalid("layerDigests.1.member", "must be a valid digest such as sha256:<64 hex digits>");
        try
        {
            await layers.CompleteAsync(call.Caller, key, StoreUploadId(apiId), digest, call.Aborted);
            uploadLimits.Ended(StoreUploadId(apiId));
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.BlobUploadUnknown)
        {
            throw UploadNotFound(key, apiId);
        }

        return new JsonObject
        {
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["uploadId"] = apiId,
            ["layerDigest"] = digest.ToString(),
        };
    }

    /// <summary>The model's <c>UploadId</c> is a dashed UUID; /v2 sessions use the undashed form. Both name one session.</summary>
    internal static string ApiUploadId(string storeId) => Guid.ParseExact(storeId, "N").ToString("D");

    internal static string StoreUploadId(string apiId) => Guid.TryParse(apiId, out var id) ? id.ToString("N") : apiId;

    internal static WharfException UploadNotFound(RepositoryKey key, string uploadId) =>
        new(WharfErrorCode.BlobUploadUnknown, $"The upload with id '{uploadId}' does not exist in the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");
}
