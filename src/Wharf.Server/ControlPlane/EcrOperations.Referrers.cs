using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Server.ControlPlane;

/// <summary>ECR's <c>ListImageReferrers</c>: the OCI referrers of an image, as the JSON API lists them (ECR-NOTES §1.4).</summary>
internal sealed partial class EcrOperations
{
    /// <summary>ECR's default page size of <c>ListImageReferrers</c> (its <c>maxResults</c> is 1–50).</summary>
    private const int DefaultReferrerPageSize = 20;

    private async Task<JsonObject> ListImageReferrersAsync(EcrCall call)
    {
        var subjectText = call.Get("subjectId")!.Value.GetProperty("imageDigest").GetString();
        if (!Digest.TryParse(subjectText, out var subject))
        {
            throw EcrCall.Invalid("subjectId.imageDigest", "must be a digest of the form algorithm:hex");
        }

        var filter = call.Get("filter");
        var types = filter is { } f && f.TryGetProperty("artifactTypes", out var list) && list.ValueKind == System.Text.Json.JsonValueKind.Array
            ? list.EnumerateArray().Select(t => t.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        var status = filter is { } g && g.TryGetProperty("artifactStatus", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.String ? s.GetString()! : "ACTIVE";
        var referrers = (await manifests.ListReferrersAsync(call.Caller, call.Repository, subject, null, call.Aborted))
            .Where(r => types.Count == 0 || (r.ArtifactType is { } type && types.Contains(type)))
            .Where(r => status switch
            {
                "ANY" => true,
                "ARCHIVED" => r.Archived,
                "ACTIVE" => !r.Archived,
                _ => false, // ACTIVATING: a restore is immediate in Wharf, so nothing is ever activating
            })
            .ToList();

        // Keyset paging by digest (the list's order); the token is bound to the subject and the filter.
        var scope = $"{subject}|{string.Join(',', types.Order(StringComparer.Ordinal))}|{status}";
        var after = await CursorAsync(call, scope);
        var limit = (int)(call.Long("maxResults") ?? DefaultReferrerPageSize);
        var page = referrers.Where(r => after is null || string.CompareOrdinal(r.Digest.ToString(), after) > 0).Take(limit + 1).ToList();
        var result = new JsonObject { ["referrers"] = Json.Array(page.Take(limit), ReferrerShape) };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, scope, page[limit - 1].Digest.ToString());
        }

        return result;
    }

    private static JsonObject ReferrerShape(ReferrerRecord referrer)
    {
        var shape = new JsonObject
        {
            ["digest"] = referrer.Digest.ToString(),
            ["mediaType"] = referrer.MediaType,
        };
        if (referrer.ArtifactType is not null)
        {
            shape["artifactType"] = referrer.ArtifactType;
        }

        shape["size"] = referrer.Size;
        if (referrer.AnnotationsJson is not null)
        {
            shape["annotations"] = JsonNode.Parse(referrer.AnnotationsJson);
        }

        shape["artifactStatus"] = referrer.Archived ? "ARCHIVED" : "ACTIVE";
        return shape;
    }
}
