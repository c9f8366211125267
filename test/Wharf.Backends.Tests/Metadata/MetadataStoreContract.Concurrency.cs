using System.Collections.Concurrent;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    /// <summary>
    /// The GC race: pushes of images sharing layers run while GC claims and forgets everything
    /// unreferenced (cutoff in the future, so the grace window protects nothing). Every push that
    /// succeeded must still find all its blobs live and linked; pushes that lost the race fail cleanly.
    /// </summary>
    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ClaimGarbageAsync))]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ForgetClaimedAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.PutManifestAsync))]
    public async Task Concurrent_pushes_never_lose_a_blob_to_a_racing_garbage_collection()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var shared = Enumerable.Range(0, 6).Select(i => BlobDigest($"shared{i}")).ToArray();
        var cutoff = T0.AddYears(1);
        var succeeded = new ConcurrentBag<ManifestWrite>();
        var failed = 0;
        using var pushesDone = new CancellationTokenSource();
        // A broken backend must fail this test, not hang it (a push waits out claimed rows).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));

        async Task PushAsync(int n)
        {
            var blobs = new[] { shared[n % shared.Length], shared[(n + 1) % shared.Length], BlobDigest($"own{n}") };
            var write = Image(repo.Id, $"image{n}", blobs, tag: $"t{n}");
            for (var attempt = 0; attempt < 20; attempt++)
            {
                foreach (var blob in blobs)
                {
                    // As the upload service does: reserve before committing bytes, wait out a claimed row.
                    while (await store.Blobs.ReserveBlobAsync(blob, 10, T0, Ct) == BlobReservation.BeingDeleted)
                    {
                        await Task.Delay(1, deadline.Token);
                    }

                    await store.Blobs.LinkBlobAsync(repo.Id, blob, T0, Ct);
                }

                // The client sends the manifest a moment after its blobs: GC gets a window.
                await Task.Delay(attempt == 0 ? 1 : 0, deadline.Token);
                var result = await store.Images.PutManifestAsync(write, Ct);
                if (result.Succeeded)
                {
                    succeeded.Add(write);
                    return;
                }

                // Lost the race to GC: nothing may be half-written; push again, as a client would.
                Assert.NotEmpty(result.MissingBlobs);
                Assert.Null(await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
                Interlocked.Increment(ref failed);
            }
        }

        async Task CollectAsync()
        {
            while (true)
            {
                var claimed = await store.Blobs.ClaimGarbageAsync(cutoff, 4, Ct);
                if (claimed.Count > 0)
                {
                    await store.Blobs.ForgetClaimedAsync(claimed.Select(b => b.Digest).ToList(), Ct);
                }
                else if (pushesDone.IsCancellationRequested)
                {
                    return;
                }
                else
                {
                    await Task.Yield();
                }
            }
        }

        var gc = Task.Run(CollectAsync, Ct);
        var pushes = Task.WhenAll(Enumerable.Range(0, 40).Select(n => Task.Run(() => PushAsync(n), Ct)));
        if (await Task.WhenAny(pushes, gc) == gc)
        {
            await deadline.CancelAsync();
            await gc; // GC ended before the pushes: it failed, and says why.
        }

        await pushes;
        await pushesDone.CancelAsync();
        await gc;

        Assert.NotEmpty(succeeded);
        TestContext.Current.TestOutputHelper?.WriteLine($"{succeeded.Count} pushes succeeded, {failed} attempts lost the race to GC");
        foreach (var write in succeeded)
        {
            Assert.NotNull(await store.Images.GetManifestByTagAsync(repo.Id, write.Tag!, Ct));
            foreach (var blob in write.Blobs)
            {
                Assert.NotNull(await store.Blobs.GetLinkedBlobAsync(repo.Id, blob, Ct));
            }
        }

        var referenced = new HashSet<Digest>();
        await foreach (var blob in store.Blobs.ListReferencedAsync(Ct))
        {
            referenced.Add(blob.Digest);
        }

        Assert.Equal(succeeded.SelectMany(w => w.Blobs).Distinct().Order(DigestOrder), referenced.Order(DigestOrder));
        Assert.Empty(await store.Blobs.ListClaimedAsync(100, Ct));
    }
}
