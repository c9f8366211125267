using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Wharf.Cluster.Tests.Infrastructure;

namespace Wharf.Cluster.Tests;

/// <summary>
/// SIGKILL of one node at a random moment while eight clients push, ten rounds, the node restarted
/// after each. Clients retry a failed push whole (the first try sends each PATCH straight to a different
/// node, retries go through the balancer, which routes around the dead node). Proves: every push is
/// acknowledged after retries, no acknowledged image is lost or corrupt on any node, the surviving
/// nodes serve every pull while one is down, and <c>wharf check</c> passes afterwards.
/// </summary>
public sealed class NodeKillTests(ITestOutputHelper output)
{
    private const int Rounds = 10;

    [Fact]
    public async Task Killing_a_node_during_pushes_loses_no_acknowledged_image_and_the_others_keep_serving()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var cluster = await WharfCluster.StartAsync(ClusterStorage.S3);
        using var client = cluster.CreateClient();
        var scratch = Directory.CreateTempSubdirectory("wharf-cluster-layouts-").FullName;
        var workload = new Workload(cluster, client, scratch);
        var nodes = cluster.Nodes.Select(n => n.BaseAddress).ToList();
        var random = new Random(20261205);
        var pullProblems = new ConcurrentQueue<string>();
        var survivorPulls = 0;
        var victim = -1;
        var refusedStarts = 0;
        using var stop = new CancellationTokenSource();
        try
        {
            var pushers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                var rng = new Random(3400 + worker);
                var repository = $"kill{worker % 3}/app";
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var tag = $"w{worker}-{i}";
                    await workload.UntilAcknowledgedAsync(
                        attempt => worker < 2
                            ? workload.PushSkopeoAsync(rng, repository, tag, cancellationToken)
                            : workload.PushRawAsync(rng, repository, tag, attempt == 1 ? nodes : [cluster.Balancer.BaseAddress], cancellationToken),
                        tries: 40,
                        cancellationToken);
                    await Task.Delay(500, cancellationToken);
                }
            }, cancellationToken)).ToArray();

            // Pullers read straight from the nodes that are not being killed: they must never fail.
            var pullers = Enumerable.Range(0, 2).Select(puller => Task.Run(async () =>
            {
                var rng = new Random(4400 + puller);
                while (!stop.IsCancellationRequested)
                {
                    var done = workload.Acknowledged.ToArray();
                    var down = Volatile.Read(ref victim);
                    var node = rng.Next(cluster.Nodes.Count);
                    if (done.Length == 0 || down == -1 || node == down)
                    {
                        await Task.Delay(20, cancellationToken);
                        continue;
                    }

                    Interlocked.Increment(ref survivorPulls);
                    try
                    {
                        foreach (var problem in await workload.PullAsync(cluster.Nodes[node].BaseAddress, done[rng.Next(done.Length)], cancellationToken))
                        {
                            pullProblems.Enqueue($"node {node} while node {down} was down: {problem}");
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or RegistryException or IOException)
                    {
                        pullProblems.Enqueue($"node {node} while node {down} was down: {e.Message}");
                    }
                }
            }, cancellationToken)).ToArray();

            var clock = Stopwatch.StartNew();
            for (var round = 0; round < Rounds; round++)
            {
                await Task.Delay(random.Next(300, 1500), cancellationToken);
                var node = cluster.Nodes[random.Next(cluster.Nodes.Count)];
                Volatile.Write(ref victim, node.Index);
                node.Kill();
                await Task.Delay(1000, cancellationToken);
                // As a supervisor (systemd's Restart=on-failure) would: a node that refuses to start because
                // a start-up check timed out on the loaded machine is started again.
                for (var start = 1; await node.TryStartAsync(cancellationToken) is { } exitCode; start++)
                {
                    refusedStarts++;
                    Assert.True(start < 5, $"node {node.Index} refused to start {start} times (exit {exitCode}):\n{node.Log}");
                    await Task.Delay(1000, cancellationToken);
                }

                Volatile.Write(ref victim, -1);
            }

            await stop.CancelAsync();
            await Task.WhenAll(pushers);
            await Task.WhenAll(pullers);
            output.WriteLine($"rounds took {clock.Elapsed.TotalSeconds:F0} s");

            var acknowledged = workload.Acknowledged.ToArray();
            var lost = await workload.PullEverywhereAsync(acknowledged, cancellationToken);
            output.WriteLine($"pulling every image from every node took {clock.Elapsed.TotalSeconds:F0} s");
            var check = await cluster.RunWharfAsync("check");
            var imagesLost = acknowledged.Count(a => lost.Any(p => p.Contains($" {a.Repository}:{a.Tag}:", StringComparison.Ordinal)));
            output.WriteLine($"rounds: {Rounds} (SIGKILL of one node each, restarted after 1 s down; starts refused by a start-up check and repeated: {refusedStarts})");
            output.WriteLine($"push attempts: {workload.Attempts}; pushes acknowledged: {acknowledged.Length} ({acknowledged.Count(a => a.Client == "skopeo")} skopeo, {acknowledged.Count(a => a.Client == "raw")} raw); failed attempts retried: {workload.Failures.Count}; images lost: {imagesLost}");
            output.WriteLine($"pulls from surviving nodes while one was down: {survivorPulls}, failed: {pullProblems.Count}");
            // No request is answered 500, whatever the kill interrupted (this caught a PUT the balancer
            // passed on after the first node committed and died): each one's stack is printed first.
            var faults = cluster.Nodes.SelectMany(n => n.UnhandledErrors().Select(e => $"node {n.Index}: {e}")).ToList();
            output.WriteLine($"requests the nodes answered 500 (logged as unhandled errors): {faults.Count}");
            foreach (var fault in faults.Take(5))
            {
                output.WriteLine($"  {fault}");
            }
            output.WriteLine($"wharf check: exit {check.ExitCode}, {check.StandardOutput.Trim()}");
            foreach (var kind in workload.Failures.GroupBy(f => Regex.Replace(f, "[0-9a-f]{64}|\\d+", "N")).OrderByDescending(g => g.Count()).Take(12))
            {
                output.WriteLine($"  {kind.Count()} retried after: {(kind.Key.Length > 300 ? kind.Key[..300] : kind.Key)}");
            }

            Assert.True(Rounds * 2 <= acknowledged.Length, $"only {acknowledged.Length} pushes were acknowledged: the test proved little");
            Assert.True(lost.Count == 0, "acknowledged images lost or corrupt:\n" + string.Join('\n', lost.Take(30)) + "\n" + cluster.Logs());
            Assert.True(pullProblems.IsEmpty, "surviving nodes failed pulls:\n" + string.Join('\n', pullProblems.Take(30)) + "\n" + cluster.Logs());
            Assert.True(workload.Defects.IsEmpty, "failures in no shape a client can act on:\n" + string.Join('\n', workload.Defects.Take(10)));
            Assert.True(check.ExitCode == 0, $"wharf check found problems:\n{check.StandardOutput}\n{check.StandardError}");
            Assert.True(faults.Count == 0, $"the nodes answered {faults.Count} requests with 500:\n{string.Join("\n", faults)}");
        }
        finally
        {
            await stop.CancelAsync();
            Directory.Delete(scratch, recursive: true);
        }
    }
}
