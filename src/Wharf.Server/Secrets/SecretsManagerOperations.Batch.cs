using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Secrets;
using Wharf.Server.ControlPlane;

namespace Wharf.Server.Secrets;

internal sealed partial class SecretsManagerOperations
{
    /// <summary><c>BatchGetSecretValue</c>'s page size when <c>MaxResults</c> is absent (its model's maximum).</summary>
    public const int BatchPageSize = 20;

    /// <summary>
    /// <c>BatchGetSecretValue</c>: the current values of the secrets named by <c>SecretIdList</c> or matched by
    /// <c>Filters</c> (one or the other). A secret that cannot be read is an entry of <c>Errors</c>, not a failure of
    /// the call; each is authorised as <c>GetSecretValue</c> on its own ARN.
    /// </summary>
    private async Task<JsonObject> BatchGetSecretValueAsync(EcrCall call)
    {
        var ids = call.Strings("SecretIdList");
        var filtered = call.Get("Filters") is not null;
        if (ids.Count > 0 == filtered)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "Either SecretIdList or Filters must be provided, but not both.");
        }

        string? next = null;
        if (filtered)
        {
            var query = Query(call) with { IncludePlannedDeletion = false };
            var scope = Scope(call, query);
            var offset = await OffsetAsync(call, scope);
            var (page, more) = await secrets.ListAsync(call.Caller, call.Registry, query, offset, (int)(call.Long("MaxResults") ?? BatchPageSize), call.Aborted);
            ids = page.Select(d => d.Secret.Arn).ToList();
            next = more ? await tokens.SealAsync(scope, (offset + page.Count).ToString(CultureInfo.InvariantCulture), call.Aborted) : null;
        }
        else if (call.Get("MaxResults") is not null || call.Get("NextToken") is not null)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "MaxResults and NextToken can only be used with Filters.");
        }

        var values = new JsonArray();
        var errors = new JsonArray();
        foreach (var id in ids)
        {
            try
            {
                values.Add((JsonNode)ValueEntry(await secrets.GetValueAsync(call.Caller, call.Registry, id, null, null, call.Aborted)));
            }
            catch (WharfException e)
            {
                errors.Add((JsonNode)new JsonObject { ["SecretId"] = id, ["ErrorCode"] = ErrorCatalogue.Describe(e.Code).AwsType, ["Message"] = e.Message });
            }
        }

        var result = new JsonObject { ["SecretValues"] = values, ["Errors"] = errors };
        if (next is not null)
        {
            result["NextToken"] = next;
        }

        return result;
    }

    private static SecretQuery Query(EcrCall call)
    {
        var filters = call.Get("Filters") is { } list
            ? list.EnumerateArray().Select(f => new SecretFilter(
                f.TryGetProperty("Key", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString()! : "all",
                f.TryGetProperty("Values", out var values) && values.ValueKind == JsonValueKind.Array ? values.EnumerateArray().Select(v => v.GetString() ?? string.Empty).ToList() : []))
                .ToList()
            : [];
        return new SecretQuery(filters, call.String("SortBy") ?? "created-date", call.String("SortOrder") == "desc", call.Bool("IncludePlannedDeletion"));
    }

    /// <summary>A listing's token is bound to its operation, registry and query: another query cannot reuse it.</summary>
    private static string Scope(EcrCall call, SecretQuery query) =>
        $"{call.Operation}|{call.Registry.Account}|{call.Registry.Region}|{JsonSerializer.Serialize(query, Errors.ServerJsonContext.Default.SecretQuery)}";

    private async Task<int> OffsetAsync(EcrCall call, string scope)
    {
        if (call.String("NextToken") is not { } token)
        {
            return 0;
        }

        try
        {
            return int.Parse(await tokens.OpenAsync(scope, token, call.Aborted), CultureInfo.InvariantCulture);
        }
        catch (WharfException)
        {
            throw new WharfException(WharfErrorCode.SecretsInvalidNextToken, "The NextToken value is invalid.");
        }
    }
}
