using System.Collections.Concurrent;
using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.GarbageCollection;

/// <summary>
/// Pushes that share layers race garbage collection while the fake clock jumps past the grace window
/// between GC runs: pushes may fail and be retried, but no image that was committed ever loses a blob.
/// </summary>
public sealed class GcRaceTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task No_committed_image_loses_a_blob_while_gc_runs()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var shared = Enumerable.Range(0, 4).Select(_ => ServiceStack.Random(8 * 1024)).ToArray();
        var committed = new ConcurrentBag<(string Repository, byte[] Manifest, byte[][] Blobs)>();
        var retries = 0;
        var gcRunsSoFar = 0;
        using var stop = new CancellationTokenSource();

        var gc = Task.Run(async () =>
        {
            var runs = 0;
            while (!stop.IsCancellationRequested)
            {
                stack.Time.Advance(Grace + TimeSpan.FromSeconds(1));
                await stack.Collector.RunOnceAsync(CancellationToken.None);
                runs++;
                Volatile.Write(ref gcRunsSoFar, runs);

                // Every run sees everything unreferenced as old; a short real pause lets pushes progress.
                await Task.Delay(3, CancellationToken.None);
            }

            return runs;
        });

        var pushers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 40; i++)
            {
                // Keep pushes and GC runs interleaved however the machine schedules them.
                while (Volatile.Read(ref gcRunsSoFar) < i / 3)
                {
                    await Task.Delay(1, CancellationToken.None);
                }

                var repository = $"race/r{random.Next(2)}";
                var config = Encoding.UTF8.GetBytes($$"""{"os":"linux","worker":{{worker}},"i":{{i}}}""");
                var layers = new[] { shared[random.Next(shared.Length)], shared[random.Next(shared.Length)], ServiceStack.Random(512) }.Distinct().ToArray();
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        var manifest = await stack.PushImageAsync(repository, $"w{worker}-{i}", config, layers);
                        committed.Add((repository, manifest, layers.Prepend(config).ToArray()));
                        break;
                    }
                    catch (WharfException e) when (e.Code is WharfErrorCode.ManifestBlobUnknown or WharfErrorCode.Unavailable && attempt < 500)
                    {
                        // GC took a blob between its upload and the manifest: push again, as a client would.
                        Interlocked.Increment(ref retries);
                    }
                }
            }
        })).ToArray();

        await Task.WhenAll(pushers);
        await stop.CancelAsync();
        var gcRuns = await gc;

        Assert.True(gcRuns > 10, $"GC ran only {gcRuns} times: the race was not exercised");
        Assert.Equal(160, committed.Count);
        foreach (var (repository, manifest, blobs) in committed)
        {
            var digest = Digest.Sha256Of(manifest);
            var stored = await stack.Manifests.GetAsync(ServiceStack.Caller, ServiceStack.Repo(repository), Reference.Of(digest), CancellationToken.None);
            Assert.Equal(manifest, stored.Content);
            foreach (var blob in blobs)
            {
                var blobDigest = Digest.Sha256Of(blob);
                Assert.NotNull(await stack.Store.Blobs.GetLinkedBlobAsync(stored.RepositoryId, blobDigest, CancellationToken.None));
                var stat = await stack.Blobs.StatAsync(blobDigest, CancellationToken.None);
                Assert.True(stat is not null && stat.Size == blob.Length, $"{blobDigest} of a committed image is gone from the blob store");
            }
        }

        // One more GC long after: committed images still keep every blob.
        stack.Time.Advance(Grace * 10);
        await stack.Collector.RunOnceAsync(CancellationToken.None);
        foreach (var (_, _, blobs) in committed)
        {
            foreach (var blob in blobs)
            {
                Assert.NotNull(await stack.Blobs.StatAsync(Digest.Sha256Of(blob), CancellationToken.None));
            }
        }
    }
}
