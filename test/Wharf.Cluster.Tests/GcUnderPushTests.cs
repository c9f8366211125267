using System.Collections.Concurrent;
using System.Text;
using Wharf.Cluster.Tests.Infrastructure;

namespace Wharf.Cluster.Tests;

/// <summary>
/// Garbage collection on one node (3 s grace window, every second) while the two other nodes take
/// pushes of images that share layers, and images are deleted so that shared layers keep becoming
/// unreferenced. Clients behave as real ones: a blob the registry already has (HEAD 200) is not
/// uploaded again, and a manifest refused for a missing blob is pushed again after uploading it.
/// Proves that no acknowledged, undeleted image ever misses a blob, while GC does delete garbage.
/// </summary>
public sealed class GcUnderPushTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Gc_on_one_node_while_others_push_shared_layers_never_leaves_a_committed_image_without_a_blob()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var cluster = await WharfCluster.StartAsync(ClusterStorage.S3, nodeSettings: index => index == 0
            ? new Dictionary<string, string> { ["WHARF__Gc__Enabled"] = "true", ["WHARF__Gc__GraceWindow"] = "00:00:03", ["WHARF__Gc__Interval"] = "00:00:01" }
            : new Dictionary<string, string> { ["WHARF__Gc__Enabled"] = "false" });
        using var client = cluster.CreateClient();
        var workload = new Workload(cluster, client, Path.GetTempPath());
        var random = new Random(1414);
        var shared = Enumerable.Range(0, 6).Select(_ => Workload.RandomBytes(random, random.Next(100, 300) * 1024)).ToArray();
        var pushers = new[] { cluster.Nodes[1].BaseAddress, cluster.Nodes[2].BaseAddress };
        var live = new ConcurrentDictionary<string, Acknowledged>();
        var deleting = new ConcurrentDictionary<string, Acknowledged>();
        var uniqueLayers = new ConcurrentDictionary<string, string>();
        var missing = new ConcurrentQueue<string>();
        var refusedManifests = 0;
        var refusedUploads = 0;
        var checks = 0;
        using var stop = new CancellationTokenSource(Duration);

        var pushing = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            var rng = new Random(5400 + worker);
            var node = pushers[worker % 2];
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var repository = $"gc{worker % 2}/app";
                var tag = $"w{worker}-{i}";
                var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","tag":"{{tag}}"}""");
                var unique = Workload.RandomBytes(rng, 48 * 1024);
                var layers = new[] { shared[rng.Next(3)], shared[3 + rng.Next(3)], unique };
                var manifest = OciClient.Manifest(config, layers);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        foreach (var blob in layers.Append(config))
                        {
                            if (!await client.BlobExistsAsync(node, repository, OciClient.Sha256(blob), cancellationToken))
                            {
                                await client.PushBlobAsync(node, repository, blob, cancellationToken);
                            }
                        }

                        await client.PushManifestAsync(node, repository, tag, manifest, cancellationToken);
                        break;
                    }
                    catch (RegistryException e) when (e.Status == System.Net.HttpStatusCode.BadRequest && e.Body.Contains("MANIFEST_BLOB_UNKNOWN", StringComparison.Ordinal) && attempt < 20)
                    {
                        // GC took a blob between the HEAD and the manifest (on this loaded machine a push can
                        // outlast the grace window): the registry refused the manifest, as it must.
                        Interlocked.Increment(ref refusedManifests);
                    }
                    catch (RegistryException e) when (e.Status == System.Net.HttpStatusCode.ServiceUnavailable && e.Body.Contains("UNAVAILABLE", StringComparison.Ordinal) && attempt < 20)
                    {
                        // An upload of a blob GC was deleting at that moment: retryable, as the error says.
                        Interlocked.Increment(ref refusedUploads);
                    }
                }

                var image = new Acknowledged(repository, tag, manifest, [.. layers.Append(config).Select(b => new Descriptor(OciClient.Sha256(b), b.Length))], "raw");
                live[image.Tag] = image;
                uniqueLayers[image.Tag] = OciClient.Sha256(unique);
            }
        }, cancellationToken)).ToArray();

        // Keeps about three images alive (a deletion every 50 ms), so shared layers keep losing their last reference.
        var deleter = Task.Run(async () =>
        {
            var rng = new Random(6400);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(50, cancellationToken);
                var candidates = live.Values.ToArray();
                if (candidates.Length <= 3)
                {
                    continue;
                }

                var image = candidates[rng.Next(candidates.Length)];
                deleting[image.Tag] = image;
                live.TryRemove(image.Tag, out _);
                await client.DeleteManifestAsync(pushers[rng.Next(2)], image.Repository, OciClient.Sha256(image.Manifest), cancellationToken);
            }
        }, cancellationToken);

        // Pulls live images from every node while GC runs: a missing blob of an image not being deleted is a lost image.
        var checker = Task.Run(async () =>
        {
            var rng = new Random(7400);
            while (!stop.IsCancellationRequested)
            {
                var candidates = live.Values.ToArray();
                if (candidates.Length == 0)
                {
                    await Task.Delay(50, cancellationToken);
                    continue;
                }

                var image = candidates[rng.Next(candidates.Length)];
                var node = cluster.Nodes[rng.Next(cluster.Nodes.Count)];
                Interlocked.Increment(ref checks);
                var problems = await workload.PullAsync(node.BaseAddress, image, cancellationToken);
                if (problems.Count > 0 && !deleting.ContainsKey(image.Tag))
                {
                    missing.Enqueue($"node {node.Index}: {string.Join("; ", problems)}");
                }
            }
        }, cancellationToken);

        await Task.WhenAll([.. pushing, deleter, checker]);

        // A few more GC runs after the last push, then every surviving image from every node.
        await Task.Delay(TimeSpan.FromSeconds(4), cancellationToken);
        var lost = await workload.PullEverywhereAsync(live.Values, cancellationToken);
        var collected = 0;
        foreach (var image in deleting.Values)
        {
            if (!await client.BlobExistsAsync(cluster.Nodes[1].BaseAddress, image.Repository, uniqueLayers[image.Tag], cancellationToken))
            {
                collected++;
            }
        }

        var check = await cluster.RunWharfAsync("check");
        output.WriteLine($"images acknowledged: {live.Count + deleting.Count}, deleted: {deleting.Count}, live: {live.Count}; manifests refused for a collected blob and pushed again: {refusedManifests}; uploads refused while GC deleted the blob and retried: {refusedUploads}");
        output.WriteLine($"pulls while GC ran: {checks}, missing a blob: {missing.Count}; after: live images missing a blob on some node: {lost.Count}; deleted images whose unique layer GC removed: {collected} of {deleting.Count}");
        output.WriteLine($"wharf check: exit {check.ExitCode}, {check.StandardOutput.Trim()}");
        Assert.True(missing.IsEmpty, "committed images missed blobs while GC ran:\n" + string.Join('\n', missing.Take(20)) + "\n" + cluster.Logs());
        Assert.True(lost.Count == 0, "committed images missed blobs:\n" + string.Join('\n', lost.Take(20)) + "\n" + cluster.Logs());
        Assert.True(collected > 0, "GC removed nothing: the test proved little\n" + cluster.Logs());
        Assert.True(check.ExitCode == 0, $"wharf check found problems:\n{check.StandardOutput}\n{check.StandardError}");
    }
}
