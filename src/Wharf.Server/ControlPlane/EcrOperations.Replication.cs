using System.Text.Json.Nodes;
using Wharf.Core.Replication;

namespace Wharf.Server.ControlPlane;

/// <summary>ECR's replication configuration (ECR-NOTES §6), with Wharf's tag filters (docs/replication.md).</summary>
internal sealed partial class EcrOperations
{
    /// <summary>Replaces the registry's configuration and answers it as stored (ECR echoes the configuration).</summary>
    private async Task<JsonObject> PutReplicationConfigurationAsync(EcrCall call)
    {
        var stored = await replication.PutAsync(call.Caller, call.Registry, call.Get("replicationConfiguration")!.Value, call.Aborted);
        var answer = new JsonObject { ["replicationConfiguration"] = ReplicationConfigurationParser.ToWire(stored) };

        // Wharf's extension: "wharfBackfill": true also replicates the images that already exist (docs/replication.md, "Backfill").
        if (call.Get("wharfBackfill") is { ValueKind: System.Text.Json.JsonValueKind.True })
        {
            await call.Context.RequestServices.GetRequiredService<ReplicationService>().RequestBackfillAsync(call.Registry, call.Aborted);
            answer["wharfBackfill"] = "REQUESTED";
        }

        return answer;
    }
}
