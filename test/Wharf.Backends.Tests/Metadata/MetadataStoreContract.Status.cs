using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;

namespace Wharf.Backends.Tests.Metadata;

/// <summary><c>wharf status</c>'s figures (one aggregate each) and the jobs' last runs.</summary>
public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IRepositoryStore), nameof(IRepositoryStore.CountAsync))]
    [Covers(typeof(IImageStore), nameof(IImageStore.CountManifestsAsync))]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.GetTotalsAsync))]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.CountAsync))]
    [Covers(typeof(IScanStore), nameof(IScanStore.CountPendingAsync))]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.CountPendingAsync))]
    public async Task Status_counts_repositories_manifests_live_blobs_with_bytes_uploads_and_pending_work()
    {
        await using var store = await CreateStoreAsync();
        Assert.Equal((0, 0, new BlobTotals(0, 0), 0, 0, 0), await CountsAsync(store));

        var app = await CreateRepoAsync(store, "team/app");
        await CreateRepoAsync(store, "team/other");
        var layer = await UploadBlobAsync(store, app.Id, "layer", size: 1000);
        var config = await UploadBlobAsync(store, app.Id, "config", size: 24);
        var image = await PutAsync(store, Image(app.Id, "one", [layer, config], tag: "v1"));
        await PutAsync(store, Image(app.Id, "two", [layer], tag: "v2"));
        var garbage = await UploadBlobAsync(store, app.Id, "garbage", size: 7);
        await store.Uploads.CreateAsync(new UploadSession("status-upload", app.Id, 0, T0, T0.AddHours(24)), Ct);
        Assert.Equal(ScanRequestResult.Requested, await store.Scans.RequestAsync(app.Id, image.Digest, T0, null, Ct));
        await store.Replications.EnqueueAsync(new ReplicationRequest(Registry, RepositoryName.Parse("team/app"), image.Digest, new ReplicationDestination("eu-west-1", "123456789012"), ["v1"]), T0, Ct);

        Assert.Equal((2, 2, new BlobTotals(3, 1031), 1, 1, 1), await CountsAsync(store));

        // A blob GC has claimed is no longer counted; finished work is no longer pending.
        await store.Images.UntagImageAsync(app.Id, "v2", Ct);
        Assert.Contains(await store.Blobs.ClaimGarbageAsync(T0.AddDays(1), 10, Ct), b => b.Digest == garbage);
        await store.Uploads.DeleteAsync("status-upload", Ct);
        Assert.True(await store.Scans.CompleteAsync(app.Id, image.Digest, T0, new ScanOutcome("FAILED", "test", T0, null, null, []), null, Ct));
        Assert.Equal((2, 1, new BlobTotals(2, 1024), 0, 0, 1), await CountsAsync(store));
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.RecordRunAsync))]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.ListRunsAsync))]
    public async Task A_jobs_last_run_replaces_the_one_before_and_keeps_its_failure()
    {
        await using var store = await CreateStoreAsync();
        Assert.Empty(await store.Leases.ListRunsAsync(Ct));

        var ok = new JobRunRecord("gc", "node-a", T0, TimeSpan.FromMilliseconds(1500), "3 blobs removed", null, T0.AddMinutes(30));
        var scan = new JobRunRecord("scan", "node-b", T0.AddSeconds(5), TimeSpan.FromMilliseconds(20), "nothing to do", null, null);
        await store.Leases.RecordRunAsync(ok, Ct);
        await store.Leases.RecordRunAsync(scan, Ct);
        Assert.Equal([ok, scan], await store.Leases.ListRunsAsync(Ct));

        var failed = new JobRunRecord("gc", "node-b", T0.AddMinutes(30), TimeSpan.FromSeconds(2), "", "IOException: disk full", T0.AddMinutes(60));
        await store.Leases.RecordRunAsync(failed, Ct);
        Assert.Equal([failed, scan], await store.Leases.ListRunsAsync(Ct));
    }

    private static async Task<(long Repositories, long Manifests, BlobTotals Blobs, long Uploads, long Scans, long Replications)> CountsAsync(IMetadataStore store) =>
        (await store.Repositories.CountAsync(Ct), await store.Images.CountManifestsAsync(Ct), await store.Blobs.GetTotalsAsync(Ct),
            await store.Uploads.CountAsync(Ct), await store.Scans.CountPendingAsync(Ct), await store.Replications.CountPendingAsync(Ct));
}
