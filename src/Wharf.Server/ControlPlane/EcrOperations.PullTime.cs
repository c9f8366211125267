using System.Globalization;
using System.Text.Json.Nodes;

namespace Wharf.Server.ControlPlane;

/// <summary>ECR's pull-time update exclusions: principals whose pulls do not move <c>lastRecordedPullTime</c> (ECR-NOTES §1.6).</summary>
internal sealed partial class EcrOperations
{
    private async Task<JsonObject> RegisterPullTimeUpdateExclusionAsync(EcrCall call)
    {
        var exclusion = await exclusions.RegisterAsync(call.Caller, call.Registry, call.String("principalArn")!, call.Aborted);
        return new JsonObject { ["principalArn"] = exclusion.PrincipalArn, ["createdAt"] = Json.Time(exclusion.CreatedAt) };
    }

    private async Task<JsonObject> DeregisterPullTimeUpdateExclusionAsync(EcrCall call)
    {
        var arn = call.String("principalArn")!;
        await exclusions.DeregisterAsync(call.Caller, call.Registry, arn, call.Aborted);
        return new JsonObject { ["principalArn"] = arn };
    }

    private async Task<JsonObject> ListPullTimeUpdateExclusionsAsync(EcrCall call)
    {
        // At most 100 per registry: paged in memory by position, the token bound to the operation and registry.
        var all = await exclusions.ListAsync(call.Caller, call.Registry, call.Aborted);
        var offset = await CursorAsync(call, string.Empty) is { } cursor ? int.Parse(cursor, CultureInfo.InvariantCulture) : 0;
        var limit = PageSize(call);
        var result = new JsonObject { ["pullTimeUpdateExclusions"] = Json.Array(all.Skip(offset).Take(limit), e => JsonValue.Create(e.PrincipalArn)) };
        if (offset + limit < all.Count)
        {
            result["nextToken"] = await NextTokenAsync(call, string.Empty, (offset + limit).ToString(CultureInfo.InvariantCulture));
        }

        return result;
    }
}
