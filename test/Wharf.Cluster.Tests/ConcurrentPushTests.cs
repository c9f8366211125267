using System.Collections.Concurrent;
using Wharf.Cluster.Tests.Infrastructure;

namespace Wharf.Cluster.Tests;

/// <summary>
/// Eight concurrent pushers on a three-node cluster: skopeo through the balancer, and raw chunked
/// uploads whose PATCHes each go straight to a different node, while pullers read through the
/// balancer. With no faults, every push is acknowledged at the first try and pulls back
/// byte-identical from every node.
/// </summary>
public sealed class ConcurrentPushTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Concurrent_pushes_through_the_balancer_pull_back_byte_identical_from_every_node()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var cluster = await WharfCluster.StartAsync(ClusterStorage.S3);
        using var client = cluster.CreateClient();
        var scratch = Directory.CreateTempSubdirectory("wharf-cluster-layouts-").FullName;
        var workload = new Workload(cluster, client, scratch);
        var nodes = cluster.Nodes.Select(n => n.BaseAddress).ToList();
        var pullProblems = new ConcurrentQueue<string>();
        var pulls = 0;
        using var stop = new CancellationTokenSource();
        try
        {
            var pushers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                var random = new Random(1400 + worker);
                var repository = $"team{worker % 3}/app";
                for (var i = 0; i < (worker < 4 ? 2 : 4); i++)
                {
                    var tag = $"w{worker}-{i}";
                    await workload.UntilAcknowledgedAsync(
                        _ => worker < 4 ? workload.PushSkopeoAsync(random, repository, tag, cancellationToken) : workload.PushRawAsync(random, repository, tag, nodes, cancellationToken),
                        tries: 1,
                        cancellationToken);
                }
            }, cancellationToken)).ToArray();

            var pullers = Enumerable.Range(0, 2).Select(puller => Task.Run(async () =>
            {
                var random = new Random(2400 + puller);
                while (!stop.IsCancellationRequested)
                {
                    var done = workload.Acknowledged.ToArray();
                    if (done.Length == 0)
                    {
                        await Task.Delay(50, cancellationToken);
                        continue;
                    }

                    var image = done[random.Next(done.Length)];
                    Interlocked.Increment(ref pulls);
                    var problems = await workload.PullAsync(cluster.Balancer.BaseAddress, image, cancellationToken);
                    foreach (var problem in problems)
                    {
                        pullProblems.Enqueue(problem);
                    }
                }
            }, cancellationToken)).ToArray();

            await Task.WhenAll(pushers);
            await stop.CancelAsync();
            await Task.WhenAll(pullers);

            var everywhere = await workload.PullEverywhereAsync(workload.Acknowledged, cancellationToken);
            output.WriteLine($"pushes acknowledged: {workload.Acknowledged.Count} ({workload.Acknowledged.Count(a => a.Client == "skopeo")} skopeo, {workload.Acknowledged.Count(a => a.Client == "raw")} raw); concurrent pulls through the balancer: {pulls}; verified on {cluster.Nodes.Count} nodes");
            Assert.Equal(24, workload.Acknowledged.Count);
            Assert.True(pullProblems.IsEmpty, string.Join('\n', pullProblems));
            Assert.True(everywhere.Count == 0, string.Join('\n', everywhere) + "\n" + cluster.Logs());
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
