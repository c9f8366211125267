using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Wharf.Cluster.Tests.Infrastructure;

namespace Wharf.Cluster.Tests;

/// <summary>
/// The S3 gateway stopped for 10 s while six clients push through a three-node cluster. Proves: the
/// requests that needed S3 failed cleanly (OCI error JSON, 5xx, no stack trace, no dropped
/// connection), nothing half-committed is visible (every tag's manifest has all its blobs),
/// <c>/health/ready</c> went 503 naming the blob store on every node and back to 200, and the clients'
/// retries after the gateway returned were acknowledged.
/// </summary>
public sealed class BlobStoreOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task S3_down_for_10_s_fails_pushes_cleanly_commits_nothing_half_and_readiness_recovers()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var cluster = await WharfCluster.StartAsync(ClusterStorage.S3);
        var rgw = cluster.Rgw!;
        using var client = cluster.CreateClient();
        var workload = new Workload(cluster, client, Path.GetTempPath());
        var nodes = cluster.Nodes.Select(n => n.BaseAddress).ToList();
        var readiness = new ConcurrentQueue<(TimeSpan At, int Node, HttpStatusCode Status, string Body)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        var probes = cluster.Nodes.Select(node => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, body) = await client.GetAsync(node.BaseAddress, "health/ready", cancellationToken);
                readiness.Enqueue((clock.Elapsed, node.Index, status, body));
                await Task.Delay(250, cancellationToken);
            }
        }, cancellationToken)).ToArray();

        var pushers = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            var random = new Random(8400 + worker);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await workload.UntilAcknowledgedAsync(attempt => workload.PushRawAsync(random, $"outage{worker % 2}/app", $"w{worker}-{i}", nodes, cancellationToken), tries: 60, cancellationToken);
            }
        }, cancellationToken)).ToArray();

        // Pushes well under way (each pusher has had time to finish one), then the gateway goes.
        await UntilAsync(() => workload.Acknowledged.Count >= 6, TimeSpan.FromSeconds(60), cancellationToken);
        var acknowledgedBefore = workload.Acknowledged.Count;
        var failuresBefore = workload.Failures.Count;
        var stoppedAt = clock.Elapsed;
        await rgw.StopGatewayAsync(cancellationToken);
        await Task.Delay(Outage, cancellationToken);
        var failuresDuring = workload.Failures.Count - failuresBefore;
        var acknowledgedDuring = workload.Acknowledged.Count;
        var restartedAt = clock.Elapsed;
        await rgw.StartGatewayAsync(cancellationToken);

        // Ready again everywhere, then a few more pushes through the recovered store.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !cluster.Nodes.All(n => readiness.LastOrDefault(r => r.Node == n.Index && r.At > restartedAt).Status == HttpStatusCode.OK))
        {
            await Task.Delay(200, cancellationToken);
        }

        var acknowledgedAtRecovery = workload.Acknowledged.Count;
        await UntilAsync(() => workload.Acknowledged.Count >= acknowledgedAtRecovery + 6, TimeSpan.FromSeconds(60), cancellationToken);
        await stop.CancelAsync();
        await Task.WhenAll(pushers);
        await Task.WhenAll(probes);

        var acknowledged = workload.Acknowledged.ToArray();
        var lost = await workload.PullEverywhereAsync(acknowledged, cancellationToken);
        var halfCommitted = await HalfCommittedAsync(client, cluster.Balancer.BaseAddress, ["outage0/app", "outage1/app"], cancellationToken);
        var notReady = readiness.Where(r => r.At > stoppedAt && r.At < restartedAt && r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        var failures = workload.Failures.ToArray();
        output.WriteLine($"gateway down from {stoppedAt.TotalSeconds:F1} s to {restartedAt.TotalSeconds:F1} s; acknowledged before: {acknowledgedBefore}, by the restart: {acknowledgedDuring}, when ready again: {acknowledgedAtRecovery}, at the end: {acknowledged.Length}");
        output.WriteLine($"failed attempts during the outage: {failuresDuring}, in all: {failures.Length}; not clean: {workload.Defects.Count}; tags with missing blobs: {halfCommitted.Count}");
        output.WriteLine($"readiness 503 answers while down: {notReady.Count} (nodes {string.Join(",", notReady.Select(r => r.Node).Distinct().Order())})");
        foreach (var kind in failures.GroupBy(f => f.Length > 200 ? f[..200] : f).Take(6))
        {
            output.WriteLine($"  {kind.Count()} × {kind.Key}");
        }

        if (notReady.Count > 0)
        {
            output.WriteLine("  e.g. " + notReady[0].Body);
        }

        Assert.True(failuresDuring > 0, "no push failed while S3 was down: the test proved little");
        Assert.True(workload.Defects.IsEmpty, "failures not in the OCI error shape (or with a stack trace):\n" + string.Join('\n', workload.Defects.Take(10)));
        var connectionFailures = failures.Where(f => !f.Contains(" → ", StringComparison.Ordinal)).ToList();
        Assert.True(connectionFailures.Count == 0, "requests failed without an answer:\n" + string.Join('\n', connectionFailures.Take(10)) + "\n" + cluster.Logs());
        var not5xx = failures.Where(f => !System.Text.RegularExpressions.Regex.IsMatch(f, " → 5\\d\\d: ")).ToList();
        Assert.True(not5xx.Count == 0, "failures other than a retryable 5xx:\n" + string.Join('\n', not5xx.Take(10)));
        Assert.Equal(cluster.Nodes.Select(n => n.Index).Order(), notReady.Select(r => r.Node).Distinct().Order());
        Assert.All(notReady, r => Assert.Contains("blob store", r.Body, StringComparison.Ordinal));
        Assert.All(cluster.Nodes, n => Assert.Equal(HttpStatusCode.OK, readiness.Last(r => r.Node == n.Index).Status));
        Assert.True(halfCommitted.Count == 0, "visible manifests with missing blobs:\n" + string.Join('\n', halfCommitted.Take(10)));
        Assert.True(lost.Count == 0, "acknowledged images lost:\n" + string.Join('\n', lost.Take(10)));
        Assert.True(acknowledged.Length > acknowledgedAtRecovery, "no push was acknowledged after the gateway came back");
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Every tag of the repositories, with every blob its manifest names: those that do not pull whole.</summary>
    private static async Task<List<string>> HalfCommittedAsync(OciClient client, Uri address, string[] repositories, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var repository in repositories)
        {
            var (status, body) = await client.GetAsync(address, $"v2/{repository}/tags/list?n=10000", cancellationToken);
            Assert.Equal(HttpStatusCode.OK, status);
            using var tags = JsonDocument.Parse(body);
            foreach (var tag in tags.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!))
            {
                var manifest = await client.GetManifestAsync(address, repository, tag, cancellationToken);
                if (manifest is null)
                {
                    problems.Add($"{repository}:{tag} is listed but its manifest is missing");
                    continue;
                }

                using var json = JsonDocument.Parse(manifest);
                var blobs = json.RootElement.GetProperty("layers").EnumerateArray().Append(json.RootElement.GetProperty("config"))
                    .Select(d => new Descriptor(d.GetProperty("digest").GetString()!, d.GetProperty("size").GetInt64()));
                foreach (var blob in blobs)
                {
                    var pulled = await client.GetBlobAsync(address, repository, blob.Digest, cancellationToken);
                    if (pulled != blob)
                    {
                        problems.Add($"{repository}:{tag}: blob {blob.Digest} {(pulled is null ? "missing" : "differs")}");
                    }
                }
            }
        }

        return problems;
    }
}
