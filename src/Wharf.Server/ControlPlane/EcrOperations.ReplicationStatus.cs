using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Replication;

namespace Wharf.Server.ControlPlane;

/// <summary>Replication's statuses in ECR's shape (docs/replication.md, "Statuses and failure codes").</summary>
internal sealed partial class EcrOperations
{
    /// <summary>
    /// ECR's <c>DescribeImageReplicationStatus</c>: one status per destination the image was armed for
    /// (none before it was pushed after a matching configuration). A failure's <c>failureCode</c> is Wharf's
    /// code, then a colon and the reason (the model leaves the string free; ECR documents no codes).
    /// </summary>
    private static async Task<JsonObject> DescribeImageReplicationStatusAsync(EcrCall call)
    {
        // Resolved per call rather than in the constructor, which every ECR operation shares.
        var replication = call.Context.RequestServices.GetRequiredService<ReplicationService>();
        var key = call.Repository;
        var id = ReadImageId(call);
        var (digest, statuses) = await replication.GetStatusAsync(call.Caller, key, id, call.Aborted);
        var list = new JsonArray();
        foreach (var status in statuses)
        {
            var shape = new JsonObject
            {
                ["region"] = status.Request.Destination.Region,
                ["registryId"] = status.Request.Destination.RegistryId,
                ["status"] = status.Status,
            };
            if (status.FailureCode is { } code)
            {
                shape["failureCode"] = status.Reason is { } reason ? $"{code}: {reason}" : code;
            }

            list.Add((JsonNode)shape);
        }

        return new JsonObject
        {
            ["repositoryName"] = key.Name.Value,
            ["imageId"] = IdShape(new ImageId(digest, id.Tag)),
            ["replicationStatuses"] = list,
        };
    }
}
