using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Tests.Infrastructure;
using static Wharf.Server.Tests.Replication.ReplicationTests;

namespace Wharf.Server.Tests.Replication;

/// <summary>Replication on a cluster: two nodes on one PostgreSQL database, both workers claiming from one queue.</summary>
public sealed class ReplicationClusterTests
{
    private static readonly RegistryKey Source = new(AccountId.Parse("123456789012"), "us-east-1");

    [Fact]
    public async Task Two_nodes_on_one_PostgreSQL_database_complete_every_copy_in_one_attempt()
    {
        var fast = new Dictionary<string, string?> { ["Replication:Interval"] = "00:00:00.100", ["Replication:Concurrency"] = "2" };
        await using var a = await WharfTestServer.StartOnPostgresAsync(fast);
        await using var b = await a.StartPeerAsync(fast);
        await ConfigureAsync(a, Source, Rule([], ("eu-west-1", "123456789012"), ("ap-southeast-2", "123456789012")));
        using var client = a.CreateClient();
        var pusher = new OciPusher(client);
        var digests = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            digests.Add(OciPusher.Sha256(await PushSmallImageAsync(pusher, "cluster/app", $"v{i}", 100 + i)));
        }

        var rows = new List<ReplicationRecord>();
        foreach (var digest in digests)
        {
            rows.AddRange(await WaitSettledAsync(b, "cluster/app", digest, 2));
        }

        // One attempt per row, none retried or left claimed (that two owners never hold one claim is the store contract's race test).
        Assert.Equal(24, rows.Count);
        Assert.All(rows, r => Assert.Equal((ReplicationStatuses.Complete, 1), (r.Status, r.Attempts)));
        using var copied = await CliJsonAsync(b, "eu-west-1", "ecr", "describe-images", "--repository-name", "cluster/app");
        Assert.Equal(digests.Order(StringComparer.Ordinal), Digests(copied));
    }
}
